"""The cluster's default StorageClass: encrypted gp3 EBS, bound where the pod lands (so in the GPU zone).

EKS creates no default StorageClass; charts that ask for a volume without naming a class (NATS in the
Dynamo platform, Prometheus) would otherwise wait forever.
"""

from __future__ import annotations

from core.naming import DEFAULT_STORAGE_CLASS


def default_storage_class() -> dict:
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": DEFAULT_STORAGE_CLASS, "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
        "provisioner": "ebs.csi.aws.com",
        "parameters": {"type": "gp3", "encrypted": "true"},
        "volumeBindingMode": "WaitForFirstConsumer",
        "reclaimPolicy": "Delete",
        "allowVolumeExpansion": True,
    }
