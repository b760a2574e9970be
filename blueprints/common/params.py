"""What every `workloads:` entry has, whatever its blueprint."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from core.model_sources import ModelSource
from core.schema import ImageRef, InstanceType, KubeName, StrictModel


class WorkloadParams(StrictModel):
    """Every `workloads:` entry; GPU-less helpers (the benchmark Job) derive from this alone.
    A subclass adds `blueprint: Literal["<name>"]`: the union tag, and the blueprint's one spelled name."""

    name: KubeName
    """Workload name: the Kubernetes objects, the dist/ folder and the Helm chart are named after it."""
    enabled: bool = True
    """Switch the workload (and any controller only it needs) on or off."""


class GpuWorkloadParams(WorkloadParams):
    """A model server on GPU capacity."""

    node_pool: KubeName
    """A name from node_pools or capacity_block_node_groups: the GPUs the pods run on."""
    instance_type: InstanceType | None = None
    """Pin every pod to one instance type of the pool (default: the pool's first); mixed shards crash or crawl."""
    model: ModelSource
    served_model_name: Annotated[str | None, Field(min_length=1, max_length=128)] = None
    """Name clients send in the OpenAI 'model' field (default: the workload name)."""
    image: ImageRef | None = None
    """Container image (default: the blueprint's pin in core/versions.py)."""
    replicas: Annotated[int, Field(ge=0, le=100)] = 1
    efa: bool | None = None
    """Use EFA (default: when the node pool has it)."""
    shm_size_gib: Annotated[int, Field(ge=1, le=1024)] = 32
    """/dev/shm for NCCL and the server's worker processes, as a memory-backed volume."""
    memory_gib_per_gpu: Annotated[int, Field(ge=4, le=512)] = 12
    """Host memory requested per GPU of a pod."""
    startup_timeout_minutes: Annotated[int, Field(ge=5, le=180)] = 30
    """How long a server may take to load its weights before Kubernetes restarts it."""

    def gpus_per_pod(self) -> int:
        raise NotImplementedError

    @property
    def public_model_name(self) -> str:
        return self.served_model_name or self.name
