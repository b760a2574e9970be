"""Flows that must pass and flows that must not, evaluated over the NetworkPolicies the kit synthesizes.

Each flow is source -> destination:port; it passes only when the source's egress and the destination's ingress
both allow it (tests/infra/netpol.py). Pods are given addresses in the node subnet, as the VPC CNI gives them; the
API server calls webhooks from an address of the control-plane subnets; "the internet" is a public AWS address.
Charts' pods are described by the labels the pinned charts give them (infra/cluster/platform_policies.py cites the
templates); the kit's own pods by the labels they are synthesized with.
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass
from ipaddress import IPv4Network
from pathlib import Path

import pytest

from assembly.app import render_workloads
from assembly.kit import KIT
from config.platform import control_plane_cidrs
from core.subnet_plan import plan_subnets
from core.isolation import PROXY_APP_LABELS
from core.labels import WORKLOAD_LABEL
from core.routing import RATE_LIMIT_REDIS
from core.requirements import ControllerChart, ControllerFlows
from infra.cluster.platform_policies import CHARTS, PlatformNetwork, chart_policies, namespace_baseline
from infra.routing.audit import LABELS as SHIPPER_LABELS
from infra.routing.audit import proxy_deployment, proxy_log_glob
from infra.routing.redis_auth import RATE_LIMITER_LABELS
from infra.stacks.cluster_props import platform_network
from tests.helpers import DEFAULT_CONFIG, REPO, kubernetes_objects, nested_templates, read_templates, synth
from tests.infra.netpol import Endpoint, Policies

EXAMPLES = REPO / "config" / "examples"


@dataclass(frozen=True)
class Flow:
    source: str
    destination: str
    port: int
    allowed: bool
    protocol: str = "TCP"


class Network:
    """Addresses for one config's endpoints: pods and interface endpoints in the node subnet, the API server's
    interfaces in a control-plane subnet, the `kubernetes` Service address, a public address, Pod Identity's agent."""

    def __init__(self, config_path: Path) -> None:
        config = KIT.load(config_path)
        nodes = next(plan.cidr for plan in plan_subnets(config.network.vpc_cidr, config.network.node_subnet_prefix) if plan.role == "nodes")
        self._pod_ips = (str(ip) for ip in nodes.hosts())
        control_plane = IPv4Network(control_plane_cidrs(config)[0])
        self.endpoints: dict[str, Endpoint] = {
            "control-plane": Endpoint("control-plane", str(control_plane.network_address + 5)),
            "kubernetes-service": Endpoint("kubernetes-service", "172.20.0.1"),
            "other-service": Endpoint("other-service", "172.20.31.7"),
            "internet": Endpoint("internet", "52.94.133.131"),
            "pod-identity-agent": Endpoint("pod-identity-agent", "169.254.170.23"),
            "interface-endpoint": Endpoint("interface-endpoint", next(self._pod_ips)),
        }

    def pod(self, name: str, namespace: str, labels: dict[str, str]) -> None:
        self.endpoints[name] = Endpoint(name, next(self._pod_ips), namespace, labels)


def _all_objects(outdir: Path) -> list[dict]:
    templates = [*read_templates(outdir).values(), *nested_templates(outdir).values()]
    return [obj for template in templates for objects in kubernetes_objects(template).values() for obj in objects]


def _check(policies: Policies, network: Network, flows: list[Flow]) -> None:
    wrong = []
    for flow in flows:
        egress, ingress = policies.allows(network.endpoints[flow.source], network.endpoints[flow.destination], flow.port, flow.protocol)
        if (egress and ingress) != flow.allowed:
            wrong.append(
                f"{flow.source} -> {flow.destination}:{flow.port} expected {'allowed' if flow.allowed else 'denied'}; egress {egress}, "
                f"ingress {ingress}"
            )
    assert not wrong, "\n".join(wrong)


def _namespaces(objects: list[dict]) -> set[str]:
    return {o["metadata"]["name"] for o in objects if o["kind"] == "Namespace"}


