"""The GPU data plane in the cluster stack: Karpenter, its node pools, device plugins, capacity-block node groups.

Teardown order is carried by dependencies: every NodePool/EC2NodeClass manifest depends on the Karpenter
chart, which depends on the system nodes. CloudFormation deletes in reverse, so `cdk destroy` removes the
node pools first; `kubectl delete` waits on Karpenter's finalizers until their instances are terminated,
and only then do the controller, the nodes, the cluster and (in the network stack) the VPC go.
"""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from constructs import Construct

from infra.cluster.system_nodes import node_role
from infra.config.model import KitConfig
from infra.gpu.capacity_blocks import CapacityBlockNodeGroups
from infra.gpu.device_plugins import DevicePlugins
from infra.gpu.karpenter import Karpenter
from infra.gpu.node_pool_manifests import NodeClassContext, node_class, node_pool, wants_placement_group
from infra.network.refs import NetworkRefs


class GpuDataPlane(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: KitConfig,
        cluster: eks.Cluster,
        network: NetworkRefs,
        efa_security_group: ec2.ISecurityGroup,
        system_nodegroup: eks.Nodegroup,
    ) -> None:
        super().__init__(scope, construct_id)
        self.karpenter = Karpenter(self, "Karpenter", config=config, cluster=cluster)
        self.karpenter.chart.node.add_dependency(system_nodegroup)

        self.pool_manifests: dict[str, eks.KubernetesManifest] = {}
        for pool in config.node_pools:
            placement_group = None
            if wants_placement_group(pool):
                placement_group = ec2.CfnPlacementGroup(self, f"{pool.name}-placement", strategy="cluster").ref
            context = NodeClassContext(
                cluster_name=config.name,
                az_id=config.placement.az_id,
                node_role_name=self.karpenter.node_role.role_name,
                subnet_ids=[subnet.subnet_id for subnet in network.node_subnets],
                security_group_ids=[cluster.cluster_security_group_id],
                efa_security_group_id=efa_security_group.security_group_id,
                placement_group_name=placement_group,
            )
            manifest = cluster.add_manifest(f"NodePool-{pool.name}", node_class(pool, context), node_pool(pool, context))
            manifest.node.add_dependency(self.karpenter.chart)
            self.pool_manifests[pool.name] = manifest

        groups = config.capacity_block_node_groups
        if groups:
            self.capacity_blocks = CapacityBlockNodeGroups(
                self,
                "CapacityBlocks",
                groups=list(groups),
                cluster=cluster,
                network=network,
                node_role=node_role(self, "CapacityBlockNodeRole"),
                efa_security_group_id=efa_security_group.security_group_id,
            )
            for nodegroup in self.capacity_blocks.nodegroups.values():
                nodegroup.node.add_dependency(system_nodegroup)

        uses_al2023 = any(p.ami_family == "al2023" for p in config.node_pools) or any(g.ami_type.startswith("AL2023") for g in groups)
        uses_efa = any(p.efa for p in config.node_pools) or any(g.efa for g in groups)
        self.device_plugins = DevicePlugins(self, "DevicePlugins", cluster=cluster, nvidia=uses_al2023, efa=uses_efa)
        for chart in self.device_plugins.charts.values():
            chart.node.add_dependency(system_nodegroup)
