"""The GPU data plane in the cluster stack: Karpenter, its node pools, device plugins, capacity-block node groups.

Teardown order is carried by dependencies: every NodePool/EC2NodeClass manifest depends on the Karpenter
chart, which depends on the system nodes. CloudFormation deletes in reverse, so `cdk destroy` removes the
node pools first; `kubectl delete` waits on Karpenter's finalizers until their instances are terminated,
and only then do the controller, the nodes, the cluster and (in the network stack) the VPC go.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from constructs import Construct

from core.capacity import extra_taint_keys
from infra.cluster.system_nodes import node_role
from infra.cluster.helm import chart_namespace
from infra.cluster.platform_policies import isolated_namespace
from infra.gpu.burn_in import NAMESPACE as BURN_IN_NAMESPACE
from infra.gpu.burn_in import burn_in_objects
from infra.gpu.capacity_block_scheduler import NAMESPACE as SCHEDULER_NAMESPACE
from infra.gpu.capacity_block_scheduler import scheduler_objects
from infra.gpu.capacity_blocks import CapacityBlockNodeGroups, CapacityBlockNodeGroupsProps
from infra.cfn import cfn_resource
from infra.images import wiring as image_wiring
from infra.gpu.device_plugins import DevicePlugins, DevicePluginsProps
from infra.gpu.karpenter import Karpenter, KarpenterProps
from infra.gpu.node_pool_manifests import NodeClassContext, node_class, node_pool, static_node_pool_creation, static_node_pool_patch
from infra.gpu.pool_props import CapacityBlockNodeGroupProps, NodePoolProps
from infra.network.refs import NetworkRefs
from infra.interfaces import cluster_interface, role_interface


@dataclass(frozen=True, kw_only=True)
class GpuDataPlaneProps:
    """The GPU data plane of one cluster: Karpenter, its pools, capacity-block node groups, device plugins."""

    cluster: eks.Cluster
    """The cluster: eks.Cluster, not ICluster, because Helm charts (infra/cluster/helm.py) and node groups need it."""
    cluster_name: str
    """The EKS cluster's name as written (not a token): Karpenter's settings, queue name and IAM tag scope."""
    network: NetworkRefs
    """The node subnets and their zone; every pool's capacity must be in that zone."""
    efa_security_group: ec2.ISecurityGroup
    """The group that lets EFA traffic flow between nodes; EFA pools and node groups get it."""
    system_nodegroup: eks.Nodegroup
    """Karpenter, the device plugins and the capacity-block groups wait for it (and go before it on destroy)."""
    node_pools: tuple[NodePoolProps, ...] = ()
    """Karpenter pools. Default: none, Karpenter runs without GPU pools."""
    capacity_block_node_groups: tuple[CapacityBlockNodeGroupProps, ...] = ()
    """Managed node groups on capacity blocks. Default: none."""
    karpenter_replicas: int = 2
    """Karpenter controller pods. Default: 2, so one survives a system node's drain."""
    node_repair: bool = True
    """Let Karpenter replace nodes whose health conditions turn bad. Default: on, so a failed GPU node is replaced."""

    def __post_init__(self) -> None:
        names = [pool.name for pool in self.node_pools] + [group.name for group in self.capacity_block_node_groups]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(
                f"GpuDataPlaneProps.node_pools: got the names {repeated} more than once; each pool and node group a name of its"
                " own (nodes carry it in llm-kit/pool); rename one"
            )
        zone = self.network.az_id
        if not cdk.Token.is_unresolved(zone):
            for capacity in [pool.capacity for pool in self.node_pools] + [group.capacity for group in self.capacity_block_node_groups]:
                if capacity.zone_id != zone:
                    raise ValueError(
                        f"GpuDataPlaneProps.node_pools: got {capacity.name} in zone {capacity.zone_id}; the network's zone {zone};"
                        " build the capacities with the network's az_id"
                    )
        if self.karpenter_replicas < 1:
            raise ValueError(f"GpuDataPlaneProps.karpenter_replicas: got {self.karpenter_replicas}; at least 1; use 2")