def _assert_every_namespace_denies_by_default(objects: list[dict]) -> None:
    deny = {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    denied = {
        o["metadata"]["namespace"]
        for o in objects
        if o["kind"] == "NetworkPolicy" and o["metadata"]["name"] == "default-deny" and o["spec"] == deny
    }
    assert _namespaces(objects) - denied == set()


# The default config: the workloads namespace and the exporters the managed scraper reads.


@pytest.fixture(scope="module")
def default_objects(default_templates, default_out):
    return _all_objects(default_out)


@pytest.mark.e2e
def test_every_namespace_of_the_default_config_denies_by_default(default_objects):
    assert {"inference", "monitoring"} <= _namespaces(default_objects)
    _assert_every_namespace_denies_by_default(default_objects)


@pytest.mark.e2e
def test_default_config_flows(default_objects):
    net = Network(DEFAULT_CONFIG)
    net.pod("model-server", "inference", {WORKLOAD_LABEL: "llama-8b", "app.kubernetes.io/name": "llama-8b"})
    net.pod("other-inference-pod", "inference", {"app": "debug"})
    net.pod("dcgm-exporter", "monitoring", {"app.kubernetes.io/name": "dcgm-exporter", "app.kubernetes.io/instance": "dcgm-exporter"})
    net.pod(
        "kube-state-metrics",
        "monitoring",
        {"app.kubernetes.io/name": "kube-state-metrics", "app.kubernetes.io/instance": "kube-state-metrics"},
    )
    _check(
        Policies(default_objects),
        net,
        [
            # The managed scraper reads the exporters from the control-plane subnets.
            Flow("control-plane", "dcgm-exporter", 9400, True),
            Flow("control-plane", "kube-state-metrics", 8080, True),
            Flow("dcgm-exporter", "kubernetes-service", 443, True),
            Flow("kube-state-metrics", "control-plane", 443, True),
            # Nothing else reaches them, and they reach nothing else.
            Flow("model-server", "dcgm-exporter", 9400, False),
            Flow("other-inference-pod", "kube-state-metrics", 8080, False),
            Flow("control-plane", "kube-state-metrics", 8081, False),
            Flow("dcgm-exporter", "internet", 443, False),
            Flow("kube-state-metrics", "model-server", 8000, False),
            # A pod of the workloads namespace with no workload policy of its own gets nothing but DNS and Pod Identity.
            Flow("other-inference-pod", "model-server", 8000, False),
            Flow("other-inference-pod", "internet", 443, False),
            Flow("model-server", "internet", 443, True),
            Flow("model-server", "pod-identity-agent", 80, True),
            # Its HTTPS out of the VPC is not a way to the API server: neither the `kubernetes` Service (the CNI's agent
            # matches it before kube-proxy translates it) nor the endpoint's interfaces in the control-plane subnets.
            Flow("model-server", "kubernetes-service", 443, False),
            Flow("model-server", "other-service", 443, False),
            Flow("model-server", "control-plane", 443, False),
        ],
    )


# Dynamo: the graph's components reach the API (Kubernetes discovery) and each other, and nothing else in the cluster.


def test_dynamo_graph_flows():
    path = EXAMPLES / "dynamo-disaggregated-p5.yaml"
    config = KIT.load(path)
    rendered = render_workloads(config)["llama-70b"]
    objects = [*rendered, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "inference"}}]
    net = Network(path)
    graph = {"nvidia.com/dynamo-graph-deployment-name": "llama-70b"}
    for role in ("frontend", "prefill", "decode"):
        net.pod(role, "inference", {**_component_labels(rendered, role), **graph})
    net.pod("vllm-server", "inference", {WORKLOAD_LABEL: "other"})
    net.pod("nats", "dynamo-system", {"app.kubernetes.io/name": "nats"})
    _check(
        Policies(objects),
        net,
        [
            Flow("frontend", "kubernetes-service", 443, True),
            Flow("frontend", "control-plane", 443, True),
            Flow("prefill", "kubernetes-service", 443, True),
            Flow("decode", "control-plane", 443, True),
            # Request plane (TCP), KV events (ZMQ) and NIXL between the graph's own pods, on whatever ports they open.
            Flow("frontend", "decode", 36123, True),
            Flow("prefill", "decode", 5600, True),
            Flow("decode", "frontend", 5557, True),
            # ai-dynamo 1.4.2 needs no NATS (TCP request plane, ZMQ event plane; the chart installs none): none is opened.
            Flow("frontend", "nats", 4222, False),
            Flow("decode", "nats", 4222, False),
            # Weights from FSx: no HTTPS out at all; and no other pod reaches the graph's workers.
            Flow("prefill", "internet", 443, False),
            Flow("vllm-server", "decode", 9090, False),
            Flow("vllm-server", "frontend", 8000, False),
        ],
    )


