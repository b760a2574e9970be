"""Workloads stack: the model-storage objects and every enabled workload's objects, applied through the cluster's kubectl provider.

Its own lifecycle: redeploying or removing a model never touches the cluster or the storage.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_eks_v2 as eks
from constructs import Construct

from config.model import PlatformConfig
from infra.storage.manifests import storage_manifests
from infra.storage.refs import StorageRefs


class WorkloadsStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PlatformConfig,
        cluster: eks.ICluster,
        storage: StorageRefs,
        workloads: dict[str, list[dict]],
        **kwargs,
    ) -> None:
        """workloads: {workload name: its rendered Kubernetes objects}."""
        names = ", ".join(workloads) or "no workloads"
        super().__init__(scope, construct_id, description=f"{config.name}: model storage objects and {names}", **kwargs)
        base_objects = storage_manifests(config.name, config.storage.workloads_namespace, storage)
        base = eks.KubernetesManifest(self, "ModelStorage", cluster=cluster, manifest=base_objects, overwrite=True)
        self.manifests: dict[str, eks.KubernetesManifest] = {}
        for name, objects in workloads.items():
            manifest = eks.KubernetesManifest(self, f"Workload-{name}", cluster=cluster, manifest=objects, overwrite=True)
            manifest.node.add_dependency(base)
            self.manifests[name] = manifest
