"""vLLM engine arguments, written once for the plain, leader-worker and Dynamo blueprints."""

from __future__ import annotations

import json
from typing import Annotated, Literal

from pydantic import Field

from blueprints.common.model_source import ModelMount
from core import streamer
from core.schema import StrictModel
from blueprints.common import kv_offload, vllm_flags
from blueprints.common.kv_offload import KvOffload


class VllmEngineKeys(StrictModel):
    """The vLLM engine settings a workload gives as keys of its own, whichever way its blueprint hands them to vLLM:
    `vllm serve` flags (VllmEngine) or engine argument names in a file (Triton's model.json). What each blueprint
    takes beside them, its `extra_args`, differs in type, so it is declared by each, read here through engine_flags."""

    tensor_parallel_size: Annotated[int, Field(ge=1, le=64)] = 1
    """GPUs a model shard spans inside one node (--tensor-parallel-size)."""
    max_model_len: Annotated[int | None, Field(ge=256, le=4_194_304)] = None
    """Context length (--max-model-len); default: the model's own."""
    gpu_memory_utilization: Annotated[float, Field(gt=0.3, le=0.98)] = 0.9
    """Share of each GPU's memory vLLM may take for weights and KV cache."""
    dtype: Literal["auto", "bfloat16", "float16"] = "auto"
    quantization: Literal["fp8", "awq", "gptq", "compressed-tensors"] | None = None
    """--quantization; methods every pinned engine accepts (vLLM 0.30.0 moved bitsandbytes to a plugin its image lacks)."""
    enable_prefix_caching: bool = True
    """Reuse the KV cache of shared prompt prefixes (system prompts, few-shot examples)."""
    kv_offload: KvOffload | None = None
    """KV-cache tiers below GPU memory: CPU memory, and files on the node's NVMe or on FSx (blueprints/common/kv_offload.py)."""

    def engine_flags(self) -> dict[str, str]:
        """The further engine arguments (extra_args) as {long flag: value}, what the memory fit reads of them
        (blueprints/common/model_fit.py). None here: a subclass that takes extra_args says how to read them."""
        return {}


class VllmEngine(VllmEngineKeys):
    """The engine keys of a blueprint that runs vLLM with a command line, and further flags for it."""

    extra_args: list[Annotated[str, Field(pattern=r"^[^\s]+$|^--[\w-]+=.+$")]] = []
    """Further `vllm serve` flags, one token per item, e.g. ['--max-num-seqs', '256']."""

    def engine_flags(self) -> dict[str, str]:
        """extra_args in vLLM's spellings (vllm_flags.flag_name): a flag's value is the token after it or after '=',
        'true' for a bare flag, 'false' for its --no- form."""
        found: dict[str, str] = {}
        tokens = list(self.extra_args)
        for index, token in enumerate(tokens):
            name = vllm_flags.flag_name(token)
            if name is None:
                continue
            following = tokens[index + 1] if index + 1 < len(tokens) else ""
            found[name] = (
                token.split("=", 1)[1] if "=" in token else following if following and vllm_flags.flag_name(following) is None else "true"
            )
            if token.startswith("--no-"):
                found[name] = "false"
        return found


def engine_args(engine: VllmEngine, model: ModelMount, served_name: str, *, pipeline_parallel_size: int = 1) -> list[str]:
    """Arguments after the model: served name, parallelism, memory, and the S3 streamer when the model is on S3."""
    args = ["--served-model-name", served_name, "--tensor-parallel-size", str(engine.tensor_parallel_size)]
    if pipeline_parallel_size > 1:
        args += ["--pipeline-parallel-size", str(pipeline_parallel_size)]
    if engine.max_model_len:
        args += ["--max-model-len", str(engine.max_model_len)]
    args += ["--gpu-memory-utilization", str(engine.gpu_memory_utilization), "--dtype", engine.dtype]
    if engine.quantization:
        args += ["--quantization", engine.quantization]
    args.append("--enable-prefix-caching" if engine.enable_prefix_caching else "--no-enable-prefix-caching")
    if model.revision:
        args += ["--revision", model.revision]
    args += kv_offload.engine_args(engine.kv_offload)
    if model.streamed_from_s3:
        # Every rank streams the whole checkpoint unless the streamer shares it out between them (core/streamer.py).
        extra = streamer.loader_extra_config(model.streamer_concurrency, ranks=engine.tensor_parallel_size * pipeline_parallel_size)
        args += ["--load-format", "runai_streamer", "--model-loader-extra-config", json.dumps(extra)]
    return args + list(engine.extra_args)
