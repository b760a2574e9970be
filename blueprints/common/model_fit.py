"""The fit check of a GPU workload: does its model, as served, fit the GPUs of one replica? (core/model_fit.py)

A workload that cannot hold its weights, or one request of max_model_len, is refused with the numbers and the ways
out; one that holds only a few full-length requests at once gets a warning with how many. A model the kit has no
facts for (core/model_catalog.py) is not checked, and the summary says so.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from blueprints.common.params import GpuWorkloadParams, HasLora
from blueprints.common.placement import Placement
from blueprints.common.vllm_args import VllmEngineKeys
from core.instances import INSTANCE_TYPES, InstanceFacts
from core.issues import ConfigIssue
from core.model_catalog import facts_for, lookup, lookup_name, source_path
from core.model_fit import Fit, Gpu, ModelFacts, Serving, fit, parallel_problem

FEW_SEQUENCES = 4
"""Below this many full-length requests at once, the summary warns: longer requests queue or preempt each other."""
HIGHEST_UTILIZATION = 0.98
"""The most the kit's gpu_memory_utilization key allows."""


@dataclass(frozen=True)
class Shape:
    """One engine a workload runs: the key that sizes it, its tensor-parallel size and pipeline stages."""

    key: str
    tensor_parallel: int
    pipeline_parallel: int = 1
    role: str = ""
    value: int | None = None
    """The key's value (default: the tensor-parallel size)."""


@dataclass(frozen=True)
class RoleFit:
    shape: Shape
    facts: ModelFacts | None
    fit: Fit | None
    skipped: str = ""
    """Why the fit was not checked, when it was not."""


def _number(flags: dict[str, str], name: str) -> float | None:
    try:
        return float(flags[name]) if name in flags else None
    except ValueError:
        return None


def serving(workload: VllmEngineKeys, shape: Shape) -> Serving:
    """The engine settings the fit depends on, from the workload's keys and its extra_args."""
    flags = workload.engine_flags()
    seqs, tokens, offload = _number(flags, "--max-num-seqs"), _number(flags, "--max-num-batched-tokens"), _number(flags, "--cpu-offload-gb")
    lora = workload.lora if isinstance(workload, HasLora) else None
    return Serving(
        tensor_parallel=shape.tensor_parallel,
        pipeline_parallel=shape.pipeline_parallel,
        gpu_memory_utilization=workload.gpu_memory_utilization,
        max_model_len=workload.max_model_len,
        quantization=workload.quantization,
        kv_cache_dtype=flags.get("--kv-cache-dtype", "auto"),
        max_num_seqs=int(seqs) if seqs else None,
        max_num_batched_tokens=int(tokens) if tokens else None,
        cuda_graphs=flags.get("--enforce-eager", "false").lower() in ("false", "0"),
        cpu_offload_gib=offload or 0.0,
        lora=lora.shape() if lora is not None else None,
    )


def gpu_of(instance: InstanceFacts) -> Gpu:
    return Gpu(instance.gpu, instance.gpu_memory_mib)


def role_fits(workload: GpuWorkloadParams, placement: Placement, shapes: list[Shape]) -> list[RoleFit]:
    facts = facts_for(workload.model, workload.model_facts)
    if facts is None:
        where = source_path(workload.model)
        return [
            RoleFit(
                shape,
                None,
                None,
                f"no facts for '{where}': set model_facts (same_as: a known model), or stage it with scripts/stage_model.py",
            )
            for shape in shapes
        ]
    if not isinstance(workload, VllmEngineKeys):
        # The fit is vLLM's accounting of GPU memory (core/model_fit.py); another engine's is not modelled.
        return [RoleFit(shape, facts, None, "the memory fit is modelled for vLLM engines only") for shape in shapes]
    flags = workload.engine_flags()
    if "--kv-cache-memory-bytes" in flags:
        return [RoleFit(shape, facts, None, "--kv-cache-memory-bytes sets the KV cache itself") for shape in shapes]
    return [RoleFit(shape, facts, fit(facts, gpu_of(placement.instance), serving(workload, shape))) for shape in shapes]


def _gib(value: float) -> str:
    return f"{value:.1f} GiB"


