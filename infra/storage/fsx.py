"""FSx for Lustre (PERSISTENT_2) in the node subnet of the one zone, linked to the bucket's model prefix."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_fsx as fsx
from aws_cdk import aws_s3 as s3
from constructs import Construct

from core.lustre import FSX_SMALLEST_GIB, FSX_STEP_GIB, ImportEvent
from infra.network.refs import NetworkRefs
from infra.storage.refs import FileSystemRefs

# Lustre server version, checked 2026-11-23 (the newest FSx offers; 2.15 clients ship with AL2023 and Bottlerocket).
LUSTRE_VERSION = "2.15"
LUSTRE_PORTS = (ec2.Port.tcp(988), ec2.Port.tcp_range(1018, 1023))
AUTO_EXPORT_EVENTS = ["NEW", "CHANGED", "DELETED"]
THROUGHPUTS = (125, 250, 500, 1000)
_BACKUP_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_PATH = re.compile(r"^(/[A-Za-z0-9._-]+)+$")


@dataclass(frozen=True, kw_only=True)
class LustreSecurityGroupProps:
    """The security group of a Lustre file system's interfaces."""

    vpc: ec2.IVpc
    """The VPC of the file system."""
    clients_cidr: str
    """The IPv4 range Lustre clients connect from (the VPC's)."""
    name: str
    """The kit's name, in the group's description."""


class LustreSecurityGroup(Construct):
    """LNet on TCP 988 and 1018-1023, both ways: clients in the VPC reach the servers, the servers call
    back to clients and talk among themselves (FSx for Lustre's documented rule set)."""

    def __init__(self, scope: Construct, construct_id: str, props: LustreSecurityGroupProps) -> None:
        super().__init__(scope, construct_id)
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=props.vpc,
            description=f"FSx for Lustre of {props.name}: LNet from and to the VPC and between file servers",
            allow_all_outbound=False,
        )
        clients = ec2.Peer.ipv4(props.clients_cidr)
        for port in LUSTRE_PORTS:
            self.security_group.add_ingress_rule(clients, port, "Lustre from clients in the VPC")
            self.security_group.add_ingress_rule(self.security_group, port, "Lustre between file servers")
            self.security_group.add_egress_rule(clients, port, "Lustre to clients in the VPC")
            self.security_group.add_egress_rule(self.security_group, port, "Lustre between file servers")


