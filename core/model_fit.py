"""Whether a model fits its GPUs: weights, KV cache per token and the memory left for it, as vLLM 0.30.0 counts them.

vLLM 0.30.0 sizes its KV cache per GPU (vllm/v1/worker/gpu_worker.py, Worker.determine_available_memory):

    requested = total GPU memory x gpu_memory_utilization        (v1/worker/utils.py request_memory: the TOTAL, not
                                                                  what is free; the CUDA context sits outside it)
    KV cache  = requested - weights - peak activations - memory outside torch (NCCL, attention buffers)
                - CUDA graphs                                     (VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS, on by
                                                                  default since v0.21)

then refuses to start unless the cache holds one request of max_model_len (v1/core/kv_cache_utils.py,
check_enough_kv_cache_memory: the blocks of every layer of the rank for max_model_len tokens, after the one null
block the pool keeps back). A block is `block_size` tokens of every layer the rank holds; a token of one layer is
2 x KV heads on the rank x head size x the cache dtype's bytes (v1/kv_cache_interface.py AttentionSpec
page_size_bytes; heads are divided by the tensor-parallel size and replicated when fewer, config/model.py
get_num_kv_heads), or one latent of kv_lora_rank + qk_rope_head_dim for MLA models (MLAAttentionSpec, replicated
on every rank). Pipeline stages split the layers (distributed/utils.py get_pp_indices); each rank is checked alone.

vLLM measures the activations by running a dummy batch; here they are estimated from what dominates that run at
the pinned defaults: the sampler's warm-up over max_num_seqs requests of full-vocabulary float32 logits
(v1/worker/gpu_model_runner.py _dummy_sampler_run, top-k and top-p sort copies of them). Calibrated on vLLM's own
logs on one H100 (79.18 GiB visible) at utilization 0.9, published in llm-d/llm-d-benchmark
config_explorer/empirical-vllm-memory-results.md (commit 2593348): peak activations 4.76 GiB for Llama-3.1-8B,
4.84 GiB for Llama-3.3-70B-FP8 at TP 2, 5.56 GiB for Qwen3-0.6B and 7.38 GiB for gpt-oss-20b, that is 9.6 to 9.7 x
(1024 requests x vocabulary x 4 bytes); memory outside torch 0.13 GiB on one GPU and 0.55 GiB with TP 2.

Where the estimate is conservative (it refuses a little early, never late, by these margins): the activations are
taken as 10 x the sampler's logits (measured 9.6-9.7 x); CUDA graphs as 1 GiB (vLLM logs 0.5-0.9 GiB for 8B-70B
dense models); the visible memory as 99% of the instance's published GPU memory (an H100's 80 GiB shows 79.18).
Where it is not: key/value projections replicated on ranks beyond the KV heads, and sliding-window or hybrid
attention layers (counted here as full attention, which over-counts their cache instead).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

GIB = 1 << 30
MIB = 1 << 20

# vLLM 0.30.0 engine/arg_utils.py EngineArgs._set_default_args: the serve defaults by the device's total memory
# (>= 160 GiB; >= 70 GiB and not an A100; otherwise), as (max_num_batched_tokens, max_num_seqs).
DEFAULT_BATCH = ((160, 16384, 1024), (70, 8192, 1024))
SMALL_GPU_BATCH = (2048, 256)

VISIBLE_SHARE = 0.99
"""CUDA reports a little less than the instance's GPU memory: 79.18 GiB of an H100's 80 GiB (llm-d-benchmark above)."""
SAMPLER_COPIES = 10.0
"""Peak activations over one copy of the sampler's float32 logits (measured 9.6-9.7 x, above)."""
NON_TORCH_GIB = 0.15
"""CUDA memory outside torch on one GPU (0.13 GiB measured)."""
NON_TORCH_SHARDED_GIB = 0.6
"""The same with NCCL's buffers, more than one rank (0.55 GiB measured at TP 2)."""
CUDA_GRAPH_GIB = 1.0
"""vLLM's CUDA graph estimate, subtracted since v0.21 unless --enforce-eager (0.5-0.9 GiB logged for 8B-70B)."""
BLOCK_TOKENS = 16
"""Tokens per KV block on CUDA (vllm/platforms/cuda.py); MLA backends (FlashMLA) use 64."""
MLA_BLOCK_TOKENS = 64

