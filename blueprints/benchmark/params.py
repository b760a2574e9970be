"""Typed parameters of the benchmark blueprint: a load-generator Job against another workload of the same config."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from blueprints.base import BlueprintBase
from infra.config.errors import ConfigIssue
from infra.config.node_pools import KubeName

DATASETS_PREFIX = "datasets/"
RESULTS_PREFIX = "benchmarks/"
# Blueprints whose Service speaks the OpenAI API on <name>:<port> (Triton's HTTP port speaks KServe v2).
OPENAI_BLUEPRINTS = ("vllm", "vllm-multinode", "dynamo")


class BenchmarkWorkload(BlueprintBase):
    blueprint: Literal["benchmark"]
    target: KubeName
    """The enabled workload to load: its Service in storage.workloads_namespace gets the requests."""
    dataset: Annotated[str | None, Field(pattern=r"^s3://[a-z0-9.-]{3,63}/\S+\.jsonl?$", examples=["s3://llm-kit-models-111122223333-us-west-2/datasets/sharegpt.json"])] = None
    """A ShareGPT-format JSON file under the model bucket's datasets/ prefix; empty sends random prompts of input_tokens."""
    input_tokens: Annotated[int, Field(ge=1, le=262144)] = 1024
    """Prompt length of random prompts (mean; no dataset)."""
    output_tokens: Annotated[int, Field(ge=1, le=65536)] = 256
    """Tokens generated per request (the server is asked to ignore end-of-sequence so every request generates this many)."""
    concurrency: Annotated[list[Annotated[int, Field(ge=1, le=4096)]], Field(min_length=1, max_length=20)] = [1, 8, 32]
    """One stage per value: that many requests in flight at once."""
    requests_per_stage: Annotated[int, Field(ge=1, le=100000)] = 200
    """Requests sent in each stage."""
    tokenizer: Annotated[str | None, Field(pattern=r"^[A-Za-z0-9][\w.-]{0,95}/[\w.-]{1,96}$", examples=["meta-llama/Llama-3.1-8B-Instruct"])] = None
    """Hugging Face repository of the tokenizer that counts tokens (default: the target's hf model, or the tokenizer files beside its s3 model)."""
    api: Literal["chat", "completion"] = "completion"
    """OpenAI endpoint to call: /v1/completions or /v1/chat/completions."""
    image: Annotated[str | None, Field(pattern=r"^[\w.\-/:@]+$")] = None
    """Load-generator image (default: the inference-perf pin in infra/versions.py)."""
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

    def config_checks(self, config) -> list[ConfigIssue]:
        from infra.storage.refs import model_bucket_name

        issues = []
        enabled = {w.name: w for w in config.workloads if w.enabled and w.blueprint in OPENAI_BLUEPRINTS}
        target = enabled.get(self.target)
        if target is None:
            other = next((w for w in config.workloads if w.name == self.target), None)
            why = "no workload has this name" if other is None else (
                "that workload is disabled" if not other.enabled else f"its {other.blueprint} blueprint does not serve the OpenAI API"
            )
            issues.append(
                ConfigIssue(
                    "target",
                    f"must name an enabled vllm, vllm-multinode or dynamo workload; {why}",
                    value=self.target,
                    allowed=", ".join(sorted(enabled)) or "(no such workload enabled)",
                    fix="name one of them, or enable the workload you mean",
                )
            )
        if target is not None and self.tokenizer is None and getattr(target.model, "type", None) == "fsx":
            issues.append(ConfigIssue("tokenizer", "the target loads its model from FSx, which the benchmark pod does not mount", fix="name the model's Hugging Face repository in tokenizer"))
        if self.dataset:
            bucket = model_bucket_name(config)
            own = config.storage.model_bucket.existing_bucket_name is None
            name, _, key = self.dataset.removeprefix("s3://").partition("/")
            right_bucket = name.startswith(f"{config.name}-models-") if own else name == bucket
            if not right_bucket or not key.startswith(DATASETS_PREFIX):
                issues.append(
                    ConfigIssue(
                        "dataset",
                        f"the benchmark role reads only the {DATASETS_PREFIX} prefix of the model bucket",
                        value=self.dataset,
                        allowed=f"s3://{bucket}/{DATASETS_PREFIX}<file>.json",
                        fix=f"upload the file there (aws s3 cp data.json s3://{bucket}/{DATASETS_PREFIX})",
                    )
                )
        return issues

    def chart_inputs(self, config) -> dict:
        from blueprints.benchmark.target import resolve_target

        return {"target": resolve_target(config, self)}

    def summary(self) -> str:
        return f"benchmark of {self.target} at concurrency {'/'.join(map(str, self.concurrency))}, CPU only"
