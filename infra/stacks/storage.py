"""Storage stack: the model bucket and FSx for Lustre. Kept when the cluster goes, and independent of it,
so the file system (10+ minutes to create) builds while EKS does."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from config.model import PlatformConfig
from infra.network.refs import NetworkRefs, import_existing
from infra.stacks.network import existing_vpc_props
from infra.stacks import storage_props
from infra.storage.bucket import ModelBucket
from infra.storage.fsx import LustreFileSystem


class StorageStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: PlatformConfig, network: NetworkRefs | None, **kwargs) -> None:
        settings = config.storage
        where = f" and FSx for Lustre in {config.placement.az_id}" if settings.fsx.enabled else ""
        super().__init__(scope, construct_id, description=f"{config.name}: model bucket{where}", **kwargs)
        model_bucket = ModelBucket(self, "Models", storage_props.model_bucket_props(config))
        file_system = None
        if settings.fsx.enabled:
            if network is None:
                network = import_existing(self, existing_vpc_props(config))
            file_system = LustreFileSystem(self, "Lustre", storage_props.lustre_file_system_props(config, network, model_bucket.bucket))
        self.bucket = model_bucket.bucket
        self.file_system = file_system
        self.refs = storage_props.storage_refs(config, file_system.refs if file_system else None)
        cdk.CfnOutput(self, "ModelsUri", value=self.refs.models_uri, description="Upload model weights under this S3 prefix")
        if file_system is not None:
            cdk.CfnOutput(self, "FileSystemId", value=file_system.refs.file_system_id)
            cdk.CfnOutput(self, "FileSystemDnsName", value=file_system.refs.dns_name)
            cdk.CfnOutput(self, "FileSystemMountName", value=file_system.refs.mount_name)
