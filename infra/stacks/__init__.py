"""Stacks split by lifecycle: network, cluster (and, as they land, storage and workloads)."""
