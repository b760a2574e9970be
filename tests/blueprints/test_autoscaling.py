"""KEDA's ScaledObjects: queries that answer a number in every state, a fallback on every trigger, and an AWS identity
that only the workloads namespace can use."""

from dataclasses import replace
from pathlib import Path

import celpy
from celpy.adapter import json_to_cel
import kubernetes_validate
import pytest

from assembly.app import render_workloads
from assembly.kit import KIT
from blueprints.common.autoscaling import POLICY_NAME, identity_policy, rate_window, requirements, scaling_query, signal_query
from blueprints.common.routing_params import Autoscaling
from config.platform import platform
from core.versions import SUPPORTED_KUBERNETES_VERSIONS
from contracts.collect import configs
from infra.observability.metrics_catalog import VLLM
from tests.blueprints.conftest import by_kind
from tests.observability.promql import balanced, metric_names

EXAMPLE = Path("config/examples/gateway-two-models.yaml")
HF = {"type": "hf", "repo_id": "org/model"}
CHAT = {"name": "chat", "blueprint": "vllm", "node_pool": "gpu-l40s", "model": HF}


@pytest.fixture(scope="module")
def example():
    return render_workloads(KIT.load(EXAMPLE))


@pytest.fixture(scope="module")
def every_scaled_object():
    """Every ScaledObject (and the TriggerAuthentications beside it) the shipped and contract configs render."""
    found = []
    for path in configs():
        for workload, objects in render_workloads(KIT.load(path)).items():
            kinds = {obj["kind"]: obj for obj in objects}
            if "ScaledObject" in kinds:
                found.append((f"{path.name} {workload}", kinds))
    return found


def test_keda_reads_amp_with_its_own_identity_through_a_namespaced_authentication(example):
    kinds = by_kind(example["llama-8b"])
    spec = kinds["ScaledObject"]["spec"]
    assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "llama-8b"}
    assert (spec["minReplicaCount"], spec["maxReplicaCount"]) == (2, 6)
    [trigger] = spec["triggers"]
    assert trigger["metadata"]["serverAddress"] == "{amp-query-url}" and trigger["metadata"]["awsRegion"] == "us-west-2"
    assert trigger["metadata"]["threshold"] == "4" and trigger["metricType"] == "AverageValue"
    auth = kinds["TriggerAuthentication"]
    assert auth["spec"] == {"podIdentity": {"provider": "aws", "identityOwner": "keda"}}
    assert auth["metadata"]["namespace"] == kinds["ScaledObject"]["metadata"]["namespace"] == "inference"
    assert trigger["authenticationRef"] == {"name": "llama-8b-amp", "kind": "TriggerAuthentication"}
    # The autoscaler owns the count; the budget follows its floor.
    [server] = [obj for obj in example["llama-8b"] if obj["kind"] == "Deployment" and obj["metadata"]["name"] == "llama-8b"]
    assert "replicas" not in server["spec"]
    assert kinds["PodDisruptionBudget"]["spec"]["maxUnavailable"] == 1


def test_in_cluster_prometheus_is_queried_without_credentials(render):
    workload = {**CHAT, "autoscaling": {"signal": "kv_cache_usage", "target": 0.7}}
    kinds = by_kind(render({"workloads": [workload], "observability": {"metrics": "in-cluster"}})["chat"])
    [trigger] = kinds["ScaledObject"]["spec"]["triggers"]
    assert trigger["metadata"]["serverAddress"] == "http://kube-prometheus-stack-prometheus.monitoring.svc.cluster.local:9090"
    assert "authenticationRef" not in trigger and "TriggerAuthentication" not in kinds


@pytest.mark.parametrize("signal", ["requests_waiting", "kv_cache_usage", "time_to_first_token"])
def test_every_scaling_query_names_metrics_vllm_publishes(signal):
    query, metric_type = scaling_query(Autoscaling(signal=signal, target=0.5), "inference", "chat")
    names = metric_names(query)
    assert balanced(query) and len(names) == 1 and names <= VLLM.names()
    assert 'llm_kit_workload="chat"' in query
    assert metric_type == ("Value" if signal == "time_to_first_token" else "AverageValue")


