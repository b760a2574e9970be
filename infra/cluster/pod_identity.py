"""IAM roles that Kubernetes service accounts assume through EKS Pod Identity."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from constructs import Construct

POD_IDENTITY_PRINCIPAL = "pods.eks.amazonaws.com"


def pod_identity_role(scope: Construct, construct_id: str, *, description: str) -> iam.Role:
    """A role only the EKS Pod Identity agent can assume (with session tags, as Pod Identity requires)."""
    return iam.Role(
        scope,
        construct_id,
        assumed_by=iam.ServicePrincipal(POD_IDENTITY_PRINCIPAL).with_session_tags(),
        description=description,
    )
