"""Typed parameters of the Triton blueprint (the `workloads:` entries with `blueprint: triton`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from blueprints.common.kv_offload import KvOffload
from blueprints.common.params import GpuWorkloadParams, KvOffloadable
from blueprints.common.vllm_args import VllmEngineKeys

# A directory in the model repository, a key in the ConfigMap, a path segment of /v2/models/<name>.
MODEL_NAME = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$"
EngineKey = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
EngineValue = str | int | float | bool | list | dict


class TritonWorkload(VllmEngineKeys, GpuWorkloadParams):
    # First, so that it stands where the other vLLM blueprints' extra_args stand: after the engine keys, in the config
    # reference and the editor schema (assembly/docs.py), which list the fields in declaration order.
    extra_args: dict[EngineKey, EngineValue] = {}
    """Further vLLM engine arguments written into model.json by their AsyncEngineArgs names, e.g. {max_num_seqs: 256,
    enforce_eager: true}."""
    blueprint: Literal["triton"]
    capabilities = (KvOffloadable,)
    triton_model_name: Annotated[str | None, Field(pattern=MODEL_NAME)] = None
    """The model's name in Triton's repository and URLs (/v2/models/<name>/generate); default: served_model_name, else the workload name."""
    kv_offload: KvOffload | None = None
    """Not with Triton: refused (Triton 26.08's vLLM backend, vLLM 0.27.1, is not checked by the kit for KV
    offloading); serve the model with blueprint: vllm for KV-cache tiers (docs/kv-cache.md)."""

    def engine_flags(self) -> dict[str, str]:
        """extra_args by vLLM's flag spelling of each engine argument name (max_num_seqs is --max-num-seqs)."""
        return {"--" + key.replace("_", "-"): str(value) for key, value in self.extra_args.items()}

    def gpus_per_pod(self) -> int:
        return self.tensor_parallel_size

    @property
    def repository_model_name(self) -> str:
        return self.triton_model_name or self.public_model_name
