"""Typed parameters of the Dynamo blueprint (the `workloads:` entries with `blueprint: dynamo`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from blueprints.common.params import GpuWorkloadParams, KvOffloadable
from blueprints.common.vllm_args import VllmEngine
from core.schema import ImageRef

WorkerCount = Annotated[int, Field(ge=1, le=100)]
TensorParallel = Annotated[int, Field(ge=1, le=64)]

AGGREGATED_ONLY = ("workers",)
DISAGGREGATED_ONLY = ("prefill_workers", "decode_workers", "prefill_tensor_parallel_size", "decode_tensor_parallel_size")


class DynamoWorkload(VllmEngine, GpuWorkloadParams):
    blueprint: Literal["dynamo"]
    capabilities = (KvOffloadable,)
    image: ImageRef | None = None
    """Worker image (default: the dynamo-vllm record in core/pinned_images.py, dynamo-vllm-efa on EFA); the frontend keeps its own pin."""
    replicas: Annotated[int, Field(ge=0, le=100)] = 1
    """Not used: count worker pods with workers, or prefill_workers and decode_workers."""
    mode: Literal["aggregated", "disaggregated"] = "aggregated"
    """aggregated: each worker prefills and decodes. disaggregated: prefill and decode workers, the KV cache sent between them by NIXL."""
    workers: WorkerCount = 1
    """Worker pods in aggregated mode."""
    prefill_workers: WorkerCount = 1
    """Prefill worker pods in disaggregated mode."""
    decode_workers: WorkerCount = 1
    """Decode worker pods in disaggregated mode."""
    prefill_tensor_parallel_size: TensorParallel | None = None
    """GPUs per prefill worker (default: tensor_parallel_size). Prefill is compute-bound: smaller, more numerous workers often win."""
    decode_tensor_parallel_size: TensorParallel | None = None
    """GPUs per decode worker (default: tensor_parallel_size). Decode is memory-bound: more GPUs hold more KV cache."""
    router_mode: Literal["kv", "round-robin"] = "kv"
    """How the frontend picks a worker: kv sends a request where its prompt prefix is already cached."""
    frontend_replicas: Annotated[int, Field(ge=1, le=20)] = 1
    """Frontend pods (OpenAI-compatible HTTP, tokenization, routing); they need no GPU."""

    def gpus_per_pod(self) -> int:
        # The shared check validates this one; extra_checks validates the per-role overrides under their own keys.
        return self.tensor_parallel_size

    def role_tensor_parallel(self) -> dict[str, int]:
        """GPUs per worker pod of each role that runs in this mode."""
        if self.mode == "aggregated":
            return {"worker": self.tensor_parallel_size}
        return {
            "prefill": self.prefill_tensor_parallel_size or self.tensor_parallel_size,
            "decode": self.decode_tensor_parallel_size or self.tensor_parallel_size,
        }

    def role_replicas(self) -> dict[str, int]:
        if self.mode == "aggregated":
            return {"worker": self.workers}
        return {"prefill": self.prefill_workers, "decode": self.decode_workers}
