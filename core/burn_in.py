"""Node burn-in: a new GPU node is tested before any workload may land on it.

Karpenter puts the startup taint on each new node of a pool with burn_in; the pool's burn-in DaemonSet runs on it
(holding every GPU), then labels the node passed and lifts the taint, or labels it failed, cordons it and leaves
the taint, so nothing is ever scheduled there. Either label ends the DaemonSet's pod on the node.
"""

from __future__ import annotations

TAINT_KEY = "llm-kit/burn-in"
TAINT = {"key": TAINT_KEY, "value": "pending", "effect": "NoSchedule"}
RESULT_LABEL = "llm-kit/burn-in"
PASSED, FAILED = "passed", "failed"

# Intra-node all-reduce bus bandwidth at large messages (GB/s), as NCCL's maintainers state it: 8 x H100 with
# NVSwitch about 480 GB/s with NVLink SHARP (370 without), NVIDIA/nccl#1442 and nccl-tests#212; 8 x A100 about
# 230 GB/s, nccl-tests#149 (as read 2026-11-29). H200 shares H100's NVLink 4 fabric.
NVLINK_BUS_BANDWIDTH_GB_S = {"h100": 370.0, "h200": 370.0, "a100": 230.0}
"""Without NVLink SHARP, the lower published figure: the check must pass on a healthy node either way."""
PASS_SHARE = 0.8
"""A node passes at 80% of its GPU model's figure: a degraded NVLink or a GPU off the fabric falls far below it."""


def min_bus_bandwidth(gpu: str, configured: float | None) -> float | None:
    """The threshold a node's all-reduce must reach; None where no figure is known and none is configured."""
    if configured is not None:
        return configured
    published = NVLINK_BUS_BANDWIDTH_GB_S.get(gpu)
    return None if published is None else round(published * PASS_SHARE, 1)
