"""KV-cache tiers below GPU memory, with vLLM's native offloading (vLLM 0.30.0 in the vLLM image, 0.26.0 in Dynamo's).

CPU memory is the primary tier: blocks evicted from the GPU are kept there and copied back when a prompt's prefix
returns. Secondary tiers are files: the instance-store NVMe of the node (local, fast, gone with the node), or the
FSx for Lustre volume (shared by the replicas of one workload, so one replica's prefill serves another's cache hit).
vLLM's file tier has no size cap and no eviction, so every pod with one runs a janitor (blueprints/common/kv_janitor.py)
that deletes the least recently used blocks above the configured size; on the shared directory only the janitor
holding the directory's lock walks it.

  CPU only:        --kv-offloading-size <GiB>   (OffloadingConnector, CPUOffloadingSpec; vLLM translates it)
  with file tiers: --kv-transfer-config {"kv_connector": "OffloadingConnector", "kv_role": "kv_both",
                     "kv_connector_extra_config": {"spec_name": "TieringOffloadingSpec", "cpu_bytes_to_use": ...,
                     "secondary_tiers": [{"type": "fs", "root_dir": ...}, ...]}}
The two are never emitted together: the size flag overwrites an explicit transfer config's connector.
vLLM 0.30.0 keeps the CPU tier in a file in /dev/shm and checks there is room for it: the pod's /dev/shm grows by it.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator

from blueprints.common.k8s_types import Container, Probe, SecurityContext, Volume, VolumeMount
from core.issues import ConfigIssue
from core.model_sources import FsxSource
from core.naming import FSX_CLAIM_NAME
from core.platform import Platform
from core.schema import StrictModel

NVME_ROOT = "/kv-cache/nvme"
FSX_ROOT = "/kv-cache/fsx"
GIB = 1 << 30
JANITOR_PERIOD_SECONDS = 60
JANITOR_HEARTBEAT = "/tmp/kv-cache-janitor.alive"
JANITOR_STALE_MINUTES = 5
"""The janitor touches its heartbeat each round; one older than this means it hangs (a stuck du or find on a tier)."""


class FileTier(StrictModel):
    size_gib: Annotated[int, Field(ge=1, le=100_000)]
    """The most this tier may hold; the pod's janitor deletes the least recently used blocks above it."""


class FsxTier(FileTier):
    directory: Annotated[str, Field(pattern=r"^[\w.-]+(/[\w.-]+)*$", examples=["kv-cache/chat"])] = "kv-cache"
    """Folder on the FSx for Lustre volume (relative to its root), shared by the replicas of this workload only."""

    @field_validator("directory")
    @classmethod
    def _plain_relative(cls, directory: str) -> str:
        # The API server refuses a volumeMount subPath with a '..' element; '.' elements would name one folder twice.
        if any(part in (".", "..") for part in directory.split("/")):
            raise ValueError(
                "must be a plain relative path: the API server refuses a subPath with a '..' element, "
                "and '.' elements name one folder twice"
            )
        return directory


class KvOffload(StrictModel):
    """Tiers of KV cache below GPU memory (vLLM's native offloading connector)."""

    cpu_gib: Annotated[int, Field(ge=1, le=4096)]
    """Host memory for KV blocks, per server (all GPUs of a pod together). Added to the pod's /dev/shm and memory."""
    nvme: FileTier | None = None
    """A file tier on the node's instance-store NVMe (the pool's instance type must have it)."""
    fsx: FsxTier | None = None
    """A file tier on the FSx for Lustre volume, shared by the replicas (storage.fsx.enabled must be true)."""

    def tiers(self) -> list[tuple[str, str, FileTier]]:
        """(name, mount path, settings) of each file tier."""
        found = []
        if self.nvme is not None:
            found.append(("nvme", NVME_ROOT, self.nvme))
        if self.fsx is not None:
            found.append(("fsx", FSX_ROOT, self.fsx))
        return found


