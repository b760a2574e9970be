"""GPU, EFA, CPU and memory requests, /dev/shm, and the security context that goes with them."""

from __future__ import annotations

from blueprints.common.placement import Placement
from core.labels import EFA_RESOURCE, GPU_RESOURCE

# libfabric's EFA provider for NCCL (through the aws-ofi-nccl plugin the serving images ship) and NIXL.
EFA_ENV = {
    "FI_PROVIDER": "efa",
    "FI_EFA_USE_DEVICE_RDMA": "1",
    "FI_EFA_FORK_SAFE": "1",
    "NCCL_NET": "ofi",
}


def container_resources(placement: Placement, gpus: int, memory_gib_per_gpu: int, *, efa: bool) -> dict:
    """Requests equal limits for GPUs and EFA (extended resources must); CPU is a share of the node's."""
    share = gpus / placement.instance.gpus
    cpu = max(1, int(placement.instance.vcpus * share * 0.8))
    limits = {GPU_RESOURCE: str(gpus)}
    if efa:
        limits[EFA_RESOURCE] = str(max(1, round(placement.instance.efa_interfaces * share)))
    requests = {**limits, "cpu": str(cpu), "memory": f"{memory_gib_per_gpu * gpus}Gi"}
    return {"requests": requests, "limits": {**limits, "memory": f"{memory_gib_per_gpu * gpus}Gi"}}


def efa_env(efa: bool) -> list[dict]:
    return [{"name": key, "value": value} for key, value in EFA_ENV.items()] if efa else []


def shm(size_gib: int) -> tuple[dict, dict]:
    """A memory-backed /dev/shm: NCCL and multi-process servers outgrow the runtime's 64 MiB default."""
    return (
        {"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": f"{size_gib}Gi"}},
        {"name": "dshm", "mountPath": "/dev/shm"},
    )


def security_context(*, efa: bool) -> dict:
    """No privilege escalation, runtime-default seccomp; EFA needs IPC_LOCK to pin its memory regions."""
    capabilities: dict = {"drop": ["ALL"]}
    if efa:
        capabilities["add"] = ["IPC_LOCK"]
    return {"allowPrivilegeEscalation": False, "capabilities": capabilities, "seccompProfile": {"type": "RuntimeDefault"}}
