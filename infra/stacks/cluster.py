"""Cluster stack: EKS control plane, system nodes, managed add-ons, the GPU data plane, observability, and the
controllers and AWS access the enabled workloads require (read generically from core.requirements).

The stack only wires: each construct's props come from infra/stacks/cluster_props.py, and the order here is the
order of dependencies (and of the template's resources).
"""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct, DependencyGroup

from config.images import registry_cache
from config.model import PlatformConfig
from core.requirements import Requirements
from infra.cluster.addons import ManagedAddons
from infra.cluster.control_plane import ControlPlane
from infra.cluster.controllers import Controllers
from infra.cluster.crd_bundles import CrdBundles
from infra.cluster.efa import EfaSecurityGroup
from infra.cluster.platform_policies import PlatformIsolation
from infra.cluster.storage_class import default_storage_class
from infra.cluster.system_nodes import SystemNodes
from infra.cluster.workload_access import WorkloadAccess
from infra.gpu.data_plane import GpuDataPlane
from infra.images import wiring as image_wiring
from infra.images.node_access import pull_through_policy
from infra.interfaces import cluster_interface
from infra.network.refs import NetworkRefs, import_existing
from infra.observability import Observability
from infra.observability.amp import ManagedPrometheus
from infra.observability.rules.showback import LocalModel
from infra.routing.audit import GatewayAudit
from infra.routing.bedrock import BedrockAccess
from infra.scheduling.kueue import Kueue
from infra.stacks import cluster_props as props
from infra.stacks import storage_props
from infra.stacks.gpu_props import gpu_data_plane_props
from infra.stacks.network import existing_vpc_props
from infra.stacks.observability_props import observability_props
from infra.stacks.routing_props import bedrock_access_props
from infra.stacks.scheduling_props import kueue_props
from infra.storage.in_cluster import StorageInCluster


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
        queued_teams: tuple[str, ...],
        **kwargs,
    ) -> None:
        """routed_models: the enabled workloads served through the gateway, for the showback rules; queued_teams: the
        teams whose queues the kit's own workloads name (infra.scheduling.kueue.workload_teams)."""
        super().__init__(scope, construct_id, description=props.cluster_description(config), **kwargs)
        if network is None:
            network = import_existing(self, existing_vpc_props(config))
        self.cluster = cluster = ControlPlane(self, "ControlPlane", props.control_plane_props(config, network)).cluster
        # Before any chart or manifest: their images come from the account's ECR in the region (docs/images.md).
        image_wiring.use(cluster, registry_cache(config, account=self.account))
        # Before any namespace: each one the kit creates carries its NetworkPolicies (cluster.network_policies).
        isolation = props.platform_isolation_props(config)
        if isolation is not None:
            PlatformIsolation(cluster, PlatformIsolation.ID, isolation)
        self.efa = EfaSecurityGroup(self, "Efa", props.efa_security_group_props(config, network))
        addons = ManagedAddons(self, "Addons", props.managed_addons_props(config, cluster))
        self.system_nodes = SystemNodes(self, "SystemNodes", props.system_nodes_props(config, cluster, network))
        system_nodegroup = self.system_nodes.nodegroup
        addons.order_around(system_nodegroup)
        storage_class = cluster.add_manifest("DefaultStorageClass", default_storage_class())
        storage_class.node.add_dependency(addons.addons["aws-ebs-csi-driver"])
        storage_refs = storage_props.storage_refs(config)
        storage = StorageInCluster(self, "Storage", props.storage_in_cluster_props(config, cluster, storage_refs))
        for addon in storage.addons.values():
            addon.node.add_dependency(system_nodegroup)
        gpu = gpu_data_plane_props(config, cluster, network, self.efa.security_group, system_nodegroup)
        self.gpu = GpuDataPlane(self, "Gpu", gpu)
        # Charts that run pods and may ask for volumes (NATS in the Dynamo platform, Prometheus) wait for both.
        nodes_and_volumes = DependencyGroup(system_nodegroup, storage_class)
        self.controllers = Controllers(self, "Controllers", props.controllers_props(requirements, cluster, nodes_and_volumes))
        observability = observability_props(config, requirements, routed_models, cluster, network, nodes_and_volumes)
        self.observability = Observability(self, "Observability", observability)
        self.crd_bundles = CrdBundles(self, "CrdBundles", props.crd_bundles_props(requirements, cluster, system_nodegroup))
        self.metrics_query_url = self._metrics_readers(requirements)
        bedrock = bedrock_access_props(config, requirements, cluster_interface(cluster))
        self.bedrock = BedrockAccess(self, "GatewayBedrock", bedrock) if bedrock else None
        # LeaderWorkerSet's CRD first: Kueue enables its integration only for kinds the API server knows.
        queue_after = DependencyGroup(nodes_and_volumes, self.controllers)
        queues = kueue_props(config, cluster, queue_after, queued_teams=queued_teams)
        self.kueue = Kueue(self, "Kueue", queues) if queues else None
        audit = props.gateway_audit_props(config, requirements, cluster, after=system_nodegroup)
        self.audit = GatewayAudit(self, "GatewayAudit", audit) if audit else None
        access = props.workload_access_props(config, requirements, cluster, storage_refs)
        self.workload_access = WorkloadAccess(self, "WorkloadAccess", access) if access else None
        if config.images.pull_through_cache.enabled:
            block_role = self.gpu.node.try_find_child("CapacityBlockNodeRole")
            node_roles = [self.system_nodes.role, self.gpu.karpenter.node_role, *([block_role] if block_role else [])]
            pull_through_policy(self, config.name, node_roles)
        cdk.CfnOutput(self, "ClusterName", value=cluster.cluster_name)
        cdk.CfnOutput(self, "EfaSecurityGroupId", value=self.efa.security_group.security_group_id)

    def _metrics_readers(self, requirements: Requirements) -> str | None:
        """Query access to Amazon Managed Prometheus for each reader the workloads require; the workspace's query URL,
        or None with another metrics backend."""
        amp = self.observability.backend
        if not isinstance(amp, ManagedPrometheus):
            return None
        for reader in requirements.metrics_readers:
            association = amp.grant_query(cluster_interface(self.cluster), reader.namespace, reader.service_account)
            if reader.controller is not None:
                # Pod Identity credentials reach only pods started after the association exists.
                self.controllers.charts[reader.controller].node.add_dependency(association)
        return amp.query_url
