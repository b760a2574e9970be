"""Cluster stack: EKS control plane, system nodes, managed add-ons and the EFA security group."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct, DependencyGroup

from blueprints.render import required_controllers
from infra.cluster.addons import ManagedAddons
from infra.cluster.controllers import Controllers
from infra.cluster.control_plane import ControlPlane
from infra.cluster.efa import EfaSecurityGroup
from infra.cluster.storage_class import default_storage_class
from infra.cluster.system_nodes import SystemNodes
from infra.config.model import KitConfig
from infra.gpu.data_plane import GpuDataPlane
from infra.network.refs import NetworkRefs, import_existing
from infra.observability import Observability
from infra.storage.in_cluster import StorageInCluster
from infra.storage.refs import StorageRefs


class ClusterStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: KitConfig, network: NetworkRefs | None, **kwargs) -> None:
        super().__init__(scope, construct_id, description=f"{config.name}: EKS {config.cluster.kubernetes_version} with its data plane in {config.placement.az_id}", **kwargs)
        if network is None:
            network = import_existing(self, config)
        control_plane = ControlPlane(self, "ControlPlane", config=config, network=network)
        self.cluster = control_plane.cluster
        self.efa = EfaSecurityGroup(self, "Efa", vpc=network.vpc, cluster_name=config.name)
        addons = ManagedAddons(self, "Addons", config=config, cluster=self.cluster)
        self.system_nodes = SystemNodes(self, "SystemNodes", config=config, cluster=self.cluster, network=network)
        addons.order_around(self.system_nodes.nodegroup)
        storage_class = self.cluster.add_manifest("DefaultStorageClass", default_storage_class())
        storage_class.node.add_dependency(addons.addons["aws-ebs-csi-driver"])
        storage = StorageInCluster(self, "Storage", config=config, cluster=self.cluster, storage=StorageRefs.from_config(config))
        for addon in storage.addons.values():
            addon.node.add_dependency(self.system_nodes.nodegroup)
        self.gpu = GpuDataPlane(
            self,
            "Gpu",
            config=config,
            cluster=self.cluster,
            network=network,
            efa_security_group=self.efa.security_group,
            system_nodegroup=self.system_nodes.nodegroup,
        )
        # Charts that run pods and may ask for volumes (NATS in the Dynamo platform, Prometheus) wait for both.
        nodes_and_volumes = DependencyGroup(self.system_nodes.nodegroup, storage_class)
        self.controllers = Controllers(self, "Controllers", cluster=self.cluster, names=required_controllers(config), after=nodes_and_volumes)
        self.observability = Observability(self, "Observability", config=config, cluster=self.cluster, network=network, after=nodes_and_volumes)
        cdk.CfnOutput(self, "ClusterName", value=self.cluster.cluster_name)
        cdk.CfnOutput(self, "EfaSecurityGroupId", value=self.efa.security_group.security_group_id)
