"""The security group every EFA interface carries: all traffic to and from itself, nothing else."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from constructs import Construct


class EfaSecurityGroup(Construct):
    """EFA's OS-bypass traffic needs every protocol open between members; the rules are separate resources
    (SecurityGroupIngress/Egress) because a group cannot name itself inline."""

    def __init__(self, scope: Construct, construct_id: str, *, vpc: ec2.IVpc, cluster_name: str) -> None:
        super().__init__(scope, construct_id)
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description=f"EFA traffic between GPU nodes of {cluster_name}",
            allow_all_outbound=False,
        )
        self.security_group.add_ingress_rule(self.security_group, ec2.Port.all_traffic(), "EFA from members of this group")
        self.security_group.add_egress_rule(self.security_group, ec2.Port.all_traffic(), "EFA to members of this group")