def engine_args(offload: KvOffload | None) -> list[str]:
    if offload is None:
        return []
    if not offload.tiers():
        return ["--kv-offloading-size", str(offload.cpu_gib)]
    config = {
        "kv_connector": "OffloadingConnector",
        "kv_role": "kv_both",
        "kv_connector_extra_config": {
            "spec_name": "TieringOffloadingSpec",
            "cpu_bytes_to_use": offload.cpu_gib * GIB,
            "secondary_tiers": [{"type": "fs", "root_dir": root} for _, root, _ in offload.tiers()],
        },
    }
    return ["--kv-transfer-config", json.dumps(config, separators=(",", ":"))]


def volumes(offload: KvOffload | None, fsx_claim: str) -> tuple[list[Volume], list[VolumeMount]]:
    """(volumes, mounts) of the file tiers: the NVMe tier in an emptyDir (on Karpenter's RAID0 of the instance
    store, where the kubelet keeps pod volumes), the FSx tier in the FSx claim's folder."""
    if offload is None:
        return [], []
    found_volumes: list[Volume] = []
    mounts: list[VolumeMount] = []
    if offload.nvme is not None:
        found_volumes.append({"name": "kv-nvme", "emptyDir": {}})
        mounts.append({"name": "kv-nvme", "mountPath": NVME_ROOT})
    if offload.fsx is not None:
        found_volumes.append({"name": "kv-fsx", "persistentVolumeClaim": {"claimName": fsx_claim}})
        mounts.append({"name": "kv-fsx", "mountPath": FSX_ROOT, "subPath": offload.fsx.directory})
    return found_volumes, mounts


@cache
def janitor_source() -> str:
    """The janitor program (standard library only), run with `python3 -c` in the server's image."""
    return (Path(__file__).parent / "kv_janitor.py").read_text()


def janitor_command(tiers: list[tuple[str, str, FileTier]], period_seconds: int = JANITOR_PERIOD_SECONDS) -> list[str]:
    """Every minute, per tier: mark the blocks read since the last round, then delete the least recently used above
    the tier's size."""
    command = ["python3", "-c", janitor_source(), "--heartbeat", JANITOR_HEARTBEAT, "--period", str(period_seconds)]
    for _, root, tier in tiers:
        command += ["--tier", f"{root}={tier.size_gib * GIB}"]
    return command


def janitor(offload: KvOffload | None, image: str, security_context: SecurityContext, mounts: list[VolumeMount]) -> list[Container]:
    """A sidecar that keeps the file tiers within their sizes (vLLM's file tier never evicts). Every pod has one: the
    NVMe tier is the pod's own, and on the shared FSx directory the janitors take turns through its lock."""
    if offload is None or not offload.tiers():
        return []
    return [
        {
            "name": "kv-cache-janitor",
            "image": image,
            "command": janitor_command(offload.tiers()),
            "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}},
            "volumeMounts": mounts,
            "securityContext": security_context,
            # Not ready and restarted while its rounds stall: a tier nobody trims fills the node's disk or the volume.
            "livenessProbe": heartbeat_probe(period_seconds=JANITOR_PERIOD_SECONDS),
            "readinessProbe": heartbeat_probe(period_seconds=JANITOR_PERIOD_SECONDS),
        }
    ]


def heartbeat_probe(period_seconds: int) -> Probe:
    """Succeeds while the janitor's heartbeat is younger than JANITOR_STALE_MINUTES."""
    check = f"find {JANITOR_HEARTBEAT} -mmin -{JANITOR_STALE_MINUTES} | grep -q ."
    return {"exec": {"command": ["bash", "-c", check]}, "periodSeconds": period_seconds, "failureThreshold": 2}


NVME_SHARE = 0.8
"""The share of the pod's part of the instance store its NVMe tier may fill (the rest: images, logs, other volumes)."""


def fsx_directory(offload: KvOffload | None) -> str | None:
    """The FSx tier's folder, for the checks of other workloads."""
    return offload.fsx.directory if offload is not None and offload.fsx is not None else None


