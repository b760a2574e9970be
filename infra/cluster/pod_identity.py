"""IAM roles that Kubernetes service accounts assume through EKS Pod Identity.

The service principal alone trusts every Pod Identity association in the account: any cluster, any namespace, any
service account an association names could be handed the role. EKS Pod Identity tags each AssumeRole request with
the cluster's ARN, the namespace and the service account (request tags eks-cluster-arn, eks-cluster-name,
kubernetes-namespace, kubernetes-service-account, kubernetes-pod-name, kubernetes-pod-uid: Amazon EKS User Guide,
"Create IAM role with trust policy required by EKS Pod Identity", pod-id-role.adoc), and the trust policy conditions
on three of them, so the role is handed only to the accounts it was made for, in this cluster. Session tags are on
by default; the kit's associations never set disableSessionTags, which would leave these conditions unmet.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.interfaces import principal_interface

POD_IDENTITY_PRINCIPAL = "pods.eks.amazonaws.com"
CLUSTER_ARN_TAG = "aws:RequestTag/eks-cluster-arn"
NAMESPACE_TAG = "aws:RequestTag/kubernetes-namespace"
SERVICE_ACCOUNT_TAG = "aws:RequestTag/kubernetes-service-account"


def trust_conditions(cluster_arn: str, namespace: str, service_accounts: Sequence[str]) -> dict:
    if not service_accounts:
        raise ValueError(f"a Pod Identity role in {namespace} names no service account")
    return {
        "StringEquals": {CLUSTER_ARN_TAG: cluster_arn, NAMESPACE_TAG: namespace, SERVICE_ACCOUNT_TAG: list(dict.fromkeys(service_accounts))}
    }


def pod_identity_role(
    scope: Construct, construct_id: str, *, description: str, cluster: eks.ICluster, namespace: str, service_accounts: Sequence[str]
) -> iam.Role:
    """A role only the EKS Pod Identity agent can assume (with session tags, as Pod Identity requires), and only for
    `service_accounts` of `namespace` in `cluster`."""
    principal = iam.ServicePrincipal(POD_IDENTITY_PRINCIPAL).with_conditions(
        trust_conditions(cluster.cluster_arn, namespace, service_accounts)
    )
    return iam.Role(scope, construct_id, assumed_by=principal_interface(principal.with_session_tags()), description=description)
