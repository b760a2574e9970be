"""Checks across fields, run once the config has the right shape."""

from __future__ import annotations

import re
from ipaddress import IPv4Network

from config.capacity_checks import capacity_issues
from config.model import PlatformConfig
from config.gpu_queue_checks import scheduling_issues
from config.network import NO_NAT_REQUIRED_ENDPOINTS
from config.network_checks import existing_vpc_issues
from config.gateway_model_checks import gateway_model_issues
from config.gateway_exposure_checks import gateway_exposure_issues
from config.node_pool_checks import node_pool_issues
from config.public_cidrs import WIDEST_PUBLIC_PREFIX, PublicEndpoint, public_cidr_issues
from config.storage_checks import kit_bucket_issues, storage_issues
from config.images import image_issues
from core.subnet_plan import LayoutError, plan_subnets
from core.issues import ConfigIssue
from core.regions import AZ_IDS_CHECKED_ON, az_id_prefix, known_az_ids

# The public API endpoint's allow-list: offices, VPNs and CI runners, not the internet (config/public_cidrs.py).
PUBLIC_API_ENDPOINT = PublicEndpoint(
    key="cluster.public_access_cidrs",
    opens="the Kubernetes API",
    allowed=(
        f"the CIDRs of your offices, VPNs or CI runners, each /{WIDEST_PUBLIC_PREFIX} "
        "or narrower, or an empty list for a private-only endpoint"
    ),
    narrow_fix="replace it with the narrow CIDRs that need kubectl access, or reach the private endpoint through a VPN",
    total_fix="keep only the networks that run kubectl, or reach the private endpoint through a VPN",
)


def cross_checks(config: PlatformConfig) -> list[ConfigIssue]:
    issues: list[ConfigIssue] = []
    issues += _tags(config)
    issues += _placement(config)
    issues += _network(config)
    issues += _cluster(config)
    issues += _storage(config)
    issues += node_pool_issues(config)
    issues += capacity_issues(config)
    issues += _pipeline(config)
    issues += _gateway(config)
    issues += gateway_exposure_issues(config)
    issues += scheduling_issues(config)
    issues += image_issues(config)
    return issues


# AWS tag keys and values: letters, digits, spaces and + - = . _ : / @ (any script); aws: is reserved for AWS.
_TAG_TEXT = re.compile(r"^[\w\s+\-=.:/@]*$")


def _tags(config: PlatformConfig) -> list[ConfigIssue]:
    issues = []
    for key, value in config.tags.items():
        if key.lower().startswith("aws:"):
            issues.append(
                ConfigIssue(
                    f"tags.{key}",
                    "tag keys starting with aws: are reserved for AWS; CloudFormation refuses them",
                    value=key,
                    fix=f"drop the prefix, e.g. '{key[4:] or 'name'}'",
                )
            )
        for part, text in (("key", key), ("value", value)):
            if not _TAG_TEXT.match(text):
                bad = sorted({c for c in text if not _TAG_TEXT.match(c)})
                issues.append(
                    ConfigIssue(
                        f"tags.{key}",
                        f"the tag {part} holds characters AWS tags do not allow: {', '.join(map(repr, bad))}",
                        value=text,
                        allowed="letters, digits, spaces and + - = . _ : / @",
                        fix=f"remove or replace {', '.join(map(repr, bad))}",
                    )
                )
    return issues


def _placement(config: PlatformConfig) -> list[ConfigIssue]:
    issues = []
    try:
        prefix = az_id_prefix(config.region)
    except ValueError:
        return [
            ConfigIssue(
                "region",
                "not a known AWS region name",
                value=config.region,
                allowed="names such as us-west-2, eu-central-1, ap-northeast-1",
                fix="copy the region name from the AWS console or `aws configure get region`",
            )
        ]
    placement = config.placement
    known = known_az_ids(config.region)
    listing = f"aws ec2 describe-availability-zones --region {config.region} --query 'AvailabilityZones[].ZoneId'"
    for key, other_key in (("az_id", "control_plane_az_id"), ("control_plane_az_id", "az_id")):
        az_id, other = getattr(placement, key), getattr(placement, other_key)
        candidates = [z for z in known if z != other] if known else []
        if az_id.rsplit("-az", 1)[0] != prefix:
            allowed = ", ".join(known) if known else f"{prefix}-az1, {prefix}-az2, ..."
            issues.append(
                ConfigIssue(
                    f"placement.{key}",
                    f"this AZ ID is not in region {config.region} (its AZ IDs start with {prefix}-)",
                    value=az_id,
                    allowed=allowed,
                    fix=f"pick one of {config.region}'s AZ IDs; list them with: {listing}",
                )
            )
        elif known and az_id not in known:
            issues.append(
                ConfigIssue(
                    f"placement.{key}",
                    f"{config.region} has no AZ ID {az_id}",
                    value=az_id,
                    allowed=", ".join(known) + f" (as of {AZ_IDS_CHECKED_ON})",
                    fix=f"pick one of {', '.join(candidates)}; if AWS has added {az_id} since, add it to core/regions.py ({listing})",
                )
            )
    if placement.az_id == placement.control_plane_az_id:
        others = [z for z in (known or ()) if z != placement.az_id]
        issues.append(
            ConfigIssue(
                "placement.control_plane_az_id",
                "must differ from placement.az_id: EKS places control-plane interfaces in two zones",
                value=placement.control_plane_az_id,
                fix=f"pick another AZ ID of {config.region}" + (f": {', '.join(others)}" if others else ""),
            )
        )
    return issues


