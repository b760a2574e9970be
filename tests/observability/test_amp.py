"""metrics: amp (the default): workspace, managed scraper, rules, exporters, and the benchmark runner's access."""

import base64
import json

import pytest
import yaml

from config.observability import AlertThresholds
from infra.observability.rules import rules_yaml
from infra.stacks.observability_props import alert_rule_thresholds
from core.versions import DCGM_EXPORTER, KUBE_STATE_METRICS
from tests.helpers import helm_charts, helm_values, only, resources
from tests.observability.conftest import TOPIC

pytestmark = pytest.mark.e2e  # every test here reads whole synthesized apps


def _scrape_config(template) -> dict:
    blob = only(template, "AWS::APS::Scraper")["Properties"]["ScrapeConfiguration"]["ConfigurationBlob"]
    return yaml.safe_load(base64.b64decode(blob))


def test_workspace_is_encrypted_logs_and_keeps_its_retention(amp_cluster):
    workspace = only(amp_cluster, "AWS::APS::Workspace")["Properties"]
    key = resources(amp_cluster, "AWS::KMS::Key")
    assert (
        workspace["KmsKeyArn"]["Fn::GetAtt"][0] in key and key[workspace["KmsKeyArn"]["Fn::GetAtt"][0]]["Properties"]["EnableKeyRotation"]
    )
    log_group = workspace["LoggingConfiguration"]["LogGroupArn"]["Fn::GetAtt"][0]
    assert amp_cluster["Resources"][log_group]["DeletionPolicy"] == "Retain"
    assert workspace["WorkspaceConfiguration"]["RetentionPeriodInDays"] == 150
    assert f"topic_arn: {TOPIC}" in workspace["AlertManagerDefinition"]


def test_scraper_reaches_the_cluster_from_two_zones_where_no_pod_lives(amp_cluster):
    source = only(amp_cluster, "AWS::APS::Scraper")["Properties"]["Source"]["EksConfiguration"]
    assert source["ClusterArn"] == {"Fn::GetAtt": [next(iter(resources(amp_cluster, "AWS::EKS::Cluster"))), "Arn"]}
    subnets = [ref["Fn::ImportValue"] for ref in source["SubnetIds"]]
    # The control-plane subnets: the workloads' NetworkPolicies admit the scraper by their ranges.
    assert len(subnets) == 2 and "ControlPlanePrimarySubnet" in subnets[0] and "ControlPlaneSecondarySubnet" in subnets[1]
    assert source["SecurityGroupIds"][0]["Fn::GetAtt"][1] == "ClusterSecurityGroupId"
    logging = only(amp_cluster, "AWS::APS::Scraper")["Properties"]["ScraperLoggingConfiguration"]
    assert {c["Type"] for c in logging["ScraperComponents"]} == {"SERVICE_DISCOVERY", "COLLECTOR", "EXPORTER"}


def test_scrape_config_is_base64_yaml_with_the_kit_jobs(amp_cluster):
    config = _scrape_config(amp_cluster)
    assert config["global"]["scrape_interval"] == "30s"
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == {"dcgm-exporter", "kube-state-metrics", "karpenter", "annotated-pods", "ai-gateway"}
    assert all(job["kubernetes_sd_configs"] == [{"role": "pod"}] for job in jobs.values())
    assert jobs["dcgm-exporter"]["honor_labels"] and jobs["kube-state-metrics"]["honor_labels"]
    annotated = jobs["annotated-pods"]["relabel_configs"]
    assert {"source_labels": ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"], "regex": "true", "action": "keep"} in annotated
    assert {"source_labels": ["__meta_kubernetes_pod_label_llm_kit_workload"], "target_label": "llm_kit_workload"} in annotated
    karpenter = jobs["karpenter"]["relabel_configs"]
    assert {"source_labels": ["__meta_kubernetes_namespace"], "regex": "kube-system", "action": "keep"} in karpenter


def test_alert_rules_are_loaded_into_the_workspace(amp_cluster):
    rules = only(amp_cluster, "AWS::APS::RuleGroupsNamespace")["Properties"]
    assert rules["Data"] == rules_yaml(alert_rule_thresholds(AlertThresholds()))
    assert rules["Workspace"]["Fn::GetAtt"][1] == "Arn"


def test_exporters_are_pinned_and_dcgm_runs_only_on_gpu_nodes(amp_cluster):
    charts = helm_charts(amp_cluster)
    assert "kube-prometheus-stack" not in charts
    ksm = charts["kube-state-metrics"]["Properties"]
    assert (ksm["Repository"], ksm["Version"]) == (KUBE_STATE_METRICS.repository, KUBE_STATE_METRICS.version)
    assert "nodes=[karpenter.sh/capacity-type,eks.amazonaws.com/capacityType" in helm_values(ksm["Values"])
    dcgm = charts["dcgm-exporter"]["Properties"]
    assert (dcgm["Repository"], dcgm["Version"]) == (DCGM_EXPORTER.repository, DCGM_EXPORTER.version)
    values = json.loads(helm_values(dcgm["Values"]))
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in values["tolerations"]
    assert {"key": "team", "operator": "Exists"} in values["tolerations"]
    term = values["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"][0]
    assert term == {"matchExpressions": [{"key": "llm-kit/accelerator", "operator": "Exists"}]}
    assert values["serviceMonitor"]["enabled"] is False  # no Prometheus operator CRDs in this mode
    assert values["kubernetes"]["podLabelAllowlistRegex"] == ["^llm-kit/workload$", "^llm-kit/blueprint$"]


def test_benchmark_runner_reads_datasets_and_writes_results_only(amp_cluster):
    association = [
        a["Properties"]
        for a in resources(amp_cluster, "AWS::EKS::PodIdentityAssociation").values()
        if a["Properties"]["ServiceAccount"] == "bench-llama-8b"
    ]
    assert len(association) == 1 and association[0]["Namespace"] == "inference"
    role = association[0]["RoleArn"]["Fn::GetAtt"][0]
    policy = next(
        p["Properties"]["PolicyDocument"]
        for p in resources(amp_cluster, "AWS::IAM::Policy").values()
        if p["Properties"]["Roles"] == [{"Ref": role}]
    )
    by_action = {tuple(s["Action"]) if isinstance(s["Action"], list) else (s["Action"],): s for s in policy["Statement"]}
    puts = json.dumps(by_action[("s3:PutObject",)]["Resource"])
    assert "/benchmarks/*" in puts and "/datasets/" not in puts and "/models/" not in puts
    assert "/datasets/*" in json.dumps(by_action[("s3:GetObject",)]["Resource"])


def test_device_plugins_tolerate_every_taint_of_a_gpu_capacity_and_use_values_their_charts_read(amp_cluster):
    """A pool with an extra taint still gets its EFA devices advertised; the EFA chart has no affinity value."""
    efa = json.loads(helm_values(helm_charts(amp_cluster)["aws-efa-k8s-device-plugin"]["Properties"]["Values"]))
    assert {"key": "team", "operator": "Exists"} in efa["tolerations"]
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in efa["tolerations"]
    assert efa["nodeSelector"] == {"llm-kit/efa": "true"} and "affinity" not in efa
