"""Checks across the storage keys, run once the config has the right shape (called from checks.py)."""

from __future__ import annotations

from core.issues import ConfigIssue
from config.model import PlatformConfig
from config.storage import Fsx, Storage
from core.lustre import FSX_SMALLEST_GIB, FSX_STEP_GIB
from core.namespaces import RESERVED as RESERVED_NAMESPACES
from core.naming import BUCKET_NAME_RULES, bucket_name_problems, kit_bucket_name


def storage_issues(storage: Storage) -> list[ConfigIssue]:
    issues = _bucket(storage) + _workloads_namespace(storage.workloads_namespace)
    if storage.fsx.enabled:
        issues += _fsx(storage.fsx)
    return issues


def _workloads_namespace(namespace: str) -> list[ConfigIssue]:
    """The kit labels the workloads namespace for Pod Security and puts default-deny NetworkPolicies in it: in a
    namespace Kubernetes or the platform owns, they would loosen or cut off the controllers that live there."""
    if namespace not in RESERVED_NAMESPACES:
        return []
    return [
        ConfigIssue(
            "storage.workloads_namespace",
            "is a namespace Kubernetes or the kit's platform owns; the kit's policies for its workloads would apply to what runs there",
            value=namespace,
            allowed="a namespace of the workloads' own",
            fix="keep the default 'inference', or name another namespace (the kit creates it)",
        )
    ]


def kit_bucket_issues(config: PlatformConfig) -> list[ConfigIssue]:
    """The bucket the kit creates is named after the kit (core.naming.kit_bucket_name), so the kit's name must make a
    valid bucket name: 'xn--kit' passes the name's own pattern, and S3 refuses 'xn--kit-models-...'. Checked with any
    twelve digits where the account is left to the credentials: every account id has twelve, and none changes the
    reserved prefixes or suffixes."""
    if not config.storage.model_bucket.creates_bucket:
        return []
    bucket = kit_bucket_name(config.name, config.account or "0" * 12, config.region)
    problems = bucket_name_problems(bucket)
    if not problems:
        return []
    return [
        ConfigIssue(
            "name",
            f"names the model bucket the kit creates, {bucket}, which S3 refuses: it " + "; it ".join(problems),
            value=config.name,
            allowed=f"a name that makes a valid bucket name ({BUCKET_NAME_RULES})",
            fix="rename the kit, or set storage.model_bucket.existing_bucket_name to a bucket of your own",
        )
    ]


def _bucket(storage: Storage) -> list[ConfigIssue]:
    bucket = storage.model_bucket
    path = "storage.model_bucket"
    name = bucket.existing_bucket_name
    if name is None:
        if not bucket.create:
            return [
                ConfigIssue(
                    f"{path}.create",
                    "is false, but no existing bucket is named",
                    value=False,
                    fix="set existing_bucket_name: <your bucket>, or create: true",
                )
            ]
        return []
    issues = []
    if bucket.create and "create" in bucket.model_fields_set:
        issues.append(
            ConfigIssue(
                f"{path}.create",
                "asks for a new bucket while existing_bucket_name names one",
                value=True,
                allowed="create: true, or existing_bucket_name alone",
                fix="remove create (or set it to false) to use the existing bucket, or remove existing_bucket_name",
            )
        )
    problems = bucket_name_problems(name)
    if problems:
        issues.append(
            ConfigIssue(
                f"{path}.existing_bucket_name",
                "not a valid S3 bucket name: it " + "; it ".join(problems),
                value=name,
                allowed=BUCKET_NAME_RULES,
                fix="copy the bucket name exactly as `aws s3 ls` prints it",
            )
        )
    return issues


def _fsx(fsx: Fsx) -> list[ConfigIssue]:
    path = "storage.fsx"
    issues = []
    capacity = fsx.storage_capacity_gib
    if capacity != FSX_SMALLEST_GIB and capacity % FSX_STEP_GIB:
        lower = max(FSX_SMALLEST_GIB, capacity // FSX_STEP_GIB * FSX_STEP_GIB)
        upper = (capacity // FSX_STEP_GIB + 1) * FSX_STEP_GIB
        issues.append(
            ConfigIssue(
                f"{path}.storage_capacity_gib",
                "PERSISTENT_2 file systems come in 1200 GiB, 2400 GiB, then steps of 2400 GiB",
                value=capacity,
                allowed="1200, 2400, 4800, 7200, ... (1200 or a multiple of 2400)",
                fix=f"use {lower} or {upper}",
            )
        )
    if len(set(fsx.import_policy)) != len(fsx.import_policy):
        issues.append(
            ConfigIssue(
                f"{path}.import_policy",
                "lists an event twice",
                value=list(fsx.import_policy),
                allowed="a subset of NEW, CHANGED, DELETED",
                fix="remove the repeat",
            )
        )
    if fsx.link_to_bucket and fsx.automatic_backup_retention_days:
        issues.append(
            ConfigIssue(
                f"{path}.automatic_backup_retention_days",
                "FSx for Lustre does not back up file systems linked to an S3 data repository",
                value=fsx.automatic_backup_retention_days,
                allowed="0 while link_to_bucket is true",
                fix="set it to 0 (the versioned model bucket is the durable copy), or set link_to_bucket: false",
            )
        )
    if fsx.daily_backup_start_time is not None and not fsx.automatic_backup_retention_days:
        issues.append(
            ConfigIssue(
                f"{path}.daily_backup_start_time",
                "sets a backup window, but automatic backups are off",
                value=fsx.daily_backup_start_time,
                allowed="a time only when automatic_backup_retention_days is above 0",
                fix="remove daily_backup_start_time, or turn backups on",
            )
        )
    if not fsx.link_to_bucket and (fsx.export or "import_policy" in fsx.model_fields_set):
        issues.append(
            ConfigIssue(
                f"{path}.link_to_bucket",
                "is false, so import_policy and export have no data repository to act on",
                value=False,
                fix="set link_to_bucket: true, or remove import_policy and export",
            )
        )
    return issues
