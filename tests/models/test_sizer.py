"""./kit size: its choices for public models beside the deployments published for them."""

from __future__ import annotations

import json

import pytest
import yaml

from assembly import size
from core.model_catalog import KNOWN
from core.prices import INSTANCE_HOUR_USD
from core.model_fit import Serving
from tests.helpers import default_config_data, write_config


def fewest(model: str, **serving) -> dict[str, tuple[int, int]]:
    """{GPU model: (tensor-parallel size, nodes)} of the smallest shape the sizer lists for each GPU model."""
    rows = size.smallest(size.options(KNOWN[model], Serving(**serving)))
    return {f"{row.gpu}-{row.fit.gpu.memory_mib}": (row.tensor_parallel, row.nodes) for row in rows}


H100, H200, L40S, A100_80, A100_40, A10G = "h100-81920", "h200-144384", "l40s-45776", "a100-81920", "a100-40960", "a10g-22888"


def test_llama_8b_takes_one_gpu_of_every_kind_at_8k():
    # One A10G (g5.xlarge), L4, L40S or bigger serves Llama-3.1-8B in 16 bits: every GPU model's first row is TP 1.
    shapes = fewest("meta-llama/Llama-3.1-8B-Instruct", max_model_len=8192)
    assert set(shapes.values()) == {(1, 1)} and {A10G, L40S, H100} <= set(shapes)


def test_llama_70b_bf16_takes_four_h100_two_h200_four_l40s():
    # Published: TP 4 on 4 x H100, TP 2 on 2 x H200, 4 x L40S (g6e.12xlarge) at short context. Two 80 GB A100s hold
    # it at 8k only because vLLM warms an A100's sampler for 256 requests, not an H100's 1024 (engine/arg_utils.py).
    shapes = fewest("meta-llama/Llama-3.1-70B-Instruct", max_model_len=8192)
    assert shapes[H100] == (4, 1) and shapes[H200] == (2, 1) and shapes[L40S] == (4, 1) and shapes[A100_40] == (8, 1)
    assert shapes[A100_80] == (2, 1) and fewest("meta-llama/Llama-3.1-70B-Instruct", max_model_len=32768)[A100_80] == (4, 1)


def test_llama_405b_as_vllm_published_it():
    # blog.vllm.ai/2024/07/23/llama31.html: BF16 on one 8 x H200 machine or across nodes with pipeline parallelism;
    # FP8 on 8 x A100 or 8 x H100.
    bf16 = fewest("meta-llama/Llama-3.1-405B-Instruct", max_model_len=8192)
    assert bf16[H200] == (8, 1) and bf16[H100] == (8, 2) and bf16[A100_80] == (8, 2)
    fp8 = fewest("meta-llama/Llama-3.1-405B-Instruct", max_model_len=8192, quantization="fp8")
    assert fp8[H100] == (8, 1) and fp8[A100_80] == (8, 1)


def test_deepseek_r1_takes_a_whole_h200_node():
    shapes = fewest("deepseek-ai/DeepSeek-R1", max_model_len=32768)
    assert shapes[H200] == (8, 1) and shapes[H100] == (8, 2)


def test_concurrency_asks_for_more_room():
    one = fewest("meta-llama/Llama-3.1-70B-Instruct", max_model_len=32768)
    many = size.smallest(size.options(KNOWN["meta-llama/Llama-3.1-70B-Instruct"], Serving(max_model_len=32768), concurrency=16))
    assert one[L40S] == (4, 1)
    assert all(row.fit.sequences >= 16 for row in many)
    assert {f"{row.gpu}-{row.fit.gpu.memory_mib}": row.tensor_parallel for row in many}[L40S] == 8


def test_list_prices_order_the_list_cheapest_first_and_pools_override_them(tmp_path):
    facts, serving = KNOWN["meta-llama/Llama-3.1-70B-Instruct"], Serving(max_model_len=8192)
    listed = size.options(facts, serving, prices=size.prices_from(None, "us-east-1"))
    assert all(row.usd_per_hour is not None for row in listed if row.instance_types[0] != "p5e.48xlarge")
    costs = [row.usd_per_hour for row in listed if row.usd_per_hour is not None]
    assert costs == sorted(costs)
    (l40s,) = [row for row in listed if row.gpu == "l40s" and row.tensor_parallel == 4]
    # The cheapest instance type of the shape names the row: four of g6e.12xlarge's GPUs at its list price.
    assert l40s.instance_types[0] == "g6e.12xlarge" and l40s.usd_per_hour == pytest.approx(INSTANCE_HOUR_USD["g6e.12xlarge"])
    assert size.prices_from(None, "ap-south-1") == {}  # the table holds us-east-1, us-east-2 and us-west-2 only
    pools = default_config_data()["node_pools"]
    pools[0]["gpu_hour_usd"] = 1.5  # gpu-l40s: g6e.2xlarge, g6e.4xlarge, g6e.12xlarge, g6e.48xlarge
    prices = size.prices_from(str(write_config(tmp_path, {"node_pools": pools})))
    assert prices["g6e.12xlarge"] == 1.5 and prices["p5.48xlarge"] == pytest.approx(INSTANCE_HOUR_USD["p5.48xlarge"] / 8)
    (l40s,) = [row for row in size.options(facts, serving, prices=prices) if row.gpu == "l40s" and row.tensor_parallel == 4]
    assert l40s.usd_per_hour == pytest.approx(4 * 1.5)


def test_cli_answers_a_config_json_and_refuses_an_unknown_name(tmp_path, capsys):
    folder = tmp_path / "Tiny-1B"
    folder.mkdir()
    config = {
        "hidden_size": 2048,
        "num_hidden_layers": 16,
        "num_attention_heads": 32,
        "num_key_value_heads": 8,
        "vocab_size": 32000,
        "intermediate_size": 8192,
        "max_position_embeddings": 4096,
    }
    (folder / "config.json").write_text(json.dumps(config))
    assert size.main([str(folder / "config.json"), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and rows[0]["gpus"] == 1 and rows[0]["full_length_requests"] > 1
    assert size.main(["org/nothing-like-it"]) == 2
    assert "no facts for 'org/nothing-like-it'" in capsys.readouterr().err
    assert size.main(["meta-llama/Llama-3.1-405B-Instruct", "--max-model-len", "131072", "--concurrency", "1000"]) == 1
    assert "no instance type of the kit holds it" in capsys.readouterr().out


def test_every_listed_known_model_sizes(capsys):
    assert size.main(["--list"]) == 0
    names = capsys.readouterr().out.split()
    assert set(KNOWN) <= set(names)
    assert yaml.safe_load(json.dumps(names))  # plain names, one a line
