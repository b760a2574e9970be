"""Typed parameters of the Ray Serve blueprint (the `workloads:` entries with `blueprint: ray-serve`).

The engine keys are the vllm blueprint's (blueprints/common/vllm_args.py VllmEngine); the model copies are Ray Serve
replicas, scaled by Ray Serve's own autoscaler on requests in flight; the GPU nodes are Ray worker pods, added and
removed by Ray's autoscaler (KubeRay's in-tree autoscaler) in one or more worker groups, each on a node pool.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from blueprints.common.params import Autoscalable, GpuWorkloadParams, KvOffloadable, OwnPort, Routable
from blueprints.common.vllm_args import VllmEngine
from core.schema import InstanceType, KubeName, StrictModel

WorkerCount = Annotated[int, Field(ge=0, le=100)]
GpusPerWorker = Annotated[int | None, Field(ge=1, le=64)]


class RayAutoscaling(StrictModel):
    """Ray Serve's autoscaler on the model deployment (ray 2.60.0 python/ray/serve/config.py AutoscalingConfig): it keeps
    each replica near target_ongoing_requests; a replica that finds no free GPU makes Ray's autoscaler add a worker pod."""

    min_replicas: Annotated[int, Field(ge=1, le=100)] = 1
    """Replicas kept however idle. 0 is refused: a request would wait for a GPU node to come and load the model."""
    max_replicas: Annotated[int, Field(ge=1, le=100)] = 2
    target_ongoing_requests: Annotated[float, Field(gt=0, le=10_000)] = 32
    """Requests in flight (running and queued in vLLM) per replica that Serve aims at. Ray Serve LLM's own default is
    1e9 (ray.llm._internal.serve.constants DEFAULT_MAX_TARGET_ONGOING_REQUESTS), which never scales up: the kit always
    writes this one."""
    upscale_delay_s: Annotated[float, Field(ge=0, le=3600)] = 30
    """How long demand must stay above target before Serve adds a replica (Ray's default: 30)."""
    downscale_delay_s: Annotated[float, Field(ge=0, le=3600)] = 600
    """How long demand must stay below target before Serve removes a replica (Ray's default: 600)."""

    @model_validator(mode="after")
    def _bounds(self) -> RayAutoscaling:
        if self.min_replicas > self.max_replicas:
            raise ValueError(
                f"min_replicas ({self.min_replicas}) is above max_replicas ({self.max_replicas}); raise max_replicas or lower min_replicas"
            )
        return self


class RayRouting(StrictModel):
    """Serve the model through the kit's Gateway by its name. Ray Serve picks the replica itself (its proxies and
    request router), so there is no endpoint picker: the route goes to the RayService's serve Service."""

    gateway: bool = True
    fallback: str | None = None
    """A gateway.bedrock model the gateway sends requests to when this workload fails or answers 429/5xx."""

    @property
    def endpoint_picker(self) -> None:
        """What the kit's request-path helpers ask of a route: never an InferencePool here."""
        return None


class RayHead(StrictModel):
    """The Ray head: GCS, dashboard, Serve controller, the HTTP proxy of the head and the autoscaler sidecar. It runs on
    the system nodes, which are always on and never consolidated: without GCS fault tolerance, losing the head
    restarts every worker and every replica."""

    cpu: Annotated[float, Field(ge=0.5, le=16)] = 2
    memory_gib: Annotated[int, Field(ge=2, le=64)] = 8
    object_store_gib: Annotated[int, Field(ge=1, le=16)] = 1
    """Ray's object store on the head (in its /dev/shm); Serve's control traffic needs little."""


class WorkerGroup(StrictModel):
    """A further Ray worker group, on another node pool: Ray's autoscaler prefers the groups in the order written (the
    workload's own node_pool first) and turns to the next when a pool is exhausted."""

    node_pool: KubeName
    instance_type: InstanceType | None = None
    gpus_per_worker: GpusPerWorker = None
    """GPUs of one worker pod (default: one replica's, tensor_parallel_size x pipeline_parallel_size)."""
    min_workers: WorkerCount = 0
    max_workers: Annotated[int, Field(ge=1, le=100)] = 1

    @model_validator(mode="after")
    def _bounds(self) -> WorkerGroup:
        if self.min_workers > self.max_workers:
            raise ValueError(
                f"min_workers ({self.min_workers}) is above max_workers ({self.max_workers}); raise max_workers or lower min_workers"
            )
        return self


class RayServeWorkload(VllmEngine, GpuWorkloadParams):
    blueprint: Literal["ray-serve"]
    capabilities = (Routable, OwnPort, Autoscalable, KvOffloadable)
    pipeline_parallel_size: Annotated[int, Field(ge=1, le=8)] = 1
    """Pipeline stages of one replica; a replica's GPUs (tensor x pipeline) sit in one worker pod."""
    gpus_per_worker: GpusPerWorker = None
    """GPUs of one worker pod on node_pool (default: one replica's). A multiple of a replica's GPUs packs several
    replicas into one pod."""
    min_workers: WorkerCount = 0
    """Worker pods on node_pool kept however idle (Ray's autoscaler adds what the replicas need)."""
    max_workers: Annotated[int | None, Field(ge=1, le=100)] = None
    """Most worker pods on node_pool (default: enough for autoscaling.max_replicas)."""
    worker_groups: list[WorkerGroup] = []
    """Worker groups on further node pools, tried after node_pool."""
    idle_worker_seconds: Annotated[int, Field(ge=0, le=86_400)] = 300
    """How long Ray's autoscaler leaves a worker pod that runs no replica before it removes it (and Karpenter the node)."""
    autoscaling: RayAutoscaling = RayAutoscaling()
    head: RayHead = RayHead()
    routing: RayRouting | None = None
    port: Literal[8000] = 8000
    """Ray Serve's HTTP port (http_options.port), which KubeRay's serve Service and probes expect."""
    engine_kwargs: dict[str, Any] = {}
    """Further vLLM engine arguments, as Ray Serve LLM's engine_kwargs take them (AsyncEngineArgs field names, e.g.
    {max_num_seqs: 256}); extra_args (command-line flags) does not apply here."""

    def replica_gpus(self) -> int:
        return self.tensor_parallel_size * self.pipeline_parallel_size

    def gpus_per_pod(self) -> int:
        return self.gpus_per_worker or self.replica_gpus()

    def replicas_per_worker(self, gpus_per_worker: int | None = None) -> int:
        return max(1, (gpus_per_worker or self.gpus_per_pod()) // self.replica_gpus())

    def primary_max_workers(self) -> int:
        return self.max_workers or math.ceil(self.autoscaling.max_replicas / self.replicas_per_worker())

    def extra_shm_gib(self) -> int:
        """Each replica's engine keeps its own KV-cache CPU tier in /dev/shm."""
        offload = self.kv_offload
        return offload.cpu_gib * self.replicas_per_worker() if offload is not None else 0

    def as_group(self, group: WorkerGroup) -> RayServeWorkload:
        """The workload as if its pods were the group's: what the shared per-pool checks and placement read."""
        return self.model_copy(
            update={
                "node_pool": group.node_pool,
                "instance_type": group.instance_type,
                "gpus_per_worker": group.gpus_per_worker or self.replica_gpus(),
            }
        )

    @model_validator(mode="after")
    def _worker_bounds(self) -> RayServeWorkload:
        if self.max_workers is not None and self.min_workers > self.max_workers:
            raise ValueError(
                f"min_workers ({self.min_workers}) is above max_workers ({self.max_workers}); raise max_workers or lower min_workers"
            )
        return self
