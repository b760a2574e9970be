"""Models that cannot run as configured are refused with the numbers: weights, one full-length request, LoRA
adapters, rollouts. Those that fit are accepted."""

from __future__ import annotations

import pytest

from assembly.kit import KIT
from tests.helpers import assert_rejected, pools_with, write_config

L8 = {"type": "s3", "uri": "s3://{bucket}/models/meta-llama/Llama-3.1-8B-Instruct/"}
L70 = {"type": "s3", "uri": "s3://{bucket}/models/meta-llama/Llama-3.1-70B-Instruct/"}
L405 = {"type": "s3", "uri": "s3://{bucket}/models/meta-llama/Llama-3.1-405B-Instruct/"}
QWEN = {"type": "hf", "repo_id": "Qwen/Qwen2.5-7B-Instruct"}
TEAMS = {"certificate_arn": "arn:aws:acm:us-west-2:111122223333:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"}


def _vllm(name: str = "w", **fields) -> dict:
    return {
        "name": name,
        "blueprint": "vllm",
        "node_pool": "gpu-l40s",
        "instance_type": "g6e.2xlarge",
        "model": L8,
        "max_model_len": 8192,
        **fields,
    }


def _adapters(*specs: tuple[str, int]) -> dict:
    return {"adapters": [{"name": name, "uri": f"s3://{{bucket}}/models/adapters/{name}/", "rank": rank} for name, rank in specs]}


