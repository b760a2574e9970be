"""What the node roles need beyond AmazonEC2ContainerRegistryPullOnly to pull through a cache rule: the first pull of
an upstream image creates its repository and imports the image (ECR user guide, "IAM permissions required to sync an
upstream registry": ecr:CreateRepository and ecr:BatchImportUpstreamImage), only under the kit's cache prefixes."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from core.registry_cache import UPSTREAMS, pull_through_prefix
from infra import nag


def pull_through_policy(scope: Construct, kit_name: str, roles: list[iam.IRole]) -> iam.Policy:
    """The policy, attached to the node roles; the caller adds it only while the config's pull-through cache is on."""
    stack = cdk.Stack.of(scope)
    prefixes = [pull_through_prefix(kit_name, upstream) for upstream in UPSTREAMS.values() if upstream.via == "pull-through"]
    policy = iam.Policy(
        scope,
        "ImagePullThrough",
        statements=[
            iam.PolicyStatement(
                actions=["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"],
                resources=[stack.format_arn(service="ecr", resource="repository", resource_name=f"{prefix}/*") for prefix in prefixes],
            )
        ],
        roles=roles,
    )
    nag.acknowledge_policy_wildcards(
        policy, "Repositories under the kit's pull-through prefixes: ECR creates one per upstream image on its first pull, named after it."
    )
    return policy
