"""metrics: in-cluster (kube-prometheus-stack) and metrics: cloudwatch (the CloudWatch Observability add-on)."""

import json

import kubernetes_validate
import pytest

from assembly.kit import KIT
from core.issues import ConfigError
from core.versions import KUBE_PROMETHEUS_STACK
from tests.helpers import assert_rejected, helm_charts, helm_values, kubernetes_objects, resources, write_config


@pytest.mark.e2e
def test_in_cluster_installs_the_pinned_kube_prometheus_stack(in_cluster_cluster):
    assert not [r for r in in_cluster_cluster["Resources"].values() if r["Type"].startswith("AWS::APS::")]
    charts = helm_charts(in_cluster_cluster)
    stack = charts["kube-prometheus-stack"]["Properties"]
    assert (stack["Repository"], stack["Version"]) == (KUBE_PROMETHEUS_STACK.repository, KUBE_PROMETHEUS_STACK.version)
    assert "kube-state-metrics" not in charts  # the stack brings its own
    values = json.loads(helm_values(stack["Values"]))
    spec = values["prometheus"]["prometheusSpec"]
    assert spec["podMonitorSelectorNilUsesHelmValues"] is False and spec["ruleSelectorNilUsesHelmValues"] is False
    assert spec["storageSpec"]["volumeClaimTemplate"]["spec"]["storageClassName"] == "gp3-encrypted"
    monitors = {m["name"]: m for m in values["prometheus"]["additionalPodMonitors"]}
    assert monitors["llm-kit-workloads"]["selector"] == {"matchExpressions": [{"key": "llm-kit/workload", "operator": "Exists"}]}
    assert monitors["karpenter"]["podMetricsEndpoints"][0]["port"] == "http-metrics"
    rules = values["additionalPrometheusRulesMap"]["llm-kit"]["groups"][0]["rules"]
    assert {rule["alert"] for rule in rules} >= {"GpuXidError", "NodeNotReady", "VllmQueueBacklog", "ReservedGpusIdle"}
    assert values["grafana"]["enabled"] is True
    # Empty, so the Grafana chart generates the admin password instead of kube-prometheus-stack's well-known default.
    assert values["grafana"]["adminPassword"] == ""
    dcgm = json.loads(helm_values(charts["dcgm-exporter"]["Properties"]["Values"]))
    assert dcgm["serviceMonitor"]["enabled"] is True and dcgm["serviceMonitor"]["honorLabels"] is True


@pytest.mark.e2e
def test_in_cluster_objects_pass_the_strict_schema(in_cluster_cluster):
    manifests = [obj for items in kubernetes_objects(in_cluster_cluster).values() for obj in items]
    kinds = {(obj["kind"], obj["metadata"]["name"]) for obj in manifests}
    assert ("StorageClass", "gp3-encrypted") in kinds
    assert ("ConfigMap", "llm-kit-gpu-fleet") in kinds and ("ConfigMap", "llm-kit-serving") in kinds
    for obj in manifests:
        if obj["kind"] in ("StorageClass", "ConfigMap"):
            kubernetes_validate.validate(obj, "1.35", strict=True)


@pytest.mark.e2e
def test_cloudwatch_installs_the_add_on_with_pod_identity(cloudwatch_cluster):
    addon = next(
        a["Properties"]
        for a in resources(cloudwatch_cluster, "AWS::EKS::Addon").values()
        if a["Properties"]["AddonName"] == "amazon-cloudwatch-observability"
    )
    (association,) = addon["PodIdentityAssociations"]
    assert association["ServiceAccount"] == "cloudwatch-agent"
    role = cloudwatch_cluster["Resources"][association["RoleArn"]["Fn::GetAtt"][0]]["Properties"]
    assert "pods.eks.amazonaws.com" in json.dumps(role["AssumeRolePolicyDocument"])
    assert "CloudWatchAgentServerPolicy" in json.dumps(role["ManagedPolicyArns"])
    charts = helm_charts(cloudwatch_cluster)
    assert "dcgm-exporter" not in charts and "kube-prometheus-stack" not in charts


@pytest.mark.parametrize(
    ("observability", "expected"),
    [
        ({"metrics": "cloudwatch", "dcgm_exporter": True}, ["observability", "runs the add-on's own DCGM exporter"]),
        (
            {"metrics": "in-cluster", "alert_topic_arn": "arn:aws:sns:us-west-2:111122223333:x"},
            ["alert_topic_arn routes alerts from the AMP workspace"],
        ),
        ({"metrics": "none", "alerts": True}, ["alert rules are PromQL"]),
        ({"metrics": "prometheus"}, ["observability.metrics", "not one of the allowed values", "in-cluster"]),
        ({"scrape_interval_seconds": 10}, ["observability.scrape_interval_seconds"]),
    ],
)
def test_observability_settings_that_cannot_work_are_rejected(tmp_path, observability, expected):
    assert_rejected(tmp_path, {"observability": observability}, expected)


def test_metrics_none_installs_nothing(tmp_path):
    config = KIT.load(write_config(tmp_path, {"observability": {"metrics": "none"}}))
    assert not config.observability.runs_dcgm_exporter and not config.observability.loads_alerts


def test_cloudwatch_without_explicit_dcgm_is_accepted(tmp_path):
    try:
        KIT.load(write_config(tmp_path, {"observability": {"metrics": "cloudwatch"}}))
    except ConfigError as err:  # pragma: no cover - the message is the assertion
        pytest.fail(err.render())
