"""What every `workloads:` entry has, whatever its blueprint, and the capabilities some blueprints' entries add.

A capability is a Protocol over the keys that give it (`routing`, `lora`, ...): the kit asks
`isinstance(workload, Routable)` and then reads `workload.routing` typed, instead of probing for an attribute by name.
A params class lists the capabilities it has in `capabilities`; tests/blueprints/test_examples.py holds each
registered blueprint's list to what its example workload actually satisfies, so neither drifts from the other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, ClassVar, Protocol, runtime_checkable

from pydantic import Field

from core.images import Capability
from core.model_catalog import ModelFactsKeys
from core.model_sources import ModelSource
from core.kueue_facts import Priority
from core.schema import ImageRef, InstanceType, KubeName, StrictModel

if TYPE_CHECKING:
    from blueprints.common.kv_offload import KvOffload
    from blueprints.common.lora import Lora
    from blueprints.common.rollout import Rollout
    from blueprints.common.routing_params import EndpointPicker


class WorkloadParams(StrictModel):
    """Every `workloads:` entry; GPU-less helpers (the benchmark Job) derive from this alone.
    A subclass adds `blueprint: Literal["<name>"]`: the union tag, and the blueprint's one spelled name."""

    name: KubeName
    """Workload name: the Kubernetes objects, the dist/ folder and the Helm chart are named after it."""
    enabled: bool = True
    """Switch the workload (and any controller only it needs) on or off."""

    capabilities: ClassVar[tuple[type, ...]] = ()
    """The capability Protocols below that this entry has (its keys give them); checked against its example."""


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
    """Container image (default: the blueprint's image record in core/pinned_images.py)."""
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
        return self.kv_offload.cpu_gib if isinstance(self, KvOffloadable) and self.kv_offload is not None else 0

    @property
    def public_model_name(self) -> str:
        return self.served_model_name or self.name


# --- capabilities ----------------------------------------------------------------------------------------------------
# Each is runtime-checkable: isinstance() looks for the keys by name, and pyright narrows the workload to have them,
# typed as below (a blueprint's own type of the key must be assignable to the one here).


class Named(Protocol):
    """What every capability carries besides its keys: the workload's name and switch (WorkloadParams)."""

    @property
    def name(self) -> str: ...
    @property
    def enabled(self) -> bool: ...


class RouteSettings(Protocol):
    """What the kit reads of any workload's `routing`, whichever blueprint's model it is."""

    @property
    def gateway(self) -> bool: ...
    @property
    def fallback(self) -> str | None: ...
    @property
    def endpoint_picker(self) -> EndpointPicker | None: ...


class ReplicaFloor(Protocol):
    """What the kit reads of any workload's `autoscaling`: the copies it keeps however idle."""

    @property
    def min_replicas(self) -> int: ...


@runtime_checkable
class Routable(Named, Protocol):
    """Served through the kit's gateway by its model name (`routing`); rollouts and teams' model lists need it."""

    @property
    def routing(self) -> RouteSettings | None: ...


def gateway_routed(workload: WorkloadParams) -> bool:
    """Served through the gateway: routable, and its routing sends it there (routing: {gateway: false} does not)."""
    return isinstance(workload, Routable) and workload.routing is not None and workload.routing.gateway


@runtime_checkable
class OwnPort(Named, Protocol):
    """Serves on a port the config sets (`port`); other blueprints serve on their class's `port`."""

    @property
    def port(self) -> int: ...


@runtime_checkable
class Autoscalable(Named, Protocol):
    """Scales its copies with load (`autoscaling`): its floor, not `replicas`, is what must always run."""

    @property
    def autoscaling(self) -> ReplicaFloor | None: ...


@runtime_checkable
class HasLora(Named, Protocol):
    """Serves LoRA adapters beside its model (`lora`): each adapter is a model name of its own."""

    @property
    def lora(self) -> Lora | None: ...


@runtime_checkable
class HasRollout(Named, Protocol):
    """Can split its model name with a next version at the gateway (`rollout`)."""

    @property
    def rollout(self) -> Rollout | None: ...


@runtime_checkable
class KvOffloadable(Named, Protocol):
    """Keeps KV-cache tiers below GPU memory (`kv_offload`): host memory, node NVMe, FSx."""

    @property
    def kv_offload(self) -> KvOffload | None: ...


CAPABILITIES: tuple[type, ...] = (Routable, OwnPort, Autoscalable, HasLora, HasRollout, KvOffloadable)
"""Every capability a params class may list."""
