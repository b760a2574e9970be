"""Carve the VPC CIDR into the single-zone subnet plan, as pure data.

One large node subnet in the GPU zone (every pod takes a VPC IP; EFA-only
interfaces take none), small public subnets for the NAT gateway and load
balancers, and /28 subnets in both zones for the EKS control plane's interfaces.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Network
from typing import Literal

Zone = Literal["primary", "control_plane"]
Role = Literal["nodes", "public", "control_plane"]

PUBLIC_PREFIX = 24
CONTROL_PLANE_PREFIX = 28


class LayoutError(ValueError):
    pass


@dataclass(frozen=True)
class SubnetPlan:
    name: str
    role: Role
    zone: Zone
    cidr: IPv4Network


def plan_subnets(vpc_cidr: IPv4Network, node_prefix: int) -> list[SubnetPlan]:
    """Largest blocks first, each aligned to its size, so the plan never overlaps."""
    wanted: list[tuple[str, Role, Zone, int]] = [
        ("Nodes", "nodes", "primary", node_prefix),
        ("PublicPrimary", "public", "primary", PUBLIC_PREFIX),
        ("PublicControlPlane", "public", "control_plane", PUBLIC_PREFIX),
        ("ControlPlanePrimary", "control_plane", "primary", CONTROL_PLANE_PREFIX),
        ("ControlPlaneSecondary", "control_plane", "control_plane", CONTROL_PLANE_PREFIX),
    ]
    if node_prefix <= vpc_cidr.prefixlen:
        raise LayoutError(f"a /{node_prefix} node subnet does not fit inside the /{vpc_cidr.prefixlen} VPC")
    plans: list[SubnetPlan] = []
    cursor = int(vpc_cidr.network_address)
    end = int(vpc_cidr.broadcast_address) + 1
    for name, role, zone, prefix in sorted(wanted, key=lambda item: item[3]):
        size = 2 ** (32 - prefix)
        cursor = -(-cursor // size) * size
        if cursor + size > end:
            raise LayoutError(
                f"the VPC /{vpc_cidr.prefixlen} has no room left for the {name} subnet (/{prefix}) after a /{node_prefix} node subnet"
            )
        plans.append(SubnetPlan(name, role, zone, IPv4Network((cursor, prefix))))
        cursor += size
    return plans
