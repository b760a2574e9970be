"""Where GPU pods land: their pool, one instance type, the one zone, past the GPU taint."""

from __future__ import annotations

from blueprints.context import Placement
from infra.gpu.node_pool_manifests import POOL_LABEL, ZONE_ID_LABEL

GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}


def node_selector(placement: Placement) -> dict[str, str]:
    return {
        POOL_LABEL: placement.pool,
        "node.kubernetes.io/instance-type": placement.instance_type,
        ZONE_ID_LABEL: placement.az_id,
    }


def gpu_scheduling(placement: Placement, selector: dict[str, str]) -> dict:
    """nodeSelector, tolerations and a soft spread of replicas across nodes (one node failure, one replica)."""
    return {
        "nodeSelector": node_selector(placement),
        "tolerations": [GPU_TOLERATION],
        "affinity": {
            "podAntiAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {"weight": 100, "podAffinityTerm": {"labelSelector": {"matchLabels": selector}, "topologyKey": "kubernetes.io/hostname"}}
                ]
            }
        },
    }