def issues(offload: KvOffload | None, capacity, instance, gpus: int, platform: Platform, workload: str = "") -> list[ConfigIssue]:
    """What the node and the storage can hold, and whose folders the FSx tier would walk; the CPU tier is checked
    with the pod's memory (it adds to /dev/shm)."""
    if offload is None:
        return []
    found = []
    if offload.nvme is not None:
        if not capacity.instance_store:
            found.append(
                ConfigIssue(
                    "kv_offload.nvme",
                    f"pool '{capacity.name}' keeps pod volumes on its EBS root volume, not on instance-store NVMe "
                    "(instance types without local NVMe, a capacity-block node group, or a pre-pulled image snapshot)",
                    fix="remove kv_offload.nvme, or use a Karpenter pool of instance types with local NVMe",
                )
            )
        else:
            room = int(instance.local_nvme_gb * gpus / instance.gpus * NVME_SHARE)
            if offload.nvme.size_gib > room:
                found.append(
                    ConfigIssue(
                        "kv_offload.nvme.size_gib",
                        f"is more than this pod's share of the node's instance store can hold ({room} GiB: {NVME_SHARE:.0%} of "
                        f"{instance.local_nvme_gb} GB x {gpus}/{instance.gpus} GPUs)",
                        value=offload.nvme.size_gib,
                        fix=f"set size_gib to {room} or less",
                    )
                )
    if offload.fsx is not None:
        storage = platform.storage
        if not storage.fsx_enabled:
            found.append(
                ConfigIssue(
                    "kv_offload.fsx",
                    "needs the FSx for Lustre volume, which is switched off",
                    fix="set storage.fsx.enabled: true, or remove kv_offload.fsx",
                )
            )
        elif offload.fsx.size_gib > storage.fsx_capacity_gib // 2:
            found.append(
                ConfigIssue(
                    "kv_offload.fsx.size_gib",
                    f"would take more than half of the {storage.fsx_capacity_gib} GiB file system, which also holds the models",
                    value=offload.fsx.size_gib,
                    fix=f"set size_gib to {storage.fsx_capacity_gib // 2} or less, or raise storage.fsx.storage_capacity_gib",
                )
            )
        if storage.fsx_enabled:
            found += shared_directory_issues(workload, offload.fsx.directory, platform)
    return found


def overlaps(one: str, other: str) -> bool:
    """Whether two folders relative to the volume root are the same, or one holds the other."""
    one, other = one.strip("/"), other.strip("/")
    return one == other or one.startswith(f"{other}/") or other.startswith(f"{one}/")


def shared_directory_issues(workload: str, directory: str, platform: Platform) -> list[ConfigIssue]:
    """The FSx tier's folder is walked, and trimmed to this workload's size, by its janitor: it must hold nothing
    but this workload's blocks."""
    key = "kv_offload.fsx.directory"
    allowed = "a folder of this workload's own on the FSx volume, outside storage.fsx.file_system_path and every model folder"
    fix = f"set kv_offload.fsx.directory to a folder nothing else uses, e.g. 'kv-cache/{workload or 'chat'}'"
    mirror = platform.storage.fsx_file_system_path.strip("/")
    if mirror and overlaps(directory, mirror):
        message = (
            f"overlaps storage.fsx.file_system_path '/{mirror}', where the file system keeps the bucket's models: the janitor "
            "would delete model files named *.bin there, and with export on, KV blocks and their deletions would reach the bucket"
        )
        return [ConfigIssue(key, message, value=directory, allowed=allowed, fix=fix)]
    found = []
    endpoints = platform.endpoints
    names = list(endpoints)
    for name, endpoint in endpoints.items():
        model = endpoint.model
        if isinstance(model, FsxSource) and model.claim_name == FSX_CLAIM_NAME and overlaps(directory, model.sub_path):
            whose = "this workload's model folder" if name == workload else f"the model folder of workload '{name}'"
            message = f"overlaps {whose} '{model.sub_path}': the janitor would walk the weights and delete those named *.bin"
            found.append(ConfigIssue(key, message, value=directory, allowed=allowed, fix=fix))
        mine = endpoints.get(workload)
        other = endpoint.fsx_kv_directory
        # Reported once, on the later of the two; a disabled workload runs no janitor.
        later = workload in names and names.index(name) < names.index(workload)
        if other and later and endpoint.enabled and (mine is None or mine.enabled) and overlaps(directory, other):
            message = (
                f"overlaps the FSx KV-cache tier '{other}' of workload '{name}': one folder, two sizes to trim it to, and "
                "blocks of one workload evicted to make room for the other's"
            )
            found.append(ConfigIssue(key, message, value=directory, allowed=allowed, fix=fix))
    return found
