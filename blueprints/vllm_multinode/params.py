"""Typed parameters of the multi-node vLLM blueprint (the `workloads:` entries with `blueprint: vllm-multinode`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from blueprints.base import WorkloadBase
from blueprints.common.vllm_args import VllmEngine


class VllmMultinodeWorkload(VllmEngine, WorkloadBase):
    blueprint: Literal["vllm-multinode"]
    nodes: Annotated[int, Field(ge=1, le=64)] = 2
    """Nodes per model copy: the LeaderWorkerSet group size and vLLM's --pipeline-parallel-size. Each pod takes a whole node."""
    replicas: Annotated[int, Field(ge=0, le=100)] = 1
    """Model copies, each a group of `nodes` pods (one leader, nodes - 1 workers)."""
    tensor_parallel_size: Annotated[int, Field(ge=1, le=64)] = 8
    """GPUs a pipeline stage spans; must be every GPU of the node (--tensor-parallel-size)."""
    port: Annotated[int, Field(ge=1024, le=65535)] = 8000
    """HTTP port of the OpenAI-compatible server on the leader."""

    def gpus_per_pod(self) -> int:
        return self.tensor_parallel_size

    def summary(self) -> str:
        return f"vllm-multinode on {self.node_pool}, {self.replicas} x {self.nodes} nodes x {self.tensor_parallel_size} GPUs"

    def extra_checks(self, instance, pool_efa: bool) -> list[tuple[str, str, str]]:
        issues = []
        if self.nodes < 2:
            issues.append(
                (
                    "nodes",
                    f"is {self.nodes}, but a multi-node group needs at least 2 nodes",
                    "set nodes: 2 or more, or serve a model that fits one node with blueprint: vllm",
                )
            )
        if self.tensor_parallel_size != instance.gpus:
            issues.append(
                (
                    "tensor_parallel_size",
                    f"is {self.tensor_parallel_size}, but each pod takes a whole node and shards the model over all of its {instance.gpus} GPUs",
                    f"set tensor_parallel_size: {instance.gpus} and split the model across nodes with nodes",
                )
            )
        return issues
