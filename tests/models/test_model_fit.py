"""The memory arithmetic of core/model_fit.py, held against vLLM 0.30.0's own accounting and published figures."""

from __future__ import annotations

import math

import pytest

from core.instances import INSTANCE_TYPES
from core.model_catalog import KNOWN, ModelFactsKeys
from core.model_fit import (
    GIB,
    Gpu,
    LoraShape,
    ModelFacts,
    Serving,
    fit,
    from_config_json,
    kv_bytes_per_token,
    lora_bytes,
    parallel_problem,
    weights_per_gpu,
)

L8 = KNOWN["meta-llama/Llama-3.1-8B-Instruct"]
L70 = KNOWN["meta-llama/Llama-3.1-70B-Instruct"]
L405 = KNOWN["meta-llama/Llama-3.1-405B-Instruct"]
R1 = KNOWN["deepseek-ai/DeepSeek-R1"]
H100 = Gpu("h100", INSTANCE_TYPES["p5.48xlarge"].gpu_memory_mib)
L40S = Gpu("l40s", INSTANCE_TYPES["g6e.xlarge"].gpu_memory_mib)

# vLLM's own logs on one H100 (79.18 GiB visible), gpu_memory_utilization 0.9, max_model_len 16000, CUDA graph memory
# not subtracted by that build: llm-d/llm-d-benchmark config_explorer/empirical-vllm-memory-results.md (2593348).
MEASURED = {
    "Llama-3.1-8B": {"weights": 14.99, "activation": 4.76, "non_torch": 0.13, "kv": 51.38},
    "Llama-3.3-70B-FP8 TP2": {"weights": 33.88, "activation": 4.84, "non_torch": 0.55, "kv": 32.0},
}


def test_parameter_counts_from_the_architecture_match_the_model_cards():
    assert L8.parameters() / 1e9 == pytest.approx(8.03, abs=0.01)
    assert L70.parameters() / 1e9 == pytest.approx(70.6, abs=0.1)
    assert L405.parameters() / 1e9 == pytest.approx(405.9, abs=0.5)


def test_kv_bytes_per_token_follow_vllms_page_size():
    # AttentionSpec: 2 (K and V) x KV heads on the rank x head size x dtype bytes, for every layer of the rank.
    assert kv_bytes_per_token(L8, Serving()) == 32 * 2 * 8 * 128 * 2 == 128 * 1024
    assert kv_bytes_per_token(L70, Serving(tensor_parallel=4)) == 80 * 2 * 2 * 128 * 2
    # More ranks than KV heads replicate them: each rank keeps one (config/model.py get_num_kv_heads).
    assert kv_bytes_per_token(KNOWN["Qwen/Qwen2.5-7B-Instruct"], Serving(tensor_parallel=4)) == 28 * 2 * 1 * 128 * 2
    # Pipeline stages split the layers: the fullest of 126 over 2 stages holds 63.
    assert kv_bytes_per_token(L405, Serving(tensor_parallel=8, pipeline_parallel=2)) == 63 * 2 * 1 * 128 * 2
    # MLA keeps one latent of kv_lora_rank + rope dims per layer, on every rank.
    assert kv_bytes_per_token(R1, Serving(tensor_parallel=8)) == 61 * (512 + 64) * 2
    assert kv_bytes_per_token(L8, Serving(kv_cache_dtype="fp8")) == 64 * 1024


@pytest.mark.parametrize(
    ("name", "facts", "serving"),
    [
        ("Llama-3.1-8B", L8, Serving(max_model_len=16000)),
        (
            "Llama-3.3-70B-FP8 TP2",
            KNOWN["meta-llama/Llama-3.3-70B-Instruct"],
            Serving(tensor_parallel=2, quantization="fp8", max_model_len=16000),
        ),
    ],
)
def test_calibrated_on_vllms_own_logs_and_conservative(name, facts, serving):
    measured = MEASURED[name]
    result = fit(facts, H100, serving)
    assert result.requested_gib == pytest.approx(0.9 * 79.18, abs=0.1)
    assert result.weights_gib == pytest.approx(measured["weights"], abs=0.2)
    assert result.activation_gib == pytest.approx(measured["activation"], rel=0.05) and result.activation_gib >= measured["activation"]
    assert result.non_torch_gib >= measured["non_torch"]
    # Without the CUDA graph estimate the log's build did not subtract, the estimate lands within 0.3 GiB of the log;
    # with it (vLLM 0.30.0 subtracts it by default) it stays below: never more cache than vLLM would find.
    assert result.kv_gib + result.cuda_graph_gib == pytest.approx(measured["kv"], abs=0.3)
    assert result.kv_gib < measured["kv"]


def test_cache_tokens_and_concurrency_as_vllm_logs_them():
    result = fit(L8, H100, Serving(max_model_len=16384))
    blocks = math.floor(result.kv_gib * GIB / (16 * 128 * 1024))
    assert result.cache_tokens == blocks * 16
    assert result.sequences == pytest.approx(result.kv_gib / (16384 * 128 * 1024 / GIB))


def test_one_request_of_the_longest_fitting_length_fits_and_one_block_more_does_not():
    shape = Serving(tensor_parallel=4)
    gpu = Gpu("l40s", INSTANCE_TYPES["g6e.12xlarge"].gpu_memory_mib)
    longest = fit(L70, gpu, shape).longest_fitting
    assert fit(L70, gpu, Serving(tensor_parallel=4, max_model_len=longest)).fits_sequence
    assert not fit(L70, gpu, Serving(tensor_parallel=4, max_model_len=longest + 17)).fits_sequence
    assert not fit(L70, gpu, shape).fits_sequence  # the model's own 131,072 tokens


