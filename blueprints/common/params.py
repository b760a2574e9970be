"""What every `workloads:` entry has, whatever its blueprint."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from core.images import Capability
from core.model_catalog import ModelFactsKeys
from core.model_sources import ModelSource
from core.kueue_facts import Priority
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
    """Where the weights come from: s3 (streamed by the Run:ai streamer), fsx (the FSx for Lustre claim) or hf (the Hub)."""
    served_model_name: Annotated[str | None, Field(min_length=1, max_length=128)] = None
    """Name clients send in the OpenAI 'model' field (default: the workload name)."""
    image: ImageRef | None = None
    """Container image (default: the blueprint's pin in core/versions.py, whose contents core/images.py records)."""
    image_provides: list[Capability] | None = None
    """With a custom image only: what it carries that the kit relies on (aws-ofi-nccl for NCCL over EFA, efa-libfabric
    for NIXL over EFA, runai-model-streamer for s3 models, ray). Nothing else is assumed of a custom image."""
    run_as_user: Annotated[int | None, Field(ge=1)] = None
    """The non-root UID the server runs as (default: the pinned image's own user, core/images.py). Set it for a custom
    image whose user differs; root is never used."""
    replicas: Annotated[int, Field(ge=0, le=100)] = 1
    """Model copies serving the workload, each one pod (a group of pods for vllm-multinode)."""
    efa: bool | None = None
    """Carry the workload's traffic between nodes over EFA (default: when the node pool has EFA and the blueprint
    moves data between nodes: multi-node groups, disaggregated Dynamo). Single-node servers never need it."""
    shm_size_gib: Annotated[int | None, Field(ge=1, le=1024)] = None
    """/dev/shm for NCCL and the server's worker processes, a memory-backed volume whose pages count against the
    pod's memory (the kit adds it to the memory request and limit). Default: a quarter of the pod's share of the
    node's memory, at most 32 GiB."""
    memory_gib_per_gpu: Annotated[int, Field(ge=4, le=512)] = 12
    """Host memory requested per GPU of a pod, besides /dev/shm."""
    startup_timeout_minutes: Annotated[int | None, Field(ge=5, le=180)] = None
    """How long a server may take to load its weights and warm up before Kubernetes restarts it. Default: the
    cold-start budget's estimate with margin (the summary shows it), or 30 minutes when the weights' size is unknown."""
    model_size_gib: Annotated[float | None, Field(gt=0, le=4096)] = None
    """Size of the weights, for the cold-start budget. Default: from a parameter count in the model's name (8B, 70B)
    and the dtype or quantization."""
    model_facts: ModelFactsKeys | None = None
    """The model's architecture (config.json values) for the GPU memory fit check, where the kit does not know it
    from config/models.yaml (scripts/stage_model.py) or its table of well-known models (docs/models.md)."""

    queue: KubeName | None = None
    """A team of scheduling.teams: Kueue admits the workload within that team's GPU quota (a multi-node group
    whole), at `priority`. Unset: Kubernetes schedules it directly, outside any quota."""
    priority: Priority = "realtime"
    """realtime, near-realtime or batch, for queued workloads: a higher priority preempts batch to get GPUs."""

    def gpus_per_pod(self) -> int:
        raise NotImplementedError

    def extra_shm_gib(self) -> int:
        """/dev/shm that something besides the server's worker processes takes: the KV-cache CPU tier."""
        offload = getattr(self, "kv_offload", None)
        return offload.cpu_gib if offload is not None else 0

    @property
    def public_model_name(self) -> str:
        return self.served_model_name or self.name
