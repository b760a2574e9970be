"""AWS access that enabled workloads require (core.requirements.S3Access), granted through Pod Identity.

Accesses that name the same role share one IAM role (read and write only under their prefixes of the model
bucket) with one Pod Identity association per service account.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from constructs import Construct

from core.requirements import S3Access
from infra import nag
from infra.cfn import child
from infra.cluster.pod_identity import pod_identity_role
from infra.storage.refs import StorageRefs


def s3_statements(bucket_arn: str, read_prefixes: tuple[str, ...], write_prefixes: tuple[str, ...]) -> list[iam.PolicyStatement]:
    statements = []
    if read_prefixes:
        statements.append(
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{p}*" for p in read_prefixes]}},
            )
        )
        statements.append(iam.PolicyStatement(actions=["s3:GetObject"], resources=[f"{bucket_arn}/{p}*" for p in read_prefixes]))
    if write_prefixes:
        statements.append(iam.PolicyStatement(actions=["s3:PutObject"], resources=[f"{bucket_arn}/{p}*" for p in write_prefixes]))
    return statements


@dataclass(frozen=True, kw_only=True)
class WorkloadAccessProps:
    """The S3 access the enabled workloads require, granted to their service accounts through Pod Identity."""

    cluster: eks.ICluster
    """The cluster whose Pod Identity associations are made."""
    storage: StorageRefs
    """The model bucket the prefixes are in."""
    namespace: str
    """The workloads namespace, where every service account lives."""
    accesses: tuple[S3Access, ...]
    """The accesses (core.requirements); those that name one role share it."""

    def __post_init__(self) -> None:
        if not self.namespace:
            raise ValueError("WorkloadAccessProps.namespace: got ''; the workloads namespace; pass storage.workloads_namespace")
        accounts = [access.service_account for access in self.accesses]
        twice = sorted({account for account in accounts if accounts.count(account) > 1})
        if twice:
            raise ValueError(
                f"WorkloadAccessProps.accesses: got service accounts {twice} more than once; one access per service account"
                " (EKS takes one Pod Identity association each); merge their prefixes"
            )


class WorkloadAccess(Construct):
    """One IAM role per named role (read and write under its prefixes only), one association per service account."""

    def __init__(self, scope: Construct, construct_id: str, props: WorkloadAccessProps) -> None:
        super().__init__(scope, construct_id)
        self.roles: dict[str, iam.Role] = {}
        for access in props.accesses:
            role = self.roles.get(access.role) or self._role(access, props)
            eks.CfnPodIdentityAssociation(
                child(self, access.role, Construct),
                f"Association-{access.service_account}",
                cluster_name=props.cluster.cluster_name,
                namespace=props.namespace,
                service_account=access.service_account,
                role_arn=role.role_arn,
            )

    def _role(self, access: S3Access, props: WorkloadAccessProps) -> iam.Role:
        storage = props.storage
        group = Construct(self, access.role)
        accounts = [other.service_account for other in props.accesses if other.role == access.role]
        role = pod_identity_role(
            group, "Role", description=access.description, cluster=props.cluster, namespace=props.namespace, service_accounts=accounts
        )
        for statement in s3_statements(storage.bucket_arn, access.read_prefixes, access.write_prefixes):
            role.add_to_policy(statement)
        for prefix in dict.fromkeys(access.read_prefixes + access.write_prefixes):
            reason = access.reasons.get(prefix, "Objects under this prefix of the model bucket are written and read at run time.")
            nag.acknowledge(role, "IAM5", reason, finding="Resource::" + nag.finding_text(self, f"{storage.bucket_arn}/{prefix}*"))
        self.roles[access.role] = role
        return role
