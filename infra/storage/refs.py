"""What the storage stack hands to the cluster and workload stacks."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class FileSystemRefs:
    """The FSx for Lustre file system as its clients mount it (tokens until deploy time)."""

    file_system_id: str
    """The file system's id: the static volume's handle."""
    dns_name: str
    """The DNS name clients mount."""
    mount_name: str
    """The Lustre mount name."""
    file_system_path: str
    """Directory on the file system that mirrors the bucket's model prefix."""
    capacity_gib: int
    """Storage capacity, the static volume's size."""


@dataclass(frozen=True, kw_only=True)
class StorageRefs:
    """Where model weights live: named from the config alone, so other stacks need no cross-stack reference."""

    bucket_name: str
    """The model bucket's name."""
    bucket_arn: str
    """The model bucket's ARN."""
    models_prefix: str
    """Key prefix of the model weights, ending in '/': pods read this prefix only."""
    region: str
    """The bucket's Region (Mountpoint's mount option)."""
    file_system: FileSystemRefs | None = None
    """The FSx for Lustre file system. Default: None, no file system."""

    @property
    def models_uri(self) -> str:
        return f"s3://{self.bucket_name}/{self.models_prefix}"

    @property
    def models_objects_arn(self) -> str:
        return f"{self.bucket_arn}/{self.models_prefix}*"
