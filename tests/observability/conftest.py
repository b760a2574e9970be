"""One synth per metrics backend, shared by the module tests: amp (with every option on), in-cluster, cloudwatch."""

from __future__ import annotations

import pytest

from tests.helpers import default_config_data, synth, write_config

TOPIC = "arn:aws:sns:us-west-2:111122223333:llm-alerts"
BENCHMARK = {"name": "bench-llama-8b", "blueprint": "benchmark", "target": "llama-8b", "concurrency": [1, 4, 16]}


def with_pool_taint() -> list[dict]:
    pools = default_config_data()["node_pools"]
    pools[0] = {**pools[0], "taints": [{"key": "team", "value": "research", "effect": "NoSchedule"}]}
    return pools


AMP = {
    "account": "111122223333",
    "observability": {"alert_topic_arn": TOPIC, "amp_customer_managed_key": True},
    "node_pools": with_pool_taint(),
    "workloads": default_config_data()["workloads"] + [BENCHMARK],
}
IN_CLUSTER = {"observability": {"metrics": "in-cluster"}}
CLOUDWATCH = {"observability": {"metrics": "cloudwatch"}}


def _cluster_template(factory, name: str, overrides: dict) -> dict:
    folder = factory.mktemp(name)
    templates = synth(write_config(folder, overrides), folder / "cdk.out")
    return templates["llm-kit-cluster"]


@pytest.fixture(scope="session")
def amp_cluster(tmp_path_factory) -> dict:
    return _cluster_template(tmp_path_factory, "amp", AMP)


@pytest.fixture(scope="session")
def in_cluster_cluster(tmp_path_factory) -> dict:
    return _cluster_template(tmp_path_factory, "in-cluster", IN_CLUSTER)


@pytest.fixture(scope="session")
def cloudwatch_cluster(tmp_path_factory) -> dict:
    return _cluster_template(tmp_path_factory, "cloudwatch", CLOUDWATCH)
