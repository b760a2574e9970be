"""Typed parameters of the vLLM batch blueprint (the `workloads:` entries with `blueprint: vllm-batch`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from blueprints.common.params import GpuWorkloadParams, KvOffloadable
from blueprints.common.vllm_args import VllmEngine
from core.kueue_facts import Priority

BATCH_PREFIX = "batch/"
"""Where batch inputs live in the model bucket, and results go (batch/<workload>/results/)."""

InputUri = Annotated[str, Field(pattern=r"^s3://[^/]+/batch/.+\.jsonl$", examples=["s3://{bucket}/batch/nightly/requests-000.jsonl"])]


class VllmBatchWorkload(VllmEngine, GpuWorkloadParams):
    blueprint: Literal["vllm-batch"]
    capabilities = (KvOffloadable,)
    inputs: Annotated[list[InputUri], Field(min_length=1, max_length=1000)]
    """Request files in OpenAI batch format (one JSON request per line), in the model bucket under batch/ ({bucket}
    stands for the kit's bucket). Each is one index of the Job: its results land in
    s3://<bucket>/batch/<workload>/results/<file name>, and a finished file is not redone when the Job resumes."""
    priority: Priority = "batch"
    """Batch by default: real-time serving preempts it (the Job resumes the files it has not finished)."""
    keep_finished_hours: Annotated[int, Field(ge=1, le=720)] = 24
    """How long the finished Job and its pods stay for inspection."""

    def gpus_per_pod(self) -> int:
        return self.tensor_parallel_size