def test_weights_that_exceed_the_gpu_leave_no_cache():
    result = fit(L70, L40S, Serving(max_model_len=8192))
    assert not result.fits_weights and not result.fits_sequence and result.kv_gib < 0
    assert result.weights_gib == pytest.approx(70.55e9 * 2 / GIB, rel=0.01)


def test_quantization_shrinks_the_linear_layers_not_the_embeddings():
    bf16 = weights_per_gpu(L70, Serving())
    fp8 = weights_per_gpu(L70, Serving(quantization="fp8"))
    embeddings = 2 * 128256 * 8192 * 2
    assert fp8 == pytest.approx((bf16 - embeddings) / 2 + embeddings)
    awq = weights_per_gpu(L70, Serving(quantization="awq"))
    assert awq < fp8 * 0.6


def test_pipeline_stages_split_the_layers_and_the_staged_size_wins():
    one = weights_per_gpu(L405, Serving(tensor_parallel=8))
    two = weights_per_gpu(L405, Serving(tensor_parallel=8, pipeline_parallel=2))
    assert two == pytest.approx(one / 2)  # 63 layers each; the first stage has the embedding, the last the head
    # 32 layers over 3 stages: the fullest holds 11 of them, and one of the embedding or the head.
    assert weights_per_gpu(L8, Serving(pipeline_parallel=3)) == pytest.approx(
        (L8.parameters() - 2 * 128256 * 4096) * 2 * 11 / 32 + 128256 * 4096 * 2
    )
    staged = ModelFacts(**{**L8.__dict__, "weight_bytes": 20 * GIB})
    assert weights_per_gpu(staged, Serving()) == pytest.approx(20 * GIB)


def test_defaults_follow_vllms_device_tiers():
    # H100 (>= 70 GiB): 1024 sequences in the sampler warm-up; L40S: 256; an 80 GB A100 is held to 256 too.
    a100 = Gpu("a100", INSTANCE_TYPES["p4de.24xlarge"].gpu_memory_mib)
    sampler = lambda gpu: fit(L8, gpu, Serving(max_model_len=4096)).activation_gib  # noqa: E731
    assert sampler(H100) == pytest.approx(10 * 1024 * 128256 * 4 / GIB)
    assert sampler(L40S) == pytest.approx(sampler(a100)) == pytest.approx(10 * 256 * 128256 * 4 / GIB)
    assert fit(L8, H100, Serving(max_num_seqs=64)).activation_gib < sampler(L40S)


def test_lora_buffers_grow_with_slots_and_rank():
    one = lora_bytes(L8, Serving(), LoraShape(1, 16))
    # Per layer and rank: q/k/v A 3 x 4096 and B 6144, o A 4096 and B 4096, gate/up A 2 x 4096 and B 2 x 14336,
    # down A 14336 and B 4096; 16-bit; 32 layers.
    per_rank_layer = 3 * 4096 + 6144 + 4096 + 4096 + 2 * 4096 + 2 * 14336 + 14336 + 4096
    assert one == 16 * per_rank_layer * 2 * 32
    assert lora_bytes(L8, Serving(), LoraShape(4, 64)) == 16 * one
    assert fit(L8, H100, Serving(lora=LoraShape(4, 64))).lora_gib == pytest.approx(16 * one / GIB)


def test_vllms_parallel_rules():
    assert parallel_problem(KNOWN["Qwen/Qwen2.5-7B-Instruct"], Serving(tensor_parallel=8)) is not None  # 28 heads
    assert parallel_problem(L70, Serving(tensor_parallel=8)) is None
    assert parallel_problem(L8, Serving(pipeline_parallel=33)) is not None


def test_config_json_is_read_as_vllm_reads_it():
    config = {
        "architectures": ["LlamaForCausalLM"], "hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32,
        "num_key_value_heads": 8, "vocab_size": 128256, "intermediate_size": 14336, "max_position_embeddings": 131072,
        "torch_dtype": "bfloat16", "tie_word_embeddings": False,
    }  # fmt: skip
    facts = from_config_json("x", config, weight_bytes=16 * GIB)
    assert (facts.layers, facts.kv_heads, facts.head_size, facts.weight_bytes) == (32, 8, 128, 16 * GIB)
    assert facts.parameters() == pytest.approx(L8.parameters())
    wrapped = from_config_json("vl", {"text_config": config, "quantization_config": {"quant_method": "fp8"}})
    assert wrapped.layers == 32 and wrapped.quantization == "fp8"
    mla = from_config_json(
        "ds", {**config, "kv_lora_rank": 512, "qk_rope_head_dim": 64, "n_routed_experts": 256, "moe_intermediate_size": 2048}
    )
    assert mla.mla and mla.experts == 256


def test_model_facts_keys_override_a_known_model():
    keys = ModelFactsKeys(same_as="meta-llama/Llama-3.1-8B-Instruct", max_position_embeddings=32768, weight_gib=16.5)
    facts = keys.facts("acme/ft", L8)
    assert facts is not None
    assert facts.max_position_embeddings == 32768 and facts.weight_bytes == int(16.5 * GIB) and facts.layers == 32
    assert ModelFactsKeys(hidden_size=4096).facts("x", None) is None
    assert ModelFactsKeys(hidden_size=4096).missing == ["num_hidden_layers", "num_attention_heads", "vocab_size", "max_position_embeddings"]