def _component_labels(objects: list[dict], role: str) -> dict[str, str]:
    """The labels the kit gives a DynamoGraphDeployment component's pods."""
    graph = next(o for o in objects if o["kind"] == "DynamoGraphDeployment")
    component = next(c for c in graph["spec"]["components"] if c["name"] == role)
    return dict(component["podTemplate"]["metadata"]["labels"])


# Teams and capacity blocks: team namespaces (Kueue), burn-in, the capacity-block reconciler, Kueue and LWS.


@pytest.fixture(scope="module")
def capacity_objects(tmp_path_factory):
    out = tmp_path_factory.mktemp("capacity") / "out"
    synth(EXAMPLES / "capacity-platform.yaml", out)
    return _all_objects(out)


@pytest.mark.e2e
def test_every_namespace_of_the_capacity_platform_denies_by_default(capacity_objects):
    assert {
        "inference",
        "search-jobs",
        "research-jobs",
        "gpu-burn-in",
        "capacity-blocks",
        "kueue-system",
        "lws-system",
        "monitoring",
    } <= _namespaces(capacity_objects)
    _assert_every_namespace_denies_by_default(capacity_objects)


@pytest.mark.e2e
def test_capacity_platform_flows(capacity_objects):
    net = Network(EXAMPLES / "capacity-platform.yaml")
    net.pod("model-server", "inference", {WORKLOAD_LABEL: "llama-70b"})
    net.pod("search-job", "search-jobs", {"job-name": "train"})
    net.pod("search-job-2", "search-jobs", {"job-name": "train"})
    net.pod("research-job", "research-jobs", {"job-name": "eval"})
    net.pod(
        "burn-in",
        "gpu-burn-in",
        {"app.kubernetes.io/name": "gpu-burn-in", "app.kubernetes.io/part-of": "llm-serving-kit", "llm-kit/pool": "h100-block"},
    )
    net.pod(
        "reconciler",
        "capacity-blocks",
        {"app.kubernetes.io/name": "capacity-block-reconciler", "app.kubernetes.io/part-of": "llm-serving-kit"},
    )
    net.pod(
        "kueue",
        "kueue-system",
        {"control-plane": "controller-manager", "app.kubernetes.io/name": "kueue", "app.kubernetes.io/instance": "kueue"},
    )
    net.pod(
        "lws", "lws-system", {"control-plane": "controller-manager", "app.kubernetes.io/name": "lws", "app.kubernetes.io/instance": "lws"}
    )
    _check(
        Policies(capacity_objects),
        net,
        [
            # A team's Jobs: among themselves and HTTPS out of the VPC; never a model server, another team, the API.
            Flow("search-job", "search-job-2", 29500, True),
            Flow("search-job", "internet", 443, True),
            Flow("search-job", "pod-identity-agent", 80, True),
            Flow("search-job", "model-server", 8000, False),
            Flow("search-job", "research-job", 29500, False),
            Flow("research-job", "search-job", 29500, False),
            Flow("search-job", "kubernetes-service", 443, False),
            Flow("search-job", "kueue", 9443, False),
            Flow("model-server", "search-job", 29500, False),
            # Nothing reaches the burn-in pods; the verdict reaches the API and nothing else.
            Flow("model-server", "burn-in", 8000, False),
            Flow("search-job", "burn-in", 22, False),
            Flow("reconciler", "burn-in", 443, False),
            Flow("control-plane", "burn-in", 443, False),
            Flow("burn-in", "kubernetes-service", 443, True),
            Flow("burn-in", "internet", 443, False),
            Flow("burn-in", "model-server", 8000, False),
            # The reconciler talks to the API only.
            Flow("reconciler", "kubernetes-service", 443, True),
            Flow("reconciler", "internet", 443, False),
            Flow("search-job", "reconciler", 8080, False),
            # The API server calls Kueue's webhook and visibility API, and LWS's webhook; no pod does.
            Flow("control-plane", "kueue", 9443, True),
            Flow("control-plane", "kueue", 8082, True),
            Flow("control-plane", "kueue", 8443, False),
            Flow("model-server", "kueue", 9443, False),
            Flow("control-plane", "lws", 9443, True),
            Flow("search-job", "lws", 9443, False),
            Flow("kueue", "kubernetes-service", 443, True),
            Flow("kueue", "internet", 443, False),
        ],
    )