class GpuDataPlane(Construct):
    """Karpenter and its GPU pools, the pools' burn-in and capacity-block reconciler, capacity-block node groups,
    and the device plugins that advertise GPUs and EFA."""

    def __init__(self, scope: Construct, construct_id: str, props: GpuDataPlaneProps) -> None:
        super().__init__(scope, construct_id)
        cluster, network = props.cluster, props.network
        blocks = [pool for pool in props.node_pools if pool.capacity_block is not None]
        karpenter = KarpenterProps(
            cluster=cluster,
            cluster_name=props.cluster_name,
            replicas=props.karpenter_replicas,
            node_repair=props.node_repair,
            static_capacity=bool(blocks),
        )
        self.karpenter = Karpenter(self, "Karpenter", karpenter)
        self.karpenter.chart.node.add_dependency(props.system_nodegroup)

        self.pool_manifests: dict[str, eks.KubernetesManifest | eks.KubernetesPatch] = {}
        for pool in props.node_pools:
            placement_group = None
            if pool.wants_placement_group:
                placement_group = ec2.CfnPlacementGroup(self, f"{pool.name}-placement", strategy="cluster").ref
            context = NodeClassContext(
                node_role_name=self.karpenter.node_role.role_name,
                subnet_ids=tuple(subnet.subnet_id for subnet in network.node_subnets),
                security_group_ids=(cluster.cluster_security_group_id,),
                efa_security_group_id=props.efa_security_group.security_group_id,
                placement_group_name=placement_group,
            )
            if pool.capacity_block is None:
                manifest = cluster.add_manifest(f"NodePool-{pool.name}", node_class(pool, context), node_pool(pool))
                manifest.node.add_dependency(self.karpenter.chart)
            else:
                manifest = self._static_pool(cluster, pool, context)
            self.pool_manifests[pool.name] = manifest

        burn_in = burn_in_objects(props.node_pools)
        if burn_in:
            # Nothing reaches the burn-in pods; the verdict alone calls the API.
            self.burn_in = cluster.add_manifest(
                "GpuBurnIn", *image_wiring.objects(cluster, burn_in), *isolated_namespace(cluster, BURN_IN_NAMESPACE)
            )
            self.burn_in.node.add_dependency(props.system_nodegroup)

        if blocks:
            namespace = chart_namespace(cluster, SCHEDULER_NAMESPACE, "restricted")
            scheduler = cluster.add_manifest("CapacityBlockReconciler", *image_wiring.objects(cluster, scheduler_objects(blocks)))
            scheduler.node.add_dependency(namespace, *(self.pool_manifests[pool.name] for pool in blocks))

        groups = props.capacity_block_node_groups
        if groups:
            block_groups = CapacityBlockNodeGroupsProps(
                groups=groups,
                cluster=cluster,
                network=network,
                node_role=role_interface(node_role(self, "CapacityBlockNodeRole")),
                efa_security_group_id=props.efa_security_group.security_group_id,
            )
            self.capacity_blocks = CapacityBlockNodeGroups(self, "CapacityBlocks", block_groups)
            for nodegroup in self.capacity_blocks.nodegroups.values():
                nodegroup.node.add_dependency(props.system_nodegroup)

        capacities = [pool.capacity for pool in props.node_pools] + [group.capacity for group in groups]
        plugins = DevicePluginsProps(
            cluster=cluster,
            nvidia=any(c.ami_family == "al2023" for c in capacities),
            efa=any(c.efa for c in capacities),
            gpu_taint_keys=tuple(extra_taint_keys(capacities)),
        )
        self.device_plugins = DevicePlugins(self, "DevicePlugins", plugins)
        for chart in self.device_plugins.charts.values():
            chart.node.add_dependency(props.system_nodegroup)

    def _static_pool(self, cluster: eks.Cluster, pool: NodePoolProps, context: NodeClassContext) -> eks.KubernetesPatch:
        """A capacity-block pool whose node count no deploy touches: the reconciler moves it between deploys.

        The kubectl provider applies manifests client-side (kubectl create --save-config, then kubectl apply on every
        update), and an apply resets every field its manifest names, spec.replicas included. So the NodePool is
        created from a manifest that never changes (its name and no nodes: static_node_pool_creation), and the rest of
        its spec is kept up to date by a JSON patch that names every field but spec.replicas. The EC2NodeClass has
        its own manifest: a new AMI pin must not re-apply the NodePool."""
        node_class_manifest = cluster.add_manifest(f"NodePool-{pool.name}", node_class(pool, context))
        node_class_manifest.node.add_dependency(self.karpenter.chart)
        creation = cluster.add_manifest(f"StaticNodePool-{pool.name}", static_node_pool_creation(pool))
        creation.node.add_dependency(node_class_manifest)
        patch = eks.KubernetesPatch(
            self,
            f"StaticNodePoolSpec-{pool.name}",
            cluster=cluster_interface(cluster),
            resource_name=f"nodepools.karpenter.sh/{pool.name}",
            apply_patch={},
            restore_patch={},
            patch_type=eks.PatchType.JSON,
        )
        # A JSON patch is a list, which the construct's props (objects) cannot carry: set the properties it sends.
        resource = cfn_resource(patch)
        resource.add_property_override("ApplyPatchJson", cdk.Stack.of(self).to_json_string(static_node_pool_patch(pool)))
        resource.add_property_override("RestorePatchJson", "[]")
        patch.node.add_dependency(creation)
        return patch
