"""metrics: cloudwatch. The Amazon CloudWatch Observability add-on (Container Insights, with its own DCGM exporter for
GPU metrics), its CloudWatch agent authorised through Pod Identity."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import aws_cdk as cdk

from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from constructs import Construct, IDependable

from infra import nag
from infra.cluster.pod_identity import pod_identity_role

ADDON = "amazon-cloudwatch-observability"
# The add-on runs its agent in its own namespace, and its association names the namespace of the add-on.
NAMESPACE = "amazon-cloudwatch"
SERVICE_ACCOUNT = "cloudwatch-agent"
POLICY = "CloudWatchAgentServerPolicy"


@dataclass(frozen=True, kw_only=True)
class CloudWatchObservabilityProps:
    """The Amazon CloudWatch Observability add-on and its agent's Pod Identity role."""

    cluster: eks.ICluster
    """The cluster the add-on is installed in."""
    after: IDependable
    """The add-on's pods wait for it (the system nodes)."""


class CloudWatchObservability(Construct):
    """metrics: cloudwatch. Container Insights with the add-on's own DCGM exporter."""

    def __init__(self, scope: Construct, construct_id: str, props: CloudWatchObservabilityProps) -> None:
        super().__init__(scope, construct_id)
        cluster, after = props.cluster, props.after
        self.role = pod_identity_role(
            self,
            "AgentRole",
            description="CloudWatch agent of the CloudWatch Observability add-on",
            cluster=cluster,
            namespace=NAMESPACE,
            service_accounts=(SERVICE_ACCOUNT,),
        )
        self.role.add_managed_policy(iam.ManagedPolicy.from_aws_managed_policy_name(POLICY))
        nag.acknowledge_managed_policies(
            self.role,
            {
                POLICY: "The CloudWatch agent writes Container Insights metrics and logs; AWS maintains the exact CloudWatch, Logs"
                " and EC2 describe actions it needs."
            },
        )
        self.addon = eks.Addon(self, "Addon", cluster=cluster, addon_name=ADDON, preserve_on_delete=False)
        # eks.Addon's default child is its AWS::EKS::Addon resource.
        cfn = cast(cdk.CfnResource, self.addon.node.default_child)
        cfn.add_property_override("PodIdentityAssociations", [{"RoleArn": self.role.role_arn, "ServiceAccount": SERVICE_ACCOUNT}])
        cfn.add_property_override("ResolveConflicts", "OVERWRITE")
        self.addon.node.add_dependency(after)
