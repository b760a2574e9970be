"""Managed node groups on a fixed capacity block: the block's instances, EFA on every card, no placement group."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from constructs import Construct

from core.instances import facts
from infra.gpu import efa
from infra.gpu.block_devices import NodeVolume, node_volumes
from infra.cfn import cfn_resource
from infra.gpu.pool_props import CapacityBlockNodeGroupProps
from infra.gpu.user_data import al2023_node_config
from infra.network.refs import NetworkRefs

DATA_VOLUME_GIB = 200
"""The volume that holds images and the kubelet: AL2023's only volume, Bottlerocket's /dev/xvdb."""
_TAINT_EFFECTS = {
    "NoSchedule": eks.TaintEffect.NO_SCHEDULE,
    "PreferNoSchedule": eks.TaintEffect.PREFER_NO_SCHEDULE,
    "NoExecute": eks.TaintEffect.NO_EXECUTE,
}


def node_group_user_data(group: CapacityBlockNodeGroupProps) -> str | None:
    """AL2023 gives containers containerd's locked-memory limit, too little for EFA: a NodeConfig lifts it, which
    EKS merges with its own. Bottlerocket raises the limit itself on EFA hosts."""
    capacity = group.capacity
    return al2023_node_config(None, efa=True) if capacity.efa and capacity.ami_family == "al2023" else None


def launch_template_block_devices(volumes: tuple[NodeVolume, ...]) -> list[ec2.CfnLaunchTemplate.BlockDeviceMappingProperty]:
    """The layout of infra/gpu/block_devices.py as launch template mappings (the kubelet root needs no mark here)."""
    return [
        ec2.CfnLaunchTemplate.BlockDeviceMappingProperty(
            device_name=volume.device_name,
            ebs=ec2.CfnLaunchTemplate.EbsProperty(
                volume_size=volume.size_gib, volume_type="gp3", encrypted=True, delete_on_termination=True, snapshot_id=volume.snapshot_id
            ),
        )
        for volume in volumes
    ]


def capacity_block_launch_data(
    group: CapacityBlockNodeGroupProps, security_group_ids: list[str]
) -> ec2.CfnLaunchTemplate.LaunchTemplateDataProperty:
    """Launch into the block (market type capacity-block plus the reservation as target). The interfaces carry
    the cluster and EFA security groups: a launch template that names groups replaces EKS's defaults."""
    instance = facts(group.instance_type)
    interfaces = efa.launch_template_interfaces(instance, security_group_ids) if group.capacity.efa else None
    user_data = node_group_user_data(group)
    return ec2.CfnLaunchTemplate.LaunchTemplateDataProperty(
        user_data=cdk.Fn.base64(user_data) if user_data else None,
        instance_market_options=ec2.CfnLaunchTemplate.InstanceMarketOptionsProperty(market_type="capacity-block"),
        capacity_reservation_specification=ec2.CfnLaunchTemplate.CapacityReservationSpecificationProperty(
            capacity_reservation_target=ec2.CfnLaunchTemplate.CapacityReservationTargetProperty(
                capacity_reservation_id=group.reservation_id
            )
        ),
        network_interfaces=interfaces,
        security_group_ids=None if interfaces else security_group_ids,
        metadata_options=ec2.CfnLaunchTemplate.MetadataOptionsProperty(
            http_tokens="required", http_put_response_hop_limit=1, http_endpoint="enabled"
        ),
        # Bottlerocket keeps images on /dev/xvdb: sizing /dev/xvda alone would leave them its 20 GiB default.
        block_device_mappings=launch_template_block_devices(node_volumes(group.capacity.ami_family, DATA_VOLUME_GIB)),
    )


@dataclass(frozen=True, kw_only=True)
class CapacityBlockNodeGroupsProps:
    """The managed node groups on capacity blocks, and the cluster pieces they join."""

    groups: tuple[CapacityBlockNodeGroupProps, ...]
    """One node group per block, each with a name of its own."""
    cluster: eks.Cluster
    """The cluster the groups join: eks.Cluster, not ICluster, because only the class adds node groups."""
    network: NetworkRefs
    """The node subnets the groups launch into."""
    node_role: iam.IRole
    """The role the groups' nodes run as."""
    efa_security_group_id: str
    """The EFA group, beside the cluster's, on every interface of the launch template."""

    def __post_init__(self) -> None:
        names = [group.name for group in self.groups]
        if not names:
            raise ValueError("CapacityBlockNodeGroupsProps.groups: got (); at least one group; leave the construct out instead")
        if len(set(names)) != len(names):
            raise ValueError(
                f"CapacityBlockNodeGroupsProps.groups: got the names {names}; each name once (it names the node group); rename one"
            )


class CapacityBlockNodeGroups(Construct):
    """Managed node groups, one per capacity block, launched into the block by a launch template of their own."""

    def __init__(self, scope: Construct, construct_id: str, props: CapacityBlockNodeGroupsProps) -> None:
        super().__init__(scope, construct_id)
        cluster, network = props.cluster, props.network
        self.nodegroups: dict[str, eks.Nodegroup] = {}
        security_groups = [cluster.cluster_security_group_id, props.efa_security_group_id]
        for group in props.groups:
            capacity = group.capacity
            data = capacity_block_launch_data(group, security_groups)
            template = ec2.CfnLaunchTemplate(self, f"{group.name}-template", launch_template_data=data)
            nodegroup = cluster.add_nodegroup_capacity(
                f"CapacityBlock-{group.name}",
                nodegroup_name=group.name,
                instance_types=[ec2.InstanceType(group.instance_type)],
                capacity_type=eks.CapacityType.CAPACITY_BLOCK,
                min_size=0,
                desired_size=group.size,
                max_size=group.size,
                subnets=network.node_selection(),
                node_role=props.node_role,
                launch_template_spec=eks.LaunchTemplateSpec(id=template.ref, version=template.attr_latest_version_number),
                labels=capacity.node_labels(),
                taints=[
                    eks.TaintSpec(effect=_TAINT_EFFECTS[taint.effect], key=taint.key, value=taint.value or None)
                    for taint in capacity.taints()
                ],
                enable_node_auto_repair=True,
            )
            # Set on the L1: aws-eks-v2's instance-type table does not know p5/p6 as GPU types and rejects NVIDIA AMIs.
            cfn_resource(nodegroup).add_property_override("AmiType", group.ami_type)
            self.nodegroups[group.name] = nodegroup