# The gateway with teams and Bedrock: Envoy Gateway, Envoy AI Gateway, the audit shipper, the CRD bundle Job.


@pytest.fixture(scope="module")
def gateway_objects(tmp_path_factory):
    out = tmp_path_factory.mktemp("gateway") / "out"
    synth(EXAMPLES / "gateway-teams-bedrock.yaml", out)
    return _all_objects(out)


@pytest.mark.e2e
def test_every_namespace_of_the_gateway_config_denies_by_default(gateway_objects):
    expected = {"inference", "envoy-gateway-system", "envoy-ai-gateway-system", "gateway-audit", "crd-bundles", "monitoring"}
    assert expected <= _namespaces(gateway_objects)
    _assert_every_namespace_denies_by_default(gateway_objects)


@pytest.mark.e2e
def test_gateway_flows(gateway_objects):
    net = Network(EXAMPLES / "gateway-teams-bedrock.yaml")
    proxy_labels = {
        **PROXY_APP_LABELS,
        "gateway.envoyproxy.io/owning-gateway-name": "llm-gateway",
        "gateway.envoyproxy.io/owning-gateway-namespace": "inference",
    }
    net.pod("proxy", "envoy-gateway-system", proxy_labels)
    net.pod("other-gateway-proxy", "envoy-gateway-system", {**PROXY_APP_LABELS, "gateway.envoyproxy.io/owning-gateway-name": "other"})
    net.pod(
        "envoy-gateway",
        "envoy-gateway-system",
        {"control-plane": "envoy-gateway", "app.kubernetes.io/name": "gateway-helm", "app.kubernetes.io/instance": "eg"},
    )
    net.pod("ratelimit", "envoy-gateway-system", dict(RATE_LIMITER_LABELS))
    net.pod("redis", "envoy-gateway-system", {"app.kubernetes.io/part-of": "llm-teams", "app.kubernetes.io/name": RATE_LIMIT_REDIS})
    net.pod("ai-gateway", "envoy-ai-gateway-system", {"app.kubernetes.io/name": "ai-gateway-helm", "app.kubernetes.io/instance": "aieg"})
    net.pod("model-server", "inference", {WORKLOAD_LABEL: "llama-8b", "app.kubernetes.io/name": "llama-8b"})
    net.pod("shipper", "gateway-audit", dict(SHIPPER_LABELS))
    net.pod(
        "crd-job",
        "crd-bundles",
        {"app.kubernetes.io/name": "crd-bundle-inference-extension", "app.kubernetes.io/part-of": "llm-serving-kit"},
    )
    net.pod("dcgm-exporter", "monitoring", {"app.kubernetes.io/name": "dcgm-exporter"})
    listener = 10443  # the example has a certificate: listener 443, Envoy's container port 10443
    _check(
        Policies(gateway_objects),
        net,
        [
            # Clients reach the proxies' listener only; the proxies reach the model server, the rate limiter, their
            # controller's xDS, Bedrock and their Pod Identity credentials.
            Flow("internet", "proxy", listener, True),
            Flow("internet", "proxy", 19000, False),
            Flow("proxy", "model-server", 8000, True),
            Flow("proxy", "ratelimit", 8081, True),
            Flow("proxy", "envoy-gateway", 18000, True),
            Flow("proxy", "internet", 443, True),
            Flow("proxy", "pod-identity-agent", 80, True),
            Flow("proxy", "kubernetes-service", 443, False),
            Flow("proxy", "redis", 6379, False),
            Flow("proxy", "ai-gateway", 1063, False),
            Flow("other-gateway-proxy", "model-server", 8000, False),
            Flow("control-plane", "proxy", 19001, True),
            Flow("control-plane", "proxy", 1064, True),
            # The rate limiter alone reaches the Redis, and takes its limits from the controller.
            Flow("ratelimit", "redis", 6379, True),
            Flow("ratelimit", "envoy-gateway", 18001, True),
            Flow("model-server", "redis", 6379, False),
            Flow("envoy-gateway", "redis", 6379, False),
            Flow("shipper", "redis", 6379, False),
            Flow("redis", "internet", 443, False),
            # Envoy Gateway's controller: its extension server (the AI Gateway controller), the API, its webhook.
            Flow("envoy-gateway", "ai-gateway", 1063, True),
            Flow("envoy-gateway", "kubernetes-service", 443, True),
            Flow("control-plane", "envoy-gateway", 9443, True),
            Flow("model-server", "envoy-gateway", 18000, False),
            Flow("model-server", "envoy-gateway", 9443, False),
            Flow("envoy-gateway", "proxy", listener, False),
            Flow("envoy-gateway", "internet", 443, False),
            # The AI Gateway controller: the API server calls its pod webhook; only Envoy Gateway's controller its extension server.
            Flow("control-plane", "ai-gateway", 9443, True),
            Flow("ai-gateway", "kubernetes-service", 443, True),
            Flow("ratelimit", "ai-gateway", 1063, False),
            Flow("model-server", "ai-gateway", 9443, False),
            # The model server admits the proxies, not other pods of the platform.
            Flow("ratelimit", "model-server", 8000, False),
            Flow("ai-gateway", "model-server", 8000, False),
            Flow("model-server", "proxy", listener, False),
            # The audit shipper: CloudWatch Logs (public or the interface endpoint) and Pod Identity; no API, nothing in.
            Flow("shipper", "internet", 443, True),
            Flow("shipper", "interface-endpoint", 443, True),
            Flow("shipper", "pod-identity-agent", 80, True),
            Flow("shipper", "kubernetes-service", 443, False),
            Flow("shipper", "model-server", 8000, False),
            Flow("proxy", "shipper", 2020, False),
            Flow("control-plane", "shipper", 2020, False),
            # The CRD bundle Job: the release files over HTTPS out of the VPC and the API; nothing else.
            Flow("crd-job", "internet", 443, True),
            Flow("crd-job", "kubernetes-service", 443, True),
            Flow("crd-job", "model-server", 8000, False),
            Flow("crd-job", "interface-endpoint", 443, False),
            Flow("model-server", "crd-job", 443, False),
            Flow("control-plane", "dcgm-exporter", 9400, True),
            Flow("proxy", "dcgm-exporter", 9400, False),
        ],
    )


