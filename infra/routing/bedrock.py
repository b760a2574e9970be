"""The gateway proxies' AWS identity: invoke exactly the Amazon Bedrock models the config lists, nothing else.

Envoy AI Gateway signs Bedrock requests in its ext_proc sidecar with the default AWS credential chain; EKS Pod
Identity gives that chain this role through the proxies' own service account (their EnvoyProxy names it).

What each kind of model id needs (AWS Bedrock User Guide, sections "IAM policy requirements"):
- a foundation model: that model in this Region;
- a geographic inference profile (us., eu., ...; geographic-cross-region-inference.html): the profile in this Region,
  and the model in every Region of the geography, only through that profile (bedrock:InferenceProfileArn);
- a global inference profile (global-cross-region-inference.html): the profile in this Region, the model in this
  Region, and the model under its Region-less ARN (arn:aws:bedrock:::foundation-model/...), which Bedrock checks
  with aws:RequestedRegion "unspecified" when it routes outside the Region; all through that profile.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from constructs import Construct

from core.bedrock import inference_profile
from core.routing import PROXY_NAMESPACE, PROXY_SERVICE_ACCOUNT
from infra import nag
from infra.cluster.pod_identity import pod_identity_role

INVOKE = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
PROFILE_ARN = "bedrock:InferenceProfileArn"
REQUESTED_REGION = "aws:RequestedRegion"


def model_statements(model_id: str, scope: Construct) -> list[iam.PolicyStatement]:
    stack = cdk.Stack.of(scope)
    bedrock = f"arn:{stack.partition}:bedrock"
    profile = inference_profile(model_id)
    if profile is None:
        return [iam.PolicyStatement(actions=INVOKE, resources=[f"{bedrock}:{stack.region}::foundation-model/{model_id}"])]
    profile_arn = f"{bedrock}:{stack.region}:{stack.account}:inference-profile/{model_id}"
    if not profile.is_global:
        return [
            iam.PolicyStatement(actions=INVOKE, resources=[profile_arn]),
            # The Regions of a geography change as AWS adds them: any Region, but only through this profile.
            iam.PolicyStatement(
                actions=INVOKE,
                resources=[f"{bedrock}:*::foundation-model/{profile.model}"],
                conditions={"StringEquals": {PROFILE_ARN: profile_arn}},
            ),
        ]
    here = {REQUESTED_REGION: stack.region}
    return [
        iam.PolicyStatement(actions=INVOKE, resources=[profile_arn], conditions={"StringEquals": here}),
        iam.PolicyStatement(
            actions=INVOKE,
            resources=[f"{bedrock}:{stack.region}::foundation-model/{profile.model}"],
            conditions={"StringEquals": {**here, PROFILE_ARN: profile_arn}},
        ),
        iam.PolicyStatement(
            actions=INVOKE,
            resources=[f"{bedrock}:::foundation-model/{profile.model}"],
            conditions={"StringEquals": {REQUESTED_REGION: "unspecified", PROFILE_ARN: profile_arn}},
        ),
    ]


@dataclass(frozen=True, kw_only=True)
class BedrockAccessProps:
    """The Pod Identity role of the Gateway's proxies, allowed to invoke exactly these Bedrock models."""

    cluster: eks.ICluster
    """The cluster whose proxies' service account (core.routing.PROXY_SERVICE_ACCOUNT) gets the role."""
    model_ids: tuple[str, ...]
    """Bedrock model ids or cross-Region inference profile ids (gateway.bedrock[].model_id), each once."""

    def __post_init__(self) -> None:
        if not self.model_ids:
            raise ValueError(
                "BedrockAccessProps.model_ids: got (); at least one model id is allowed; create no BedrockAccess without models"
            )
        twice = sorted({model_id for model_id in self.model_ids if self.model_ids.count(model_id) > 1})
        if twice:
            raise ValueError(
                f"BedrockAccessProps.model_ids: got {', '.join(twice)} more than once; each id once is allowed; remove the repeats"
            )


class BedrockAccess(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: BedrockAccessProps) -> None:
        super().__init__(scope, construct_id)
        self.role = pod_identity_role(
            self,
            "Role",
            description="Gateway proxies: invoke the Bedrock models of gateway.bedrock",
            cluster=props.cluster,
            namespace=PROXY_NAMESPACE,
            service_accounts=(PROXY_SERVICE_ACCOUNT,),
        )
        statements = [statement for model_id in props.model_ids for statement in model_statements(model_id, self)]
        for statement in statements:
            self.role.add_to_policy(statement)
        eks.CfnPodIdentityAssociation(
            self,
            "Association",
            cluster_name=props.cluster.cluster_name,
            namespace=PROXY_NAMESPACE,
            service_account=PROXY_SERVICE_ACCOUNT,
            role_arn=self.role.role_arn,
        )
        for arn in {nag.finding_text(self, arn) for statement in statements for arn in statement.resources}:
            if "*" in arn:
                nag.acknowledge(
                    self.role,
                    "IAM5",
                    "A geographic cross-region inference profile sends the request to the same foundation model in another region of its "
                    "geography; the model id is fixed and the statement holds only through that profile (bedrock:InferenceProfileArn).",
                    finding="Resource::" + arn,
                )
