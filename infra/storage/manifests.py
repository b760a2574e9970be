"""Kubernetes objects for model storage, as plain dicts: the model-reader service account, and static
volumes for the S3 model prefix (Mountpoint) and FSx for Lustre. Applied by the cluster or workload stack."""

from __future__ import annotations

from typing import Any

from core.naming import FSX_CLAIM_NAME, MODEL_READER_SERVICE_ACCOUNT, S3_CLAIM_NAME
from infra.storage.refs import FileSystemRefs, StorageRefs

Manifest = dict[str, Any]
S3_CSI_DRIVER = "s3.csi.aws.com"
FSX_CSI_DRIVER = "fsx.csi.aws.com"
# The API requires a size on S3 volumes; the Mountpoint driver ignores it.
S3_NOMINAL_SIZE = "1Ti"


def storage_manifests(name: str, namespace: str, storage: StorageRefs) -> list[Manifest]:
    """The model-reader service account and the static model volumes in the workloads namespace (created with
    infra/cluster/namespace.py); labelled part of the kit named `name`."""
    labels = {"app.kubernetes.io/part-of": name, "app.kubernetes.io/component": "model-storage"}
    objects: list[Manifest] = []
    objects.append(
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": MODEL_READER_SERVICE_ACCOUNT, "namespace": namespace, "labels": labels},
        }
    )
    objects += _s3_volume(namespace, labels, storage)
    if storage.file_system is not None:
        objects += _fsx_volume(namespace, labels, storage.file_system)
    return objects


def _s3_volume(namespace: str, labels: dict[str, str], storage: StorageRefs) -> list[Manifest]:
    # Pinned to the prefix and read-only, so the driver's role needs read access to the prefix only.
    mount_options = ["read-only", "allow-other", f"region {storage.region}", f"prefix {storage.models_prefix}"]
    csi = {"driver": S3_CSI_DRIVER, "volumeHandle": f"{namespace}-{S3_CLAIM_NAME}", "volumeAttributes": {"bucketName": storage.bucket_name}}
    return _static_volume(namespace, labels, S3_CLAIM_NAME, "ReadOnlyMany", S3_NOMINAL_SIZE, csi, mount_options)


def _fsx_volume(namespace: str, labels: dict[str, str], file_system: FileSystemRefs) -> list[Manifest]:
    csi = {
        "driver": FSX_CSI_DRIVER,
        "volumeHandle": file_system.file_system_id,
        "volumeAttributes": {"dnsname": file_system.dns_name, "mountname": file_system.mount_name},
    }
    return _static_volume(namespace, labels, FSX_CLAIM_NAME, "ReadWriteMany", f"{file_system.capacity_gib}Gi", csi, ["flock"])


def _static_volume(namespace, labels, claim, access_mode, size, csi, mount_options) -> list[Manifest]:
    """A PersistentVolume bound to exactly one claim (claimRef + volumeName; empty storageClassName for static binding)."""
    volume_name = f"{namespace}-{claim}"
    volume = {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": volume_name, "labels": labels},
        "spec": {
            "capacity": {"storage": size},
            "volumeMode": "Filesystem",
            "accessModes": [access_mode],
            "persistentVolumeReclaimPolicy": "Retain",
            "storageClassName": "",
            "claimRef": {"namespace": namespace, "name": claim},
            "mountOptions": mount_options,
            "csi": csi,
        },
    }
    claim_object = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": claim, "namespace": namespace, "labels": labels},
        "spec": {
            "accessModes": [access_mode],
            "storageClassName": "",
            "volumeName": volume_name,
            "resources": {"requests": {"storage": size}},
        },
    }
    return [volume, claim_object]
