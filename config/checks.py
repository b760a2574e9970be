"""Checks across fields, run once the config has the right shape."""

from __future__ import annotations

from ipaddress import IPv4Network

from config.model import PlatformConfig
from config.network import NO_NAT_REQUIRED_ENDPOINTS
from config.node_pool_checks import node_pool_issues
from config.storage_checks import storage_issues
from config.subnet_plan import LayoutError, plan_subnets
from core.issues import ConfigIssue
from core.regions import az_id_prefix

_ANYWHERE = IPv4Network("0.0.0.0/0")


def cross_checks(config: PlatformConfig) -> list[ConfigIssue]:
    issues: list[ConfigIssue] = []
    issues += _placement(config)
    issues += _network(config)
    issues += _cluster(config)
    issues += _storage(config)
    issues += node_pool_issues(config)
    issues += _pipeline(config)
    return issues


def _placement(config: PlatformConfig) -> list[ConfigIssue]:
    issues = []
    try:
        prefix = az_id_prefix(config.region)
    except ValueError:
        return [ConfigIssue("region", "not a known AWS region name", value=config.region, allowed="names such as us-west-2, eu-central-1, ap-northeast-1")]
    placement = config.placement
    for key in ("az_id", "control_plane_az_id"):
        az_id = getattr(placement, key)
        if az_id.rsplit("-az", 1)[0] != prefix:
            issues.append(
                ConfigIssue(
                    f"placement.{key}",
                    f"this AZ ID is not in region {config.region}",
                    value=az_id,
                    allowed=f"AZ IDs of {config.region}: {prefix}-az1, {prefix}-az2, ...",
                    fix=f"list them with: aws ec2 describe-availability-zones --region {config.region} --query 'AvailabilityZones[].ZoneId'",
                )
            )
    if placement.az_id == placement.control_plane_az_id:
        issues.append(
            ConfigIssue(
                "placement.control_plane_az_id",
                "must differ from placement.az_id: EKS places control-plane interfaces in two zones",
                value=placement.control_plane_az_id,
                fix="pick another AZ ID of the same region",
            )
        )
    return issues


def _network(config: PlatformConfig) -> list[ConfigIssue]:
    network = config.network
    issues = []
    if network.existing_vpc is None:
        try:
            plan_subnets(network.vpc_cidr, network.node_subnet_prefix)
        except LayoutError as err:
            issues.append(
                ConfigIssue(
                    "network.node_subnet_prefix",
                    str(err),
                    value=network.node_subnet_prefix,
                    allowed=f"a prefix longer than the VPC's /{network.vpc_cidr.prefixlen} that leaves room for the public and control-plane subnets",
                    fix="raise node_subnet_prefix or widen network.vpc_cidr",
                )
            )
    if network.nat_gateways == 0:
        missing = [name for name in NO_NAT_REQUIRED_ENDPOINTS if name not in network.interface_endpoints]
        if missing:
            issues.append(
                ConfigIssue(
                    "network.interface_endpoints",
                    "without a NAT gateway the nodes can reach AWS only through VPC endpoints, and some they need are missing",
                    value=list(network.interface_endpoints),
                    allowed=f"a list that includes {', '.join(NO_NAT_REQUIRED_ENDPOINTS)}",
                    fix=f"add {', '.join(missing)}, or set network.nat_gateways: 1",
                )
            )
    if len(set(network.interface_endpoints)) != len(network.interface_endpoints):
        issues.append(ConfigIssue("network.interface_endpoints", "lists an endpoint twice", value=list(network.interface_endpoints), fix="remove the repeat"))
    return issues


def _cluster(config: PlatformConfig) -> list[ConfigIssue]:
    cluster = config.cluster
    issues = []
    for index, cidr in enumerate(cluster.public_access_cidrs):
        if cidr == _ANYWHERE:
            issues.append(
                ConfigIssue(
                    f"cluster.public_access_cidrs[{index}]",
                    "opens the Kubernetes API to the whole internet",
                    value=str(cidr),
                    allowed="the CIDRs of your office, VPN or CI runners, or an empty list for a private endpoint",
                    fix="replace it with the narrow CIDRs that need kubectl access",
                )
            )
    nodes = cluster.system_nodes
    if not nodes.min_size <= nodes.desired_size <= nodes.max_size:
        issues.append(
            ConfigIssue(
                "cluster.system_nodes",
                "sizes must satisfy min_size <= desired_size <= max_size",
                value={"min_size": nodes.min_size, "desired_size": nodes.desired_size, "max_size": nodes.max_size},
                fix="adjust the three sizes",
            )
        )
    if len(set(cluster.admin_principal_arns)) != len(cluster.admin_principal_arns):
        issues.append(ConfigIssue("cluster.admin_principal_arns", "lists a principal twice", value=list(cluster.admin_principal_arns), fix="remove the repeat"))
    return issues


def _storage(config: PlatformConfig) -> list[ConfigIssue]:
    return storage_issues(config.storage)


def _pipeline(config: PlatformConfig) -> list[ConfigIssue]:
    pipeline = config.pipeline
    if not pipeline.enabled:
        return []
    issues = []
    for key in ("connection_arn", "repository"):
        if getattr(pipeline, key) is None:
            issues.append(ConfigIssue(f"pipeline.{key}", "is required when the pipeline is enabled", fix=f"set pipeline.{key}, or pipeline.enabled: false"))
    if config.account is None:
        issues.append(
            ConfigIssue("account", "a pipeline deploys to a fixed account, so it must be named", fix="set account to the 12-digit ID the pipeline deploys into")
        )
    return issues
