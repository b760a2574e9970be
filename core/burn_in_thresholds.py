"""The bus bandwidths a new node's all-reduces must reach, and the most they can reach.

nccl-tests reports bus bandwidth (busbw) in GB/s. Two runs on one node:
  over NVLink   all GPUs of the node; the figures are NCCL's maintainers' for the GPU model.
  over EFA      NCCL's peer-to-peer and shared-memory paths off, so each ring hop leaves one GPU through its EFA
                devices and enters the next through theirs. A ring's busbw is the rate of one hop, so it cannot
                exceed one GPU's share of the instance's EFA bandwidth (the instance's bandwidth over its GPUs).

Published multi-node results (awsome-distributed-training micro-benchmarks/nccl-tests README at 0877e0e3,
2025-08-30: 2 x p5.48xlarge 487 GB/s, 2 x p4de.24xlarge 78 GB/s at the largest size) cannot serve for the EFA run:
between nodes NVLink carries most of a ring, on one node with P2P off none of it. No single-node figure over EFA is
published; the default here is half of the line rate, which a healthy node should clear with room, and it is not
yet measured on hardware (docs/capacity.md says so).
"""

from __future__ import annotations

from collections.abc import Iterable

from core.instances import INSTANCE_TYPES

# Intra-node all-reduce busbw at large messages (GB/s), as NCCL's maintainers state it: 8 x H100 with NVSwitch about
# 480 GB/s with NVLink SHARP (370 without), NVIDIA/nccl#1442 and nccl-tests#212; 8 x A100 about 230 GB/s,
# nccl-tests#149 (as read 2026-11-29). H200 shares H100's NVLink 4 fabric (nccl-tests#272: 475 GB/s on 8 x H200).
NVLINK_BUS_BANDWIDTH_GB_S = {"h100": 370.0, "h200": 370.0, "a100": 230.0}
"""Without NVLink SHARP, the lower published figure: the check must pass on a healthy node either way."""
NVLINK_BUS_BANDWIDTH_MAX_GB_S = {"h100": 480.0, "h200": 480.0, "a100": 230.0}
"""The most any healthy node is published to reach (NVLink SHARP where the GPU has it)."""
PASS_SHARE = 0.8
"""A node passes at 80% of its GPU model's figure: a degraded NVLink or a GPU off the fabric falls far below it."""

# The instances' network bandwidth in Gbps: Karpenter's generated instance-type reference, label
# karpenter.k8s.aws/instance-network-bandwidth (Mbps), aws/karpenter-provider-aws
# website/content/en/docs/reference/instance-types.md at 692ccdd06 (2026-07-11), read 2026-11-30; the same figures as
# EC2's accelerated-computing specifications (p4d/p4de 400 Gbps; p5, p5e, p5en, p6-b200 3200 Gbps).
EFA_NETWORK_GBPS = {
    "p4d.24xlarge": 400,
    "p4de.24xlarge": 400,
    "p5.48xlarge": 3200,
    "p5e.48xlarge": 3200,
    "p5en.48xlarge": 3200,
    "p6-b200.48xlarge": 3200,
}
EFA_PASS_SHARE = 0.5
"""A node passes the run over EFA at half of one GPU's share of the line rate. Worse faults fail the run itself:
with NCCL_NET naming the plugin, no EFA means no NCCL; on these types aws-ofi-nccl refuses to run without GPUDirect
RDMA (platform-aws.cpp, gdr_required)."""
CEILING_MARGIN = 1.1
"""A configured threshold may exceed the published maximum by this much (measurement noise), no more."""


def min_bus_bandwidth(gpu: str, configured: float | None) -> float | None:
    """The threshold a node's all-reduce over NVLink must reach; None where no figure is known and none is configured."""
    if configured is not None:
        return configured
    published = NVLINK_BUS_BANDWIDTH_GB_S.get(gpu)
    return None if published is None else round(published * PASS_SHARE, 1)


def efa_line_rate_gb_s(instance_type: str) -> float | None:
    """One GPU's share of the instance's EFA bandwidth, in GB/s (the ceiling of a one-node ring over EFA)."""
    gbps = EFA_NETWORK_GBPS.get(instance_type)
    facts = INSTANCE_TYPES.get(instance_type)
    return None if gbps is None or facts is None else gbps / 8 / facts.gpus


def min_efa_bus_bandwidth(instance_types: Iterable[str], configured: float | None) -> float | None:
    """The threshold of the run over EFA: the configured one, else half the line rate of the slowest of the pool's
    types; None when a type of the pool has no published figure (its nodes would be judged by another type's)."""
    if configured is not None:
        return configured
    rates = [efa_line_rate_gb_s(name) for name in instance_types]
    if not rates or None in rates:
        return None
    return round(min(rate for rate in rates if rate is not None) * EFA_PASS_SHARE, 1)


def nvlink_ceiling(gpu: str) -> float | None:
    """The highest threshold the NVLink run can be given for this GPU model; None where nothing is published."""
    published = NVLINK_BUS_BANDWIDTH_MAX_GB_S.get(gpu)
    return None if published is None else round(published * CEILING_MARGIN, 1)


def efa_ceiling(instance_types: Iterable[str]) -> tuple[float, str] | None:
    """The highest threshold the EFA run can be given, and the type that sets it (the slowest with a figure)."""
    known = [(rate, name) for name in instance_types if (rate := efa_line_rate_gb_s(name)) is not None]
    if not known:
        return None
    rate, name = min(known)
    return round(rate * CEILING_MARGIN, 2), name
