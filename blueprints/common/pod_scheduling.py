"""Where GPU pods land: their pool, one instance type, the one zone, past the GPU taint."""

from __future__ import annotations

from blueprints.common.k8s_types import PodScheduling, Toleration
from blueprints.common.placement import Placement
from core.labels import GPU_TAINT, INSTANCE_TYPE_LABEL, ZONE_ID_LABEL

GPU_TOLERATION: Toleration = {"key": GPU_TAINT["key"], "operator": "Exists", "effect": GPU_TAINT["effect"]}


def node_selector(placement: Placement) -> dict[str, str]:
    """The capacity's own label (a pool's, or its chain's), the instance type and the zone."""
    return {
        **placement.capacity.selector(),
        INSTANCE_TYPE_LABEL: placement.instance_type,
        ZONE_ID_LABEL: placement.az_id,
    }


def gpu_scheduling(placement: Placement, selector: dict[str, str]) -> PodScheduling:
    """nodeSelector, tolerations and a soft spread of replicas across nodes (one node failure, one replica)."""
    return {
        "nodeSelector": node_selector(placement),
        "tolerations": [GPU_TOLERATION],
        "affinity": {
            "podAntiAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "weight": 100,
                        "podAffinityTerm": {"labelSelector": {"matchLabels": selector}, "topologyKey": "kubernetes.io/hostname"},
                    }
                ]
            }
        },
    }
