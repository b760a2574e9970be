"""Checks of an existing VPC against what the NetworkPolicies need to know of it.

The policies admit the EKS endpoint's interfaces (webhooks, the API) and the AMP managed scraper (metrics ports) by
the ranges of the subnets those interfaces sit in: the control-plane subnets (infra/observability/amp.py gives the
scraper the same subnets as the cluster). The kit knows the ranges of the subnets it creates; for an existing VPC
the config must name them. Without them the only safe superset is the VPC's CIDR, which admits every pod in the
VPC to every metrics port, and a vLLM server's metrics port is its serving port: any pod could call a model
without a key.
"""

from __future__ import annotations

from ipaddress import IPv4Network

from core.issues import ConfigIssue

KEY = "network.existing_vpc"
LOOK_UP = "aws ec2 describe-subnets --subnet-ids {ids} --query 'Subnets[].[SubnetId,CidrBlock]' --output text"


def existing_vpc_issues(config) -> list[ConfigIssue]:
    existing = config.network.existing_vpc
    if existing is None or not config.cluster.network_policies.enabled:
        return []
    subnet_ids = list(existing.control_plane_subnet_ids)
    look_up = LOOK_UP.format(ids=" ".join(subnet_ids))
    cidrs = existing.control_plane_subnet_cidrs
    issues = []
    if cidrs is None:
        issues.append(
            ConfigIssue(
                f"{KEY}.control_plane_subnet_cidrs",
                "is required with cluster.network_policies.enabled: the policies admit the EKS endpoint's and the AMP "
                "scraper's interfaces by the ranges of the control-plane subnets; the whole VPC instead would let every "
                "pod in it call the model servers' metrics ports, which for vLLM are the serving ports",
                allowed="the IPv4 range of each subnet in control_plane_subnet_ids",
                fix=f"add control_plane_subnet_cidrs with the ranges this prints: {look_up}",
            )
        )
    else:
        if len(cidrs) != len(subnet_ids):
            issues.append(
                ConfigIssue(
                    f"{KEY}.control_plane_subnet_cidrs",
                    f"names {len(cidrs)} range{'' if len(cidrs) == 1 else 's'} for {len(subnet_ids)} control-plane subnets",
                    value=[str(cidr) for cidr in cidrs],
                    allowed="one range per subnet in control_plane_subnet_ids",
                    fix=f"list the range of each subnet: {look_up}",
                )
            )
        vpc = IPv4Network(existing.cidr)
        for index, cidr in enumerate(cidrs):
            if IPv4Network(cidr).supernet_of(vpc):
                issues.append(
                    ConfigIssue(
                        f"{KEY}.control_plane_subnet_cidrs[{index}]",
                        f"holds the whole VPC ({vpc}), so every pod in it would pass for the API server and the scraper",
                        value=str(cidr),
                        allowed="a subnet's range, inside the VPC",
                        fix=f"use the subnet's own range: {look_up}",
                    )
                )
    shared = [subnet for subnet in subnet_ids if subnet in existing.node_subnet_ids]
    if shared:
        issues.append(
            ConfigIssue(
                f"{KEY}.control_plane_subnet_ids",
                "shares subnets with node_subnet_ids: pods take addresses in the node subnets, and the policies admit the "
                "control-plane subnets' ranges as the API server and the metrics scraper, so those pods would pass for both",
                value=shared,
                allowed="subnets no node uses (EKS needs two, in placement.az_id and placement.control_plane_az_id; a /28 each is enough)",
                fix="create two small subnets for the control plane and name them here, or set cluster.network_policies.enabled: false",
            )
        )
    return issues
