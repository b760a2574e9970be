"""CDK objects typed as the interfaces they implement, where jsii's Python stubs make pyright refuse them.

jsii writes each CDK interface as a typing.Protocol and marks a class that implements it with @jsii.implements, which
pyright does not read; it compares the two structurally, and the generated stubs disagree in ways the runtime never
sees. At aws-cdk-lib 2.x: aws_eks_v2.Cluster's stub lacks ICluster.kubectl_provider_options; iam.ServicePrincipal's
and PrincipalBase's add_to_principal_policy names its parameter `_statement` where IPrincipal says `statement`; and
iam.Role's grant_assume_role names it `identity` where IRole says `grantee`; ec2.Subnet's associate_network_acl
names its parameter `network_acl` where ISubnet says `acl`; and aws_events_targets.SqsQueue's bind names one `_id`
where IRuleTarget says `id`. Each function returns its argument
unchanged: the value is the interface (the runtime checks @jsii.implements), only the stub is wrong.
"""

from __future__ import annotations

from typing import cast

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam


def cluster_interface(cluster: eks.Cluster) -> eks.ICluster:
    return cast(eks.ICluster, cluster)


def principal_interface(principal: iam.PrincipalBase) -> iam.IPrincipal:
    return cast(iam.IPrincipal, principal)


def role_interface(role: iam.Role) -> iam.IRole:
    return cast(iam.IRole, role)


def subnet_interface(subnet: ec2.Subnet) -> ec2.ISubnet:
    return cast(ec2.ISubnet, subnet)


def rule_target_interface(target: targets.SqsQueue) -> events.IRuleTarget:
    return cast(events.IRuleTarget, target)