# Charts the examples above do not install, evaluated on their policies alone (the default config's network).


@pytest.fixture(scope="module")
def chart_network():
    return platform_network(KIT.load(DEFAULT_CONFIG))


def _required_controllers() -> dict[str, ControllerChart]:
    """The controller charts the examples' workloads require, as the cluster stack installs them, by chart."""
    examples = ("dynamo-disaggregated-p5.yaml", "ray-serve-llama-8b.yaml", "capacity-platform.yaml")
    return {c.chart: c for example in examples for c in KIT.requirements(KIT.load(EXAMPLES / example)).controllers}


REQUIRED = _required_controllers()


def _chart_objects(net: PlatformNetwork, charts: dict[str, tuple[str, str]]) -> list[dict]:
    """charts: chart -> (namespace, release); each namespace once, with its baseline. The platform's own charts take
    their flows from CHARTS; the ones workloads require, from their ControllerChart's declared flows."""
    objects: list[dict] = []
    for namespace in dict.fromkeys(namespace for namespace, _ in charts.values()):
        objects += [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}, *namespace_baseline(namespace, net)]
    for chart, (namespace, release) in charts.items():
        if chart in CHARTS:
            objects += chart_policies(chart, CHARTS[chart].version, namespace, release, {}, net)
        else:
            required = REQUIRED[chart]
            objects += chart_policies(chart, required.pin.version, namespace, release, {}, net, required.flows)
    return objects


def test_every_chart_a_workload_requires_declares_its_flows_at_its_pinned_version():
    blueprints = {"lws", "dynamo-platform", "kuberay-operator"}
    assert blueprints <= set(REQUIRED) and not blueprints & set(CHARTS)
    for chart, required in REQUIRED.items():
        if chart not in CHARTS:  # the platform's own (the gateway's, say) keep theirs in infra
            assert required.flows and {flows.read_at for flows in required.flows} == {required.pin.version}, chart


