"""Typed parameters of the vLLM blueprint (the `workloads:` entries with `blueprint: vllm`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from blueprints.common.lora import Lora
from blueprints.common.params import Autoscalable, GpuWorkloadParams, HasLora, HasRollout, KvOffloadable, OwnPort, Routable
from blueprints.common.rollout import Rollout
from blueprints.common.routing_params import Autoscaling, Routing
from blueprints.common.vllm_args import VllmEngine


class VllmWorkload(VllmEngine, GpuWorkloadParams):
    blueprint: Literal["vllm"]
    capabilities = (Routable, OwnPort, Autoscalable, HasLora, HasRollout, KvOffloadable)
    port: Annotated[int, Field(ge=1024, le=65535)] = 8000
    routing: Routing | None = None
    """Serve the model through the kit's Gateway by its name, with KV- and prefix-aware replica choice
    (docs/routing.md). Without it, clients call the workload's Service, which balances round-robin."""
    autoscaling: Autoscaling | None = None
    """KEDA scales the replicas on vLLM's own signals (requests waiting, KV-cache use or time to first token)."""
    lora: Lora | None = None
    """LoRA adapters served by the same replicas, each called by its own model name (docs/models.md)."""
    rollout: Rollout | None = None
    """The next version of this workload, another workload, and the share of this one's model name the gateway sends
    it (docs/models.md)."""

    def gpus_per_pod(self) -> int:
        return self.tensor_parallel_size
