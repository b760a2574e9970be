"""VPC endpoints that keep image and model pulls off the NAT gateway."""

from __future__ import annotations

import re
from dataclasses import dataclass

from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from infra.network.refs import NetworkRefs

_SERVICE = re.compile(r"^[a-z0-9]+([.-][a-z0-9]+)*$")


@dataclass(frozen=True, kw_only=True)
class VpcEndpointsProps:
    """The S3 gateway endpoint, and interface endpoints for the AWS services nodes and pods call."""

    network: NetworkRefs
    """The VPC, its range (the endpoints' security group admits it) and the node subnets the interfaces go in."""
    route_subnets: tuple[ec2.ISubnet, ...]
    """Subnets whose route tables get the S3 gateway endpoint."""
    interface_endpoints: tuple[str, ...] = ("ecr.api", "ecr.dkr", "sts", "ec2", "logs")
    """AWS services (e.g. 'ecr.api') with an interface endpoint in the node subnets; empty for none. Default: image
    pulls (ecr.api, ecr.dkr), Pod Identity and node credentials (sts), node registration (ec2) and logs."""

    def __post_init__(self) -> None:
        if not self.route_subnets:
            raise ValueError("VpcEndpointsProps.route_subnets: got (); at least one subnet is allowed; pass the node subnets")
        twice = sorted({name for name in self.interface_endpoints if self.interface_endpoints.count(name) > 1})
        if twice:
            raise ValueError(
                f"VpcEndpointsProps.interface_endpoints: got {', '.join(twice)} more than once; each service once is allowed;"
                " remove the repeats"
            )
        malformed = [name for name in self.interface_endpoints if not _SERVICE.match(name) or name.startswith("com.amazonaws.")]
        if malformed:
            raise ValueError(
                f"VpcEndpointsProps.interface_endpoints: got {', '.join(map(repr, malformed))}; service names such as 'ecr.api'"
                " (lowercase, dots and dashes) are allowed; write the name without the com.amazonaws.<region> prefix"
            )


class VpcEndpoints(Construct):
    """The S3 gateway endpoint (free; ECR image layers are served from S3) plus interface endpoints in the node zone."""

    def __init__(self, scope: Construct, construct_id: str, props: VpcEndpointsProps) -> None:
        super().__init__(scope, construct_id)
        network = props.network
        route_subnets = list(props.route_subnets)
        ec2.GatewayVpcEndpoint(
            self,
            "S3",
            vpc=network.vpc,
            service=ec2.GatewayVpcEndpointAwsService.S3,
            subnets=[ec2.SubnetSelection(subnets=route_subnets)],
        )
        names = props.interface_endpoints
        if not names:
            return
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=network.vpc,
            description="HTTPS from the VPC to the interface endpoints",
            allow_all_outbound=False,
        )
        self.security_group.add_ingress_rule(ec2.Peer.ipv4(network.vpc_cidr), ec2.Port.tcp(443), "HTTPS from the VPC")
        for name in names:
            ec2.InterfaceVpcEndpoint(
                self,
                name.replace(".", "-"),
                vpc=network.vpc,
                service=ec2.InterfaceVpcEndpointAwsService(name),
                subnets=network.node_selection(),
                security_groups=[self.security_group],
                private_dns_enabled=True,
                open=False,
            )
