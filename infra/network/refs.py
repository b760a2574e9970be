"""What the network hands to the stacks that build on it."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_ec2 as ec2


@dataclass(frozen=True)
class NetworkRefs:
    vpc: ec2.IVpc
    vpc_cidr: str
    node_subnets: list[ec2.ISubnet]
    """Private subnets in the one GPU zone: every node, pod and FSx interface lives here."""
    control_plane_subnets: list[ec2.ISubnet]
    """Subnets in two zones for the EKS control plane's interfaces."""
    az_id: str

    def node_selection(self) -> ec2.SubnetSelection:
        return ec2.SubnetSelection(subnets=self.node_subnets)

    def control_plane_selection(self) -> ec2.SubnetSelection:
        return ec2.SubnetSelection(subnets=self.control_plane_subnets)


@dataclass(frozen=True)
class ExistingVpcProps:
    vpc_id: str
    cidr: str
    node_subnet_ids: tuple[str, ...]
    """Private subnets in az_id."""
    control_plane_subnet_ids: tuple[str, ...]
    """Subnets in az_id and control_plane_az_id."""
    az_id: str
    control_plane_az_id: str


def import_existing(scope, props: ExistingVpcProps) -> NetworkRefs:
    """Wrap a VPC named by IDs; nothing is looked up at synth."""
    zones = [props.az_id, props.control_plane_az_id]
    vpc = ec2.Vpc.from_vpc_attributes(scope, "ExistingVpc", vpc_id=props.vpc_id, vpc_cidr_block=props.cidr, availability_zones=zones)

    def subnets(prefix: str, ids: tuple[str, ...], zones: list[str]) -> list[ec2.ISubnet]:
        return [
            ec2.Subnet.from_subnet_attributes(
                scope, f"{prefix}{index}", subnet_id=subnet_id, availability_zone=zones[min(index, len(zones) - 1)]
            )
            for index, subnet_id in enumerate(ids)
        ]

    return NetworkRefs(
        vpc=vpc,
        vpc_cidr=props.cidr,
        node_subnets=subnets("NodeSubnet", props.node_subnet_ids, [props.az_id]),
        control_plane_subnets=subnets("ControlPlaneSubnet", props.control_plane_subnet_ids, zones),
        az_id=props.az_id,
    )