@pytest.mark.parametrize("signal", ["requests_waiting", "kv_cache_usage", "time_to_first_token"])
def test_every_query_drops_nan_and_answers_zero_for_nothing(signal):
    """The guard is the signal's own query, NaN dropped, then `or vector(0)` (promtool runs the states in contracts)."""
    query, _ = scaling_query(Autoscaling(signal=signal, target=0.5), "inference", "chat")
    raw = signal_query(signal, "inference", "chat")
    assert query.endswith(" or vector(0)") and raw in query
    assert ">= 0" in query


@pytest.mark.parametrize(("interval", "window"), [(30, "2m"), (45, "3m"), (60, "4m"), (300, "20m")])
def test_the_rate_window_holds_four_scrapes_and_at_least_two_minutes(interval, window):
    assert rate_window(interval) == window
    query, _ = scaling_query(Autoscaling(signal="time_to_first_token", target=0.5), "inference", "chat", interval)
    assert f"[{window}]" in query


def test_the_scrape_interval_reaches_the_time_to_first_token_query(render):
    workload = {**CHAT, "autoscaling": {"signal": "time_to_first_token", "target": 0.5}}
    kinds = by_kind(render({"workloads": [workload], "observability": {"scrape_interval_seconds": 60}})["chat"])
    assert "[4m]" in kinds["ScaledObject"]["spec"]["triggers"][0]["metadata"]["query"]


def test_every_rendered_trigger_handles_nulls_deliberately_and_has_a_fallback_valid_for_its_type(every_scaled_object):
    assert {signal for _, kinds in every_scaled_object for signal in [kinds["ScaledObject"]["spec"]["triggers"][0]["metricType"]]} == {
        "AverageValue",
        "Value",
    }
    for where, kinds in every_scaled_object:
        spec = kinds["ScaledObject"]["spec"]
        for trigger in spec["triggers"]:
            assert trigger["type"] == "prometheus", where
            assert trigger["metadata"]["ignoreNullValues"] == "false", where
            assert trigger["metadata"]["query"].endswith(" or vector(0)"), where
            assert trigger["metricType"] in ("AverageValue", "Value"), where
            assert float(trigger["metadata"]["threshold"]) >= 0.001, where
        fallback = spec["fallback"]
        # KEDA 2.20.2 checks failureThreshold and replicas >= 0 and a trigger that is not cpu/memory; replicas 0 would
        # let the operator scale a failing workload down, so the kit never writes it.
        assert fallback["failureThreshold"] >= 1 and spec["minReplicaCount"] <= fallback["replicas"] <= spec["maxReplicaCount"], where
        assert fallback["behavior"] == "currentReplicasIfHigher", where
        assert "cooldownPeriod" not in spec, where  # read only when scaling to zero, which the kit refuses
        for rules in spec["advanced"]["horizontalPodAutoscalerConfig"]["behavior"].values():
            # The HPA API refuses a window above an hour and a policy period above 30 minutes.
            assert 0 <= rules["stabilizationWindowSeconds"] <= 3600, where
            assert all(0 < policy["periodSeconds"] <= 1800 for policy in rules["policies"]), where


def test_the_fallback_holds_at_least_the_configured_count(render):
    workload = {**CHAT, "autoscaling": {"min_replicas": 1, "max_replicas": 5, "fallback_replicas": 3}}
    fallback = by_kind(render({"workloads": [workload]})["chat"])["ScaledObject"]["spec"]["fallback"]
    assert fallback == {"failureThreshold": 3, "replicas": 3, "behavior": "currentReplicasIfHigher"}
    default = by_kind(render({"workloads": [{**CHAT, "autoscaling": {"min_replicas": 2}}]})["chat"])["ScaledObject"]["spec"]["fallback"]
    assert default["replicas"] == 2


