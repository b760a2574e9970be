"""Names the kit gives things, and the naming rules it checks names against."""

from __future__ import annotations

import re
from ipaddress import IPv4Address

# Kubernetes objects the storage layer provides in the workloads namespace for every blueprint to use.
FSX_CLAIM_NAME = "models-fsx"
S3_CLAIM_NAME = "models-s3"
MODEL_READER_SERVICE_ACCOUNT = "model-reader"
# The cluster's default StorageClass (encrypted gp3), which charts that ask for volumes rely on.
DEFAULT_STORAGE_CLASS = "gp3-encrypted"
# Node pool name of the managed system node group; no GPU pool may take it.
SYSTEM_POOL = "system"

_BUCKET_CHARS = re.compile(r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
BUCKET_NAME_RULES = (
    "3-63 characters of lower-case letters, digits, dots and hyphens; starts and ends with a letter or digit; "
    "no '..', not an IP address, no xn--/sthree-/amzn-s3-demo- prefix, no -s3alias/--ol-s3/.mrap/--x-s3/--table-s3 suffix"
)


def bucket_name_problems(name: str) -> list[str]:
    """What breaks the S3 general purpose bucket naming rules, in words; empty when the name is valid."""
    problems = []
    if not 3 <= len(name) <= 63:
        problems.append(f"is {len(name)} characters long; bucket names have 3 to 63")
    if not _BUCKET_CHARS.match(name):
        problems.append("may hold only lower-case letters, digits, dots and hyphens, and must start and end with a letter or digit")
    if ".." in name:
        problems.append("has two adjacent dots")
    try:
        IPv4Address(name)
        problems.append("is formatted as an IP address")
    except ValueError:
        pass
    problems += [f"starts with the reserved prefix '{p}'" for p in _RESERVED_PREFIXES if name.startswith(p)]
    problems += [f"ends with the reserved suffix '{s}'" for s in _RESERVED_SUFFIXES if name.endswith(s)]
    return problems


def kit_bucket_name(kit_name: str, account: str, region: str) -> str:
    """The model bucket the kit creates: <name>-models-<account>-<region> (at most 59 characters)."""
    return f"{kit_name}-models-{account}-{region}"
