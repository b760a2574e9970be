"""What the storage stack hands to the cluster and workload stacks."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk

from config.model import PlatformConfig
from core.naming import kit_bucket_name


@dataclass(frozen=True)
class FileSystemRefs:
    file_system_id: str
    dns_name: str
    mount_name: str
    file_system_path: str
    """Directory on the file system that mirrors the bucket's model prefix."""
    capacity_gib: int


@dataclass(frozen=True)
class StorageRefs:
    bucket_name: str
    bucket_arn: str
    models_prefix: str
    region: str
    file_system: FileSystemRefs | None = None

    @property
    def models_uri(self) -> str:
        return f"s3://{self.bucket_name}/{self.models_prefix}"

    @property
    def models_objects_arn(self) -> str:
        return f"{self.bucket_arn}/{self.models_prefix}*"

    @classmethod
    def from_config(cls, config: PlatformConfig, file_system: FileSystemRefs | None = None) -> StorageRefs:
        """The bucket is named from the config and pseudo parameters only, so other stacks can use these
        values without a cross-stack reference (and without waiting for the storage stack)."""
        name = model_bucket_name(config)
        return cls(
            bucket_name=name,
            bucket_arn=f"arn:{cdk.Aws.PARTITION}:s3:::{name}",
            models_prefix=config.storage.models_prefix,
            region=config.region,
            file_system=file_system,
        )


def model_bucket_name(config: PlatformConfig) -> str:
    """<name>-models-<account>-<region> for a bucket the kit creates (at most 59 characters), else the existing one."""
    existing = config.storage.model_bucket.existing_bucket_name
    if existing is not None:
        return existing
    account = config.account or cdk.Aws.ACCOUNT_ID
    return kit_bucket_name(config.name, account, config.region)
