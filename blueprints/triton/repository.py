"""Triton's model repository for one vLLM model: `<name>/config.pbtxt` and `<name>/1/model.json`.

The vLLM backend passes model.json unchanged to vLLM's AsyncEngineArgs, so its keys are engine argument names.
"""

from __future__ import annotations

import json

from blueprints.common.model_source import ModelMount
from blueprints.triton.params import TritonWorkload
from core import streamer

VERSION = "1"
KIT_ENGINE_KEYS = frozenset(
    {
        "model",
        "revision",
        "tensor_parallel_size",
        "gpu_memory_utilization",
        "max_model_len",
        "dtype",
        "quantization",
        "enable_prefix_caching",
        "load_format",
        "model_loader_extra_config",
        "disable_log_stats",
    }
)


def model_json(workload: TritonWorkload, model: ModelMount) -> dict:
    engine: dict = {
        "model": model.location,
        "tensor_parallel_size": workload.tensor_parallel_size,
        "gpu_memory_utilization": workload.gpu_memory_utilization,
        "dtype": workload.dtype,
        "enable_prefix_caching": workload.enable_prefix_caching,
        # vLLM's stats feed the backend's metrics on Triton's metrics port (with REPORT_CUSTOM_METRICS below).
        "disable_log_stats": False,
    }
    if workload.max_model_len:
        engine["max_model_len"] = workload.max_model_len
    if workload.quantization:
        engine["quantization"] = workload.quantization
    if model.revision:
        engine["revision"] = model.revision
    if model.streamed_from_s3:
        # Needs vLLM's optional [runai] extra (runai-model-streamer) in the image; a custom image must keep it.
        engine["load_format"] = "runai_streamer"
        # Triton's vLLM 0.27.1 has 0.30.0's loader (vllm/model_executor/model_loader/runai_streamer_loader.py): the
        # ranks share the reading only when told to.
        engine["model_loader_extra_config"] = streamer.loader_extra_config(model.streamer_concurrency, ranks=workload.tensor_parallel_size)
    return {**engine, **workload.extra_args}


def config_pbtxt(name: str) -> str:
    # KIND_MODEL leaves GPU placement to vLLM (Triton's KIND_GPU means one GPU per instance); the backend
    # requires the decoupled policy and batches on its own, so Triton's batching stays off.
    return f"""name: "{name}"
backend: "vllm"
max_batch_size: 0
model_transaction_policy {{
  decoupled: true
}}
instance_group [
  {{
    count: 1
    kind: KIND_MODEL
  }}
]
parameters {{
  key: "REPORT_CUSTOM_METRICS"
  value: {{
    string_value: "true"
  }}
}}
"""


def repository_files(workload: TritonWorkload, model: ModelMount) -> dict[str, tuple[str, str]]:
    """{ConfigMap key: (path below the repository root, content)}."""
    name = workload.repository_model_name
    return {
        "config.pbtxt": (f"{name}/config.pbtxt", config_pbtxt(name)),
        "model.json": (f"{name}/{VERSION}/model.json", json.dumps(model_json(workload, model), indent=2, sort_keys=True) + "\n"),
    }
