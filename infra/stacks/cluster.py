"""Cluster stack: EKS control plane, system nodes, managed add-ons, the GPU data plane, observability, and the
controllers and AWS access the enabled workloads require (read generically from core.requirements)."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct, DependencyGroup

from config.images import registry_cache
from config.model import PlatformConfig
from config.platform import capacities
from config.platform import platform as platform_facts
from core.capacity import extra_taint_keys
from core.requirements import Requirements
from infra.cluster.addons import ManagedAddons, ManagedAddonsProps
from infra.cluster.control_plane import ControlPlane, ControlPlaneProps
from infra.cluster.controllers import Controllers, ControllersProps
from infra.cluster.crd_bundles import CrdBundles, CrdBundlesProps
from infra.cluster.efa import EfaSecurityGroup
from infra.cluster.platform_policies import PlatformIsolation, PlatformNetwork
from infra.cluster.storage_class import default_storage_class
from infra.cluster.system_nodes import SystemNodes, SystemNodesProps
from infra.cluster.workload_access import WorkloadAccess, WorkloadAccessProps
from infra.gpu.data_plane import GpuDataPlane, GpuDataPlaneProps
from infra.images import wiring as image_wiring
from infra.images.node_access import pull_through_policy
from infra.network.refs import NetworkRefs, import_existing
from infra.observability import Observability, ObservabilityProps
from infra.observability.rules.gpu_showback import gpu_showback_groups
from infra.observability.rules.showback import LocalModel, showback_groups
from infra.routing.audit import GatewayAudit, GatewayAuditProps
from infra.routing.bedrock import BedrockAccess, BedrockAccessProps
from infra.scheduling.kueue import Kueue, KueueProps, workload_teams
from infra.stacks.network import existing_vpc_props
from infra.storage.in_cluster import StorageInCluster, StorageInClusterProps
from infra.storage.refs import StorageRefs


class ClusterStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PlatformConfig,
        network: NetworkRefs | None,
        requirements: Requirements = Requirements(),
        routed_models: tuple[LocalModel, ...] = (),
        **kwargs,
    ) -> None:
        """routed_models: the enabled workloads served through the gateway, for the showback rules."""
        super().__init__(
            scope,
            construct_id,
            description=f"{config.name}: EKS {config.cluster.kubernetes_version} with its data plane in {config.placement.az_id}",
            **kwargs,
        )
        if network is None:
            network = import_existing(self, existing_vpc_props(config))
        settings = config.cluster
        control_plane = ControlPlane(
            self,
            "ControlPlane",
            ControlPlaneProps(
                cluster_name=config.name,
                network=network,
                kubernetes_version=settings.kubernetes_version,
                public_access_cidrs=tuple(str(cidr) for cidr in settings.public_access_cidrs),
                admin_principal_arns=tuple(settings.admin_principal_arns),
                logging=tuple(settings.logging),
                log_retention_days=settings.log_retention_days,
            ),
        )
        self.cluster = cluster = control_plane.cluster
        # Before any chart or manifest: their images come from the account's ECR in the region (docs/images.md).
        image_wiring.use(cluster, registry_cache(config, account=self.account))
        # Before any namespace: each one the kit creates carries its NetworkPolicies (cluster.network_policies).
        platform_network = PlatformNetwork.from_config(config)
        if platform_network is not None:
            PlatformIsolation(cluster, platform_network)
        self.efa = EfaSecurityGroup(self, "Efa", vpc=network.vpc, cluster_name=config.name)
        addons = ManagedAddons(
            self,
            "Addons",
            ManagedAddonsProps(
                cluster=cluster, addon_versions=dict(settings.addon_versions), network_policies=settings.network_policies.enabled
            ),
        )
        nodes = settings.system_nodes
        self.system_nodes = SystemNodes(
            self,
            "SystemNodes",
            SystemNodesProps(
                cluster=cluster,
                network=network,
                nodegroup_name=f"{config.name}-system",
                instance_types=tuple(nodes.instance_types),
                min_size=nodes.min_size,
                desired_size=nodes.desired_size,
                max_size=nodes.max_size,
                disk_size_gib=nodes.disk_size_gib,
            ),
        )
        system_nodegroup = self.system_nodes.nodegroup
        addons.order_around(system_nodegroup)
        storage_class = cluster.add_manifest("DefaultStorageClass", default_storage_class())
        storage_class.node.add_dependency(addons.addons["aws-ebs-csi-driver"])
        storage_refs = StorageRefs.from_config(config)
        storage = StorageInCluster(
            self,
            "Storage",
            StorageInClusterProps(
                name=config.name,
                cluster=cluster,
                storage=storage_refs,
                namespace=config.storage.workloads_namespace,
                fsx=config.storage.fsx.enabled,
                addon_versions=dict(settings.addon_versions),
            ),
        )
        for addon in storage.addons.values():
            addon.node.add_dependency(system_nodegroup)
        self.gpu = GpuDataPlane(
            self,
            "Gpu",
            GpuDataPlaneProps(
                cluster=cluster,
                cluster_name=config.name,
                network=network,
                efa_security_group=self.efa.security_group,
                system_nodegroup=system_nodegroup,
                node_pools=tuple(config.node_pools),
                capacity_block_node_groups=tuple(config.capacity_block_node_groups),
                karpenter_replicas=config.karpenter.replicas,
                node_repair=config.karpenter.node_repair,
            ),
        )
        # Charts that run pods and may ask for volumes (NATS in the Dynamo platform, Prometheus) wait for both.
        nodes_and_volumes = DependencyGroup(system_nodegroup, storage_class)
        self.controllers = Controllers(
            self, "Controllers", ControllersProps(cluster=cluster, charts=requirements.controllers, after=nodes_and_volumes)
        )
        observability = ObservabilityProps(
            name=config.name,
            cluster=cluster,
            network=network,
            after=nodes_and_volumes,
            settings=config.observability,
            gpu_taint_keys=tuple(extra_taint_keys(capacities(config))),
            extra_rule_groups=tuple(
                (showback_groups(config.gateway, list(routed_models)) if requirements.gateway else [])
                + (gpu_showback_groups(list(config.node_pools)) if config.scheduling.teams else [])
            ),
        )
        self.observability = Observability(self, "Observability", observability)
        self.crd_bundles = CrdBundles(
            self, "CrdBundles", CrdBundlesProps(cluster=cluster, bundles=requirements.crd_bundles, after=system_nodegroup)
        )
        self.metrics_query_url: str | None = None
        amp = self.observability.backend if config.observability.metrics == "amp" else None
        if amp is not None:
            self.metrics_query_url = amp.query_url
            for reader in requirements.metrics_readers:
                association = amp.grant_query(cluster, reader.namespace, reader.service_account)
                if reader.controller is not None:
                    # Pod Identity credentials reach only pods started after the association exists.
                    self.controllers.charts[reader.controller].node.add_dependency(association)
        self.bedrock = None
        if requirements.gateway and config.gateway.bedrock:
            self.bedrock = BedrockAccess(self, "GatewayBedrock", BedrockAccessProps(cluster=cluster, models=tuple(config.gateway.bedrock)))
        self.kueue = None
        if config.scheduling.teams:
            facts = platform_facts(config)
            queues = KueueProps(
                cluster=cluster,
                settings=config.scheduling,
                capacities=dict(facts.capacities),
                topology_capacities=facts.scheduling.topology_capacities,
                workloads_namespace=config.storage.workloads_namespace,
                queued_teams=workload_teams(config.workloads),
                # LeaderWorkerSet's CRD first: Kueue enables its integration only for kinds the API server knows.
                after=DependencyGroup(nodes_and_volumes, self.controllers),
            )
            self.kueue = Kueue(self, "Kueue", queues)
        self.audit = None
        if requirements.gateway and config.gateway.teams:
            audit = GatewayAuditProps(
                cluster=cluster,
                cluster_name=config.name,
                retention_days=config.gateway.audit.log_retention_days,
                after=system_nodegroup,
                gateway_namespace=config.storage.workloads_namespace,
            )
            self.audit = GatewayAudit(self, "GatewayAudit", audit)
        self.workload_access = None
        if requirements.s3_access:
            access = WorkloadAccessProps(
                cluster=cluster, storage=storage_refs, namespace=config.storage.workloads_namespace, accesses=requirements.s3_access
            )
            self.workload_access = WorkloadAccess(self, "WorkloadAccess", access)
        block_role = self.gpu.node.try_find_child("CapacityBlockNodeRole")
        pull_through_policy(self, config, [self.system_nodes.role, self.gpu.karpenter.node_role, *([block_role] if block_role else [])])
        cdk.CfnOutput(self, "ClusterName", value=cluster.cluster_name)
        cdk.CfnOutput(self, "EfaSecurityGroupId", value=self.efa.security_group.security_group_id)
