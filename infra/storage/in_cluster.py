"""In-cluster storage: the FSx and Mountpoint for S3 CSI drivers, and the Pod Identity of the model reader.

Takes the cluster and StorageRefs; nothing here refers to FSx outputs, so it can live in the cluster stack
without making EKS wait for the file system. The Kubernetes objects are in infra/storage/manifests.py.
"""

from __future__ import annotations

from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra import nag
from infra.cluster.pod_identity import pod_identity_role
from infra.config.model import KitConfig
from infra.config.storage import MODEL_READER_SERVICE_ACCOUNT
from infra.storage.refs import StorageRefs

FSX_CSI_ADDON = "aws-fsx-csi-driver"
S3_CSI_ADDON = "aws-mountpoint-s3-csi-driver"
S3_CSI_SERVICE_ACCOUNT = "s3-csi-driver-sa"


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


class StorageInCluster(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: KitConfig, cluster: eks.ICluster, storage: StorageRefs) -> None:
        super().__init__(scope, construct_id)
        self.storage = storage
        self.config = config
        self.addons: dict[str, eks.Addon] = {}
        # Static volumes only: the FSx CSI driver then makes no AWS API calls, so it gets no role at all.
        # (Dynamic provisioning would create file systems outside CloudFormation and its Retain policy.)
        if config.storage.fsx.enabled:
            self.addons[FSX_CSI_ADDON] = self._addon(cluster, FSX_CSI_ADDON)
        s3_csi_role = self._reader_role("S3CsiRole", f"Mountpoint for S3 CSI driver of {config.name}: read the model prefix")
        self.addons[S3_CSI_ADDON] = self._addon(cluster, S3_CSI_ADDON)
        self.addons[S3_CSI_ADDON].node.default_child.add_property_override(
            "PodIdentityAssociations", [{"RoleArn": s3_csi_role.role_arn, "ServiceAccount": S3_CSI_SERVICE_ACCOUNT}]
        )
        self.model_reader_role = self._reader_role("ModelReaderRole", f"Model servers of {config.name} (Run:ai streamer): read the model prefix")
        eks.CfnPodIdentityAssociation(
            self,
            "ModelReader",
            cluster_name=cluster.cluster_name,
            namespace=config.storage.workloads_namespace,
            service_account=MODEL_READER_SERVICE_ACCOUNT,
            role_arn=self.model_reader_role.role_arn,
        )

    def _addon(self, cluster: eks.ICluster, name: str) -> eks.Addon:
        version = self.config.cluster.addon_versions.get(name)
        addon = eks.Addon(self, name, cluster=cluster, addon_name=name, addon_version=version, preserve_on_delete=False)
        addon.node.default_child.add_property_override("ResolveConflicts", "OVERWRITE")
        return addon

    def _reader_role(self, construct_id: str, description: str) -> iam.Role:
        role = pod_identity_role(self, construct_id, description=description)
        for statement in model_read_statements(self.storage):
            role.add_to_policy(statement)
        nag.acknowledge(
            role,
            "IAM5",
            "Read-only access to the objects under the model prefix; the wildcard covers model files that are uploaded later.",
            finding="Resource::" + nag.finding_text(self, self.storage.models_objects_arn),
        )
        return role

