"""Karpenter: controller (pinned Helm chart) with a Pod Identity role, node role, interruption queue."""

from __future__ import annotations

import re
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
from infra.gpu.interruption import InterruptionQueue, InterruptionQueueProps
from infra.gpu.karpenter_policy import Scope, controller_statements
from infra.interfaces import cluster_interface

NAMESPACE = "kube-system"
SERVICE_ACCOUNT = "karpenter"
CLUSTER_NAME = re.compile(r"^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$")
"""An EKS cluster name (CreateCluster: 1-100 characters, starting alphanumeric)."""


@dataclass(frozen=True, kw_only=True)
class KarpenterProps:
    """Karpenter's controller and what it needs in AWS: node role, interruption queue, controller policy."""

    cluster: eks.Cluster
    """The cluster: eks.Cluster, not ICluster, because the chart goes through infra/cluster/helm.py, which needs it."""
    cluster_name: str
    """The EKS cluster's name as written (not a token): Karpenter's settings and the tag scope of its IAM policy."""
    replicas: int = 2
    """Controller pods, on the system nodes. Default: 2, so one survives a system node's drain (one leads, one waits)."""
    node_repair: bool = True
    """Replace nodes whose health conditions turn bad (the nodeRepair feature gate). Default: on, so a GPU that
    fails its health checks is replaced instead of failing pods."""
    static_capacity: bool = False
    """Turn on static NodePools (the staticCapacity gate), which capacity-block pools are. Default: off, as in
    Karpenter v1.14, where it is alpha."""

    def __post_init__(self) -> None:
        if self.replicas < 1:
            raise ValueError(f"KarpenterProps.replicas: got {self.replicas}; at least 1; use 2")
        if cdk.Token.is_unresolved(self.cluster_name) or not CLUSTER_NAME.match(self.cluster_name):
            raise ValueError(
                f"KarpenterProps.cluster_name: got {self.cluster_name!r}; the cluster's name as written, letters, digits, - and _"
                " (a token cannot scope the IAM policy's tags); pass the name the cluster is created with"
            )


class Karpenter(Construct):
    """Karpenter's controller (the pinned chart) with a Pod Identity role, its node role and interruption queue."""

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
        self.interruption = InterruptionQueue(self, "Interruption", InterruptionQueueProps(queue_name=f"{props.cluster_name}-karpenter"))

        controller = pod_identity_role(
            self,
            "ControllerRole",
            description=f"Karpenter controller of {props.cluster_name}",
            cluster=cluster_interface(cluster),
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
    "security-group/*": (
        "RunInstances needs the security groups the EC2NodeClass selects; launches stay gated by the tag conditions on the instance."
    ),
    "subnet/*": "RunInstances needs the subnets the EC2NodeClass selects; launches stay gated by the tag conditions on the instance.",
    "capacity-reservation/*": "Reserved pools launch into whichever capacity reservation or block their selector terms resolve to.",
    "placement-group/*": "EFA pools launch into their cluster placement group.",
    "launch-template/*": (
        "Karpenter creates one launch template per EC2NodeClass at run time; only templates tagged for this cluster and a NodePool."
    ),
    "fleet/*": "CreateFleet names fleets at run time; only with the cluster-owned and NodePool request tags.",
    "instance/*": "Instances are named at launch; create, tag and terminate only those tagged owned by this cluster and a NodePool.",
    "volume/*": "Root and data volumes are created with the instance under the same tag conditions.",
    "network-interface/*": "Interfaces (EFA included) are created with the instance under the same tag conditions.",
    "spot-instances-request/*": "Spot requests are created with the instance under the same tag conditions.",
    "parameter/aws/service/*": "Read-only: the public SSM parameters that map AMI aliases to AMI IDs.",
    "instance-profile/*": (
        "Karpenter creates one instance profile per EC2NodeClass, tagged for this cluster and region, and manages only those."
    ),
    "*": (
        "Describe calls, pricing and ListInstanceProfiles have no resource-level permissions; the Describe calls are limited to"
        " this region."
    ),
}


def _wildcard_reason(text: str) -> str:
    return next(reason for suffix, reason in _WILDCARD_REASONS.items() if text.endswith(suffix))