def _network(config: PlatformConfig) -> list[ConfigIssue]:
    network = config.network
    issues = existing_vpc_issues(config)
    if network.existing_vpc is None:
        try:
            plan_subnets(network.vpc_cidr, network.node_subnet_prefix)
        except LayoutError as err:
            issues.append(
                ConfigIssue(
                    "network.node_subnet_prefix",
                    str(err),
                    value=network.node_subnet_prefix,
                    allowed=(
                        f"a prefix longer than the VPC's /{network.vpc_cidr.prefixlen} "
                        "that leaves room for the public and control-plane subnets"
                    ),
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
        issues.append(
            ConfigIssue(
                "network.interface_endpoints", "lists an endpoint twice", value=list(network.interface_endpoints), fix="remove the repeat"
            )
        )
    return issues


def _cluster(config: PlatformConfig) -> list[ConfigIssue]:
    cluster = config.cluster
    issues = []
    issues += _public_endpoint(cluster.public_access_cidrs)
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
        issues.append(
            ConfigIssue(
                "cluster.admin_principal_arns", "lists a principal twice", value=list(cluster.admin_principal_arns), fix="remove the repeat"
            )
        )
    return issues


def _public_endpoint(cidrs: list[IPv4Network]) -> list[ConfigIssue]:
    return public_cidr_issues(cidrs, PUBLIC_API_ENDPOINT)


def _storage(config: PlatformConfig) -> list[ConfigIssue]:
    return storage_issues(config.storage) + kit_bucket_issues(config)


def _gateway(config: PlatformConfig) -> list[ConfigIssue]:
    gateway = config.gateway
    issues = []
    if gateway.scheme == "internet-facing":
        if not gateway.source_cidrs:
            issues.append(
                ConfigIssue(
                    "gateway.source_cidrs",
                    "an internet-facing gateway needs the networks that may call it, named explicitly",
                    fix="list your clients' CIDRs (an office, a NAT, a CDN's ranges), or set scheme: internal",
                )
            )
        if gateway.certificate_arn is None:
            issues.append(
                ConfigIssue(
                    "gateway.certificate_arn",
                    "an internet-facing gateway serves only TLS, from an ACM certificate",
                    fix="request or import a certificate in ACM in this region and give its ARN, or set scheme: internal",
                )
            )
    for index, cidr in enumerate(gateway.source_cidrs):
        if cidr.prefixlen == 0:
            issues.append(
                ConfigIssue(
                    f"gateway.source_cidrs[{index}]",
                    "admits every address on the internet to the model endpoints",
                    value=str(cidr),
                    fix=(
                        "name the networks that call the models; to serve the public, put "
                        "CloudFront or a WAF-protected ALB in front and admit only that"
                    ),
                )
            )
    arn = gateway.certificate_arn
    if arn is not None and arn.split(":")[3] != config.region:
        issues.append(
            ConfigIssue(
                "gateway.certificate_arn",
                f"the certificate is in {arn.split(':')[3]}; a load balancer in {config.region} can only use one from its own region",
                value=arn,
                fix=f"import or request the certificate in {config.region}",
            )
        )
    return issues + gateway_model_issues(config)


def _pipeline(config: PlatformConfig) -> list[ConfigIssue]:
    pipeline = config.pipeline
    if not pipeline.enabled:
        return []
    issues = []
    for key in ("connection_arn", "repository"):
        if getattr(pipeline, key) is None:
            issues.append(
                ConfigIssue(
                    f"pipeline.{key}", "is required when the pipeline is enabled", fix=f"set pipeline.{key}, or pipeline.enabled: false"
                )
            )
    if config.account is None:
        issues.append(
            ConfigIssue(
                "account",
                "a pipeline deploys to a fixed account, so it must be named",
                fix="set account to the 12-digit ID the pipeline deploys into",
            )
        )
    return issues
