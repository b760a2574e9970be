"""The version matrix at synth: a GPU image whose CUDA needs a newer NVIDIA driver than the nodes' AMI carries is
refused (core/image_matrix.py), with both versions named."""

from __future__ import annotations

from core.capacity import GpuCapacity
from core.image_matrix import mismatch
from core.issues import ConfigIssue
from core.platform import Platform
from core.versions import AMI_VERSIONS


def driver_issues(
    image_key: str, custom_image: str | None, capacity: GpuCapacity, platform: Platform, key: str = "node_pool"
) -> list[ConfigIssue]:
    """A custom image is the user's to match; the kit's own are checked on every pool the capacity spans."""
    if custom_image is not None:
        return []
    pools = [platform.capacities[name] for name in capacity.members if name in platform.capacities] or [capacity]
    issues = []
    for pool in pools:
        found = mismatch(image_key, pool.ami_family, pool.ami_version)
        if found is None:
            continue
        issues.append(
            ConfigIssue(
                key,
                f"{found.describe()}; pool '{pool.name}' would start the server and fail with 'CUDA driver version is insufficient'",
                value=f"{pool.ami_family}@{found.release}",
                allowed=f"an AMI release with NVIDIA driver {found.needed} or later",
                fix=f"remove ami_version from {pool.config_key or pool.name} (the kit pins "
                f"{pool.ami_family}@{AMI_VERSIONS[pool.ami_family]}, which carries R580), or pin a newer release",
            )
        )
    return issues
