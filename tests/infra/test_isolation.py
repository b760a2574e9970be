"""Network policy enforcement, the workloads namespace's baseline policies and the Pod Security level of every
namespace the kit creates, read back from the synthesized templates."""

import json
from pathlib import Path

import pytest

from tests.helpers import helm_charts, kubernetes_objects, resources, synth, write_config

pytestmark = pytest.mark.e2e  # every test here reads whole synthesized apps

PSA = "pod-security.kubernetes.io/enforce"


def _workloads_base(templates: dict) -> list[dict]:
    [objects] = kubernetes_objects(templates["llm-kit-workloads"]).values()
    return objects


def _namespaces(template: dict) -> dict[str, dict]:
    return {
        o["metadata"]["name"]: o["metadata"]["labels"]
        for items in kubernetes_objects(template).values()
        for o in items
        if o["kind"] == "Namespace"
    }


def test_the_vpc_cni_enforces_network_policies(cluster_template):
    [cni] = [a["Properties"] for a in resources(cluster_template, "AWS::EKS::Addon").values() if a["Properties"]["AddonName"] == "vpc-cni"]
    assert json.loads(cni["ConfigurationValues"]) == {"enableNetworkPolicy": "true"}


def test_the_workloads_namespace_is_restricted_and_denies_by_default(default_templates):
    objects = _workloads_base(default_templates)
    [namespace] = [o for o in objects if o["kind"] == "Namespace"]
    labels = namespace["metadata"]["labels"]
    assert (labels[PSA], labels["pod-security.kubernetes.io/warn"], labels["pod-security.kubernetes.io/audit"]) == ("restricted",) * 3
    policies = {o["metadata"]["name"]: o["spec"] for o in objects if o["kind"] == "NetworkPolicy"}
    assert policies["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    dns = policies["allow-dns"]["egress"][0]
    assert dns["to"][0]["podSelector"] == {"matchLabels": {"k8s-app": "kube-dns"}} and {p["port"] for p in dns["ports"]} == {53}
    assert policies["allow-pod-identity"]["egress"] == [
        {"to": [{"ipBlock": {"cidr": "169.254.170.23/32"}}], "ports": [{"protocol": "TCP", "port": 80}]}
    ]


def test_the_namespace_is_baseline_while_an_operator_builds_pods_in_it(tmp_path):
    templates = synth(Path("config/examples/dynamo-disaggregated-p5.yaml"), tmp_path / "out")
    [workloads] = [name for name in templates if name.endswith("-workloads")]
    [namespace] = [o for o in _workloads_base({"llm-kit-workloads": templates[workloads]}) if o["kind"] == "Namespace"]
    assert namespace["metadata"]["labels"][PSA] == "baseline"


def test_chart_namespaces_are_created_by_the_kit_with_their_level(tmp_path):
    overrides = {"observability": {"metrics": "in-cluster"}}
    templates = synth(write_config(tmp_path, overrides), tmp_path / "out")
    cluster = templates["llm-kit-cluster"]
    charts = helm_charts(cluster)
    assert all(chart["Properties"].get("CreateNamespace") in (None, False) for chart in charts.values())
    levels = {name: labels[PSA] for name, labels in _namespaces(cluster).items()}
    # Node exporter and the DCGM exporter read the host: privileged, and alone in their namespace.
    assert levels == {"monitoring": "privileged"}
    [namespace_id] = [name for name, items in kubernetes_objects(cluster).items() if items[0]["kind"] == "Namespace"]
    assert namespace_id in charts["kube-prometheus-stack"]["DependsOn"]
    # The namespace comes with its default deny, DNS and API; the chart waits for its own flows too.
    baseline = {o["metadata"]["name"] for o in kubernetes_objects(cluster)[namespace_id] if o["kind"] == "NetworkPolicy"}
    assert baseline == {"default-deny", "allow-dns", "allow-api-server"}
    flows = {
        name
        for name, items in kubernetes_objects(cluster).items()
        if name in charts["kube-prometheus-stack"]["DependsOn"] and items[0]["kind"] == "NetworkPolicy"
    }
    [policies_id] = flows
    names = {o["metadata"]["name"] for o in kubernetes_objects(cluster)[policies_id]}
    assert names == {"prometheus", "alertmanager", "grafana", "prometheus-operator", "kube-state-metrics"}
    assert namespace_id in cluster["Resources"][policies_id]["DependsOn"]


@pytest.fixture(scope="module")
def open_templates(tmp_path_factory):
    folder = tmp_path_factory.mktemp("open")
    return synth(write_config(folder, {"cluster": {"network_policies": {"enabled": False}}}), folder / "out")


def test_turning_isolation_off_leaves_the_cni_and_namespace_open(open_templates):
    [cni] = [
        a["Properties"]
        for a in resources(open_templates["llm-kit-cluster"], "AWS::EKS::Addon").values()
        if a["Properties"]["AddonName"] == "vpc-cni"
    ]
    assert "ConfigurationValues" not in cni
    assert not [o for o in _workloads_base(open_templates) if o["kind"] == "NetworkPolicy"]
    cluster_objects = [o for items in kubernetes_objects(open_templates["llm-kit-cluster"]).values() for o in items]
    assert "monitoring" in {o["metadata"]["name"] for o in cluster_objects if o["kind"] == "Namespace"}
    assert not [o for o in cluster_objects if o["kind"] == "NetworkPolicy"]
