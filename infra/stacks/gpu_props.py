"""The config's GPU pools, capacity-block node groups and Karpenter settings as the GPU data plane's props.

The one place where infra/gpu's inputs come from the config: each pool's GpuCapacity is the config layer's own
(config/platform.py), so the data plane labels, taints and places nodes as the checks, blueprints and preflight see
them; the rest is copied field by field.
"""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks

from config.model import PlatformConfig
from config.node_pools import BurnIn, CapacityBlockNodeGroup, CapacityBlockWindow, Disruption, ImagePull, NodePool
from config.platform import node_group_capacity, pool_capacity
from infra.gpu.data_plane import GpuDataPlaneProps
from infra.gpu.pool_props import (
    BurnInProps,
    CapacityBlockNodeGroupProps,
    CapacityBlockProps,
    DisruptionProps,
    ImagePullProps,
    NodePoolProps,
    ProtectedWindowProps,
)
from infra.network.refs import NetworkRefs


def disruption_props(disruption: Disruption) -> DisruptionProps:
    return DisruptionProps(
        consolidation_policy=disruption.consolidation_policy,
        consolidate_after=disruption.consolidate_after,
        # What the NodePool gets: Never under protected windows unless the config set it.
        expire_after=disruption.effective_expire_after,
        max_disrupted=disruption.max_disrupted,
        protected_windows=tuple(ProtectedWindowProps(schedule=w.schedule, duration=w.duration) for w in disruption.protected_windows),
    )


def image_pull_props(pull: ImagePull) -> ImagePullProps:
    return ImagePullProps(
        soci_parallel_pull=pull.soci_parallel_pull,
        max_concurrent_downloads_per_image=pull.max_concurrent_downloads_per_image,
        concurrent_download_chunk_size=pull.concurrent_download_chunk_size,
        max_concurrent_unpacks_per_image=pull.max_concurrent_unpacks_per_image,
        discard_unpacked_layers=pull.discard_unpacked_layers,
        prepulled_images_snapshot_id=pull.prepulled_images_snapshot_id,
    )


def burn_in_props(burn_in: BurnIn) -> BurnInProps:
    return BurnInProps(
        dcgm_level=burn_in.dcgm_level,
        all_reduce=burn_in.all_reduce,
        min_bus_bandwidth_gb_s=burn_in.min_bus_bandwidth_gb_s,
        min_efa_bus_bandwidth_gb_s=burn_in.min_efa_bus_bandwidth_gb_s,
    )


def capacity_block_props(block: CapacityBlockWindow) -> CapacityBlockProps:
    return CapacityBlockProps(
        start=block.start, end=block.end, instances=block.instances, drain_minutes_before_end=block.drain_minutes_before_end
    )


def node_pool_props(pool: NodePool, zone_id: str) -> NodePoolProps:
    """One configured pool, in the zone of the cluster's nodes."""
    reservations = pool.capacity_reservations
    return NodePoolProps(
        capacity=pool_capacity(pool, zone_id),
        disruption=disruption_props(pool.disruption),
        image_pull=image_pull_props(pool.image_pull),
        data_volume_gib=pool.data_volume_gib,
        reservation_tags=dict(reservations.tags) if reservations else {},
        capacity_block=capacity_block_props(pool.capacity_block) if pool.capacity_block else None,
        burn_in=burn_in_props(pool.burn_in) if pool.burn_in else None,
    )


def capacity_block_node_group_props(group: CapacityBlockNodeGroup, zone_id: str) -> CapacityBlockNodeGroupProps:
    return CapacityBlockNodeGroupProps(capacity=node_group_capacity(group, zone_id), ami_type=group.ami_type)


def gpu_data_plane_props(
    config: PlatformConfig,
    cluster: eks.Cluster,
    network: NetworkRefs,
    efa_security_group: ec2.ISecurityGroup,
    system_nodegroup: eks.Nodegroup,
) -> GpuDataPlaneProps:
    """The whole GPU data plane of the config, on the cluster pieces the cluster stack made, in the nodes' zone."""
    zone = network.az_id
    return GpuDataPlaneProps(
        cluster=cluster,
        cluster_name=config.name,
        network=network,
        efa_security_group=efa_security_group,
        system_nodegroup=system_nodegroup,
        node_pools=tuple(node_pool_props(pool, zone) for pool in config.node_pools),
        capacity_block_node_groups=tuple(capacity_block_node_group_props(group, zone) for group in config.capacity_block_node_groups),
        karpenter_replicas=config.karpenter.replicas,
        node_repair=config.karpenter.node_repair,
    )
