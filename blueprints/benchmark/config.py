"""The inference-perf configuration of one benchmark (v0.6.1 config schema)."""

from __future__ import annotations

import math

from blueprints.benchmark.params import RESULTS_PREFIX, BenchmarkWorkload
from blueprints.benchmark.target import BenchmarkTarget

WORK_DIR = "/work"


def load_config(workload: BenchmarkWorkload, target: BenchmarkTarget) -> dict:
    fixed = lambda tokens: {"type": "fixed", "min": tokens, "max": tokens, "mean": tokens, "std_dev": 0}  # noqa: E731
    if workload.dataset:
        data = {"type": "shareGPT", "path": f"{WORK_DIR}/dataset.json"}
    else:
        data = {"type": "random", "input_distribution": fixed(workload.input_tokens), "output_distribution": fixed(workload.output_tokens)}
    return {
        # Streaming: time to first token and inter-token latency are measured per token as the client sees them.
        "api": {"type": workload.api, "streaming": True},
        "server": {"type": "vllm", "model_name": target.model_name, "base_url": target.base_url, "ignore_eos": True},
        "tokenizer": {"pretrained_model_name_or_path": target.tokenizer},
        "data": data,
        "load": {
            "type": "concurrent",
            "num_workers": workload.cpu,
            "worker_max_concurrency": max(100, math.ceil(max(workload.concurrency) / workload.cpu)),
            "stages": [{"concurrency_level": level, "num_requests": workload.requests_per_stage} for level in workload.concurrency],
        },
        "report": {"request_lifecycle": {"summary": True, "per_stage": True, "per_request": False}},
        "storage": {
            "local_storage": {"path": f"{WORK_DIR}/reports-{{timestamp}}"},
            "simple_storage_service": {
                "bucket_name": target.bucket,
                "path": f"{RESULTS_PREFIX}{target.workload}/{{timestamp}}",
                "region_name": target.region,
            },
        },
    }