def _alternatives(facts: ModelFacts, result: Fit, placement: Placement, shape: Shape, size_name: str) -> list[str]:
    """Ways out that fit, each checked with the same model: more tensor parallelism (on this instance type, else on
    another of the pool's), a shorter max_model_len, FP8 weights, a higher gpu_memory_utilization, a bigger GPU."""
    options = []
    base = result.serving
    if shape.key == "nodes":
        for nodes in range(shape.pipeline_parallel + 1, shape.pipeline_parallel + 4):
            deeper = replace(base, pipeline_parallel=nodes)
            if parallel_problem(facts, deeper) is None and fit(facts, result.gpu, deeper).fits_sequence:
                options.append(f"nodes {nodes}")
                break
    if shape.key != "nodes":
        pool_types = [
            placement.instance_type,
            *(t for t in placement.capacity.instance_types if t != placement.instance_type and t in INSTANCE_TYPES),
        ]
        wider_options = [
            (tp, type_name)
            for type_name in pool_types
            for tp in (2, 4, 8)
            if tp > shape.tensor_parallel and tp <= INSTANCE_TYPES[type_name].gpus and INSTANCE_TYPES[type_name].gpus % tp == 0
            and parallel_problem(facts, replace(base, tensor_parallel=tp)) is None
            and fit(facts, gpu_of(INSTANCE_TYPES[type_name]), replace(base, tensor_parallel=tp)).fits_sequence
        ]  # fmt: skip
        if wider_options:
            tp, type_name = min(wider_options, key=lambda option: option[0])
            options.append(
                f"{shape.key} {tp}"
                + ("" if type_name == placement.instance_type else f" with instance_type {type_name}")
                + f" (pool '{placement.pool}')"
            )
    if result.fits_weights and result.longest_fitting >= 256:
        options.append(f"max_model_len {result.longest_fitting} or less")
    if (facts.quantization is None and base.quantization is None) and fit(
        facts, result.gpu, replace(base, quantization="fp8")
    ).fits_sequence:
        options.append("quantization: fp8 (about half the weights)")
    if (
        base.gpu_memory_utilization < HIGHEST_UTILIZATION
        and fit(facts, result.gpu, replace(base, gpu_memory_utilization=HIGHEST_UTILIZATION)).fits_sequence
    ):
        options.append(f"gpu_memory_utilization {HIGHEST_UTILIZATION}")
    bigger = sorted(
        {
            type_name
            for type_name, other in INSTANCE_TYPES.items()
            if other.gpu_memory_mib > placement.instance.gpu_memory_mib
            and other.gpus >= shape.tensor_parallel
            and fit(facts, gpu_of(other), base).fits_sequence
        },
        key=lambda name: (INSTANCE_TYPES[name].gpu_memory_mib, INSTANCE_TYPES[name].gpus, INSTANCE_TYPES[name].vcpus),
    )
    if bigger:
        options.append(f"a GPU with more memory ({', '.join(bigger[:3])})")
    options.append(f"./kit size {size_name} lists every shape that fits")
    return options


def facts_issues(workload: GpuWorkloadParams) -> list[ConfigIssue]:
    """model_facts that size nothing: a same_as the kit does not know, or too few keys of the model's own."""
    keys = workload.model_facts
    if keys is None:
        return []
    if keys.same_as is not None and lookup_name(keys.same_as) is None:
        return [
            ConfigIssue(
                "model_facts.same_as",
                "names a model the kit does not know",
                value=keys.same_as,
                allowed="a name `./kit size --list` prints",
                fix="pick the known model this one shares its architecture with, or give its config.json keys instead",
            )
        ]
    if keys.same_as is None and lookup(workload.model) is None and keys.missing:
        return [
            ConfigIssue(
                "model_facts",
                f"does not say enough to size the model: {', '.join(keys.missing)} missing",
                allowed="same_as a known model, or its config.json's num_hidden_layers, hidden_size, num_attention_heads, vocab_size and "
                "max_position_embeddings",
                fix=f"add {', '.join(keys.missing)} from the model's config.json",
            )
        ]
    return []


