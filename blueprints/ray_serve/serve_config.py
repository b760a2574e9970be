"""The Ray Serve application the RayService deploys: serveConfigV2 with one Ray Serve LLM app (vLLM engine).

Read in ray 2.60.0 (the wheel of IMAGES["ray-llm"]'s Ray):
- `ray.serve.llm:build_openai_app` validates its args as LLMServingArgs (llm_configs, ingress_cls_config,
  ingress_deployment_config; ray/llm/_internal/serve/core/ingress/builder.py) and each llm_config as LLMConfig
  (core/configs/llm_config.py): model_loading_config, engine_kwargs, deployment_config, placement_group_config.
- engine_kwargs: every key must be a field of vLLM's AsyncEngineArgs or FrontendArgs (else "Unknown engine argument",
  engines/vllm/vllm_models.py from_llm_config); `model` and `served_model_name` are refused there (the served name is
  model_loading_config.model_id), and distributed_executor_backend is always "ray".
- deployment_config is deep-merged over Ray Serve LLM's defaults (core/server/builder.py DEFAULT_DEPLOYMENT_OPTIONS),
  whose autoscaling target_ongoing_requests is 1e9: left out, the replicas never scale up.
- A replica is one placement group: the replica actor's 1 CPU merged into the first of tensor x pipeline GPU bundles
  (core/server/llm_server.py get_deployment_options); STRICT_PACK keeps all of them on one node (one worker pod).
- model_source: a Hub id, a local path, or a cloud mirror ({bucket_uri: s3://...}) that Ray downloads with boto3 into
  the Hugging Face cache of every worker node before vLLM loads it (common/utils/download_utils.py, cloud_filesystem/
  s3_filesystem.py). The Run:ai streamer is not used: the image is not known to carry it.
"""

from __future__ import annotations

from typing import Any

import yaml

from blueprints.ray_serve.params import RayServeWorkload
from core.model_sources import FsxSource, HfSource, S3Source

APP_NAME = "llm"
BUILDER = "ray.serve.llm:build_openai_app"
SERVE_PORT = 8000


def model_source(workload: RayServeWorkload, local_path: str) -> str | dict[str, str]:
    """What Ray Serve LLM loads: the Hub id, the FSx path, or the S3 prefix as a mirror to download."""
    model = workload.model
    if isinstance(model, S3Source):
        return {"bucket_uri": model.uri}
    if isinstance(model, FsxSource):
        return local_path
    assert isinstance(model, HfSource)
    return model.repo_id


def engine_kwargs(workload: RayServeWorkload) -> dict[str, Any]:
    """vLLM's engine arguments as AsyncEngineArgs fields, from the same keys the vllm blueprint turns into flags."""
    kwargs: dict[str, Any] = {"tensor_parallel_size": workload.tensor_parallel_size}
    if workload.pipeline_parallel_size > 1:
        kwargs["pipeline_parallel_size"] = workload.pipeline_parallel_size
    if workload.max_model_len:
        kwargs["max_model_len"] = workload.max_model_len
    kwargs |= {
        "gpu_memory_utilization": workload.gpu_memory_utilization,
        "dtype": workload.dtype,
        "enable_prefix_caching": workload.enable_prefix_caching,
    }
    if workload.quantization:
        kwargs["quantization"] = workload.quantization
    if isinstance(workload.model, HfSource) and workload.model.revision:
        kwargs["revision"] = workload.model.revision
    if workload.kv_offload is not None:
        # vLLM 0.29.0 CacheConfig.kv_offloading_size: GiB of the engine's CPU tier, all its ranks together (the CPU tier
        # only: file tiers need the kit's janitor beside the server, which KubeRay's pods do not run).
        kwargs["kv_offloading_size"] = workload.kv_offload.cpu_gib
    return kwargs | dict(workload.engine_kwargs)


KIT_ENGINE_KWARGS = frozenset(
    {
        "tensor_parallel_size",
        "pipeline_parallel_size",
        "max_model_len",
        "gpu_memory_utilization",
        "dtype",
        "enable_prefix_caching",
        "quantization",
        "revision",
        "kv_offloading_size",
    }
)
"""engine_kwargs the kit writes from the workload's own keys."""
RAY_OWNED_ENGINE_KWARGS = frozenset({"model", "served_model_name", "distributed_executor_backend"})
"""engine_kwargs Ray Serve LLM refuses or overrides (vllm_models.py get_initialization_kwargs)."""


def llm_config(workload: RayServeWorkload, local_path: str) -> dict[str, Any]:
    scaling = workload.autoscaling
    return {
        "model_loading_config": {"model_id": workload.public_model_name, "model_source": model_source(workload, local_path)},
        "engine_kwargs": engine_kwargs(workload),
        "placement_group_config": {"bundle_per_worker": {"GPU": 1}, "strategy": "STRICT_PACK"},
        "deployment_config": {
            "autoscaling_config": {
                "min_replicas": scaling.min_replicas,
                "max_replicas": scaling.max_replicas,
                "target_ongoing_requests": scaling.target_ongoing_requests,
                "upscale_delay_s": scaling.upscale_delay_s,
                "downscale_delay_s": scaling.downscale_delay_s,
            },
        },
    }


def serve_config(workload: RayServeWorkload, local_path: str) -> dict[str, Any]:
    """The ServeDeploySchema document (ray/serve/schema.py): HTTP on every node's proxy, one OpenAI app at /."""
    return {
        "proxy_location": "EveryNode",
        "http_options": {"host": "0.0.0.0", "port": SERVE_PORT},
        "applications": [
            {"name": APP_NAME, "route_prefix": "/", "import_path": BUILDER, "args": {"llm_configs": [llm_config(workload, local_path)]}}
        ],
    }


def serve_config_yaml(workload: RayServeWorkload, local_path: str) -> str:
    """serveConfigV2 is a YAML string in the RayService (KubeRay hands it to the dashboard's Serve API)."""
    return yaml.safe_dump(serve_config(workload, local_path), sort_keys=False)
