"""The kit's Gateway: the entry point of the workloads that route through it (docs/routing.md)."""