DTYPE_BYTES = {"bfloat16": 2, "float16": 2, "half": 2, "float32": 2, "auto": 2}
"""Bytes a weight or activation takes. vLLM serves float32 checkpoints in 16 bits under dtype auto (config/model.py)."""
QUANT_BYTES = {"fp8": 1.0, "compressed-tensors": 1.0, "awq": 0.5 + 2.5 / 128, "gptq": 0.5 + 2.5 / 128, "mxfp4": 0.5 + 1 / 32}
"""Bytes per linear-layer weight: 8-bit floats; 4-bit integers with a 16-bit scale and a 4-bit zero per group of 128
(compressed-tensors is taken as its 8-bit schemes). Embeddings and the output head stay in 16 bits."""


@dataclass(frozen=True)
class ModelFacts:
    """A decoder-only transformer as its config.json describes it (the names vLLM reads are in from_config_json)."""

    name: str
    layers: int
    hidden_size: int
    attention_heads: int
    kv_heads: int
    vocab_size: int
    intermediate_size: int
    max_position_embeddings: int
    head_dim: int | None = None
    """Default: hidden_size / attention_heads."""
    dtype: str = "bfloat16"
    tie_word_embeddings: bool = False
    experts: int = 0
    """Routed experts of a mixture-of-experts layer; 0 for a dense model."""
    moe_intermediate_size: int | None = None
    shared_experts: int = 0
    kv_lora_rank: int | None = None
    """Multi-head latent attention (DeepSeek): the cached latent's width, with qk_rope_head_dim."""
    qk_rope_head_dim: int | None = None
    params_b: float | None = None
    """Total parameters in billions. Default: counted from the architecture (dense and plain MoE models)."""
    quantization: str | None = None
    """The checkpoint's own quantization (quantization_config.quant_method), e.g. fp8."""
    weight_bytes: int | None = None
    """The checkpoint's weight files as staged (scripts/stage_model.py), when known: more exact than a count."""
    source: str = ""
    """Where these facts come from."""

    @property
    def head_size(self) -> int:
        return self.head_dim or self.hidden_size // self.attention_heads

    @property
    def mla(self) -> bool:
        return self.kv_lora_rank is not None

    def parameters(self) -> float:
        """Total parameters: given, else counted for a dense or MoE model with grouped-query attention."""
        if self.params_b is not None:
            return self.params_b * 1e9
        head = self.head_size
        attention = self.hidden_size * head * (2 * self.attention_heads + 2 * self.kv_heads)
        if self.experts:
            ffn_width = self.moe_intermediate_size or self.intermediate_size
            ffn = 3 * self.hidden_size * ffn_width * (self.experts + self.shared_experts) + self.hidden_size * self.experts
        else:
            ffn = 3 * self.hidden_size * self.intermediate_size
        embeddings = self.vocab_size * self.hidden_size * (1 if self.tie_word_embeddings else 2)
        return self.layers * (attention + ffn + 2 * self.hidden_size) + embeddings + self.hidden_size


@dataclass(frozen=True)
class Serving:
    """How the engine runs the model: vLLM's own flags, with their defaults where the workload leaves them out."""

    tensor_parallel: int = 1
    pipeline_parallel: int = 1
    gpu_memory_utilization: float = 0.9
    max_model_len: int | None = None
    """Default: the model's max_position_embeddings (vLLM's own default)."""
    quantization: str | None = None
    """--quantization; None leaves the checkpoint's own."""
    kv_cache_dtype: str = "auto"
    max_num_seqs: int | None = None
    max_num_batched_tokens: int | None = None
    cuda_graphs: bool = True
    cpu_offload_gib: float = 0.0
    lora: LoraShape | None = None


