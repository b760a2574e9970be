"""Typed parameters of the vLLM blueprint (the `workloads:` entries with `blueprint: vllm`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from blueprints.base import WorkloadBase
from blueprints.common.vllm_args import VllmEngine
from infra.config.base import StrictModel


class Autoscaling(StrictModel):
    min_replicas: Annotated[int, Field(ge=1, le=100)] = 1
    max_replicas: Annotated[int, Field(ge=1, le=100)] = 4
    target_waiting_requests: Annotated[int, Field(ge=1, le=1000)] = 8
    """Scale out when the average queue (vllm:num_requests_waiting) per replica exceeds this; needs prometheus-adapter."""


class VllmWorkload(VllmEngine, WorkloadBase):
    blueprint: Literal["vllm"]
    port: Annotated[int, Field(ge=1024, le=65535)] = 8000
    autoscaling: Autoscaling | None = None
    """Horizontal autoscaling on queue depth; replicas is then the starting count."""

    def gpus_per_pod(self) -> int:
        return self.tensor_parallel_size
