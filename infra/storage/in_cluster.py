"""In-cluster storage: the FSx and Mountpoint for S3 CSI drivers, and the Pod Identity of the model reader.

Takes the cluster and StorageRefs; nothing here refers to FSx outputs, so it can live in the cluster stack
without making EKS wait for the file system. The Kubernetes objects are in infra/storage/manifests.py.
"""

from __future__ import annotations

from collections.abc import Mapping
import re
from dataclasses import dataclass, field
from typing import cast

import aws_cdk as cdk

from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from constructs import Construct

from core.naming import MODEL_READER_SERVICE_ACCOUNT
from infra import nag
from infra.cluster.pod_identity import pod_identity_role
from infra.storage.refs import StorageRefs

FSX_CSI_ADDON = "aws-fsx-csi-driver"
S3_CSI_ADDON = "aws-mountpoint-s3-csi-driver"
# The Mountpoint for S3 CSI add-on runs its node plugin in kube-system under this account.
S3_CSI_NAMESPACE = "kube-system"
S3_CSI_SERVICE_ACCOUNT = "s3-csi-driver-sa"
_NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def model_read_statements(storage: StorageRefs) -> list[iam.PolicyStatement]:
    """Read-only on the model prefix: list it (s3:prefix scopes ListBucket) and get its objects."""
    prefix = storage.models_prefix
    return [
        iam.PolicyStatement(
            actions=["s3:ListBucket"],
            resources=[storage.bucket_arn],
            conditions={"StringLike": {"s3:prefix": [prefix, f"{prefix}*"]}},
        ),
        iam.PolicyStatement(actions=["s3:GetObject"], resources=[storage.models_objects_arn]),
    ]


@dataclass(frozen=True, kw_only=True)
class StorageInClusterProps:
    """The storage CSI drivers and the model reader's Pod Identity, read-only on the model prefix."""

    name: str
    """The kit's name, in descriptions."""
    cluster: eks.ICluster
    """The cluster the add-ons and associations belong to."""
    storage: StorageRefs
    """The bucket and prefix the roles may read."""
    namespace: str = "inference"
    """Where the model-reader service account lives. Default: "inference", as storage.workloads_namespace has it."""
    fsx: bool = False
    """Install the FSx for Lustre CSI driver. Default: False, only a file system needs it."""
    addon_versions: Mapping[str, str] = field(default_factory=dict)
    """Pinned add-on versions by add-on name; others get EKS's default. Default: none pinned."""

    def __post_init__(self) -> None:
        if not _NAMESPACE.match(self.namespace):
            raise ValueError(
                f"StorageInClusterProps.namespace: got {self.namespace!r}; a Kubernetes namespace name (lowercase RFC 1123"
                " label) is allowed; rename it"
            )


class StorageInCluster(Construct):
    """The FSx and Mountpoint for S3 CSI add-ons, and the roles that read the model prefix."""

    def __init__(self, scope: Construct, construct_id: str, props: StorageInClusterProps) -> None:
        super().__init__(scope, construct_id)
        self.props = props
        self.storage = props.storage
        cluster = props.cluster
        self.addons: dict[str, eks.Addon] = {}
        # Static volumes only: the FSx CSI driver then makes no AWS API calls, so it gets no role at all.
        # (Dynamic provisioning would create file systems outside CloudFormation and its Retain policy.)
        if props.fsx:
            self.addons[FSX_CSI_ADDON] = self._addon(cluster, FSX_CSI_ADDON)
        s3_csi_role = self._reader_role(
            "S3CsiRole", f"Mountpoint for S3 CSI driver of {props.name}: read the model prefix", S3_CSI_NAMESPACE, S3_CSI_SERVICE_ACCOUNT
        )
        self.addons[S3_CSI_ADDON] = self._addon(cluster, S3_CSI_ADDON)
        # eks.Addon's default child is its AWS::EKS::Addon resource.
        cast(cdk.CfnResource, self.addons[S3_CSI_ADDON].node.default_child).add_property_override(
            "PodIdentityAssociations", [{"RoleArn": s3_csi_role.role_arn, "ServiceAccount": S3_CSI_SERVICE_ACCOUNT}]
        )
        self.model_reader_role = self._reader_role(
            "ModelReaderRole",
            f"Model servers of {props.name} (Run:ai streamer): read the model prefix",
            props.namespace,
            MODEL_READER_SERVICE_ACCOUNT,
        )
        eks.CfnPodIdentityAssociation(
            self,
            "ModelReader",
            cluster_name=cluster.cluster_name,
            namespace=props.namespace,
            service_account=MODEL_READER_SERVICE_ACCOUNT,
            role_arn=self.model_reader_role.role_arn,
        )

    def _addon(self, cluster: eks.ICluster, name: str) -> eks.Addon:
        version = self.props.addon_versions.get(name)
        addon = eks.Addon(self, name, cluster=cluster, addon_name=name, addon_version=version, preserve_on_delete=False)
        cast(cdk.CfnResource, addon.node.default_child).add_property_override("ResolveConflicts", "OVERWRITE")
        return addon

    def _reader_role(self, construct_id: str, description: str, namespace: str, service_account: str) -> iam.Role:
        role = pod_identity_role(
            self,
            construct_id,
            description=description,
            cluster=self.props.cluster,
            namespace=namespace,
            service_accounts=(service_account,),
        )
        for statement in model_read_statements(self.storage):
            role.add_to_policy(statement)
        nag.acknowledge(
            role,
            "IAM5",
            "Read-only access to the objects under the model prefix; the wildcard covers model files that are uploaded later.",
            finding="Resource::" + nag.finding_text(self, self.storage.models_objects_arn),
        )
        return role
