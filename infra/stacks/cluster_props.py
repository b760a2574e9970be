"""The config mapped to the props of each construct in the cluster stack: one function per construct.

A function returns None where the config leaves its construct out (no gateway, no teams, no S3 access), so the
stack only wires what these return. Nothing here builds a resource.
"""

from __future__ import annotations

from aws_cdk import aws_eks_v2 as eks
from constructs import IDependable

from config.model import PlatformConfig
from config.platform import control_plane_cidrs, network_facts
from core.subnet_plan import LayoutError, plan_subnets
from core.requirements import Requirements
from infra.cluster.addons import ManagedAddonsProps
from infra.cluster.control_plane import ControlPlaneProps
from infra.cluster.controllers import ControllersProps
from infra.cluster.crd_bundles import CrdBundlesProps
from infra.cluster.efa import EfaSecurityGroupProps
from infra.cluster.platform_policies import PlatformIsolationProps, PlatformNetwork
from infra.cluster.system_nodes import SystemNodesProps
from infra.cluster.workload_access import WorkloadAccessProps
from infra.interfaces import cluster_interface
from infra.network.refs import NetworkRefs
from infra.routing.audit import GatewayAuditProps
from infra.storage.in_cluster import StorageInClusterProps
from infra.storage.refs import StorageRefs


def cluster_description(config: PlatformConfig) -> str:
    return f"{config.name}: EKS {config.cluster.kubernetes_version} with its data plane in {config.placement.az_id}"


def control_plane_props(config: PlatformConfig, network: NetworkRefs) -> ControlPlaneProps:
    settings = config.cluster
    return ControlPlaneProps(
        cluster_name=config.name,
        network=network,
        kubernetes_version=settings.kubernetes_version,
        public_access_cidrs=tuple(str(cidr) for cidr in settings.public_access_cidrs),
        admin_principal_arns=tuple(settings.admin_principal_arns),
        logging=tuple(settings.logging),
        log_retention_days=settings.log_retention_days,
    )


def platform_network(config: PlatformConfig) -> PlatformNetwork | None:
    """The network facts the platform namespaces' policies need; None where network policies are not enforced."""
    facts = network_facts(config)
    if not facts.enforced:
        return None
    network = config.network
    endpoints: tuple[str, ...] = ()
    if network.interface_endpoints:
        endpoints = (facts.vpc_cidr,)
        if network.existing_vpc is None:
            try:
                endpoints = tuple(
                    str(plan.cidr) for plan in plan_subnets(network.vpc_cidr, network.node_subnet_prefix) if plan.role == "nodes"
                )
            except LayoutError:
                pass  # the config checks report the layout; nothing is synthesized
    return PlatformNetwork(
        api_server=facts.api_server,
        control_plane=tuple(control_plane_cidrs(config)),
        vpc_cidr=facts.vpc_cidr,
        aws_endpoints=endpoints,
        scrapers=facts.metrics_from,
        metrics_backend=config.observability.metrics,
        workloads_namespace=config.storage.workloads_namespace,
        gateway_port=443 if config.gateway.certificate_arn else 80,
        bedrock=bool(config.gateway.bedrock),
    )


def platform_isolation_props(config: PlatformConfig) -> PlatformIsolationProps | None:
    network = platform_network(config)
    return PlatformIsolationProps(network=network) if network is not None else None


def efa_security_group_props(config: PlatformConfig, network: NetworkRefs) -> EfaSecurityGroupProps:
    return EfaSecurityGroupProps(vpc=network.vpc, cluster_name=config.name)


def managed_addons_props(config: PlatformConfig, cluster: eks.Cluster) -> ManagedAddonsProps:
    settings = config.cluster
    return ManagedAddonsProps(cluster=cluster, addon_versions=_addon_versions(config), network_policies=settings.network_policies.enabled)


def system_nodes_props(config: PlatformConfig, cluster: eks.Cluster, network: NetworkRefs) -> SystemNodesProps:
    nodes = config.cluster.system_nodes
    return SystemNodesProps(
        cluster=cluster,
        network=network,
        nodegroup_name=f"{config.name}-system",
        instance_types=tuple(nodes.instance_types),
        min_size=nodes.min_size,
        desired_size=nodes.desired_size,
        max_size=nodes.max_size,
        disk_size_gib=nodes.disk_size_gib,
    )


def storage_in_cluster_props(config: PlatformConfig, cluster: eks.Cluster, storage: StorageRefs) -> StorageInClusterProps:
    return StorageInClusterProps(
        name=config.name,
        cluster=cluster_interface(cluster),
        storage=storage,
        namespace=config.storage.workloads_namespace,
        fsx=config.storage.fsx.enabled,
        addon_versions=_addon_versions(config),
    )


def _addon_versions(config: PlatformConfig) -> dict[str, str]:
    """cluster.addon_versions by add-on name, as the add-on constructs take it."""
    return {str(name): version for name, version in config.cluster.addon_versions.items()}


def controllers_props(requirements: Requirements, cluster: eks.Cluster, after: IDependable) -> ControllersProps:
    return ControllersProps(cluster=cluster, charts=requirements.controllers, after=after)


def crd_bundles_props(requirements: Requirements, cluster: eks.Cluster, after: IDependable) -> CrdBundlesProps:
    return CrdBundlesProps(cluster=cluster, bundles=requirements.crd_bundles, after=after)


def gateway_audit_props(
    config: PlatformConfig, requirements: Requirements, cluster: eks.Cluster, after: IDependable
) -> GatewayAuditProps | None:
    if not (requirements.gateway and config.gateway.teams):
        return None
    return GatewayAuditProps(
        cluster=cluster,
        cluster_name=config.name,
        retention_days=config.gateway.audit.log_retention_days,
        after=after,
        gateway_namespace=config.storage.workloads_namespace,
    )


def workload_access_props(
    config: PlatformConfig, requirements: Requirements, cluster: eks.Cluster, storage: StorageRefs
) -> WorkloadAccessProps | None:
    if not requirements.s3_access:
        return None
    return WorkloadAccessProps(
        cluster=cluster_interface(cluster),
        storage=storage,
        namespace=config.storage.workloads_namespace,
        accesses=requirements.s3_access,
    )
