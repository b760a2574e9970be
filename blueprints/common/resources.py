"""GPU, EFA, CPU and memory requests, /dev/shm, and the security context that goes with them."""

from __future__ import annotations

from blueprints.common.k8s_types import EnvVar, ResourceRequirements, Volume, VolumeMount
from blueprints.common.placement import Placement
from core.instances import InstanceFacts
from core.labels import EFA_RESOURCE, GPU_RESOURCE

# What a node keeps for itself (kubelet and system reservations, eviction threshold): pods get at most the rest.
NODE_MEMORY_FOR_PODS = 0.9
SHM_DEFAULT_CAP_GIB = 32

# libfabric's EFA provider, for NCCL (through the aws-ofi-nccl plugin) and NIXL alike.
LIBFABRIC_EFA_ENV = {"FI_PROVIDER": "efa", "FI_EFA_FORK_SAFE": "1"}
# Device RDMA (GPUDirect) only where the EFA device has RDMA read: libfabric aborts the process when
# FI_EFA_USE_DEVICE_RDMA=1 meets a device without it (prov/efa, "FI_EFA_USE_DEVICE_RDMA=1 was set by user, but EFA
# device has no rdma-read capability"), and from libfabric 1.18 the default already follows the device. Set where
# aws-ofi-nccl v1.21.1 requires GPUDirect RDMA (src/platform-aws.cpp gdr_required: p4d, p4de, p5/p5e but not
# p5.4xlarge, p5en, p6-b200, p6-b300), as AWS's EKS EFA guides set it for those types; never on g5, g6 or g6e.
DEVICE_RDMA_TYPES = frozenset(
    {"p4d.24xlarge", "p4de.24xlarge", "p5.48xlarge", "p5e.48xlarge", "p5en.48xlarge", "p6-b200.48xlarge", "p6-b300.48xlarge"}
)
# NCCL refuses to start when the network it is told to use is missing, so this is set only where the checks have
# established that the image carries aws-ofi-nccl (core/images.py). NCCL_NET_PLUGIN=ofi opens libnccl-net-ofi.so, the
# name the plugin always installs (the libnccl-net.so symlink is optional, aws-ofi-nccl src/Makefile.am); NCCL_NET=OFI
# makes the plugin name itself OFI (src/nccl_ofi_interface_nvidia.cpp, compared case-insensitively) and NCCL take
# only that network (src/plugin/net.cc strcasecmp), so a group whose EFA fails stops instead of falling back to sockets.
NCCL_OVER_EFA_ENV = {"NCCL_NET": "OFI", "NCCL_NET_PLUGIN": "ofi"}
# NIXL (libfabric backend, nixl 1.3.2 in Dynamo 1.4.2) leaves libfabric's shared-memory path on: peers on the same node
# would be reached through shm and cross-memory attach, which another pod's processes cannot be (their own /dev/shm
# and PID namespace; ptrace rights across them). Off, as in ai-dynamo/dynamo's own EFA deploy test
# (tests/deploy/efa/disagg-efa.yaml): a prefill and a decode worker on one node then talk through the EFA device.
# Huge pages off: the provider puts its bounce buffers on them by default, and FI_EFA_FORK_SAFE turns that off only
# where the kernel still needs fork support (before 5.13; ofiwg/libfabric prov/efa/src/efa_fork_support.c). The pods
# request no hugepages-2Mi, so their hugetlb limit is 0 and a huge page could not be faulted in. The KV cache moves
# GPU to GPU by RDMA; the bounce buffers carry only control messages.
NIXL_OVER_EFA_ENV = {"FI_EFA_ENABLE_SHM_TRANSFER": "0", "FI_EFA_USE_HUGE_PAGE": "0"}


def shm_gib(instance: InstanceFacts, gpus: int, configured: int | None, extra: int = 0) -> int:
    """/dev/shm's size: as configured, else a quarter of the pod's share of the node's memory, at most 32 GiB; plus
    `extra` for what else lives there (vLLM 0.30's KV-cache CPU tier is a file in /dev/shm)."""
    if configured is not None:
        return configured + extra
    return max(1, min(SHM_DEFAULT_CAP_GIB, int(instance.memory_gib * gpus / instance.gpus) // 4)) + extra


def pod_memory_gib(instance: InstanceFacts, gpus: int, memory_gib_per_gpu: int, shm_size_gib: int | None, extra_shm: int = 0) -> int:
    """Host memory a pod asks for: its working memory plus /dev/shm, whose memory-backed pages count against the limit."""
    return memory_gib_per_gpu * gpus + shm_gib(instance, gpus, shm_size_gib, extra_shm)


def memory_share_gib(instance: InstanceFacts, gpus: int) -> int:
    """The most memory a pod with `gpus` of the node's GPUs can have while its siblings get theirs."""
    return int(instance.memory_gib * NODE_MEMORY_FOR_PODS * gpus / instance.gpus)


def container_resources(
    placement: Placement, gpus: int, memory_gib_per_gpu: int, *, shm_size_gib: int | None, efa: bool, extra_shm: int = 0
) -> ResourceRequirements:
    """Requests equal limits for GPUs and EFA (extended resources must); CPU is a share of the node's; memory covers /dev/shm."""
    share = gpus / placement.instance.gpus
    cpu = max(1, int(placement.instance.vcpus * share * 0.8))
    limits = {GPU_RESOURCE: str(gpus)}
    if efa:
        limits[EFA_RESOURCE] = str(max(1, round(placement.instance.efa_interfaces * share)))
    memory = f"{pod_memory_gib(placement.instance, gpus, memory_gib_per_gpu, shm_size_gib, extra_shm)}Gi"
    requests = {**limits, "cpu": str(cpu), "memory": memory}
    return {"requests": requests, "limits": {**limits, "memory": memory}}


def efa_env(placement: Placement) -> list[EnvVar]:
    if not placement.efa:
        return []
    env = dict(LIBFABRIC_EFA_ENV)
    if placement.instance_type in DEVICE_RDMA_TYPES:
        env["FI_EFA_USE_DEVICE_RDMA"] = "1"
    if placement.transport == "nccl":
        env |= NCCL_OVER_EFA_ENV
    if placement.transport == "nixl":
        env |= NIXL_OVER_EFA_ENV
    return [{"name": key, "value": value} for key, value in env.items()]


def shm(size_gib: int) -> tuple[Volume, VolumeMount]:
    """A memory-backed /dev/shm: NCCL and multi-process servers outgrow the runtime's 64 MiB default."""
    return (
        {"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": f"{size_gib}Gi"}},
        {"name": "dshm", "mountPath": "/dev/shm"},
    )
