"""The managed node group for controllers: CPU only, in the GPU zone, IMDSv2, encrypted disks, auto repair."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from constructs import Construct

from core.labels import SYSTEM_POOL_LABEL
from infra import nag
from infra.interfaces import principal_interface, role_interface
from infra.network.refs import NetworkRefs

WORKER_POLICIES = {
    "AmazonEKSWorkerNodePolicy": "EKS worker nodes need this AWS-maintained policy to join the cluster and describe their instance.",
    "AmazonEC2ContainerRegistryPullOnly": "Nodes pull controller and workload images from ECR; the pull-only policy is the narrowest "
    "AWS-maintained one.",
}


def node_role(scope: Construct, construct_id: str) -> iam.Role:
    """A node role without the CNI policy: the VPC CNI gets its permissions through Pod Identity instead."""
    role = iam.Role(
        scope,
        construct_id,
        assumed_by=principal_interface(iam.ServicePrincipal("ec2.amazonaws.com")),
        managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name(name) for name in WORKER_POLICIES],
    )
    nag.acknowledge_managed_policies(role, WORKER_POLICIES)
    return role


@dataclass(frozen=True, kw_only=True)
class SystemNodesProps:
    """The managed node group the controllers run on: its name, instance types, sizes and root disk."""

    cluster: eks.Cluster
    """The cluster the node group joins."""
    network: NetworkRefs
    """The VPC whose node subnets (the GPU zone) the nodes go in."""
    nodegroup_name: str
    """The EKS node group's name."""
    instance_types: tuple[str, ...] = ("m7i.xlarge",)
    """CPU instance types. Default: ("m7i.xlarge",), 4 vCPUs and 16 GiB, room for the controllers of every feature."""
    min_size: int = 2
    """Fewest nodes. Default: 2, so controllers stay up while one node is replaced."""
    desired_size: int = 2
    """Nodes at creation. Default: 2, the minimum."""
    max_size: int = 4
    """Most nodes. Default: 4, room for a rolling update (max_unavailable 1) of a grown group."""
    disk_size_gib: int = 100
    """Encrypted gp3 root volume of each node, GiB. Default: 100, for the controllers' images and logs."""

    def __post_init__(self) -> None:
        if not self.nodegroup_name:
            raise ValueError("SystemNodesProps.nodegroup_name: got ''; a non-empty node group name; pass '<kit name>-system'")
        if not self.instance_types:
            raise ValueError("SystemNodesProps.instance_types: got (); at least one instance type; pass ('m7i.xlarge',)")
        if not 1 <= self.min_size <= self.desired_size <= self.max_size:
            raise ValueError(
                f"SystemNodesProps: got min_size {self.min_size}, desired_size {self.desired_size}, max_size {self.max_size};"
                " 1 <= min_size <= desired_size <= max_size; adjust the three sizes"
            )
        if self.disk_size_gib < 20:
            raise ValueError(
                f"SystemNodesProps.disk_size_gib: got {self.disk_size_gib}; at least 20 (the AL2023 AMI's own root volume); raise it"
            )


class SystemNodes(Construct):
    """An on-demand AL2023 managed node group with its own node role, IMDSv2 with one hop, and auto repair."""

    def __init__(self, scope: Construct, construct_id: str, props: SystemNodesProps) -> None:
        super().__init__(scope, construct_id)
        settings = props
        cluster = props.cluster
        network = props.network
        self.role = node_role(self, "NodeRole")
        launch_template = ec2.CfnLaunchTemplate(
            self,
            "LaunchTemplate",
            launch_template_data=ec2.CfnLaunchTemplate.LaunchTemplateDataProperty(
                metadata_options=ec2.CfnLaunchTemplate.MetadataOptionsProperty(
                    http_tokens="required",
                    # 1: the metadata service answers the node itself and host-network agents, never a pod
                    # behind its own network namespace, so no pod here can take the node role's credentials.
                    # Pods get their own through Pod Identity; Karpenter is told its region (AWS_REGION).
                    http_put_response_hop_limit=1,
                    http_endpoint="enabled",
                ),
                block_device_mappings=[
                    ec2.CfnLaunchTemplate.BlockDeviceMappingProperty(
                        device_name="/dev/xvda",
                        ebs=ec2.CfnLaunchTemplate.EbsProperty(
                            volume_size=settings.disk_size_gib,
                            volume_type="gp3",
                            encrypted=True,
                            delete_on_termination=True,
                        ),
                    )
                ],
            ),
        )
        self.nodegroup = cluster.add_nodegroup_capacity(
            "System",
            nodegroup_name=props.nodegroup_name,
            instance_types=[ec2.InstanceType(name) for name in settings.instance_types],
            ami_type=eks.NodegroupAmiType.AL2023_X86_64_STANDARD,
            capacity_type=eks.CapacityType.ON_DEMAND,
            min_size=settings.min_size,
            desired_size=settings.desired_size,
            max_size=settings.max_size,
            subnets=network.node_selection(),
            node_role=role_interface(self.role),
            labels=SYSTEM_POOL_LABEL,
            launch_template_spec=eks.LaunchTemplateSpec(id=launch_template.ref, version=launch_template.attr_latest_version_number),
            enable_node_auto_repair=True,
            max_unavailable=1,
        )
