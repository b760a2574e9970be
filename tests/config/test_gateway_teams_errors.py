"""Teams and Bedrock models in the config: what the checks refuse, with the key path and a fix."""

import pytest

from assembly.kit import KIT
from tests.helpers import assert_rejected, write_config

HAIKU = {
    "name": "claude-haiku",
    "model_id": "anthropic.claude-3-5-haiku-20241022-v1:0",
    "input_usd_per_million": 0.8,
    "output_usd_per_million": 4,
}


def _workload(**routing):
    return {
        "name": "llama-8b",
        "blueprint": "vllm",
        "node_pool": "gpu-l40s",
        "model": {"type": "hf", "repo_id": "meta-llama/Llama-3.1-8B-Instruct"},
        "routing": routing or {},
    }


CERT = "arn:aws:acm:us-west-2:111122223333:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"


def _config(teams=(), bedrock=(), **routing):
    return {"gateway": {"teams": list(teams), "bedrock": list(bedrock), "certificate_arn": CERT}, "workloads": [_workload(**routing)]}


def test_a_valid_team_setup_loads(tmp_path):
    config = KIT.load(
        write_config(
            tmp_path,
            _config(teams=[{"name": "search", "models": ["llama-8b", "claude-haiku"], "tokens_per_minute": 1000}], bedrock=[HAIKU]),
        )
    )
    assert [t.name for t in config.gateway.teams] == ["search"]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            _config(teams=[{"name": "search", "models": ["llama-70b"]}]),
            ["gateway.teams[0].models", "'llama-70b' is not served through the gateway", "llama-8b", "gateway.bedrock model"],
        ),
        (
            _config(teams=[{"name": "search", "models": ["llama-8b"]}, {"name": "search", "models": ["llama-8b"]}]),
            ["gateway.teams", "the team name 'search' is used more than once"],
        ),
        (
            _config(bedrock=[{**HAIKU, "name": "llama-8b"}]),
            ["gateway.bedrock", "the model name 'llama-8b' is used twice"],
        ),
        (
            _config(fallback="claude-sonnet", endpoint_picker=None),
            ["routing.fallback", "names no model of gateway.bedrock", "claude-sonnet"],
        ),
        (
            _config(bedrock=[HAIKU], fallback="claude-haiku"),
            ["routing.endpoint_picker", "cannot fail over from an InferencePool", "endpoint_picker: null"],
        ),
        (
            _config(bedrock=[{**HAIKU, "model_id": "Claude Haiku"}]),
            ["gateway.bedrock[0].model_id", "Claude Haiku"],
        ),
        (
            _config(teams=[{"name": "search", "models": ["llama-8b"], "tokens_per_day": 0}]),
            ["gateway.teams[0].tokens_per_day", "0"],
        ),
    ],
    ids=[
        "unknown-model",
        "duplicate-team",
        "bedrock-name-taken",
        "unknown-fallback",
        "fallback-with-picker",
        "bad-model-id",
        "zero-budget",
    ],
)
def test_refused(tmp_path, overrides, expected):
    assert_rejected(tmp_path, overrides, expected)


def test_a_team_without_a_routed_workload_is_told_none_is_served(tmp_path):
    overrides = {
        "gateway": {"teams": [{"name": "search", "models": ["llama-8b"]}], "certificate_arn": CERT},
        "workloads": [{**_workload(), "routing": None}],
    }
    assert_rejected(tmp_path, overrides, ["gateway.teams[0].models", "none: no enabled workload sets routing"])
