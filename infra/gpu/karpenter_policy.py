"""Karpenter's controller policy, scoped to one cluster by resource tags.

Mirrors the statements of Karpenter's official getting-started CloudFormation for v1: launches
and deletions only of resources tagged for this cluster and a NodePool, PassRole only of this
cluster's node role, the interruption queue only, reads region-scoped.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam

# Resource types whose names Karpenter cannot know before launch; the wildcards are narrowed by tag conditions.
_LAUNCH_READ_RESOURCES = ("image/*", "snapshot/*", "security-group/*", "subnet/*", "capacity-reservation/*", "placement-group/*")
_LAUNCHED_RESOURCES = ("fleet/*", "instance/*", "volume/*", "network-interface/*", "launch-template/*", "spot-instances-request/*")


@dataclass(frozen=True)
class Scope:
    cluster_name: str
    cluster_arn: str
    region: str
    node_role_arn: str
    queue_arn: str


def _ec2(region: str, resource: str, *, account: bool = True) -> str:
    owner = cdk.Aws.ACCOUNT_ID if account else ""
    return f"arn:{cdk.Aws.PARTITION}:ec2:{region}:{owner}:{resource}"


def controller_statements(scope: Scope) -> list[iam.PolicyStatement]:
    cluster_tag = f"aws:RequestTag/kubernetes.io/cluster/{scope.cluster_name}"
    resource_cluster_tag = f"aws:ResourceTag/kubernetes.io/cluster/{scope.cluster_name}"
    launched = [_ec2(scope.region, r) for r in _LAUNCHED_RESOURCES]
    request_tags = {
        "StringEquals": {cluster_tag: "owned", "aws:RequestTag/eks:eks-cluster-name": scope.cluster_name},
        "StringLike": {"aws:RequestTag/karpenter.sh/nodepool": "*"},
    }
    owned_by_a_nodepool = {
        "StringEquals": {resource_cluster_tag: "owned"},
        "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"},
    }
    profile_arn = f"arn:{cdk.Aws.PARTITION}:iam::{cdk.Aws.ACCOUNT_ID}:instance-profile/*"
    profile_request = {
        "StringEquals": {
            cluster_tag: "owned",
            "aws:RequestTag/eks:eks-cluster-name": scope.cluster_name,
            "aws:RequestTag/topology.kubernetes.io/region": scope.region,
        },
        "StringLike": {"aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*"},
    }
    profile_owned = {
        "StringEquals": {resource_cluster_tag: "owned", "aws:ResourceTag/topology.kubernetes.io/region": scope.region},
        "StringLike": {"aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*"},
    }
    return [
        iam.PolicyStatement(
            sid="AllowScopedEC2InstanceAccessActions",
            actions=["ec2:RunInstances", "ec2:CreateFleet"],
            resources=[
                _ec2(scope.region, r, account=r.startswith(("security-group", "subnet", "capacity-reservation", "placement-group")))
                for r in _LAUNCH_READ_RESOURCES
            ],
        ),
        iam.PolicyStatement(
            sid="AllowScopedEC2LaunchTemplateAccessActions",
            actions=["ec2:RunInstances", "ec2:CreateFleet"],
            resources=[_ec2(scope.region, "launch-template/*")],
            conditions=owned_by_a_nodepool,
        ),
        iam.PolicyStatement(
            sid="AllowScopedEC2InstanceActionsWithTags",
            actions=["ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate"],
            resources=launched,
            conditions=request_tags,
        ),
        iam.PolicyStatement(
            sid="AllowScopedResourceCreationTagging",
            actions=["ec2:CreateTags"],
            resources=launched,
            conditions={
                **request_tags,
                "StringEquals": {
                    **request_tags["StringEquals"],
                    "ec2:CreateAction": ["RunInstances", "CreateFleet", "CreateLaunchTemplate"],
                },
            },
        ),
        iam.PolicyStatement(
            sid="AllowScopedResourceTagging",
            actions=["ec2:CreateTags"],
            resources=[_ec2(scope.region, "instance/*")],
            conditions={
                **owned_by_a_nodepool,
                "StringEqualsIfExists": {"aws:RequestTag/eks:eks-cluster-name": scope.cluster_name},
                "ForAllValues:StringEquals": {"aws:TagKeys": ["eks:eks-cluster-name", "karpenter.sh/nodeclaim", "Name"]},
            },
        ),
        iam.PolicyStatement(
            sid="AllowScopedDeletion",
            actions=["ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"],
            resources=[_ec2(scope.region, "instance/*"), _ec2(scope.region, "launch-template/*")],
            conditions=owned_by_a_nodepool,
        ),
        iam.PolicyStatement(
            sid="AllowRegionalReadActions",
            actions=[
                "ec2:DescribeAvailabilityZones",
                "ec2:DescribeCapacityReservations",
                "ec2:DescribeImages",
                "ec2:DescribeInstances",
                # Instance status health checks (Karpenter 1.12+): without it they stop and every start logs an error.
                "ec2:DescribeInstanceStatus",
                "ec2:DescribeInstanceTypeOfferings",
                "ec2:DescribeInstanceTypes",
                "ec2:DescribeLaunchTemplates",
                "ec2:DescribePlacementGroups",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeSpotPriceHistory",
                "ec2:DescribeSubnets",
            ],
            resources=["*"],
            conditions={"StringEquals": {"aws:RequestedRegion": scope.region}},
        ),
        iam.PolicyStatement(
            sid="AllowSSMReadActions",
            actions=["ssm:GetParameter"],
            resources=[f"arn:{cdk.Aws.PARTITION}:ssm:{scope.region}::parameter/aws/service/*"],
        ),
        iam.PolicyStatement(sid="AllowPricingReadActions", actions=["pricing:GetProducts"], resources=["*"]),
        iam.PolicyStatement(
            sid="AllowInterruptionQueueActions",
            actions=["sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"],
            resources=[scope.queue_arn],
        ),
        iam.PolicyStatement(
            sid="AllowPassingInstanceRole",
            actions=["iam:PassRole"],
            resources=[scope.node_role_arn],
            conditions={"StringEquals": {"iam:PassedToService": ["ec2.amazonaws.com", "ec2.amazonaws.com.cn"]}},
        ),
        iam.PolicyStatement(
            sid="AllowScopedInstanceProfileCreationActions",
            actions=["iam:CreateInstanceProfile"],
            resources=[profile_arn],
            conditions=profile_request,
        ),
        iam.PolicyStatement(
            sid="AllowScopedInstanceProfileTagActions",
            actions=["iam:TagInstanceProfile"],
            resources=[profile_arn],
            conditions={
                "StringEquals": {**profile_owned["StringEquals"], **profile_request["StringEquals"]},
                "StringLike": {**profile_owned["StringLike"], **profile_request["StringLike"]},
            },
        ),
        iam.PolicyStatement(
            sid="AllowScopedInstanceProfileActions",
            actions=["iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile", "iam:DeleteInstanceProfile"],
            resources=[profile_arn],
            conditions=profile_owned,
        ),
        iam.PolicyStatement(sid="AllowInstanceProfileReadActions", actions=["iam:GetInstanceProfile"], resources=[profile_arn]),
        iam.PolicyStatement(sid="AllowUnscopedInstanceProfileListAction", actions=["iam:ListInstanceProfiles"], resources=["*"]),
        iam.PolicyStatement(sid="AllowAPIServerEndpointDiscovery", actions=["eks:DescribeCluster"], resources=[scope.cluster_arn]),
    ]
