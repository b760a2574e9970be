"""The security group every EFA interface carries: all traffic to and from itself, nothing else."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_ec2 as ec2
from constructs import Construct


@dataclass(frozen=True, kw_only=True)
class EfaSecurityGroupProps:
    """Where the EFA security group lives and whose GPU nodes it is for."""

    vpc: ec2.IVpc
    """The cluster's VPC."""
    cluster_name: str
    """Named in the group's description, so the console shows whose GPU nodes it is for."""

    def __post_init__(self) -> None:
        if not self.cluster_name:
            raise ValueError("EfaSecurityGroupProps.cluster_name: got ''; a non-empty cluster name; pass the kit's name")


class EfaSecurityGroup(Construct):
    """EFA's OS-bypass traffic needs every protocol open between members; the rules are separate resources
    (SecurityGroupIngress/Egress) because a group cannot name itself inline."""

    def __init__(self, scope: Construct, construct_id: str, props: EfaSecurityGroupProps) -> None:
        super().__init__(scope, construct_id)
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=props.vpc,
            description=f"EFA traffic between GPU nodes of {props.cluster_name}",
            allow_all_outbound=False,
        )
        self.security_group.add_ingress_rule(self.security_group, ec2.Port.all_traffic(), "EFA from members of this group")
        self.security_group.add_egress_rule(self.security_group, ec2.Port.all_traffic(), "EFA to members of this group")