@dataclass(frozen=True)
class LoraShape:
    """--max-loras adapters in GPU memory at once, each up to --max-lora-rank."""

    max_loras: int
    max_rank: int


@dataclass(frozen=True)
class Gpu:
    name: str
    memory_mib: int
    """As the instance type publishes it (Karpenter's karpenter.k8s.aws/instance-gpu-memory)."""

    @property
    def visible_gib(self) -> float:
        return self.memory_mib * MIB * VISIBLE_SHARE / GIB


@dataclass(frozen=True)
class Fit:
    """Per GPU of the fullest rank, in GiB unless named otherwise."""

    gpu: Gpu
    serving: Serving
    max_model_len: int
    requested_gib: float
    weights_gib: float
    lora_gib: float
    activation_gib: float
    non_torch_gib: float
    cuda_graph_gib: float
    kv_bytes_per_token: int
    """On the fullest rank: its layers, its KV heads."""
    model_kv_bytes_per_token: int
    """The whole model's, every layer and head (what a token costs across all ranks)."""
    block_tokens: int
    notes: tuple[str, ...] = field(default=())

    @property
    def overhead_gib(self) -> float:
        return self.lora_gib + self.activation_gib + self.non_torch_gib + self.cuda_graph_gib

    @property
    def kv_gib(self) -> float:
        """What vLLM would report as 'Available KV cache memory'."""
        return self.requested_gib - self.weights_gib - self.overhead_gib

    @property
    def sequence_gib(self) -> float:
        """One request of max_model_len tokens, in whole blocks."""
        return math.ceil(self.max_model_len / self.block_tokens) * self.block_tokens * self.kv_bytes_per_token / GIB

    @property
    def usable_kv_gib(self) -> float:
        """The cache less the null block the pool keeps back."""
        return self.kv_gib - self.block_tokens * self.kv_bytes_per_token / GIB

    @property
    def fits_weights(self) -> bool:
        return self.kv_gib > 0

    @property
    def fits_sequence(self) -> bool:
        return self.fits_weights and self.usable_kv_gib >= self.sequence_gib

    @property
    def sequences(self) -> float:
        """Requests of max_model_len tokens the cache holds at once (vLLM's 'Maximum concurrency')."""
        return max(self.kv_gib, 0) / self.sequence_gib if self.sequence_gib else 0.0

    @property
    def cache_tokens(self) -> int:
        """vLLM's 'GPU KV cache size: N tokens'."""
        blocks = int(max(self.kv_gib, 0) * GIB // (self.block_tokens * self.kv_bytes_per_token))
        return blocks * self.block_tokens

    @property
    def longest_fitting(self) -> int:
        """The longest max_model_len one request could have here, whole blocks."""
        return max(self.cache_tokens - self.block_tokens, 0)

    @property
    def needed_gib(self) -> float:
        """GPU memory per GPU that one full-length request needs at this utilization."""
        return self.weights_gib + self.overhead_gib + self.sequence_gib + self.block_tokens * self.kv_bytes_per_token / GIB

    def describe(self) -> str:
        return (
            f"weights {self.weights_gib:.1f} GiB/GPU + overhead {self.overhead_gib:.1f} GiB of {self.requested_gib:.1f} GiB "
            f"({self.serving.gpu_memory_utilization:g} x {self.gpu.visible_gib:.1f} GiB {self.gpu.name}) "
            f"leave {self.kv_gib:.1f} GiB KV cache; "
            f"a token takes {self.kv_bytes_per_token / 1024:g} KiB/GPU, a {self.max_model_len:,}-token request {self.sequence_gib:.2f} GiB"
        )


def batch_defaults(gpu: Gpu) -> tuple[int, int]:
    """vLLM 0.30.0's serve defaults (max_num_batched_tokens, max_num_seqs) on this GPU."""
    total_gib = gpu.visible_gib
    for floor, tokens, seqs in DEFAULT_BATCH:
        if total_gib >= floor and (floor >= 160 or gpu.name != "a100"):
            return tokens, seqs
    return SMALL_GPU_BATCH


def weight_bytes_per_param(facts: ModelFacts, serving: Serving) -> float:
    quantization = serving.quantization or facts.quantization
    if quantization:
        return QUANT_BYTES.get(quantization, 1.0)
    return DTYPE_BYTES.get(facts.dtype, 2)


def stage_layers(facts: ModelFacts, pipeline_parallel: int) -> int:
    """Layers on the fullest pipeline stage (vLLM splits them as evenly as it can)."""
    return math.ceil(facts.layers / pipeline_parallel)


def weights_per_gpu(facts: ModelFacts, serving: Serving) -> float:
    """Bytes of weights on the fullest rank: its stage's share of the layers, the embedding or the output head, all
    split by tensor parallelism (vocabulary-parallel embeddings and head, column- and row-parallel linears)."""
    act = DTYPE_BYTES.get(facts.dtype, 2)
    embed = facts.vocab_size * facts.hidden_size * act
    head = 0 if facts.tie_word_embeddings and serving.pipeline_parallel == 1 else embed
    requantized = serving.quantization is not None and serving.quantization != facts.quantization
    if facts.weight_bytes and not requantized:
        body = max(facts.weight_bytes - embed - (0 if facts.tie_word_embeddings else embed), 0)
    else:
        body = (
            facts.parameters() - facts.vocab_size * facts.hidden_size * (1 if facts.tie_word_embeddings else 2)
        ) * weight_bytes_per_param(facts, serving)
    pp = serving.pipeline_parallel
    stage_body = body * stage_layers(facts, pp) / facts.layers
    ends = embed + head if pp == 1 else max(embed, head)
    return (stage_body + ends) / serving.tensor_parallel - serving.cpu_offload_gib * GIB


def kv_bytes_per_token(facts: ModelFacts, serving: Serving, *, layers: int | None = None) -> int:
    kv_bytes = 1 if serving.kv_cache_dtype.startswith("fp8") else DTYPE_BYTES.get(facts.dtype, 2)
    layers = stage_layers(facts, serving.pipeline_parallel) if layers is None else layers
    if facts.kv_lora_rank is not None:  # facts.mla, spelled so the checker sees the rank is set
        return layers * (facts.kv_lora_rank + (facts.qk_rope_head_dim or 0)) * kv_bytes
    heads = max(1, facts.kv_heads // serving.tensor_parallel)
    return layers * 2 * heads * facts.head_size * kv_bytes


def lora_bytes(facts: ModelFacts, serving: Serving, shape: LoraShape) -> float:
    """vLLM's LoRA buffers on one rank, allocated with the model for max_loras slots of max_rank (vllm/lora/layers):
    A of each column-parallel slice whole and B split by TP; row-parallel A split and B whole; 16-bit."""
    tp, head = serving.tensor_parallel, facts.head_size
    q_out, kv_out = facts.attention_heads * head, facts.kv_heads * head
    h = facts.hidden_size
    qkv = 3 * h + (q_out + 2 * kv_out) / tp
    out_proj = q_out / tp + h
    ffn_width = facts.moe_intermediate_size or facts.intermediate_size
    ffn_copies = (facts.experts + facts.shared_experts) if facts.experts else 1
    ffn = ffn_copies * ((2 * h + 2 * ffn_width / tp) + (ffn_width / tp + h))
    per_rank_per_layer = qkv + out_proj + ffn
    return shape.max_loras * shape.max_rank * per_rank_per_layer * 2 * stage_layers(facts, serving.pipeline_parallel)


def activation_bytes(facts: ModelFacts, gpu: Gpu, serving: Serving) -> float:
    tokens, seqs = batch_defaults(gpu)
    tokens = serving.max_num_batched_tokens or tokens
    seqs = serving.max_num_seqs or seqs
    sampler = SAMPLER_COPIES * min(seqs, tokens) * facts.vocab_size * 4
    ffn_width = facts.intermediate_size if not facts.experts else (facts.moe_intermediate_size or facts.intermediate_size)
    forward = tokens * (4 * facts.hidden_size + 3 * ffn_width / serving.tensor_parallel) * DTYPE_BYTES.get(facts.dtype, 2)
    return max(sampler, forward)


def fit(facts: ModelFacts, gpu: Gpu, serving: Serving) -> Fit:
    """The memory of the fullest rank of one model copy on `gpu`s."""
    max_len = serving.max_model_len or facts.max_position_embeddings
    notes = []
    if serving.cpu_offload_gib:
        notes.append(f"--cpu-offload-gb {serving.cpu_offload_gib:g} moves that much of each rank's weights to host memory")
    return Fit(
        gpu=gpu,
        serving=serving,
        max_model_len=max_len,
        requested_gib=gpu.visible_gib * serving.gpu_memory_utilization,
        weights_gib=max(weights_per_gpu(facts, serving), 0) / GIB,
        lora_gib=lora_bytes(facts, serving, serving.lora) / GIB if serving.lora else 0.0,
        activation_gib=activation_bytes(facts, gpu, serving) / GIB,
        non_torch_gib=NON_TORCH_SHARDED_GIB if serving.tensor_parallel * serving.pipeline_parallel > 1 else NON_TORCH_GIB,
        cuda_graph_gib=CUDA_GRAPH_GIB if serving.cuda_graphs else 0.0,
        kv_bytes_per_token=kv_bytes_per_token(facts, serving),
        model_kv_bytes_per_token=kv_bytes_per_token(facts, replace(serving, tensor_parallel=1, pipeline_parallel=1)),
        block_tokens=MLA_BLOCK_TOKENS if facts.mla else BLOCK_TOKENS,
        notes=tuple(notes),
    )


def parallel_problem(facts: ModelFacts, serving: Serving) -> str | None:
    """What vLLM 0.30.0 refuses before it loads anything (config/parallel.py and config/model.py
    verify_with_parallel_config): attention heads not divisible by the tensor-parallel size, more stages than layers."""
    if facts.attention_heads % serving.tensor_parallel:
        return f"the model's {facts.attention_heads} attention heads do not divide by tensor_parallel_size {serving.tensor_parallel}"
    if serving.pipeline_parallel > facts.layers:
        return f"{serving.pipeline_parallel} pipeline stages exceed the model's {facts.layers} layers"
    return None


def from_config_json(name: str, config: dict, *, weight_bytes: int | None = None, source: str = "") -> ModelFacts:
    """The facts vLLM reads from a Hugging Face config.json (a multimodal model's text_config where it has one)."""
    text = config.get("text_config") or config
    heads = text["num_attention_heads"]
    quant = (config.get("quantization_config") or text.get("quantization_config") or {}).get("quant_method")
    return ModelFacts(
        name=name,
        layers=text["num_hidden_layers"],
        hidden_size=text["hidden_size"],
        attention_heads=heads,
        kv_heads=text.get("num_key_value_heads") or heads,
        head_dim=text.get("head_dim") or None,
        vocab_size=text["vocab_size"],
        intermediate_size=text.get("intermediate_size") or 4 * text["hidden_size"],
        max_position_embeddings=text.get("max_position_embeddings") or config.get("max_position_embeddings") or 4096,
        dtype=str(text.get("torch_dtype") or text.get("dtype") or config.get("torch_dtype") or "bfloat16"),
        tie_word_embeddings=bool(config.get("tie_word_embeddings", text.get("tie_word_embeddings", False))),
        experts=text.get("num_local_experts") or text.get("n_routed_experts") or text.get("num_experts") or 0,
        moe_intermediate_size=text.get("moe_intermediate_size"),
        shared_experts=text.get("n_shared_experts") or 0,
        kv_lora_rank=text.get("kv_lora_rank"),
        qk_rope_head_dim=text.get("qk_rope_head_dim"),
        quantization=quant,
        weight_bytes=weight_bytes,
        source=source,
    )