@dataclass(frozen=True, kw_only=True)
class LustreFileSystemProps:
    """A PERSISTENT_2 FSx for Lustre file system in the node subnet, optionally linked to the bucket's model prefix."""

    name: str
    """The kit's name, in descriptions."""
    network: NetworkRefs
    """The network: the file system takes the first node subnet (PERSISTENT_2 takes exactly one)."""
    bucket: s3.IBucket
    """The model bucket the file system links to."""
    models_prefix: str = "models/"
    """The bucket prefix the file system mirrors at file_system_path. Default: "models/", as storage.models_prefix has it."""
    storage_capacity_gib: int = FSX_SMALLEST_GIB
    """Storage capacity: 1200, 2400, or a multiple of 2400 GiB. Default: 1200, the smallest PERSISTENT_2 SSD size."""
    throughput_per_unit_storage: int = 250
    """MB/s per TiB of storage: 125, 250, 500 or 1000. Default: 250, as storage.fsx has it."""
    data_compression: Literal["LZ4", "NONE"] = "LZ4"
    """Compression of file data. Default: "LZ4", which costs little CPU and stretches capacity."""
    link_to_bucket: bool = True
    """Link file_system_path to the bucket's model prefix with a data repository association. Default: True, the
    file system is a cache of the bucket."""
    import_policy: tuple[ImportEvent, ...] = ("NEW", "CHANGED", "DELETED")
    """Bucket changes imported automatically; () turns automatic import off. Default: every event, so the file
    system follows the bucket."""
    export: bool = False
    """Export new, changed and deleted files back to the bucket. Default: False, the bucket is the source of truth."""
    automatic_backup_retention_days: int = 0
    """Days to keep daily backups; 0 turns them off. Default: 0, a linked cache is rebuilt from its bucket."""
    daily_backup_start_time: str | None = None
    """UTC start of the daily backup window, HH:MM; only with backups. Default: None, FSx picks the window."""
    file_system_path: str = "/models"
    """Directory on the file system that mirrors the model prefix. Default: "/models", as storage.fsx has it."""

    def __post_init__(self) -> None:
        capacity = self.storage_capacity_gib
        if capacity != FSX_SMALLEST_GIB and (capacity < FSX_STEP_GIB or capacity % FSX_STEP_GIB):
            rounded = max(FSX_STEP_GIB, -(-capacity // FSX_STEP_GIB) * FSX_STEP_GIB)
            raise ValueError(
                f"LustreFileSystemProps.storage_capacity_gib: got {capacity}; {FSX_SMALLEST_GIB}, {FSX_STEP_GIB} or a multiple of"
                f" {FSX_STEP_GIB} is allowed (PERSISTENT_2 SSD); round it to {rounded}"
            )
        if self.throughput_per_unit_storage not in THROUGHPUTS:
            raise ValueError(
                f"LustreFileSystemProps.throughput_per_unit_storage: got {self.throughput_per_unit_storage};"
                f" {', '.join(map(str, THROUGHPUTS))} MB/s per TiB is allowed (PERSISTENT_2); pick one of them"
            )
        if not self.models_prefix.endswith("/"):
            raise ValueError(
                f"LustreFileSystemProps.models_prefix: got {self.models_prefix!r}; a key prefix ending in '/' is allowed;"
                f" use {self.models_prefix + '/'!r}"
            )
        if len(set(self.import_policy)) != len(self.import_policy):
            raise ValueError(
                f"LustreFileSystemProps.import_policy: got {list(self.import_policy)}; each event once is allowed; remove the repeat"
            )
        if not 0 <= self.automatic_backup_retention_days <= 90:
            raise ValueError(
                f"LustreFileSystemProps.automatic_backup_retention_days: got {self.automatic_backup_retention_days}; 0 to 90"
                " is allowed; pick one in that range (0 turns backups off)"
            )
        if self.daily_backup_start_time is not None and not _BACKUP_TIME.match(self.daily_backup_start_time):
            raise ValueError(
                f"LustreFileSystemProps.daily_backup_start_time: got {self.daily_backup_start_time!r}; HH:MM in UTC is allowed;"
                " write it like '05:00'"
            )
        if self.link_to_bucket and self.automatic_backup_retention_days:
            raise ValueError(
                f"LustreFileSystemProps.automatic_backup_retention_days: got {self.automatic_backup_retention_days} with"
                " link_to_bucket; FSx backs up no file system linked to S3, so 0 is allowed there; set 0 or unlink it"
            )
        if not _PATH.match(self.file_system_path):
            raise ValueError(
                f"LustreFileSystemProps.file_system_path: got {self.file_system_path!r}; an absolute path such as '/models'"
                " is allowed; fix the path"
            )


class LustreFileSystem(Construct):
    """The file system, its security group, and its link to the bucket."""

    def __init__(self, scope: Construct, construct_id: str, props: LustreFileSystemProps) -> None:
        super().__init__(scope, construct_id)
        network = props.network
        self.security_group = LustreSecurityGroup(
            self, "Network", LustreSecurityGroupProps(vpc=network.vpc, clients_cidr=network.vpc_cidr, name=props.name)
        ).security_group
        backups = props.automatic_backup_retention_days
        self.file_system = fsx.CfnFileSystem(
            self,
            "FileSystem",
            file_system_type="LUSTRE",
            file_system_type_version=LUSTRE_VERSION,
            storage_type="SSD",
            storage_capacity=props.storage_capacity_gib,
            # PERSISTENT_2 takes exactly one subnet: the node subnet in placement.az_id, beside the GPUs.
            subnet_ids=[network.node_subnets[0].subnet_id],
            security_group_ids=[self.security_group.security_group_id],
            lustre_configuration=fsx.CfnFileSystem.LustreConfigurationProperty(
                deployment_type="PERSISTENT_2",
                per_unit_storage_throughput=props.throughput_per_unit_storage,
                data_compression_type=props.data_compression,
                automatic_backup_retention_days=backups,
                daily_automatic_backup_start_time=props.daily_backup_start_time if backups else None,
                copy_tags_to_backups=True if backups else None,
                log_configuration=fsx.CfnFileSystem.LogConfigurationProperty(level="WARN_ERROR"),
            ),
        )
        self.file_system.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
        if props.link_to_bucket:
            self._link(props)
        self.refs = FileSystemRefs(
            file_system_id=self.file_system.ref,
            dns_name=self.file_system.attr_dns_name,
            mount_name=self.file_system.attr_lustre_mount_name,
            file_system_path=props.file_system_path,
            capacity_gib=props.storage_capacity_gib,
        )

    def _link(self, props: LustreFileSystemProps) -> None:
        s3_policy = fsx.CfnDataRepositoryAssociation.S3Property(
            auto_import_policy=fsx.CfnDataRepositoryAssociation.AutoImportPolicyProperty(events=list(props.import_policy))
            if props.import_policy
            else None,
            auto_export_policy=fsx.CfnDataRepositoryAssociation.AutoExportPolicyProperty(events=AUTO_EXPORT_EVENTS)
            if props.export
            else None,
        )
        self.association = fsx.CfnDataRepositoryAssociation(
            self,
            "ModelsLink",
            file_system_id=self.file_system.ref,
            file_system_path=props.file_system_path,
            data_repository_path=f"s3://{props.bucket.bucket_name}/{props.models_prefix}",
            # Load the listing of models already in the bucket; file contents stream in lazily on first read.
            batch_import_meta_data_on_create=True,
            s3=s3_policy,
        )
