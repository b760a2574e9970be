"""Typed parameters of the benchmark blueprint: a load-generator Job against another workload of the same config."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from blueprints.common.params import WorkloadParams
from core.schema import ImageRef, KubeName

DATASETS_PREFIX = "datasets/"
RESULTS_PREFIX = "benchmarks/"


class BenchmarkWorkload(WorkloadParams):
    blueprint: Literal["benchmark"]
    target: KubeName
    """The enabled workload to load: its Service in storage.workloads_namespace gets the requests."""
    dataset: Annotated[
        str | None,
        Field(
            pattern=r"^s3://[a-z0-9.-]{3,63}/\S+\.jsonl?$", examples=["s3://llm-kit-models-111122223333-us-west-2/datasets/sharegpt.json"]
        ),
    ] = None
    """A ShareGPT-format JSON file under the model bucket's datasets/ prefix; empty sends random prompts of input_tokens."""
    input_tokens: Annotated[int, Field(ge=1, le=262144)] = 1024
    """Prompt length of random prompts (mean; no dataset)."""
    output_tokens: Annotated[int, Field(ge=1, le=65536)] = 256
    """Tokens generated per request (the server is asked to ignore end-of-sequence so every request generates this many)."""
    concurrency: Annotated[list[Annotated[int, Field(ge=1, le=4096)]], Field(min_length=1, max_length=20)] = [1, 8, 32]
    """One stage per value: that many requests in flight at once."""
    requests_per_stage: Annotated[int, Field(ge=1, le=100000)] = 200
    """Requests sent in each stage."""
    tokenizer: Annotated[
        str | None, Field(pattern=r"^[A-Za-z0-9][\w.-]{0,95}/[\w.-]{1,96}$", examples=["meta-llama/Llama-3.1-8B-Instruct"])
    ] = None
    """Hugging Face repository of the tokenizer that counts tokens (default: the target's hf model, or the tokenizer
    files beside its s3 model)."""
    api: Literal["chat", "completion"] = "completion"
    """OpenAI endpoint to call: /v1/completions or /v1/chat/completions."""
    image: ImageRef | None = None
    """Load-generator image (default: the inference-perf image record in core/pinned_images.py)."""
    cpu: Annotated[int, Field(ge=1, le=64)] = 2
    """CPU cores of the load-generator pod (requests = limits)."""
    memory_gib: Annotated[int, Field(ge=1, le=256)] = 4
    """Memory of the load-generator pod."""
    keep_finished_hours: Annotated[int, Field(ge=1, le=720)] = 24
    """How long the finished Job and its logs stay before Kubernetes deletes them (results are in S3)."""

    @field_validator("concurrency")
    @classmethod
    def _ascending(cls, levels: list[int]) -> list[int]:
        if levels != sorted(set(levels)):
            raise ValueError("list each concurrency once, in ascending order, e.g. [1, 8, 32]")
        return levels
