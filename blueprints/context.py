"""The facts a blueprint needs about where it runs, resolved once from the whole config."""

from __future__ import annotations

from dataclasses import dataclass

from infra.config.model import KitConfig
from infra.config.storage import MODEL_READER_SERVICE_ACCOUNT
from infra.gpu.instance_types import InstanceFacts, facts


@dataclass(frozen=True)
class Placement:
    namespace: str
    az_id: str
    region: str
    pool: str
    instance_type: str
    instance: InstanceFacts
    efa: bool
    model_reader_service_account: str = MODEL_READER_SERVICE_ACCOUNT


def pool_instance_types(config: KitConfig, pool_name: str) -> tuple[list[str], bool] | None:
    """(instance types, has EFA) of a Karpenter pool or capacity-block node group, or None if unknown."""
    for pool in config.node_pools:
        if pool.name == pool_name:
            return list(pool.instance_types), pool.efa
    for group in config.capacity_block_node_groups:
        if group.name == pool_name:
            return [group.instance_type], group.efa
    return None


def placement_for(config: KitConfig, workload) -> Placement:
    types, pool_efa = pool_instance_types(config, workload.node_pool)
    instance_type = workload.instance_type or types[0]
    return Placement(
        namespace=config.storage.workloads_namespace,
        az_id=config.placement.az_id,
        region=config.region,
        pool=workload.node_pool,
        instance_type=instance_type,
        instance=facts(instance_type),
        efa=pool_efa if workload.efa is None else workload.efa,
    )
