"""storage.* mapped to the records and props of infra/storage (the bucket's name and refs, FSx for Lustre)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3

from config.model import PlatformConfig
from core.naming import kit_bucket_name
from infra.network.refs import NetworkRefs
from infra.storage.bucket import ModelBucketProps
from infra.storage.fsx import LustreFileSystemProps
from infra.storage.refs import FileSystemRefs, StorageRefs


def model_bucket_name(config: PlatformConfig) -> str:
    """<name>-models-<account>-<region> for a bucket the kit creates (at most 59 characters), else the existing one."""
    existing = config.storage.model_bucket.existing_bucket_name
    if existing is not None:
        return existing
    account = config.account or cdk.Aws.ACCOUNT_ID
    return kit_bucket_name(config.name, account, config.region)


def storage_refs(config: PlatformConfig, file_system: FileSystemRefs | None = None) -> StorageRefs:
    """The bucket is named from the config and pseudo parameters only, so other stacks can use these values without a
    cross-stack reference (and without waiting for the storage stack)."""
    name = model_bucket_name(config)
    return StorageRefs(
        bucket_name=name,
        bucket_arn=f"arn:{cdk.Aws.PARTITION}:s3:::{name}",
        models_prefix=config.storage.models_prefix,
        region=config.region,
        file_system=file_system,
    )


def model_bucket_props(config: PlatformConfig) -> ModelBucketProps:
    settings = config.storage
    return ModelBucketProps(
        bucket_name=model_bucket_name(config), create=settings.model_bucket.creates_bucket, access_logs=settings.access_logs
    )


def lustre_file_system_props(config: PlatformConfig, network: NetworkRefs, bucket: s3.IBucket) -> LustreFileSystemProps:
    fsx = config.storage.fsx
    return LustreFileSystemProps(
        name=config.name,
        network=network,
        bucket=bucket,
        models_prefix=config.storage.models_prefix,
        storage_capacity_gib=fsx.storage_capacity_gib,
        throughput_per_unit_storage=fsx.throughput_per_unit_storage,
        data_compression=fsx.data_compression,
        link_to_bucket=fsx.link_to_bucket,
        import_policy=tuple(fsx.import_policy),
        export=fsx.export,
        automatic_backup_retention_days=fsx.automatic_backup_retention_days,
        daily_backup_start_time=fsx.daily_backup_start_time,
        file_system_path=fsx.file_system_path,
    )
