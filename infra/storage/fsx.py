"""FSx for Lustre (PERSISTENT_2) in the node subnet of the one zone, linked to the bucket's model prefix."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_fsx as fsx
from aws_cdk import aws_s3 as s3
from constructs import Construct

from config.storage import Fsx
from infra.network.refs import NetworkRefs
from infra.storage.refs import FileSystemRefs

# Lustre server version, checked 2026-11-23 (the newest FSx offers; 2.15 clients ship with AL2023 and Bottlerocket).
LUSTRE_VERSION = "2.15"
LUSTRE_PORTS = (ec2.Port.tcp(988), ec2.Port.tcp_range(1018, 1023))
AUTO_EXPORT_EVENTS = ["NEW", "CHANGED", "DELETED"]


class LustreSecurityGroup(Construct):
    """LNet on TCP 988 and 1018-1023, both ways: clients in the VPC reach the servers, the servers call
    back to clients and talk among themselves (FSx for Lustre's documented rule set)."""

    def __init__(self, scope: Construct, construct_id: str, *, network: NetworkRefs, name: str) -> None:
        super().__init__(scope, construct_id)
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=network.vpc,
            description=f"FSx for Lustre of {name}: LNet from and to the VPC and between file servers",
            allow_all_outbound=False,
        )
        clients = ec2.Peer.ipv4(network.vpc_cidr)
        for port in LUSTRE_PORTS:
            self.security_group.add_ingress_rule(clients, port, "Lustre from clients in the VPC")
            self.security_group.add_ingress_rule(self.security_group, port, "Lustre between file servers")
            self.security_group.add_egress_rule(clients, port, "Lustre to clients in the VPC")
            self.security_group.add_egress_rule(self.security_group, port, "Lustre between file servers")


@dataclass(frozen=True)
class LustreFileSystemProps:
    name: str
    """The kit's name, in descriptions."""
    network: NetworkRefs
    bucket: s3.IBucket
    models_prefix: str = "models/"
    """The bucket prefix the file system mirrors at settings.file_system_path."""
    settings: Fsx = Fsx(enabled=True)
    """Capacity, throughput, compression, the bucket link and backups (config.storage.Fsx, with its defaults)."""


class LustreFileSystem(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: LustreFileSystemProps) -> None:
        super().__init__(scope, construct_id)
        settings = props.settings
        network = props.network
        self.security_group = LustreSecurityGroup(self, "Network", network=network, name=props.name).security_group
        backups = settings.automatic_backup_retention_days
        self.file_system = fsx.CfnFileSystem(
            self,
            "FileSystem",
            file_system_type="LUSTRE",
            file_system_type_version=LUSTRE_VERSION,
            storage_type="SSD",
            storage_capacity=settings.storage_capacity_gib,
            # PERSISTENT_2 takes exactly one subnet: the node subnet in placement.az_id, beside the GPUs.
            subnet_ids=[network.node_subnets[0].subnet_id],
            security_group_ids=[self.security_group.security_group_id],
            lustre_configuration=fsx.CfnFileSystem.LustreConfigurationProperty(
                deployment_type="PERSISTENT_2",
                per_unit_storage_throughput=settings.throughput_per_unit_storage,
                data_compression_type=settings.data_compression,
                automatic_backup_retention_days=backups,
                daily_automatic_backup_start_time=settings.daily_backup_start_time if backups else None,
                copy_tags_to_backups=True if backups else None,
                log_configuration=fsx.CfnFileSystem.LogConfigurationProperty(level="WARN_ERROR"),
            ),
        )
        self.file_system.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
        if settings.link_to_bucket:
            self._link(settings, props.bucket, props.models_prefix)
        self.refs = FileSystemRefs(
            file_system_id=self.file_system.ref,
            dns_name=self.file_system.attr_dns_name,
            mount_name=self.file_system.attr_lustre_mount_name,
            file_system_path=settings.file_system_path,
            capacity_gib=settings.storage_capacity_gib,
        )

    def _link(self, settings: Fsx, bucket: s3.IBucket, models_prefix: str) -> None:
        s3_policy = fsx.CfnDataRepositoryAssociation.S3Property(
            auto_import_policy=fsx.CfnDataRepositoryAssociation.AutoImportPolicyProperty(events=list(settings.import_policy))
            if settings.import_policy
            else None,
            auto_export_policy=fsx.CfnDataRepositoryAssociation.AutoExportPolicyProperty(events=AUTO_EXPORT_EVENTS)
            if settings.export
            else None,
        )
        self.association = fsx.CfnDataRepositoryAssociation(
            self,
            "ModelsLink",
            file_system_id=self.file_system.ref,
            file_system_path=settings.file_system_path,
            data_repository_path=f"s3://{bucket.bucket_name}/{models_prefix}",
            # Load the listing of models already in the bucket; file contents stream in lazily on first read.
            batch_import_meta_data_on_create=True,
            s3=s3_policy,
        )
