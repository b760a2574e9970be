"""Typed parameters of the multi-node vLLM blueprint (the `workloads:` entries with `blueprint: vllm-multinode`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from blueprints.common.params import Autoscalable, GpuWorkloadParams, HasRollout, KvOffloadable, OwnPort, Routable
from blueprints.common.rollout import Rollout
from blueprints.common.routing_params import Autoscaling, Routing
from blueprints.common.vllm_args import VllmEngine


class VllmMultinodeWorkload(VllmEngine, GpuWorkloadParams):
    blueprint: Literal["vllm-multinode"]
    capabilities = (Routable, OwnPort, Autoscalable, HasRollout, KvOffloadable)
    nodes: Annotated[int, Field(ge=1, le=64)] = 2
    """Nodes per model copy: the LeaderWorkerSet group size and vLLM's --pipeline-parallel-size. Each pod takes a whole node."""
    replicas: Annotated[int, Field(ge=0, le=100)] = 1
    """Model copies, each a group of `nodes` pods (one leader, nodes - 1 workers)."""
    tensor_parallel_size: Annotated[int, Field(ge=1, le=64)] = 8
    """GPUs a pipeline stage spans; must be every GPU of the node (--tensor-parallel-size)."""
    port: Annotated[int, Field(ge=1024, le=65535)] = 8000
    """HTTP port of the OpenAI-compatible server on the leader."""
    routing: Routing | None = None
    """Serve the model through the kit's Gateway by its name; the endpoint picker chooses among the groups' leaders."""
    autoscaling: Autoscaling | None = None
    """KEDA scales the number of groups on vLLM's own signals (each new group is `nodes` whole nodes)."""
    rollout: Rollout | None = None
    """The next version of this workload, another workload, and the share of this one's model name the gateway sends
    it (docs/models.md)."""

    def gpus_per_pod(self) -> int:
        return self.tensor_parallel_size
