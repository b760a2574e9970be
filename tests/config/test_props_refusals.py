"""Values the infra props refuse are refused first by the config layer: `./kit check` and `./kit synth` name the key
and exit 2, where the props' ValueError would have ended the synth in a traceback after the check had passed."""

import pytest

from assembly.kit import KIT
from tests.helpers import assert_rejected, assert_synth_refuses, default_config_data, write_config

BEDROCK = {"name": "claude-haiku", "model_id": "anthropic.claude-3-5-haiku-20241022-v1:0", "input_usd_per_million": 0.8}
BEDROCK = {**BEDROCK, "output_usd_per_million": 4.0}


def _first_pool(**fields):
    """The default config's pools, the first one changed (a Bottlerocket pool with protected windows)."""
    pools = default_config_data()["node_pools"]
    first = pools[0]
    for key, value in fields.items():
        first[key] = {**first.get(key, {}), **value} if isinstance(value, dict) else value
    return {"node_pools": pools}


CASES = [
    pytest.param(
        {"gateway": {"bedrock": [{**BEDROCK, "input_usd_per_million": float("inf")}]}},
        ["gateway.bedrock[0].input_usd_per_million", "finite number", "got: inf"],
        id="bedrock-price-infinite",
    ),
    pytest.param(
        {"gateway": {"bedrock": [BEDROCK], "gpu_hour_usd": float("inf")}},
        ["gateway.gpu_hour_usd", "finite number", "got: inf"],
        id="gateway-gpu-hour-infinite",
    ),
    pytest.param(
        {"gateway": {"bedrock": [BEDROCK, {**BEDROCK, "name": "claude-fast"}]}},
        ["gateway.bedrock[1].model_id", "is also the model id of 'claude-haiku'", "once per entry", "fix: remove 'claude-fast'"],
        id="bedrock-model-id-twice",
    ),
    pytest.param(
        {"name": "xn--kit", "account": "111122223333"},
        ["name", "xn--kit-models-111122223333-us-west-2", "reserved prefix 'xn--'", "existing_bucket_name"],
        id="kit-name-reserved-bucket-prefix",
    ),
    pytest.param(
        {"name": "sthree-kit"},
        ["name", "sthree-kit-models-000000000000-us-west-2", "reserved prefix 'sthree-'"],
        id="kit-name-reserved-prefix-account-from-credentials",
    ),
    pytest.param(
        _first_pool(disruption={"max_disrupted": "150%"}),
        ["node_pools[0].disruption.max_disrupted", "got: '150%'", "0% to 100%"],
        id="max-disrupted-above-100-percent",
    ),
    pytest.param(
        _first_pool(disruption={"consolidate_after": "\u0661\u0660m"}),
        ["node_pools[0].disruption.consolidate_after", "does not have the form"],
        id="duration-in-other-script-digits",
    ),
    pytest.param(
        _first_pool(image_pull={"concurrent_download_chunk_size": "0mb"}),
        ["node_pools[0].image_pull.concurrent_download_chunk_size", "got: '0mb'", "from 1kb"],
        id="chunk-size-zero",
    ),
    pytest.param(
        _first_pool(burn_in={"min_bus_bandwidth_gb_s": float("inf")}),
        ["node_pools[0].burn_in.min_bus_bandwidth_gb_s", "finite number"],
        id="burn-in-bandwidth-infinite",
    ),
    pytest.param(
        _first_pool(gpu_hour_usd=float("nan")),
        ["node_pools[0].gpu_hour_usd", "finite number"],
        id="pool-price-nan",
    ),
]


@pytest.mark.parametrize(("overrides", "expected"), CASES)
def test_check_refuses_what_the_props_would(tmp_path, overrides, expected):
    assert_rejected(tmp_path, overrides, expected)


@pytest.mark.parametrize(("overrides", "expected"), CASES)
def test_synth_exits_2_without_a_traceback(tmp_path, overrides, expected):
    rendered = assert_synth_refuses(tmp_path, write_config(tmp_path, overrides), expected[:1])
    assert "Traceback" not in rendered and "ValueError" not in rendered, rendered


def test_the_edges_the_props_accept_still_load(tmp_path):
    """The refusals stop at the props' own limits: a whole pool at once, a compound duration, a 1kb chunk, a free
    Bedrock model."""
    overrides = _first_pool(
        disruption={"max_disrupted": "100%", "consolidate_after": "1h30m"}, image_pull={"concurrent_download_chunk_size": "1kb"}
    )
    config = KIT.load(write_config(tmp_path, {**overrides, "gateway": {"bedrock": [{**BEDROCK, "input_usd_per_million": 0.0}]}}))
    pool = config.node_pools[0]
    assert (pool.disruption.max_disrupted, pool.disruption.consolidate_after) == ("100%", "1h30m")
    assert pool.image_pull.concurrent_download_chunk_size == "1kb"
    assert config.gateway.bedrock[0].input_usd_per_million == 0.0
