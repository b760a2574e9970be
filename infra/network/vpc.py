"""A VPC whose subnets are placed by AZ ID, with the GPU data plane in one zone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast, get_args
from ipaddress import IPv4Network

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct

from core.schema import LogRetentionDays
from core.subnet_plan import LayoutError, SubnetPlan, plan_subnets
from infra.network.refs import NetworkRefs
from infra.interfaces import subnet_interface

_SUBNET_ROLE_TAGS = {
    "public": {"kubernetes.io/role/elb": "1"},
    "nodes": {"kubernetes.io/role/internal-elb": "1"},
    "control_plane": {},
}
SUBNET_ROLE_TAG = "llm-kit/subnet-role"
RETENTION_DAYS: tuple[int, ...] = get_args(LogRetentionDays)


@dataclass(frozen=True, kw_only=True)
class SingleZoneVpcProps:
    """A VPC with its nodes in one zone and the control plane's interfaces in two (subnets by AZ ID)."""

    az_id: str
    """The zone of every node, the NAT gateway and the public subnet for load balancers."""
    control_plane_az_id: str
    """A second zone, for the EKS control plane's interfaces (and a public subnet) only."""
    vpc_cidr: IPv4Network = IPv4Network("10.0.0.0/16")
    """The VPC's IPv4 range. Default: 10.0.0.0/16, the largest range a VPC takes, so the node subnet can be large."""
    node_subnet_prefix: int = 17
    """Prefix length of the one node subnet. Default: 17, half the default VPC: every pod takes a VPC address."""
    nat_gateways: int = 1
    """0 or 1, in az_id. Default: 1, so nodes reach the registries and AWS APIs without endpoints for each."""
    flow_logs_retention_days: int | None = 90
    """Days CloudWatch keeps the VPC's flow logs; None turns flow logs off. Default: 90, as network.flow_logs has it."""

    def __post_init__(self) -> None:
        if self.az_id == self.control_plane_az_id:
            raise ValueError(
                f"SingleZoneVpcProps.control_plane_az_id: got {self.control_plane_az_id!r}, the same as az_id; a second zone is"
                " allowed (EKS needs two); name another AZ ID"
            )
        if self.nat_gateways not in (0, 1):
            raise ValueError(f"SingleZoneVpcProps.nat_gateways: got {self.nat_gateways}; 0 or 1 is allowed; set one of them")
        if self.flow_logs_retention_days is not None and self.flow_logs_retention_days not in RETENTION_DAYS:
            raise ValueError(
                f"SingleZoneVpcProps.flow_logs_retention_days: got {self.flow_logs_retention_days}; a CloudWatch Logs retention"
                f" ({', '.join(map(str, RETENTION_DAYS))}) or None is allowed; pick one of them"
            )
        try:
            plan_subnets(self.vpc_cidr, self.node_subnet_prefix)
        except LayoutError as error:
            raise ValueError(
                f"SingleZoneVpcProps.node_subnet_prefix: got /{self.node_subnet_prefix} in {self.vpc_cidr}; {error}; a prefix that"
                " leaves room for the public and control-plane subnets is allowed; raise the prefix or widen vpc_cidr"
            ) from None


class SingleZoneVpc(Construct):
    """Subnets are created with AvailabilityZoneId, never an AZ name: names differ per account, IDs do not."""

    def __init__(self, scope: Construct, construct_id: str, props: SingleZoneVpcProps) -> None:
        super().__init__(scope, construct_id)
        self.props = props
        zones = {"primary": props.az_id, "control_plane": props.control_plane_az_id}

        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(str(props.vpc_cidr)),
            subnet_configuration=[],
            nat_gateways=0,
            restrict_default_security_group=False,
        )
        igw = ec2.CfnInternetGateway(self, "InternetGateway")
        attachment = ec2.CfnVPCGatewayAttachment(self, "InternetGatewayAttachment", vpc_id=self.vpc.vpc_id, internet_gateway_id=igw.ref)

        self.subnets: dict[str, ec2.Subnet] = {}
        for plan in plan_subnets(props.vpc_cidr, props.node_subnet_prefix):
            self.subnets[plan.name] = self._subnet(plan, zones[plan.zone])

        nat_gateway_id = None
        for name, subnet in self.subnets.items():
            if isinstance(subnet, ec2.PublicSubnet):
                subnet.add_default_internet_route(igw.ref, attachment)
                if name == "PublicPrimary" and props.nat_gateways:
                    nat_gateway_id = subnet.add_nat_gateway().ref
        if nat_gateway_id is not None:
            self.subnets["Nodes"].add_default_nat_route(nat_gateway_id)

        if props.flow_logs_retention_days is not None:
            log_group = logs.LogGroup(
                self,
                "FlowLogs",
                removal_policy=cdk.RemovalPolicy.RETAIN,
            )
            # The L1 property takes the number of days as it is.
            cast(logs.CfnLogGroup, log_group.node.default_child).retention_in_days = props.flow_logs_retention_days
            self.vpc.add_flow_log("FlowLog", destination=ec2.FlowLogDestination.to_cloud_watch_logs(log_group))

    def _subnet(self, plan: SubnetPlan, az_id: str) -> ec2.Subnet:
        kind = ec2.PublicSubnet if plan.role == "public" else ec2.PrivateSubnet
        subnet = kind(
            self,
            plan.name,
            vpc_id=self.vpc.vpc_id,
            availability_zone=az_id,
            cidr_block=str(plan.cidr),
            map_public_ip_on_launch=False,
        )
        cfn = cast(ec2.CfnSubnet, subnet.node.default_child)
        cfn.add_property_deletion_override("AvailabilityZone")
        cfn.add_property_override("AvailabilityZoneId", az_id)
        cdk.Tags.of(subnet).add(SUBNET_ROLE_TAG, plan.role)
        for key, value in _SUBNET_ROLE_TAGS[plan.role].items():
            cdk.Tags.of(subnet).add(key, value)
        return subnet

    @property
    def refs(self) -> NetworkRefs:
        primary, secondary = self.subnets["ControlPlanePrimary"], self.subnets["ControlPlaneSecondary"]
        return NetworkRefs(
            vpc=self.vpc,
            vpc_cidr=str(self.props.vpc_cidr),
            node_subnets=(subnet_interface(self.subnets["Nodes"]),),
            control_plane_subnets=(subnet_interface(primary), subnet_interface(secondary)),
            az_id=self.props.az_id,
        )
