"""Dashboards and alert rules: valid, regenerated, and built only from metric names the exporters really publish."""

import json

import pytest
import yaml

from config.observability import AlertThresholds
from infra.observability import dashboards
from infra.observability.metrics_catalog import FAMILIES, known_metric_names
from infra.observability.rules import alert_rules, rules_yaml
from infra.stacks.observability_props import alert_rule_thresholds
from tests.helpers import REPO
from tests.observability.promql import balanced, metric_names

KNOWN = known_metric_names()


def _expressions(dashboard: dict) -> list[str]:
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    exprs += [variable["definition"] for variable in dashboard["templating"]["list"] if "definition" in variable]
    return exprs


def test_committed_dashboards_equal_the_generated_ones():
    committed = {path.name: path.read_text() for path in dashboards.DASHBOARD_DIR.glob("*.json")}
    assert committed == dashboards.rendered(), "run: python -m infra.observability.dashboards"


@pytest.mark.parametrize("name", sorted(dashboards.rendered()))
def test_dashboard_is_grafana_json_with_known_metrics_only(name):
    dashboard = json.loads((dashboards.DASHBOARD_DIR / name).read_text())
    assert dashboard["uid"].startswith("llm-kit-") and dashboard["schemaVersion"] >= 39
    assert len({panel["id"] for panel in dashboard["panels"]}) == len(dashboard["panels"])
    assert all(panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24 for panel in dashboard["panels"])
    for expr in _expressions(dashboard):
        assert balanced(expr), expr
        query = expr.removeprefix("label_values(").rsplit(",", 1)[0] if expr.startswith("label_values(") else expr
        unknown = metric_names(query) - KNOWN
        assert not unknown, f"{name}: {expr!r} uses {unknown}, which no exporter of the kit publishes"


def test_dashboards_cover_what_operators_ask_for():
    text = json.dumps([json.loads(text) for text in dashboards.rendered().values()])
    for metric in (
        "DCGM_FI_DEV_GPU_UTIL",
        "DCGM_FI_DEV_FB_USED",
        "kube_node_status_allocatable",
        "kube_pod_container_resource_requests",
        "vllm:time_to_first_token_seconds_bucket",
        "vllm:inter_token_latency_seconds_bucket",
        "vllm:generation_tokens_total",
        "vllm:num_requests_waiting",
    ):
        assert metric in text, metric
    assert "GPU-hours per namespace" in text and "Requested but idle GPUs" in text


def test_every_catalogued_family_names_its_source():
    for family in FAMILIES.values():
        assert family.source and family.names()


def test_alert_rules_parse_and_use_known_metrics_only():
    thresholds = alert_rule_thresholds(AlertThresholds(queue_waiting_requests=12, idle_reserved_minutes=45))
    groups = yaml.safe_load(rules_yaml(thresholds))["groups"]
    rules = {rule["alert"]: rule for rule in groups[0]["rules"]}
    assert set(rules) == {"GpuXidError", "NodeNotReady", "VllmQueueBacklog", "VllmQueueGrowing", "ReservedGpusIdle"}
    for rule in rules.values():
        assert balanced(rule["expr"]), rule["expr"]
        assert metric_names(rule["expr"]) <= KNOWN, rule["expr"]
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}
        assert rule["annotations"]["runbook_url"].startswith("docs/observability.md#")
    assert "DCGM_FI_DEV_XID_ERRORS" in rules["GpuXidError"]["expr"]
    assert 'kube_node_status_condition{condition="Ready",status="true"} == 0' == rules["NodeNotReady"]["expr"]
    assert rules["VllmQueueBacklog"]["expr"].endswith("> 12")
    assert (
        "[45m]" in rules["ReservedGpusIdle"]["expr"] and 'label_karpenter_sh_capacity_type="reserved"' in rules["ReservedGpusIdle"]["expr"]
    )


def test_every_alert_has_a_runbook_section():
    text = (REPO / "docs" / "observability.md").read_text().lower()
    for rule in alert_rules(alert_rule_thresholds(AlertThresholds())):
        assert f"### {rule.name.lower()}" in text, f"docs/observability.md has no '### {rule.name}' section"
