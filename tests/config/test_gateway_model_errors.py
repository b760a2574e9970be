"""The gateway's budgets, Bedrock model ids and model names against the rest of the config: each refusal names the key,
the value, what is allowed and the fix."""

import pytest

from assembly.kit import KIT
from blueprints.common.params import GpuWorkloadParams
from core.bedrock import geographies_of, inference_profile, serves
from tests.helpers import assert_rejected, write_config

CERT = "arn:aws:acm:us-west-2:111122223333:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
SONNET = "anthropic.claude-sonnet-4-5-20250929-v1:0"


def _workload(name="llama-8b", **fields):
    return {
        "name": name,
        "blueprint": "vllm",
        "node_pool": "gpu-l40s",
        "model": {"type": "hf", "repo_id": "meta-llama/Llama-3.1-8B-Instruct"},
        **fields,
    }


def _bedrock(model_id):
    return {"name": "claude", "model_id": model_id, "input_usd_per_million": 3, "output_usd_per_million": 15}


def _gateway(**fields):
    return {"gateway": {"certificate_arn": CERT, **fields}, "workloads": [_workload(routing={})]}


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            _gateway(teams=[{"name": "search", "models": ["llama-8b"], "tokens_per_minute": 2_000_000, "tokens_per_day": 1_000_000}]),
            [
                "gateway.teams[0].tokens_per_minute",
                "above the team's tokens_per_day (1,000,000)",
                "got: 2000000",
                "allowed: at most tokens_per_day",
                "lower tokens_per_minute",
            ],
        ),
        (
            _gateway(bedrock=[_bedrock(f"eu.{SONNET}")]),
            [
                "gateway.bedrock[0].model_id",
                "inference profile of the 'eu' geography",
                "from us-west-2",
                f"got: 'eu.{SONNET}'",
                f"us.{SONNET}",
                f"global.{SONNET}",
                "fix: use the profile of us-west-2's geography",
            ],
        ),
        (
            _gateway(bedrock=[_bedrock(f"apac.{SONNET}")]),
            ["gateway.bedrock[0].model_id", "inference profile of the 'apac' geography", f"us.{SONNET}"],
        ),
        (
            _gateway(bedrock=[_bedrock(f"jp.{SONNET}")]),
            ["gateway.bedrock[0].model_id", "inference profile of the 'jp' geography"],
        ),
        (
            _gateway(bedrock=[_bedrock(f"us-gov.{SONNET}")]),
            ["gateway.bedrock[0].model_id", "inference profile of the 'us-gov' geography"],
        ),
    ],
    ids=["minute-above-day", "eu-profile-in-us", "apac-profile-in-us", "jp-profile-in-us", "govcloud-profile-in-us"],
)
def test_refused(tmp_path, overrides, expected):
    assert_rejected(tmp_path, overrides, expected)


def test_a_fallback_without_the_gateway_is_refused(tmp_path):
    overrides = {
        "gateway": {"certificate_arn": CERT, "bedrock": [_bedrock(SONNET)]},
        "workloads": [_workload(routing={"gateway": False, "endpoint_picker": None, "fallback": "claude"})],
    }
    rendered = assert_rejected(
        tmp_path,
        overrides,
        [
            "workloads[0].routing.fallback",
            "routing.gateway is false",
            "got: 'claude'",
            "allowed: a fallback only beside routing.gateway: true",
            "set routing.gateway: true",
        ],
    )
    # One reason, not a second one about the picker of a route that will not exist.
    assert "endpoint_picker" not in rendered.split("fix:")[0]


def test_two_routed_workloads_with_one_model_name_are_refused(tmp_path):
    overrides = {"workloads": [_workload(routing={}), _workload("llama-8b-canary", served_model_name="llama-8b", routing={})]}
    assert_rejected(
        tmp_path,
        overrides,
        [
            "workloads[1].served_model_name",
            "serves the model name 'llama-8b' through the gateway, as workload 'llama-8b' does",
            "got: 'llama-8b'",
            "taken: llama-8b",
            "set served_model_name on 'llama-8b-canary'",
        ],
    )


def test_one_model_name_is_fine_when_only_one_workload_routes_it(tmp_path):
    canary = _workload("llama-8b-canary", served_model_name="llama-8b", routing={"gateway": False, "endpoint_picker": None})
    config = KIT.load(write_config(tmp_path, {"workloads": [_workload(routing={}), canary]}))
    assert [w.public_model_name for w in config.workloads if isinstance(w, GpuWorkloadParams)] == ["llama-8b", "llama-8b"]


@pytest.mark.parametrize("model_id", [SONNET, f"us.{SONNET}", f"global.{SONNET}", "meta.llama3-1-70b-instruct-v1:0"])
def test_ids_the_region_can_call_load(tmp_path, model_id):
    teams = [{"name": "search", "models": ["claude"], "tokens_per_minute": 1000, "tokens_per_day": 1000}]
    config = KIT.load(write_config(tmp_path, _gateway(bedrock=[_bedrock(model_id)], teams=teams)))
    assert config.gateway.bedrock[0].model_id == model_id


@pytest.mark.parametrize(
    ("geography", "region", "served"),
    [
        ("us", "us-east-1", True),
        ("us", "us-gov-west-1", False),
        ("us-gov", "us-gov-east-1", True),
        ("eu", "eu-central-1", True),
        ("eu", "us-west-2", False),
        ("apac", "ap-southeast-1", True),
        ("jp", "ap-northeast-3", True),
        ("jp", "ap-southeast-1", False),
        ("au", "ap-southeast-4", True),
        ("au", "ap-northeast-1", False),
        ("ca", "ca-central-1", True),
        ("global", "sa-east-1", True),
        ("global", "us-gov-west-1", False),
        ("global", "cn-north-1", False),
    ],
)
def test_a_profile_serves_the_source_regions_of_its_geography(geography, region, served):
    assert serves(geography, region) is served


def test_model_ids_are_told_apart_by_their_geography_not_their_length():
    global_profile, us_gov_profile = inference_profile(f"global.{SONNET}"), inference_profile(f"us-gov.{SONNET}")
    assert global_profile is not None and global_profile.model == SONNET
    assert us_gov_profile is not None and us_gov_profile.geography == "us-gov"
    # A provider of two to four letters is not a geography: meta., zai., qwen. name foundation models.
    for foundation in ("meta.llama3-1-70b-instruct-v1:0", "zai.glm-4.6", "qwen.qwen3-32b-v1:0", SONNET):
        assert inference_profile(foundation) is None
    assert geographies_of("ap-northeast-1") == ["apac", "jp", "global"]