REFUSED = [
    pytest.param(
        {"workloads": [_vllm(model=L70)]},
        [
            "workloads[0].tensor_parallel_size",
            "the weights do not fit: meta-llama/Llama-3.1-70B-Instruct on g6e.2xlarge at TP 1 takes 131.4 GiB of weights per GPU",
            "more than the 39.8 GiB vLLM may use (0.9 x 44.3 GiB)",
            "got: 1",
            "fix: tensor_parallel_size 4 with instance_type g6e.12xlarge (pool 'gpu-l40s')",
            "./kit size meta-llama/Llama-3.1-70B-Instruct lists every shape that fits",
        ],
        id="weights-beyond-one-gpu",
    ),  # fmt: skip
    pytest.param(
        {"workloads": [_vllm(model=L70, instance_type="g6e.12xlarge", tensor_parallel_size=4, max_model_len=None)]},
        [
            "workloads[0].max_model_len",
            "one request of 131,072 tokens (unset: the model length of its "
            "config.json) needs 10.00 GiB of KV cache per GPU (80 KiB a token)",
            "leaves 4.15 GiB",
            "vLLM refuses to start",
            "allowed: at most 54,416 tokens on this shape",
            "fix: tensor_parallel_size 8 with instance_type g6e.48xlarge (pool 'gpu-l40s'); max_model_len 54416 or less",
        ],
        id="one-full-length-request-does-not-fit",
    ),  # fmt: skip
    pytest.param(
        {
            "node_pools": [{"name": "a10g", "instance_types": ["g5.2xlarge"], "gpu_limit": 4}],
            "workloads": [_vllm(node_pool="a10g", instance_type=None, max_model_len=65536)],
        },
        ["workloads[0].max_model_len", "one request of 65,536 tokens needs 8.00 GiB", "got: 65536", "allowed: at most 21,152 tokens"],
        id="long-context-on-a-small-gpu",
    ),  # fmt: skip
    pytest.param(
        {"workloads": [_vllm(model=QWEN, instance_type="g6e.48xlarge", tensor_parallel_size=8)]},
        [
            "workloads[0].tensor_parallel_size",
            "the model's 28 attention heads do not divide by tensor_parallel_size 8: vLLM refuses to start",
            "got: 8",
        ],
        id="tp-not-dividing-the-heads",
    ),
    pytest.param(
        {
            "workloads": [
                {
                    "name": "big",
                    "blueprint": "vllm-multinode",
                    "node_pool": "gpu-h100-efa",
                    "model": L405,
                    "nodes": 1,
                    "tensor_parallel_size": 8,
                    "efa": False,
                    "max_model_len": 8192,
                }
            ]
        },
        [
            "workloads[0].nodes",
            "the weights do not fit: meta-llama/Llama-3.1-405B-Instruct on p5.48xlarge at TP 8 takes 94.5 GiB",
            "got: 1",
            "fix: nodes 2",
        ],
        id="405b-on-one-p5",
    ),  # fmt: skip
    pytest.param(
        {
            "workloads": [
                {
                    "name": "d",
                    "blueprint": "dynamo",
                    "node_pool": "gpu-h100-efa",
                    "model": {"type": "hf", "repo_id": "meta-llama/Llama-3.1-70B-Instruct"},
                    "mode": "disaggregated",
                    "prefill_tensor_parallel_size": 1,
                    "decode_tensor_parallel_size": 8,
                    "max_model_len": 8192,
                    "efa": False,
                }
            ]
        },
        [
            "workloads[0].prefill_tensor_parallel_size",
            "the weights do not fit: prefill workers of meta-llama/Llama-3.1-70B-Instruct on p5.48xlarge at TP 1",
        ],
        id="dynamo-prefill-worker-too-small",
    ),  # fmt: skip
    pytest.param(
        {"workloads": [_vllm(model={"type": "s3", "uri": "s3://{bucket}/models/acme/ft/"}, model_facts={"same_as": "meta-llama/Llama-9"})]},
        ["workloads[0].model_facts.same_as", "names a model the kit does not know", "got: 'meta-llama/Llama-9'"],
        id="model-facts-same-as-unknown",
    ),
    pytest.param(
        {"workloads": [_vllm(model={"type": "s3", "uri": "s3://{bucket}/models/acme/ft/"}, model_facts={"hidden_size": 4096})]},
        [
            "workloads[0].model_facts",
            "does not say enough to size the model: num_hidden_layers, num_attention_heads, vocab_size, max_position_embeddings missing",
        ],
        id="model-facts-too-few",
    ),
    pytest.param(
        {
            "workloads": [
                _vllm(
                    model={"type": "s3", "uri": "s3://{bucket}/models/acme/ft/"},
                    model_facts={"same_as": "meta-llama/Llama-3.1-70B-Instruct"},
                )
            ]
        },
        [
            "workloads[0].tensor_parallel_size",
            "the weights do not fit: models/acme/ft on g6e.2xlarge at TP 1",
            "./kit size meta-llama/Llama-3.1-70B-Instruct",
        ],
        id="fine-tune-sized-as-its-base",
    ),
    pytest.param(
        {"workloads": [_vllm(lora={**_adapters(("support", 16)), "max_loras": 64, "max_lora_rank": 512})]},
        ["workloads[0].tensor_parallel_size", "the weights do not fit", "(LoRA slots 160.0 GiB: lora.max_loras x max_lora_rank)"],
        id="lora-slots-beyond-the-gpu",
    ),
    pytest.param(
        {"workloads": [_vllm(lora={**_adapters(("support", 64)), "max_lora_rank": 16})]},
        [
            "workloads[0].lora.adapters[0]",
            "adapter 'support' has rank 64, above max_lora_rank 16: vLLM fails to load it",
            "fix: set lora.max_lora_rank: 64",
        ],
        id="adapter-rank-above-the-limit",
    ),
    pytest.param(
        {"workloads": [_vllm(lora={**_adapters(("a", 8), ("b", 8), ("c", 8)), "max_loras": 3, "max_cpu_loras": 2})]},
        ["workloads[0].lora.max_cpu_loras", "is below max_loras (3): vLLM refuses to start", "got: 2", "allowed: at least 3"],
        id="fewer-cpu-than-gpu-adapters",
    ),
    pytest.param(
        {"workloads": [_vllm(lora={"adapters": [{"name": "x", "uri": "s3://someone-elses-bucket/models/adapters/x/"}]})]},
        [
            "workloads[0].lora.adapters[0].uri",
            "the model-reader role can read only the kit's model bucket",
            "stage the adapter (scripts/stage_model.py --adapter)",
        ],
        id="adapter-outside-the-bucket",
    ),
    pytest.param(
        {"workloads": [_vllm(name="llama", lora=_adapters(("llama", 8)))]},
        ["workloads[0].lora.adapters[0].name", "is the base model's own name"],
        id="adapter-named-as-its-base",
    ),
    pytest.param(
        {"workloads": [_vllm(name="a", routing={}, lora=_adapters(("b", 8))), _vllm(name="b", routing={})]},
        ["workloads[1].name", "serves the model name 'b' through the gateway, as workload 'a' does"],
        id="adapter-named-as-another-model",
    ),
    pytest.param(
        {"gateway": {**TEAMS, "teams": [{"name": "t", "models": ["support"]}]}, "workloads": [_vllm(lora=_adapters(("support", 8)))]},
        ["gateway.teams[0].models", "'support' is not served through the gateway"],
        id="team-lists-an-adapter-off-the-gateway",
    ),
    pytest.param(
        {"workloads": [_vllm(name="v1", routing={}, rollout={"next": "v3", "weight": 10}), _vllm(name="v2", routing={})]},
        ["workloads[0].rollout.next", "names no workload", "got: 'v3'", "allowed: v2"],
        id="rollout-to-nothing",
    ),
    pytest.param(
        {"workloads": [_vllm(name="v1", routing={}, rollout={"next": "v2", "weight": 10}), _vllm(name="v2")]},
        [
            "workloads[0].rollout.next",
            "workload 'v2' is not routed through the gateway: its pods admit no request from the gateway's proxies",
        ],
        id="rollout-to-an-unrouted-version",
    ),
    pytest.param(
        {"workloads": [_vllm(name="v1", routing={}, rollout={"next": "v2", "weight": 10}), _vllm(name="v2", routing={}, enabled=False)]},
        ["workloads[0].rollout.next", "workload 'v2' is disabled"],
        id="rollout-to-a-disabled-version",
    ),
    pytest.param(
        {"workloads": [_vllm(name="v1", rollout={"next": "v2", "weight": 10}), _vllm(name="v2", routing={})]},
        ["workloads[0].rollout", "splits this workload's model name at the gateway, but the workload is not routed through it"],
        id="rollout-without-a-route",
    ),
    pytest.param(
        {
            "workloads": [
                _vllm(name="v1", routing={}, lora=_adapters(("a", 8)), rollout={"next": "v2", "weight": 10}),
                _vllm(name="v2", routing={}),
            ]
        },
        ["workloads[0].rollout", "cannot split a workload that serves LoRA adapters"],
        id="rollout-with-adapters",
    ),
    pytest.param(
        {"workloads": [_vllm(name="v1", routing={}, rollout={"next": "v1", "weight": 10})]},
        ["workloads[0].rollout.next", "names the workload itself"],
        id="rollout-to-itself",
    ),
    pytest.param(
        {"workloads": [_vllm(rollout={"next": "v2", "weight": 101})]},
        ["workloads[0].rollout.weight", "must be at most 100", "got: 101"],
        id="weight-above-100",
    ),
]