def test_keda_chart_carries_the_identity_policy_and_waits_for_its_association():
    needed = KIT.requirements(KIT.load(EXAMPLE))
    [chart] = [c for c in needed.controllers if c.name == "keda"]
    assert chart.values["extraObjects"] == identity_policy("inference")
    # The operator runs every scaler: its account is the one AMP trusts, and its chart waits for the association.
    [reader] = needed.metrics_readers
    assert (reader.namespace, reader.service_account, reader.controller) == ("keda", "keda-operator", chart.name)


@pytest.mark.parametrize("version", SUPPORTED_KUBERNETES_VERSIONS)
@pytest.mark.parametrize("obj", identity_policy("inference"), ids=lambda o: o["kind"])
def test_the_identity_policy_is_valid_for_every_supported_kubernetes(obj, version):
    kubernetes_validate.validate(obj, version, strict=True)


POLICY, BINDING = identity_policy("inference")
ENV = celpy.Environment()


def _admitted(kind: str, namespace: str, obj: dict, user: str = "system:serviceaccount:ops:deployer") -> bool:
    request = {"kind": {"kind": kind}, "namespace": namespace, "userInfo": {"username": user}}
    activation = {"object": json_to_cel(obj), "request": json_to_cel(request)}
    run = lambda expression: bool(ENV.program(ENV.compile(expression)).evaluate(activation))  # noqa: E731
    if not all(run(condition["expression"]) for condition in POLICY["spec"]["matchConditions"]):
        return True
    return all(run(rule["expression"]) for rule in POLICY["spec"]["validations"])


AWS_AUTH = {"spec": {"podIdentity": {"provider": "aws"}}}
BORROWING_TRIGGER = {
    "spec": {"triggers": [{"type": "prometheus", "metadata": {"query": "up", "awsRegion": "us-west-2", "identityOwner": "operator"}}]}
}


@pytest.mark.parametrize(
    ("kind", "namespace", "obj", "admitted"),
    [
        ("TriggerAuthentication", "inference", AWS_AUTH, True),
        ("TriggerAuthentication", "team-a", AWS_AUTH, False),
        ("TriggerAuthentication", "team-a", {"spec": {"podIdentity": {"provider": "aws-eks"}}}, False),
        ("TriggerAuthentication", "team-a", {"spec": {"secretTargetRef": [{"parameter": "bearerToken", "name": "s", "key": "k"}]}}, True),
        ("ClusterTriggerAuthentication", "", AWS_AUTH, False),
        ("ClusterTriggerAuthentication", "", {"spec": {"podIdentity": {"provider": "azure-workload"}}}, True),
        ("ScaledObject", "team-a", BORROWING_TRIGGER, False),
        ("ScaledJob", "team-a", BORROWING_TRIGGER, False),
        ("ScaledObject", "inference", BORROWING_TRIGGER, True),
        ("ScaledObject", "team-a", {"spec": {"triggers": [{"type": "cpu", "metadata": {"value": "50"}}]}}, True),
    ],
)
def test_only_the_workloads_namespace_may_use_kedas_aws_identity(kind, namespace, obj, admitted):
    assert _admitted(kind, namespace, obj) is admitted


def test_keda_itself_is_not_held_by_the_policy():
    """KEDA removes its finalizer from objects that predate the policy; that update must pass."""
    assert _admitted("ScaledObject", "team-a", BORROWING_TRIGGER, user="system:serviceaccount:keda:keda-operator")
    assert BINDING["spec"] == {"policyName": POLICY_NAME, "validationActions": ["Deny"]}


def test_requirements_ask_for_the_association_only_with_amp():
    facts = platform(KIT.load(EXAMPLE))
    assert requirements(facts).metrics_readers
    in_cluster = replace(facts, routing=replace(facts.routing, metrics_backend="in-cluster"))
    assert requirements(in_cluster).metrics_readers == ()
    assert requirements(in_cluster).controllers[0].values["extraObjects"]  # KEDA's default credentials exist there too
