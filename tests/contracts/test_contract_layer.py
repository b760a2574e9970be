"""The contract layer's own plumbing: the programs' versions in one place, and a collection that misses nothing."""

from __future__ import annotations

import re

import pytest

from contracts.collect import collect, configs
from contracts.environments import ENVIRONMENTS, PROMTOOL_PACKAGE, PROMTOOL_VERSION
from core.images import IMAGES
from core.versions import PROGRAMS, PROMTOOL_DEBIAN_PACKAGE


def _pins(lock: str) -> dict[str, str]:
    return {m.group(1).lower(): m.group(2) for m in re.finditer(r"^([A-Za-z0-9_.-]+)==([^\s]+)$", lock, re.MULTILINE)}


def test_the_locks_install_the_programs_at_the_versions_core_pins():
    locks = {environment.name: _pins(environment.lock.read_text()) for environment in ENVIRONMENTS}
    assert locks["vllm"]["vllm"] == PROGRAMS["vllm"]
    assert (locks["dynamo"]["ai-dynamo"], locks["dynamo"]["ai-dynamo-runtime"]) == (PROGRAMS["ai-dynamo"], PROGRAMS["ai-dynamo"])
    assert locks["dynamo"]["vllm"] == PROGRAMS["vllm-in-dynamo"]
    assert locks["tools"]["inference-perf"] == PROGRAMS["inference-perf"]
    assert locks["tools"]["tritonclient"] == PROGRAMS["tritonclient"]
    assert locks["ray"]["ray"] == PROGRAMS["ray"]
    assert (PROMTOOL_PACKAGE, PROMTOOL_VERSION) == PROMTOOL_DEBIAN_PACKAGE


def test_the_images_are_the_programs_versions():
    assert IMAGES["vllm"].reference.endswith(f":v{PROGRAMS['vllm']}")
    for key in ("dynamo-vllm", "dynamo-vllm-efa", "dynamo-frontend"):
        assert f":{PROGRAMS['ai-dynamo']}" in IMAGES[key].reference, key
    assert IMAGES["inference-perf"].reference.endswith(f":v{PROGRAMS['inference-perf']}")
    assert IMAGES["ray-llm"].reference.rsplit(":", 1)[1].startswith(f"{PROGRAMS['ray']}-")


@pytest.fixture(scope="module")
def collected():
    return collect()


def test_every_shipped_config_is_collected_and_every_kind_has_entries(collected):
    names = {path.name for path in configs()}
    assert {"default.yaml", "engines.yaml", "llama-405b-2x-p5-capacity-block.yaml", "dynamo-disaggregated-p5.yaml"} <= names
    for kind, items in collected.items():
        assert items, f"no {kind} entry: its contract check would pass on nothing"


def test_streamed_servers_carry_the_cold_start_models_share_for_the_streamer_check(collected):
    """contracts/checks/test_vllm_serve.py compares what vLLM's loader reads per pod with this figure."""
    streamed = [entry for entry in collected["vllm_serve"] + collected["vllm_run_batch"] if "runai_streamer" in entry["args"]]
    shares = {entry["kit_pod_read_share"] for entry in streamed}
    # One GPU and several sharing within a node read one copy per pod; a group over EFA reads 1/nodes per pod.
    assert 1.0 in shares and any(share < 1 for share in shares), shares
    for share in shares:
        assert share == pytest.approx(1 / round(1 / share)), f"{share} is not one pod's part of a whole number of nodes"
    assert any(entry["env"] == {"RUNAI_STREAMER_DIST_GLOBAL": "1"} for entry in streamed)


def test_every_multinode_pod_and_dynamo_role_is_collected(collected):
    wheres = [entry["where"] for entry in collected["vllm_serve"]]
    assert any(" leader/leader" in where for where in wheres) and any(" worker/worker" in where for where in wheres)
    roles = {entry["where"].rsplit(" ", 1)[1].split("/")[0] for entry in collected["dynamo_worker"]}
    assert {"worker", "prefill", "decode"} <= roles
