"""What the network hands to the stacks that build on it."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Network

from aws_cdk import aws_ec2 as ec2
from constructs import Construct


@dataclass(frozen=True, kw_only=True)
class NetworkRefs:
    """The VPC and the subnets each part of the kit is placed in."""

    vpc: ec2.IVpc
    """The VPC, created by the kit or imported."""
    vpc_cidr: str
    """The VPC's IPv4 range: what security groups and the load balancer admit as "inside"."""
    node_subnets: tuple[ec2.ISubnet, ...]
    """Private subnets in the one GPU zone: every node, pod and FSx interface lives here."""
    control_plane_subnets: tuple[ec2.ISubnet, ...]
    """Subnets in two zones for the EKS control plane's interfaces."""
    az_id: str
    """The GPU zone's AZ ID (placement.az_id)."""

    def node_selection(self) -> ec2.SubnetSelection:
        return ec2.SubnetSelection(subnets=list(self.node_subnets))

    def control_plane_selection(self) -> ec2.SubnetSelection:
        return ec2.SubnetSelection(subnets=list(self.control_plane_subnets))


@dataclass(frozen=True, kw_only=True)
class ExistingVpcProps:
    """A VPC the kit does not own, named by IDs; nothing is looked up at synth."""

    vpc_id: str
    """The VPC's id (vpc-...)."""
    cidr: str
    """The VPC's IPv4 range."""
    node_subnet_ids: tuple[str, ...]
    """Private subnets in az_id."""
    control_plane_subnet_ids: tuple[str, ...]
    """Subnets in az_id and control_plane_az_id."""
    az_id: str
    """The GPU zone's AZ ID."""
    control_plane_az_id: str
    """The second zone's AZ ID, for the control plane."""

    def __post_init__(self) -> None:
        try:
            IPv4Network(self.cidr)
        except ValueError:
            raise ValueError(
                f"ExistingVpcProps.cidr: got {self.cidr!r}; an IPv4 range such as '10.0.0.0/16' is allowed; give the VPC's range"
            ) from None
        for field, ids in (("node_subnet_ids", self.node_subnet_ids), ("control_plane_subnet_ids", self.control_plane_subnet_ids)):
            if not ids:
                raise ValueError(f"ExistingVpcProps.{field}: got (); at least one subnet id is allowed; list the subnets")
        if len(self.control_plane_subnet_ids) < 2:
            raise ValueError(
                f"ExistingVpcProps.control_plane_subnet_ids: got {len(self.control_plane_subnet_ids)} subnet; at least two, in two"
                " zones, are allowed (EKS requires it); add a subnet in control_plane_az_id"
            )
        if self.az_id == self.control_plane_az_id:
            raise ValueError(
                f"ExistingVpcProps.control_plane_az_id: got {self.control_plane_az_id!r}, the same as az_id; a second zone is"
                " allowed; name another AZ ID"
            )


def import_existing(scope: Construct, props: ExistingVpcProps) -> NetworkRefs:
    """Wrap a VPC named by IDs; nothing is looked up at synth."""
    zones = [props.az_id, props.control_plane_az_id]
    vpc = ec2.Vpc.from_vpc_attributes(scope, "ExistingVpc", vpc_id=props.vpc_id, vpc_cidr_block=props.cidr, availability_zones=zones)

    def subnets(prefix: str, ids: tuple[str, ...], zones: list[str]) -> tuple[ec2.ISubnet, ...]:
        return tuple(
            ec2.Subnet.from_subnet_attributes(
                scope, f"{prefix}{index}", subnet_id=subnet_id, availability_zone=zones[min(index, len(zones) - 1)]
            )
            for index, subnet_id in enumerate(ids)
        )

    return NetworkRefs(
        vpc=vpc,
        vpc_cidr=props.cidr,
        node_subnets=subnets("NodeSubnet", props.node_subnet_ids, [props.az_id]),
        control_plane_subnets=subnets("ControlPlaneSubnet", props.control_plane_subnet_ids, zones),
        az_id=props.az_id,
    )
