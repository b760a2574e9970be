"""Karpenter: controller (pinned Helm chart) with a Pod Identity role, node role, interruption queue."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from constructs import Construct

from core.labels import SYSTEM_POOL_LABEL
from core.versions import KARPENTER
from infra import nag
from infra.cluster.helm import install_chart
from infra.cluster.pod_identity import pod_identity_role
from infra.cluster.system_nodes import node_role
from infra.gpu.interruption import InterruptionQueue
from infra.gpu.karpenter_policy import Scope, controller_statements

NAMESPACE = "kube-system"
SERVICE_ACCOUNT = "karpenter"


@dataclass(frozen=True)
class KarpenterProps:
    cluster: eks.Cluster
    cluster_name: str
    """The EKS cluster's name: Karpenter's settings and the tag scope of its IAM policy."""
    replicas: int = 2
    """Controller replicas, on the system nodes."""
    node_repair: bool = True
    static_capacity: bool = False
    """Turn on Karpenter's static NodePools (alpha, off by default in v1.14): capacity-block pools are static."""
    """Replace nodes whose health conditions turn bad (the nodeRepair feature gate)."""


class Karpenter(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: KarpenterProps) -> None:
        super().__init__(scope, construct_id)
        cluster = props.cluster
        region = cdk.Stack.of(self).region
        self.node_role = node_role(self, "NodeRole")
        eks.CfnAccessEntry(
            self,
            "NodeAccess",
            cluster_name=cluster.cluster_name,
            principal_arn=self.node_role.role_arn,
            type="EC2_LINUX",
        )
        self.interruption = InterruptionQueue(self, "Interruption", queue_name=f"{props.cluster_name}-karpenter")

        controller = pod_identity_role(
            self,
            "ControllerRole",
            description=f"Karpenter controller of {props.cluster_name}",
            cluster=cluster,
            namespace=NAMESPACE,
            service_accounts=(SERVICE_ACCOUNT,),
        )
        policy = iam.ManagedPolicy(
            self,
            "ControllerPolicy",
            statements=controller_statements(
                Scope(
                    cluster_name=props.cluster_name,
                    cluster_arn=cluster.cluster_arn,
                    region=region,
                    node_role_arn=self.node_role.role_arn,
                    queue_arn=self.interruption.queue.queue_arn,
                )
            ),
        )
        controller.add_managed_policy(policy)
        nag.acknowledge_policy_wildcards(policy, _wildcard_reason)
        association = eks.CfnPodIdentityAssociation(
            self,
            "PodIdentity",
            cluster_name=cluster.cluster_name,
            namespace=NAMESPACE,
            service_account=SERVICE_ACCOUNT,
            role_arn=controller.role_arn,
        )
        self.chart = install_chart(
            cluster,
            "Chart",
            chart="karpenter",
            pin=KARPENTER,
            namespace=NAMESPACE,
            wait=True,
            timeout_minutes=10,
            values={
                "replicas": props.replicas,
                "serviceAccount": {"create": True, "name": SERVICE_ACCOUNT},
                "nodeSelector": SYSTEM_POOL_LABEL,
                "dnsPolicy": "Default",
                "settings": {
                    "clusterName": props.cluster_name,
                    "interruptionQueue": self.interruption.queue.queue_name,
                    "featureGates": {"nodeRepair": props.node_repair, "reservedCapacity": True, "staticCapacity": props.static_capacity},
                },
                # Karpenter asks the metadata service for its region when AWS_REGION is unset; system nodes'
                # hop limit of 1 keeps pods away from it.
                "controller": {
                    "env": [{"name": "AWS_REGION", "value": cdk.Stack.of(self).region}],
                    "resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
                },
            },
        )
        self.chart.node.add_dependency(association)


_WILDCARD_REASONS = {
    "image/*": "Karpenter launches from the AMI its EC2NodeClass alias resolves to at run time (public AMIs have no account).",
    "snapshot/*": "The AMI's root snapshots are chosen with the AMI at launch.",
    "security-group/*": "RunInstances needs the security groups the EC2NodeClass selects; launches stay gated by the tag conditions on the instance.",
    "subnet/*": "RunInstances needs the subnets the EC2NodeClass selects; launches stay gated by the tag conditions on the instance.",
    "capacity-reservation/*": "Reserved pools launch into whichever capacity reservation or block their selector terms resolve to.",
    "placement-group/*": "EFA pools launch into their cluster placement group.",
    "launch-template/*": "Karpenter creates one launch template per EC2NodeClass at run time; only templates tagged for this cluster and a NodePool.",
    "fleet/*": "CreateFleet names fleets at run time; only with the cluster-owned and NodePool request tags.",
    "instance/*": "Instances are named at launch; create, tag and terminate only those tagged owned by this cluster and a NodePool.",
    "volume/*": "Root and data volumes are created with the instance under the same tag conditions.",
    "network-interface/*": "Interfaces (EFA included) are created with the instance under the same tag conditions.",
    "spot-instances-request/*": "Spot requests are created with the instance under the same tag conditions.",
    "parameter/aws/service/*": "Read-only: the public SSM parameters that map AMI aliases to AMI IDs.",
    "instance-profile/*": "Karpenter creates one instance profile per EC2NodeClass, tagged for this cluster and region, and manages only those.",
    "*": "Describe calls, pricing and ListInstanceProfiles have no resource-level permissions; the Describe calls are limited to this region.",
}


def _wildcard_reason(text: str) -> str:
    return next(reason for suffix, reason in _WILDCARD_REASONS.items() if text.endswith(suffix))
