"""Typed parameters of the vLLM blueprint (the `workloads:` entries with `blueprint: vllm`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from blueprints.common.params import GpuWorkloadParams
from blueprints.common.vllm_args import VllmEngine
from core.schema import StrictModel


class Autoscaling(StrictModel):
    min_replicas: Annotated[int, Field(ge=1, le=100)] = 1
    max_replicas: Annotated[int, Field(ge=1, le=100)] = 4
    target_waiting_requests: Annotated[int, Field(ge=1, le=1000)] = 8
    """Scale out when the average queue (vllm:num_requests_waiting) per replica exceeds this."""

    @model_validator(mode="after")
    def _min_not_above_max(self) -> Autoscaling:
        if self.min_replicas > self.max_replicas:
            raise ValueError(f"min_replicas ({self.min_replicas}) is above max_replicas ({self.max_replicas}); raise max_replicas or lower min_replicas")
        return self


class VllmWorkload(VllmEngine, GpuWorkloadParams):
    blueprint: Literal["vllm"]
    port: Annotated[int, Field(ge=1024, le=65535)] = 8000
    autoscaling: Autoscaling | None = None
    """Horizontal autoscaling on queue depth. Not yet available: a HorizontalPodAutoscaler on vLLM's metrics needs
    a custom-metrics adapter the kit does not install, so the checks refuse it."""

    def gpus_per_pod(self) -> int:
        return self.tensor_parallel_size
