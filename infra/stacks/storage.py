"""Storage stack: the model bucket and FSx for Lustre. Kept when the cluster goes, and independent of it,
so the file system (10+ minutes to create) builds while EKS does."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from config.model import PlatformConfig
from infra.network.refs import NetworkRefs, import_existing
from infra.stacks.network import existing_vpc_props
from infra.storage.bucket import ModelBucket, ModelBucketProps
from infra.storage.fsx import LustreFileSystem, LustreFileSystemProps
from infra.storage.refs import StorageRefs, model_bucket_name


class StorageStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: PlatformConfig, network: NetworkRefs | None, **kwargs) -> None:
        settings = config.storage
        where = f" and FSx for Lustre in {config.placement.az_id}" if settings.fsx.enabled else ""
        super().__init__(scope, construct_id, description=f"{config.name}: model bucket{where}", **kwargs)
        bucket_props = ModelBucketProps(
            bucket_name=model_bucket_name(config), create=settings.model_bucket.creates_bucket, access_logs=settings.access_logs
        )
        model_bucket = ModelBucket(self, "Models", bucket_props)
        file_system = None
        if settings.fsx.enabled:
            if network is None:
                network = import_existing(self, existing_vpc_props(config))
            lustre = LustreFileSystemProps(
                name=config.name, network=network, bucket=model_bucket.bucket, models_prefix=settings.models_prefix, settings=settings.fsx
            )
            file_system = LustreFileSystem(self, "Lustre", lustre)
        self.bucket = model_bucket.bucket
        self.file_system = file_system
        self.refs = StorageRefs.from_config(config, file_system.refs if file_system else None)
        cdk.CfnOutput(self, "ModelsUri", value=self.refs.models_uri, description="Upload model weights under this S3 prefix")
        if file_system is not None:
            cdk.CfnOutput(self, "FileSystemId", value=file_system.refs.file_system_id)
            cdk.CfnOutput(self, "FileSystemDnsName", value=file_system.refs.dns_name)
            cdk.CfnOutput(self, "FileSystemMountName", value=file_system.refs.mount_name)
