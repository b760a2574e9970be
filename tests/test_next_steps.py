"""The synth summary says what happens next: costs from the dated price table (or the config's own gpu_hour_usd),
the gateway's teams and budgets, KV tiers, what a destroy keeps, and the commands with this config's real names."""

from __future__ import annotations

import re
from assembly.delivery import Delivery
from assembly.kit import KIT
from assembly.next_steps import always_on, what_next
from core import prices
from tests.helpers import REPO, default_config_data, write_config

EXAMPLES = REPO / "config" / "examples"


def summary(path, account=None, unknowns=None) -> str:
    delivered = Delivery(objects={}, hints={}, unknowns=unknowns or {}, account=account)
    return "\n".join(what_next(KIT.load(path), path, delivered))


def test_default_config_costs_and_next_commands(tmp_path):
    path = write_config(tmp_path)
    text = summary(path, account="123456789012")
    items = always_on(KIT.load(path))
    assert all(value is not None for _, value in items), items
    total = sum(value for _, value in items if value is not None)
    assert f"always on ~${total:,.0f}/month" in text
    assert "2 x m7i.xlarge system nodes $294" in text  # 2 x $0.2016 x 730 h
    assert f"g6e.2xlarge ${prices.INSTANCE_HOUR_USD['g6e.2xlarge']:.2f}/h" in text
    assert "llama-8b keeps 1 GPU on gpu-l40s (g6e.2xlarge): ~$2.24/h, ~$1,637/month while deployed" in text
    assert f"instances of {prices.PRICES_DATED}" in text
    assert f"1. KIT_CONFIG={path} ./kit bootstrap   # once per account and region: aws://123456789012/us-west-2" in text
    assert f"scripts.preflight --config {path}" in text
    assert (
        "scripts.stage_model --bucket llm-kit-models-123456789012-us-west-2 --prefix models --name meta-llama/Llama-3.1-8B-Instruct" in text
    )
    assert f"KIT_CONFIG={path} ./kit deploy" in text
    assert "aws eks update-kubeconfig --region us-west-2 --name llm-kit" in text
    assert "port-forward service/llama-8b 8000:8000" in text and '"model": "llama-8b"' in text
    assert "./kit destroy keeps the model bucket llm-kit-models-123456789012-us-west-2 and its access-log bucket" in text
    numbers = [int(n) for n in re.findall(r"^(?:  next)? +(\d+)\. ", text, re.M)]
    assert numbers == list(range(1, len(numbers) + 1))


def test_a_public_api_endpoint_is_named_with_its_cidrs(tmp_path):
    path = write_config(tmp_path, {"cluster": {"public_access_cidrs": ["203.0.113.0/24", "198.51.100.0/24"]}})
    assert "# kubectl; the endpoint is public to 203.0.113.0/24, 198.51.100.0/24" in summary(path)
    assert "the endpoint is private: run it inside the VPC" in summary(write_config(tmp_path))


def test_an_unknown_account_is_said_where_it_matters(tmp_path):
    from assembly.delivery import unknown_facts

    path = write_config(tmp_path)
    facts = unknown_facts(KIT.load(path))
    text = summary(path, unknowns={"llama-8b": (facts["{account}"],)})
    assert "not ready to apply as is: llama-8b" in text and "--resolve-account" in text and "(accountId)" in text
    assert "aws://<your account>/us-west-2" in text and "--bucket llm-kit-models-<account>-us-west-2" in text


def test_gateway_teams_budgets_and_bedrock_models():
    text = summary(EXAMPLES / "gateway-teams-bedrock.yaml")
    assert "llm-gateway (internal load balancer, HTTPS): models llama-8b, claude-haiku" in text
    assert "Bedrock claude-haiku -> anthropic.claude-3-5-haiku-20241022-v1:0" in text
    assert "team search: llama-8b; 200k tokens/minute, 50M tokens/day" in text
    assert "team support: llama-8b, claude-haiku; 50k tokens/minute, 10M tokens/day" in text
    assert "scripts.team_keys sync --config" in text and "Authorization: Bearer $KEY" in text and "curl https://<gateway address>" in text
    assert (
        "llama-8b keeps 2 GPUs on gpu-l40s (g6e.2xlarge, your gpu_hour_usd): ~$2.50/h" in text
    )  # 2 x the gateway's blended price for the model it routes
    assert "gateway load balancer" in text


def test_a_pools_own_gpu_hour_price_wins_and_a_region_without_list_prices_asks_for_it(tmp_path):
    pools = default_config_data()["node_pools"]
    pools[0]["gpu_hour_usd"] = 1.5
    text = summary(write_config(tmp_path, {"node_pools": pools}))
    assert "gpu-l40s: $1.5 per GPU-hour (your gpu_hour_usd)" in text and "(g6e.2xlarge, your gpu_hour_usd): ~$1.50/h" in text
    elsewhere = write_config(
        tmp_path, {"region": "eu-west-1", "placement": {"az_id": "euw1-az1", "control_plane_az_id": "euw1-az2"}}, name="eu.yaml"
    )
    text = summary(elsewhere)
    assert "gpu-l40s: no list price for" in text and "in eu-west-1; set the pool's gpu_hour_usd" in text
    assert "not priced: 2 x m7i.xlarge system nodes" in text


def test_kv_tiers_and_fsx(tmp_path):
    workload = {
        **default_config_data()["workloads"][0],
        "kv_offload": {"cpu_gib": 32, "nvme": {"size_gib": 200}},
        "instance_type": "g6e.12xlarge",
    }
    text = summary(write_config(tmp_path, {"workloads": [workload], "storage": {"fsx": {"enabled": True}}}))
    assert "kv cache   llama-8b: GPU memory -> 32 GiB host memory -> 200 GiB node NVMe" in text
    assert "FSx for Lustre 1200 GiB at 250 MB/s/TiB $252" in text  # 1200 x $0.21
    assert "the FSx for Lustre file system" in text


def test_a_hub_model_with_a_token_names_the_secret_to_create(tmp_path):
    workload = {
        **default_config_data()["workloads"][0],
        "model": {"type": "hf", "repo_id": "meta-llama/Llama-3.1-8B-Instruct", "token_secret_name": "hf-token"},
    }
    text = summary(write_config(tmp_path, {"workloads": [workload]}))
    assert "kubectl -n inference create secret generic hf-token --from-literal=HF_TOKEN=<token>" in text
    assert "stage_model" not in text


def test_bought_capacity_is_not_priced_as_on_demand_and_steps_stay_numbered():
    text = summary(EXAMPLES / "p5-capacity-block-node-group.yaml")
    assert "kept running" not in text and "p5-block: capacity bought ahead" in text
    text = summary(EXAMPLES / "dynamo-disaggregated-p5.yaml")
    assert "# llama-70b reads models/meta-llama/Llama-3.1-70B-Instruct on FSx" in text
    numbers = [int(n) for n in re.findall(r"^(?:  next)? +(\d+)\. ", text, re.M)]
    assert numbers == list(range(1, len(numbers) + 1))
