"""The gateway proxies' AWS identity: invoke exactly the Amazon Bedrock models the config lists, nothing else.

Envoy AI Gateway signs Bedrock requests in its ext_proc sidecar with the default AWS credential chain; EKS Pod
Identity gives that chain this role through the proxies' own service account (their EnvoyProxy names it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from constructs import Construct

from config.gateway import BedrockModel
from core.routing import PROXY_NAMESPACE, PROXY_SERVICE_ACCOUNT
from infra import nag
from infra.cluster.pod_identity import pod_identity_role

# A cross-region inference profile id starts with its geography (us., eu., apac., ...).
_PROFILE = re.compile(r"^([a-z]{2,4})\.(.+)$")


def model_arns(model: BedrockModel, scope: Construct) -> list[str]:
    stack = cdk.Stack.of(scope)
    profile = _PROFILE.match(model.model_id)
    if profile is None or "." not in profile.group(2):
        return [f"arn:{stack.partition}:bedrock:{stack.region}::foundation-model/{model.model_id}"]
    # A profile routes to the model in several regions of its geography: the profile here, the model there.
    return [
        f"arn:{stack.partition}:bedrock:{stack.region}:{stack.account}:inference-profile/{model.model_id}",
        f"arn:{stack.partition}:bedrock:*::foundation-model/{profile.group(2)}",
    ]


@dataclass(frozen=True)
class BedrockAccessProps:
    cluster: eks.ICluster
    models: tuple[BedrockModel, ...]


class BedrockAccess(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: BedrockAccessProps) -> None:
        super().__init__(scope, construct_id)
        self.role = pod_identity_role(self, "Role", description="Gateway proxies: invoke the Bedrock models of gateway.bedrock")
        arns = [arn for model in props.models for arn in model_arns(model, self)]
        self.role.add_to_policy(iam.PolicyStatement(actions=["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"], resources=arns))
        eks.CfnPodIdentityAssociation(
            self, "Association", cluster_name=props.cluster.cluster_name, namespace=PROXY_NAMESPACE, service_account=PROXY_SERVICE_ACCOUNT, role_arn=self.role.role_arn
        )
        for arn in arns:
            if "*" in nag.finding_text(self, arn):
                nag.acknowledge(
                    self.role,
                    "IAM5",
                    "A cross-region inference profile sends the request to the same foundation model in another region of its geography; "
                    "the model id is fixed, only the region is open.",
                    finding="Resource::" + nag.finding_text(self, arn),
                )