@pytest.mark.parametrize(("overrides", "expected"), REFUSED)
def test_refused_with_the_numbers(tmp_path, overrides, expected):
    assert_rejected(tmp_path, overrides, expected)


ACCEPTED = [
    pytest.param(
        {"workloads": [_vllm(model=L70, node_pool="gpu-h100-efa", instance_type=None, tensor_parallel_size=4, max_model_len=32768)]},
        id="70b-tp4-on-p5",
    ),
    pytest.param(
        {"workloads": [_vllm(model=L70, instance_type="g6e.12xlarge", tensor_parallel_size=4, max_model_len=32768)]},
        id="70b-tp4-on-g6e-12xlarge-at-32k",
    ),
    pytest.param(
        {
            "node_pools": pools_with(**{"gpu-h100-efa": 16}),
            "workloads": [
                {
                    "name": "big",
                    "blueprint": "vllm-multinode",
                    "node_pool": "gpu-h100-efa",
                    "model": L405,
                    "nodes": 2,
                    "tensor_parallel_size": 8,
                    "efa": False,
                    "max_model_len": 32768,
                }
            ],
        },
        id="405b-on-two-p5",
    ),
    pytest.param({"workloads": [_vllm(model={"type": "hf", "repo_id": "org/unknown"})]}, id="unknown-model-is-not-checked"),
    pytest.param(
        {
            "gateway": {**TEAMS, "teams": [{"name": "s", "models": ["w", "support"]}, {"name": "l", "models": ["legal"]}]},
            "workloads": [_vllm(routing={}, lora=_adapters(("support", 16), ("legal", 64)))],
        },
        id="adapters-with-teams",
    ),
    pytest.param(
        {"workloads": [_vllm(name="v1", routing={}, rollout={"next": "v2", "weight": 25}), _vllm(name="v2", model=QWEN, routing={})]},
        id="rollout-to-another-model",
    ),
]


@pytest.mark.parametrize("overrides", ACCEPTED)
def test_what_fits_is_accepted(tmp_path, overrides):
    KIT.load(write_config(tmp_path, overrides))
