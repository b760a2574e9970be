"""What the config says about the platform, in the core layer's terms: GPU capacities and the Platform facts."""

from __future__ import annotations

from core.capacity import GpuCapacity, NodeTaint
from core.instances import known
from core.naming import kit_bucket_name
from core.platform import ACCOUNT_PLACEHOLDER, Platform, StorageFacts
from config.model import PlatformConfig
from config.node_pools import CapacityBlockNodeGroup, NodePool


def pool_capacity(pool: NodePool, zone_id: str) -> GpuCapacity:
    return GpuCapacity(
        name=pool.name,
        provisioner="karpenter",
        instance_types=tuple(pool.instance_types),
        capacity_types=tuple(pool.capacity_types),
        ami_family=pool.ami_family,
        efa=pool.efa,
        zone_id=zone_id,
        max_gpus=pool.gpu_limit,
        extra_labels=dict(pool.labels),
        extra_taints=tuple(NodeTaint(t.key, t.value, t.effect) for t in pool.taints),
        weight=pool.weight,
        reservation_ids=tuple(pool.capacity_reservations.ids) if pool.capacity_reservations else (),
        config_key=f"node_pools[{pool.name}]",
    )


def node_group_capacity(group: CapacityBlockNodeGroup, zone_id: str) -> GpuCapacity:
    instance = known(group.instance_type)
    return GpuCapacity(
        name=group.name,
        provisioner="capacity-block-node-group",
        instance_types=(group.instance_type,),
        capacity_types=("reserved",),
        ami_family="bottlerocket" if group.ami_type.startswith("BOTTLEROCKET") else "al2023",
        efa=group.efa,
        zone_id=zone_id,
        max_gpus=group.size * (instance.gpus if instance else 0),
        extra_labels=dict(group.labels),
        reservation_ids=(group.reservation_id,),
        fixed_nodes=group.size,
        config_key=f"capacity_block_node_groups[{group.name}]",
    )


def capacities(config: PlatformConfig) -> dict[str, GpuCapacity]:
    """Every GPU capacity by name, Karpenter pools first, in config order."""
    zone = config.placement.az_id
    found = [pool_capacity(pool, zone) for pool in config.node_pools]
    found += [node_group_capacity(group, zone) for group in config.capacity_block_node_groups]
    return {capacity.name: capacity for capacity in found}


def model_bucket_for_pods(config: PlatformConfig) -> str:
    """The model bucket as a pod names it; '{account}' where the config leaves the account to the credentials."""
    existing = config.storage.model_bucket.existing_bucket_name
    return existing or kit_bucket_name(config.name, config.account or ACCOUNT_PLACEHOLDER, config.region)


def platform(config: PlatformConfig) -> Platform:
    storage = config.storage
    return Platform(
        name=config.name,
        region=config.region,
        account=config.account,
        az_id=config.placement.az_id,
        namespace=storage.workloads_namespace,
        capacities=capacities(config),
        storage=StorageFacts(
            bucket_name=model_bucket_for_pods(config),
            creates_bucket=storage.model_bucket.creates_bucket,
            models_prefix=storage.models_prefix,
            fsx_enabled=storage.fsx.enabled,
        ),
    )
