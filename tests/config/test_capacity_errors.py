"""Capacity blocks, chains and queues in the config: what the checks refuse, with the key path and a fix."""

import copy

import pytest
import yaml

from assembly.kit import KIT
from core.issues import ConfigError
from tests.helpers import REPO, assert_rejected, write_config

EXAMPLE = yaml.safe_load((REPO / "config" / "examples" / "capacity-platform.yaml").read_text())


def _example(edit):
    data = copy.deepcopy(EXAMPLE)
    edit(data)
    return data


def _pool(data, name):
    return next(pool for pool in data["node_pools"] if pool["name"] == name)


def _team(data, name):
    return next(team for team in data["scheduling"]["teams"] if team["name"] == name)


def _workload(data, name):
    return next(w for w in data["workloads"] if w["name"] == name)


def test_the_example_loads(tmp_path):
    config = KIT.load(write_config(tmp_path, EXAMPLE))
    assert [team.name for team in config.scheduling.teams] == ["search", "research"]


CASES = [
    (lambda d: _team(d, "research")["gpus"].update(h100=24), ["scheduling.teams", "quotas on 'h100' add up to 56 GPUs (search 32, research 24)", "it can run 48"]),
    (lambda d: _team(d, "research")["gpus"].update({"h200": 8}), ["scheduling.teams[1].gpus.h200", "names no GPU capacity", "h100"]),
    (lambda d: _team(d, "research")["gpus"].update({"h100-spot": 8}), ["scheduling.teams[1].gpus.h100-spot", "is a pool of chain 'h100'", "give the quota on 'h100'"]),
    (lambda d: _team(d, "research").update(name="default"), ["scheduling.teams[1].name", "a LocalQueue named 'default'"]),
    (lambda d: _team(d, "research").update(namespaces=["search-jobs"]), ["the namespace 'search-jobs' belongs to more than one team"]),
    (lambda d: _team(d, "research").update(namespaces=["inference"]), ["scheduling.teams[1].namespaces", "is a namespace the kit or Kubernetes owns"]),
    (lambda d: _pool(d, "h100-block")["capacity_block"].update(end="2026-12-15T12:00:00Z"), ["capacity_block.end", "is not 11:30 UTC"]),
    (lambda d: _pool(d, "h100-block")["capacity_block"].update(end="2026-11-30T11:30:00Z"), ["capacity_block.end", "is not after start"]),
    (lambda d: _pool(d, "h100-block").update(weight=90), ["node_pools[0].weight", "no weight on a static pool"]),
    (lambda d: _pool(d, "h100-block").update(capacity_types=["reserved", "on-demand"]), ["node_pools[0].capacity_types", "launches only into its block"]),
    (lambda d: _pool(d, "h100-block").update(gpu_limit=24), ["node_pools[0].gpu_limit", "2 x p5.48xlarge is 16 GPUs"]),
    (lambda d: _pool(d, "h100-block")["capacity_block"].update(drain_minutes_before_end=30), ["capacity_block.drain_minutes_before_end", "45"]),
    (lambda d: _pool(d, "h100-spot").update(instance_types=["p5e.48xlarge"]), ["node_pools[1]", "differs from node_pools[0] in its chain 'h100' (instance_types)"]),
    (lambda d: _pool(d, "h100-on-demand").update(weight=50), ["node_pools[1].weight", "need distinct weights"]),
    (lambda d: _pool(d, "h100-spot").update(chain="h100-block"), ["chain", "is also the name of a pool"]),
    (lambda d: _workload(d, "llama-70b").update(queue="ads"), ["workloads[0].queue", "names no team of scheduling.teams", "search, research"]),
    (lambda d: _workload(d, "llama-405b").update(queue="research"), ["workloads[1].queue", "team 'research' has no quota on 'p5-group-block'"]),
    (lambda d: _workload(d, "llama-405b").update(nodes=3), ["workloads[1]", "one gang needs 24 GPUs, more than 'p5-group-block' can ever hold (16)"]),
    (lambda d: d["scheduling"].update(pods_ready_timeout_minutes=10), ["workloads[0].queue", "longer than scheduling.pods_ready_timeout_minutes (10)"]),
    (lambda d: _workload(d, "llama-405b").pop("queue"), ["workloads[1].queue", "a multi-node group must join one", "search, research"]),
]


@pytest.mark.parametrize(("edit", "expected"), CASES, ids=[
    "quota-above-capacity", "quota-on-unknown-capacity", "quota-on-a-chain-member", "team-named-default", "shared-namespace", "owned-namespace",
    "block-end-not-1130", "block-end-before-start", "weight-on-block", "block-not-reserved-only", "gpu-limit-not-the-block", "drain-too-late",
    "chain-of-unlike-pools", "chain-weights-tie", "chain-named-like-a-pool", "unknown-queue", "queue-without-quota", "gang-above-capacity",
    "pods-ready-timeout-too-short", "multi-node-group-outside-the-queues",
])
def test_refused(tmp_path, edit, expected):
    data = _example(edit)
    path = tmp_path / "kit.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(ConfigError) as caught:
        KIT.load(path)
    rendered = caught.value.render()
    for fragment in expected:
        assert fragment in rendered, f"{fragment!r} missing from:\n{rendered}"


def test_dynamo_cannot_join_a_queue(tmp_path):
    workload = {"name": "dyn", "blueprint": "dynamo", "node_pool": "gpu-l40s", "model": {"type": "fsx", "sub_path": "models/org/model"}, "queue": "search"}
    overrides = {"storage": {"fsx": {"enabled": True}}, "scheduling": {"teams": [{"name": "search", "gpus": {"gpu-l40s": 8}}]}, "workloads": [workload]}
    assert_rejected(tmp_path, overrides, ["workloads[0].queue", "Kueue cannot admit a DynamoGraphDeployment"])