def test_keda_dynamo_and_in_cluster_prometheus_flows(chart_network):
    from dataclasses import replace

    in_cluster = replace(
        chart_network,
        metrics_backend="in-cluster",
        scrapers=(
            {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
                "podSelector": {
                    "matchLabels": {"app.kubernetes.io/name": "prometheus", "app.kubernetes.io/managed-by": "prometheus-operator"}
                },
            },
        ),
    )
    charts = {
        "keda": ("keda", "keda"),
        "dynamo-platform": ("dynamo-system", "dynamo-platform"),
        "kube-prometheus-stack": ("monitoring", "kube-prometheus-stack"),
    }
    objects = [*_chart_objects(in_cluster, charts), {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "inference"}}]
    net = Network(DEFAULT_CONFIG)
    net.pod("keda-operator", "keda", {"app": "keda-operator"})
    net.pod("keda-metrics", "keda", {"app": "keda-operator-metrics-apiserver"})
    net.pod("keda-webhooks", "keda", {"app": "keda-admission-webhooks"})
    net.pod("prometheus", "monitoring", {"app.kubernetes.io/name": "prometheus", "app.kubernetes.io/managed-by": "prometheus-operator"})
    net.pod("grafana", "monitoring", {"app.kubernetes.io/name": "grafana"})
    net.pod("alertmanager", "monitoring", {"app.kubernetes.io/name": "alertmanager"})
    net.pod("prometheus-operator", "monitoring", {"app": "kube-prometheus-stack-operator", "release": "kube-prometheus-stack"})
    net.pod("nats", "dynamo-system", {"app.kubernetes.io/name": "nats"})
    net.pod("dynamo-operator", "dynamo-system", {"control-plane": "controller-manager"})
    net.pod("worker", "inference", {WORKLOAD_LABEL: "graph"})
    _check(
        Policies(objects),
        net,
        [
            Flow("control-plane", "keda-metrics", 6443, True),
            Flow("control-plane", "keda-webhooks", 9443, True),
            Flow("keda-metrics", "keda-operator", 9666, True),
            Flow("keda-operator", "prometheus", 9090, True),
            Flow("keda-operator", "internet", 443, False),
            Flow("worker", "keda-operator", 9666, False),
            Flow("keda-webhooks", "keda-operator", 9666, False),
            Flow("grafana", "prometheus", 9090, True),
            Flow("prometheus", "alertmanager", 9093, True),
            Flow("prometheus", "worker", 8000, True),
            Flow("prometheus", "internet", 443, False),
            Flow("control-plane", "prometheus-operator", 10250, True),
            Flow("worker", "prometheus", 9090, False),
            Flow("worker", "alertmanager", 9093, False),
            # ai-dynamo 1.4.2's platform installs no NATS and the graphs need none: nothing reaches such a pod.
            Flow("worker", "nats", 4222, False),
            Flow("control-plane", "dynamo-operator", 9443, True),
            Flow("worker", "dynamo-operator", 9443, False),
        ],
    )
    amp = _chart_objects(chart_network, {"keda": ("keda", "keda")})
    _check(
        Policies(amp),
        net,
        [
            Flow("keda-operator", "internet", 443, True),
            Flow("keda-operator", "pod-identity-agent", 80, True),
            Flow("keda-operator", "prometheus", 9090, False),
        ],
    )


def test_the_kuberay_operator_reaches_the_ray_heads_dashboard_and_serve_proxy_only(chart_network):
    objects = [
        *_chart_objects(chart_network, {"kuberay-operator": ("kuberay-system", "kuberay-operator")}),
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "inference"}},
    ]
    net = Network(DEFAULT_CONFIG)
    net.pod("kuberay", "kuberay-system", {"app.kubernetes.io/name": "kuberay-operator"})
    net.pod("head", "inference", {"ray.io/node-type": "head"})
    net.pod("ray-worker", "inference", {"ray.io/node-type": "worker"})
    _check(
        Policies(objects),
        net,
        [
            Flow("kuberay", "head", 8265, True),
            Flow("kuberay", "head", 8000, True),
            Flow("kuberay", "head", 6379, False),
            Flow("kuberay", "ray-worker", 8265, False),
            Flow("kuberay", "kubernetes-service", 443, True),
            Flow("control-plane", "kuberay", 9443, False),
        ],
    )


def test_a_chart_without_flows_or_read_at_another_version_is_refused(chart_network):
    with pytest.raises(ValueError, match=r"names none of its flows: declare `flows` on its ControllerChart \(core/requirements.py\)"):
        chart_policies("some-new-chart", "1.0.0", "ns", "r", {}, chart_network)
    with pytest.raises(ValueError, match="read its ports again"):
        chart_policies("keda", "2.21.0", "keda", "keda", {}, chart_network)
    declared = (ControllerFlows(read_at="1.0.0", pods={"app": "echo"}, webhook_ports=(9443,)),)
    with pytest.raises(ValueError, match="were read at 1.0.0, but 1.1.0 is installed: read its ports again"):
        chart_policies("echo", "1.1.0", "echo-system", "echo", {}, chart_network, declared)