def issues(fits: list[RoleFit], placement: Placement, workload: GpuWorkloadParams) -> list[ConfigIssue]:
    found = facts_issues(workload)
    if found:
        return found
    for role in fits:
        result, facts, shape = role.fit, role.facts, role.shape
        if facts is not None and (problem := parallel_problem(facts, Serving(shape.tensor_parallel, shape.pipeline_parallel))):
            found.append(
                ConfigIssue(
                    shape.key,
                    f"{problem}: vLLM refuses to start",
                    value=shape.value or shape.tensor_parallel,
                    fix="pick a tensor_parallel_size that divides the attention heads",
                )
            )
            continue
        if result is None or facts is None or result.fits_sequence:
            continue
        who = f"{role.shape.role} workers of " if role.shape.role else ""
        where = f"{who}{facts.name} on {placement.instance_type} at TP {shape.tensor_parallel}" + (
            f" x PP {shape.pipeline_parallel}" if shape.pipeline_parallel > 1 else ""
        )
        keys = workload.model_facts
        ways = "; ".join(_alternatives(facts, result, placement, shape, keys.same_as if keys is not None and keys.same_as else facts.name))
        lora_part = f" (LoRA slots {_gib(result.lora_gib)}: lora.max_loras x max_lora_rank)" if result.lora_gib >= 0.05 else ""
        if not result.fits_weights:
            found.append(
                ConfigIssue(
                    shape.key,
                    f"the weights do not fit: {where} takes {_gib(result.weights_gib)} of weights per GPU and "
                    f"{_gib(result.overhead_gib)} of activations, CUDA graphs and buffers{lora_part}, more than the "
                    f"{_gib(result.requested_gib)} vLLM may use ({result.serving.gpu_memory_utilization:g} x "
                    f"{_gib(result.gpu.visible_gib)}); vLLM would stop with 'No available memory for the cache blocks'",
                    value=shape.value or shape.tensor_parallel,
                    allowed=f"a shape whose weights and one {result.max_model_len:,}-token request fit "
                    f"({_gib(result.needed_gib)} per GPU needed)",
                    fix=ways,
                )
            )
            continue
        length_set = result.serving.max_model_len is not None
        found.append(
            ConfigIssue(
                "max_model_len",
                f"one request of {result.max_model_len:,} tokens{'' if length_set else ' (unset: the model length of its config.json)'} "
                f"needs {result.sequence_gib:.2f} GiB of KV cache per GPU ({result.kv_bytes_per_token / 1024:g} KiB a token), but "
                f"{where} leaves {result.kv_gib:.2f} GiB: weights {_gib(result.weights_gib)} and overhead {_gib(result.overhead_gib)}"
                f"{lora_part} of the {_gib(result.requested_gib)} vLLM may use per GPU; vLLM refuses to start "
                f"({_gib(result.needed_gib)} per GPU needed)",
                **({"value": result.serving.max_model_len} if length_set else {}),
                allowed=f"at most {result.longest_fitting:,} tokens on this shape",
                fix=ways,
            )
        )
    return found


def warnings(name: str, fits: list[RoleFit]) -> list[str]:
    """What the summary says of a workload's fit: how few full-length requests fit, or that it was not checked."""
    found = []
    for role in fits:
        who = f"{name}{' ' + role.shape.role if role.shape.role else ''}"
        if role.fit is None:
            found.append(f"{who}: GPU memory fit not checked ({role.skipped})")
        elif role.fit.fits_sequence and role.fit.sequences < FEW_SEQUENCES:
            result = role.fit
            found.append(
                f"{who}: the KV cache ({result.kv_gib:.1f} GiB per GPU, {result.cache_tokens:,} tokens) holds "
                f"{result.sequences:.1f} requests of max_model_len {result.max_model_len:,} at once; longer requests beyond that "
                "wait or preempt each other "
                f"(lower max_model_len, or more GPUs per replica)"
            )
    return found


def describe(fits: list[RoleFit]) -> str:
    """One line of the summary: the fit of each engine the workload runs."""
    parts = []
    for role in fits:
        if role.fit is None:
            parts.append(f"{role.shape.role + ': ' if role.shape.role else ''}not checked")
            continue
        result = role.fit
        parts.append(
            f"{role.shape.role + ': ' if role.shape.role else ''}weights {result.weights_gib:.1f} GiB/GPU, "
            f"KV cache {result.kv_gib:.1f} GiB/GPU ({result.cache_tokens:,} tokens, {result.sequences:.1f} x {result.max_model_len:,})"
        )
    return "; ".join(parts)