def test_declared_flows_become_the_controllers_policies(chart_network):
    declared = (
        ControllerFlows(
            read_at="1.0.0",
            pods={"app": "echo"},
            webhook_ports=(9443,),
            metrics_ports=(8080,),
            to_workloads=(({"role": "head"}, (8265,)),),
            from_workloads=(4222,),
        ),
    )
    objects = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "echo-system"}},
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "inference"}},
        *namespace_baseline("echo-system", chart_network),
        *chart_policies("echo", "1.0.0", "echo-system", "echo", {}, chart_network, declared),
    ]
    net = Network(DEFAULT_CONFIG)
    net.pod("echo", "echo-system", {"app": "echo"})
    net.pod("other", "echo-system", {"app": "other"})
    net.pod("head", "inference", {"role": "head"})
    net.pod("worker", "inference", {"role": "worker"})
    _check(
        Policies(objects),
        net,
        [
            Flow("control-plane", "echo", 9443, True),
            # The AMP collector scrapes from the control-plane subnets (the default config's scrapers).
            Flow("control-plane", "echo", 8080, True),
            Flow("worker", "echo", 8080, False),
            Flow("control-plane", "echo", 9000, False),
            Flow("control-plane", "other", 9443, False),
            Flow("echo", "head", 8265, True),
            Flow("echo", "head", 8000, False),
            Flow("echo", "worker", 8265, False),
            Flow("worker", "echo", 4222, True),
            Flow("worker", "echo", 9443, False),
            Flow("worker", "other", 4222, False),
            Flow("other", "head", 8265, False),
        ],
    )


# The audit shipper tails the container log of the kit's Gateway's proxies and nothing else.


def test_the_audit_shipper_tails_only_the_gateways_proxy_containers():
    deployment = proxy_deployment("inference")
    # envoy-<namespace>-<name>-<first 8 hex of sha256("inference/llm-gateway")>
    assert deployment.startswith("envoy-inference-llm-gateway-") and len(deployment.rsplit("-", 1)[1]) == 8
    pattern = proxy_log_glob("inference")
    container_id = "0123456789abcdef" * 4
    shipped = f"/var/log/containers/{deployment}-5d8f7c9b4-x2k9q_envoy-gateway-system_envoy-{container_id}.log"
    skipped = [
        f"/var/log/containers/{deployment}-5d8f7c9b4-x2k9q_envoy-gateway-system_shutdown-manager-{container_id}.log",
        f"/var/log/containers/{deployment}-5d8f7c9b4-x2k9q_envoy-gateway-system_ai-gateway-extproc-{container_id}.log",
        f"/var/log/containers/envoy-ratelimit-6b9c-abcde_envoy-gateway-system_envoy-ratelimit-{container_id}.log",
        f"/var/log/containers/envoy-gateway-7f9d-abcde_envoy-gateway-system_envoy-gateway-{container_id}.log",
        f"/var/log/containers/{proxy_deployment('other')}-5d8f7c9b4-x2k9q_envoy-gateway-system_envoy-{container_id}.log",
        f"/var/log/containers/{deployment}-5d8f7c9b4-x2k9q_inference_envoy-{container_id}.log",
    ]
    assert fnmatch.fnmatchcase(shipped, pattern)
    assert [path for path in skipped if fnmatch.fnmatchcase(path, pattern)] == []


def test_a_long_gateway_namespace_is_cut_as_envoy_gateway_cuts_it():
    long = "a" * 40 + "-" + "b" * 20
    deployment = proxy_deployment(long)
    # 48 characters of "<namespace>-llm-gateway", one trailing '-' trimmed, then the hash.
    assert deployment == f"envoy-{('a' * 40 + '-' + 'b' * 7)}-{deployment[-8:]}"
    # A generated pod name keeps at most 58 characters of its ReplicaSet's name.
    assert proxy_log_glob(long).startswith(f"/var/log/containers/{(deployment + '-')[:58]}*_")
    assert json.dumps(deployment)  # a plain string
