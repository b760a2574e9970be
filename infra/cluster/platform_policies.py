"""NetworkPolicies of the namespaces the kit creates for its platform pieces: each denies everything by default and
then admits the flows its pods need, named per component (pods by their labels, ports as the pinned charts define them).

How the VPC CNI's network policy agent (enableNetworkPolicy) reads these, and why they are written this way:
- Traffic between a pod and its own node always passes (aws/aws-network-policy-agent PR 65): kubelet probes need no
  rule. Host-network pods (node exporter) are selected by no policy; what they send arrives from a node's address.
- The API server calls webhooks and aggregated APIs from the EKS control plane's network interfaces, which live in
  the cluster's subnets (the kit's control-plane subnets, or the whole VPC for an existing one): those ports admit
  these ranges (PlatformNetwork.control_plane), never the pods of another namespace.
- Pods reach the API through the `kubernetes` Service address and the endpoint's interfaces (config.platform:
  kubernetes_service_ip, control_plane_cidrs), by ipBlock: the agent matches the Service address before it is
  translated.
- AWS APIs: HTTPS out of the VPC (through the NAT gateway) and to the interface endpoints' subnets; EKS Pod
  Identity credentials from the node's agent at 169.254.170.23:80.

Each namespace's Namespace object and its baseline (default deny, DNS, and the API for every pod where every pod is a
controller or a chart's hook Job) are one manifest (helm.chart_namespace); a chart's own policies are a manifest the
chart waits for, so no pod of it starts before its flows are open. `PlatformIsolation` carries the config's network
facts on the cluster construct; without it (cluster.network_policies.enabled: false) nothing here is written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Network
from typing import Any

from constructs import Construct

from core.isolation import (
    POD_IDENTITY_AGENT,
    POD_IDENTITY_PORT,
    PROXY_APP_LABELS,
    SCRAPER_NAMESPACES,
    SCRAPER_PODS,
    cidr_peer,
    gateway_proxy_peer,
    namespace_peer,
)
from core.requirements import ControllerFlows
from core.routing import PROXY_NAMESPACE, RATE_LIMIT_REDIS
from infra.cluster.namespace import default_deny_and_dns
from infra.routing.redis_auth import RATE_LIMITER_LABELS, REDIS_PORT

API = "networking.k8s.io/v1"
HTTPS = 443
LABELS = {"app.kubernetes.io/part-of": "llm-serving-kit", "app.kubernetes.io/component": "network-policy"}
DNS_PEER = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
}
EVERY_POD: dict[str, Any] = {}


@dataclass(frozen=True)
class PlatformNetwork:
    """The config's network, as the platform namespaces' policies need it (infra/stacks/cluster_props.py maps it)."""

    api_server: tuple[str, ...]
    """The `kubernetes` Service address and the ranges of the API endpoint's interfaces."""
    control_plane: tuple[str, ...]
    """Where the API server's calls to webhooks and aggregated APIs come from."""
    vpc_cidr: str
    """The VPC's range: traffic to it is not "outside the VPC" (outside_vpc_https)."""
    aws_endpoints: tuple[str, ...] = ()
    """Subnets of the VPC's interface endpoints (network.interface_endpoints), reached on HTTPS."""
    scrapers: tuple[Mapping[str, Any], ...] = ()
    """Peers that scrape metrics (core.isolation.NetworkFacts.metrics_from)."""
    metrics_backend: str = "amp"
    """observability.metrics: which scraper's namespace the policies admit."""
    workloads_namespace: str = "inference"
    """Where the model servers, their endpoint pickers and the Gateway object live."""
    gateway_port: int = 80
    """The Gateway listener's port (443 with a certificate); Envoy listens on it shifted above 1023."""
    bedrock: bool = False
    """The proxies call Bedrock (gateway.bedrock) with the proxies' Pod Identity role."""

    @property
    def service_cidr(self) -> str:
        """The cluster's Service range: the /16 EKS picks, which holds the `kubernetes` Service's address."""
        return str(IPv4Network(self.api_server[0].split("/")[0]).supernet(new_prefix=16))

    @property
    def listener_container_port(self) -> int:
        """Envoy Gateway v1.8.3 adds 10000 to a listener port below 1024 for the proxy's container port
        (internal/gatewayapi/listener.go, wellKnownPortShift in translator.go), so Envoy runs without privileges."""
        return self.gateway_port + 10000 if self.gateway_port < 1024 else self.gateway_port


@dataclass(frozen=True, kw_only=True)
class PlatformIsolationProps:
    """The network facts the platform namespaces' NetworkPolicies are written from."""

    network: PlatformNetwork
    """The cluster's network as the policies need it; the stack leaves PlatformIsolation out where the config turns
    network policies off."""


class PlatformIsolation(Construct):
    """The cluster's PlatformNetwork, kept as a child of the cluster construct so every piece that creates a namespace
    finds it (PlatformIsolation.of); attach it before any chart or namespace, as
    `PlatformIsolation(cluster, PlatformIsolation.ID, props)`."""

    ID = "PlatformIsolation"

    def __init__(self, scope: Construct, construct_id: str, props: PlatformIsolationProps) -> None:
        if construct_id != self.ID:
            raise ValueError(
                f"PlatformIsolation: got construct_id {construct_id!r}; PlatformIsolation.of finds only {self.ID!r}; pass "
                "PlatformIsolation.ID"
            )
        super().__init__(scope, construct_id)
        self.network = props.network

    @classmethod
    def of(cls, cluster: Construct) -> PlatformNetwork | None:
        found = cluster.node.try_find_child(cls.ID)
        return found.network if isinstance(found, PlatformIsolation) else None


# Building blocks.


def tcp(*ports: int) -> list[dict[str, Any]]:
    return [{"protocol": "TCP", "port": port} for port in ports]


def rule(peers: Iterable[Mapping[str, Any]], ports: Iterable[int] = ()) -> dict[str, Any]:
    """One ingress (`from`) or egress (`to`) rule; the caller puts it under the right key. No ports: every port."""
    out: dict[str, Any] = {"peers": [dict(peer) for peer in peers]}
    if ports:
        out["ports"] = tcp(*ports)
    return out


def pods(labels: Mapping[str, str], namespace: str | None = None) -> dict[str, Any]:
    peer: dict[str, Any] = {"podSelector": {"matchLabels": dict(labels)}}
    if namespace is not None:
        peer.update(namespace_peer(namespace))
    return peer


@dataclass(frozen=True)
class Component:
    """Pods of one kind in a namespace (a controller, a chart's hook Job, the gateway's proxies) and what they accept
    and send beyond the namespace's baseline."""

    name: str
    pods: Mapping[str, str]
    """Their labels; empty: every pod of the namespace."""
    ingress: tuple[dict[str, Any], ...] = ()
    egress: tuple[dict[str, Any], ...] = ()

    def policy(self, namespace: str) -> dict[str, Any] | None:
        spec: dict[str, Any] = {"podSelector": {"matchLabels": dict(self.pods)} if self.pods else {}, "policyTypes": []}
        for kind, key, peers in (("Ingress", "ingress", "from"), ("Egress", "egress", "to")):
            rules = getattr(self, key)
            if rules:
                spec["policyTypes"].append(kind)
                spec[key] = [{peers: r["peers"], **({"ports": r["ports"]} if "ports" in r else {})} for r in rules]
        if not spec["policyTypes"]:
            return None
        return network_policy(self.name, namespace, spec)


def network_policy(name: str, namespace: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": API,
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(LABELS)},
        "spec": spec,
    }


def api_server(net: PlatformNetwork) -> dict[str, Any]:
    return rule((cidr_peer(cidr) for cidr in net.api_server), (HTTPS,))


def from_control_plane(net: PlatformNetwork, *ports: int) -> dict[str, Any]:
    """The API server calling a webhook or an aggregated API on these (pod) ports."""
    return rule((cidr_peer(cidr) for cidr in net.control_plane), ports)


def from_scrapers(net: PlatformNetwork, *ports: int) -> tuple[dict[str, Any], ...]:
    return (rule(net.scrapers, ports),) if net.scrapers else ()


def outside_vpc_https(net: PlatformNetwork) -> dict[str, Any]:
    """HTTPS out of the VPC only: public AWS endpoints and release downloads through the NAT gateway. The Service
    range is left out too: the agent matches a Service's address before kube-proxy translates it, so 0.0.0.0/0 alone
    would admit every Service on 443, the `kubernetes` one (the API server) included."""
    return rule([cidr_peer("0.0.0.0/0", except_=[net.vpc_cidr, net.service_cidr])], (HTTPS,))


def aws_apis(net: PlatformNetwork) -> tuple[dict[str, Any], ...]:
    """AWS APIs: public endpoints out of the VPC, the interface endpoints in it, and Pod Identity credentials."""
    endpoints = (rule((cidr_peer(cidr) for cidr in net.aws_endpoints), (HTTPS,)),) if net.aws_endpoints else ()
    return (outside_vpc_https(net), *endpoints, rule([cidr_peer(POD_IDENTITY_AGENT)], (POD_IDENTITY_PORT,)))


def namespace_baseline(namespace: str, net: PlatformNetwork, *, api_for_every_pod: bool = True) -> list[dict[str, Any]]:
    """Default deny both ways, DNS for every pod, and the API for every pod when every pod of the namespace is a
    controller or a hook Job that talks to it."""
    objects = default_deny_and_dns(namespace, dict(LABELS))
    if api_for_every_pod:
        objects += component_policies(namespace, [Component("allow-api-server", EVERY_POD, egress=(api_server(net),))])
    return objects


# The platform's own charts in namespaces of their own: their pods' labels and ports at the pinned versions. A chart
# that a workload requires declares its flows on its ControllerChart instead (core.requirements.ControllerFlows).


@dataclass(frozen=True)
class ChartFlows:
    version: str
    """The chart version these facts were read at (a test holds it to core.versions)."""
    components: Callable[[PlatformNetwork, str, Mapping[str, Any]], list[Component]]
    """(network, release, chart values) -> the chart's components."""
    api_for_every_pod: bool = True
    evidence: str = ""


def _envoy_gateway(net: PlatformNetwork, release: str, values: Mapping[str, Any]) -> list[Component]:
    # envoyproxy/gateway v1.8.3: charts/gateway-helm (values.tmpl.yaml deployment.ports: xDS 18000, rate-limit xDS
    # 18001, Wasm 18002, metrics 19001; the topology injector webhook on 9443, envoy-proxy-topology-injector-webhook.yaml;
    # pod labels control-plane: envoy-gateway plus eg.selectorLabels; certgen.yaml labels its Job's pods app: certgen).
    # Proxies: internal/infrastructure/kubernetes/proxy/resource.go (stats 19001, readiness 19003 for the kubelet),
    # xds/bootstrap/bootstrap.go DefaultXdsServerPort 18000. Rate limiter: ratelimit/resource.go (gRPC 8081, metrics
    # 19001, config from the controller's 18001). Envoy AI Gateway v1.1.0 injects its ext_proc sidecar into the proxy
    # pods; it serves the proxies' token metrics on 1064 (aigw-admin, infra/observability/scrape.py).
    controller = {"control-plane": "envoy-gateway", "app.kubernetes.io/instance": release}
    rate_limiter = RATE_LIMITER_LABELS
    proxies = gateway_proxy_peer(net.workloads_namespace)["podSelector"]["matchLabels"]
    extension = extension_server(values)
    proxy_egress = [
        rule([pods(controller)], (18000,)),
        # The model servers and their endpoint pickers (ext_proc): each admits the proxies on its own ports only.
        rule([namespace_peer(net.workloads_namespace)]),
        rule([pods(rate_limiter)], (8081,)),
    ]
    if net.bedrock:
        proxy_egress += [outside_vpc_https(net), rule([cidr_peer(POD_IDENTITY_AGENT)], (POD_IDENTITY_PORT,))]
    return [
        Component(
            "envoy-gateway",
            controller,
            ingress=(
                rule([pods(PROXY_APP_LABELS)], (18000,)),
                rule([pods(rate_limiter)], (18001,)),
                from_control_plane(net, 9443),
                *from_scrapers(net, 19001),
            ),
            egress=(api_server(net), *((rule([pods(extension[0], extension[1])], (extension[2],)),) if extension else ())),
        ),
        Component("envoy-gateway-certgen", {"app": "certgen"}, egress=(api_server(net),)),
        Component(
            "envoy-proxies",
            proxies,
            # Clients come through the network load balancer's node ports (kube-proxy may translate the source to
            # another node's address), so the listener admits any address; the load balancer's source ranges decide.
            ingress=(rule([cidr_peer("0.0.0.0/0")], (net.listener_container_port,)), *from_scrapers(net, 19001, 1064)),
            egress=tuple(proxy_egress),
        ),
        Component(
            "envoy-ratelimit",
            rate_limiter,
            ingress=(rule([pods(proxies)], (8081,)), *from_scrapers(net, 19001)),
            egress=(rule([pods({"app.kubernetes.io/name": RATE_LIMIT_REDIS})], (REDIS_PORT,)), rule([pods(controller)], (18001,))),
        ),
    ]


def extension_server(values: Mapping[str, Any]) -> tuple[dict[str, str], str, int] | None:
    """Envoy Gateway's extension server as the kit configures it (extensionManager.service.fqdn: the AI Gateway
    controller's Service): (its pods' labels, namespace, port)."""
    fqdn = values.get("config", {}).get("envoyGateway", {}).get("extensionManager", {}).get("service", {}).get("fqdn")
    if not fqdn:
        return None
    namespace = fqdn["hostname"].split(".")[1]
    return AI_GATEWAY_CONTROLLER, namespace, int(fqdn["port"])


# Envoy AI Gateway v1.1.0 manifests/charts/ai-gateway-helm: the controller's pods (controller.selectorLabels, release
# aieg), its mutating webhook on 9443 (admission_webhook.yaml: pods of the Envoy Gateway proxies and rate limiter,
# failurePolicy Fail) and the extension server Envoy Gateway calls on 1063 (values.yaml controller.service.ports).
AI_GATEWAY_CONTROLLER = {"app.kubernetes.io/name": "ai-gateway-helm"}


def _ai_gateway(net: PlatformNetwork, release: str, values: Mapping[str, Any]) -> list[Component]:
    controller = {**AI_GATEWAY_CONTROLLER, "app.kubernetes.io/instance": release}
    envoy_gateway = pods({"control-plane": "envoy-gateway"}, PROXY_NAMESPACE)
    return [Component("ai-gateway-controller", controller, ingress=(from_control_plane(net, 9443), rule([envoy_gateway], (1063,))))]


def _no_pods(net: PlatformNetwork, release: str, values: Mapping[str, Any]) -> list[Component]:
    return []


def _keda(net: PlatformNetwork, release: str, values: Mapping[str, Any]) -> list[Component]:
    # kedacore/charts v2.20.2 keda/: the operator (app: keda-operator, gRPC metrics service 9666, which the metrics
    # server calls), the metrics API server (app: keda-operator-metrics-apiserver, service.portHttpsTarget 6443, the
    # API server's aggregated external metrics API) and the admission webhooks (app: keda-admission-webhooks, 9443).
    # Their Prometheus ports are off by default (prometheus.*.enabled: false) and the kit scrapes none of them.
    operator = {"app": "keda-operator"}
    if net.metrics_backend == "amp":
        queries = aws_apis(net)  # aps-workspaces over SigV4, Pod Identity credentials
    elif net.metrics_backend == "in-cluster":
        queries = (rule([pods(SCRAPER_PODS["in-cluster"], SCRAPER_NAMESPACES["in-cluster"])], (9090,)),)
    else:
        queries = ()
    return [
        Component("keda-operator", operator, ingress=(rule([pods({"app": "keda-operator-metrics-apiserver"})], (9666,)),), egress=queries),
        Component(
            "keda-metrics-apiserver",
            {"app": "keda-operator-metrics-apiserver"},
            ingress=(from_control_plane(net, 6443),),
            egress=(rule([pods(operator)], (9666,)),),
        ),
        Component("keda-admission-webhooks", {"app": "keda-admission-webhooks"}, ingress=(from_control_plane(net, 9443),)),
    ]


def _kueue(net: PlatformNetwork, release: str, values: Mapping[str, Any]) -> list[Component]:
    # kubernetes-sigs/kueue v0.19.2 charts/kueue: templates/manager/manager.yaml (webhook 9443, visibility 8082,
    # metrics 8443), _helpers.tpl kueue.selectorLabels; visibility/apiservice_*.yaml serve the on-demand visibility
    # API through the API server. enablePrometheus is false: nothing scrapes 8443.
    manager = {"control-plane": "controller-manager", "app.kubernetes.io/name": "kueue", "app.kubernetes.io/instance": release}
    return [Component("kueue-controller", manager, ingress=(from_control_plane(net, 9443, 8082),))]


def _kube_prometheus_stack(net: PlatformNetwork, release: str, values: Mapping[str, Any]) -> list[Component]:
    # prometheus-community/helm-charts kube-prometheus-stack-88.5.3: the operator's pods (app: <name>-operator,
    # prometheus-operator/deployment.yaml) serve its admission webhook and metrics on tls.internalPort 10250; Prometheus
    # (operator-built StatefulSet, core.isolation.SCRAPER_PODS) on 9090 and its config reloader on 8080; Alertmanager
    # (app.kubernetes.io/name: alertmanager) on 9093 and 8080; Grafana (grafana 12.11.1 subchart) on 3000;
    # kube-state-metrics (8.4.0 subchart) on 8080. The node exporter runs on the host network: no policy selects it.
    prometheus = SCRAPER_PODS["in-cluster"]
    scraper = pods(prometheus)
    return [
        Component(
            "prometheus",
            prometheus,
            ingress=(
                rule([pods({"app.kubernetes.io/name": "grafana"})], (9090,)),
                rule([pods({"app": "keda-operator"}, "keda")], (9090,)),
                rule([scraper], (9090, 8080)),
            ),
            # It scrapes pods and nodes (kubelet 10250, node exporter 9100) across the VPC; every target's own policy
            # decides what it admits.
            egress=(rule([cidr_peer(net.vpc_cidr)]),),
        ),
        Component("alertmanager", {"app.kubernetes.io/name": "alertmanager"}, ingress=(rule([scraper], (9093, 8080)),)),
        Component(
            "grafana", {"app.kubernetes.io/name": "grafana"}, ingress=(rule([scraper], (3000,)),), egress=(rule([scraper], (9090,)),)
        ),
        Component(
            "prometheus-operator",
            {"app": "kube-prometheus-stack-operator"},
            ingress=(from_control_plane(net, 10250), rule([scraper], (10250,))),
        ),
        Component("kube-state-metrics", {"app.kubernetes.io/name": "kube-state-metrics"}, ingress=from_scrapers(net, 8080)),
    ]


def _dcgm_exporter(net: PlatformNetwork, release: str, values: Mapping[str, Any]) -> list[Component]:
    # NVIDIA dcgm-exporter chart 4.8.2: metrics on 9400 (infra/observability/scrape.py DCGM_PORT); with
    # kubernetes.enablePodLabels it reads pods from the API (the namespace baseline).
    return [Component("dcgm-exporter", {"app.kubernetes.io/name": "dcgm-exporter"}, ingress=from_scrapers(net, 9400))]


def _kube_state_metrics(net: PlatformNetwork, release: str, values: Mapping[str, Any]) -> list[Component]:
    # prometheus-community/helm-charts kube-state-metrics-8.4.0: service.port 8080, selectorLabels
    # app.kubernetes.io/name: kube-state-metrics (selfMonitor off: no 8081).
    return [Component("kube-state-metrics", {"app.kubernetes.io/name": "kube-state-metrics"}, ingress=from_scrapers(net, 8080))]


CHARTS: dict[str, ChartFlows] = {
    "gateway-helm": ChartFlows("v1.8.3", _envoy_gateway, api_for_every_pod=False),
    "ai-gateway-crds-helm": ChartFlows("v1.1.0", _no_pods),
    "ai-gateway-helm": ChartFlows("v1.1.0", _ai_gateway),
    "keda": ChartFlows("2.20.2", _keda),
    "kueue": ChartFlows("0.19.2", _kueue),
    "kube-prometheus-stack": ChartFlows("88.5.3", _kube_prometheus_stack),
    "dcgm-exporter": ChartFlows("4.8.2", _dcgm_exporter),
    "kube-state-metrics": ChartFlows("8.4.0", _kube_state_metrics),
}


def chart_flows(chart: str, declared: Sequence[ControllerFlows] = ()) -> ChartFlows:
    """The platform's own charts from CHARTS; any other chart from the flows its ControllerChart declares."""
    if chart in CHARTS:
        return CHARTS[chart]
    if not declared:
        raise ValueError(
            f"chart {chart} installs into a namespace of the kit, which denies all traffic, but names none of its flows: "
            "declare `flows` on its ControllerChart (core/requirements.py), its pods' labels and the ports they accept "
            "and call, read at the pinned chart version"
        )
    versions = sorted({flows.read_at for flows in declared})
    if len(versions) > 1:
        raise ValueError(f"the flows chart {chart} declares were read at several versions ({', '.join(versions)}): read them all at one")
    return ChartFlows(versions[0], lambda net, release, values: declared_components(chart, declared, net))


def declared_components(chart: str, declared: Sequence[ControllerFlows], net: PlatformNetwork) -> list[Component]:
    """A controller's declared flows as components: the API server on its webhook ports, the scrapers on its metrics
    ports, calls to pods of the workloads namespace, and calls from that namespace."""
    components = []
    for index, flows in enumerate(declared):
        workloads = [rule([pods(labels, net.workloads_namespace)], ports) for labels, ports in flows.to_workloads]
        ingress = (
            *((from_control_plane(net, *flows.webhook_ports),) if flows.webhook_ports else ()),
            *(from_scrapers(net, *flows.metrics_ports) if flows.metrics_ports else ()),
            *((rule([namespace_peer(net.workloads_namespace)], flows.from_workloads),) if flows.from_workloads else ()),
        )
        name = chart if len(declared) == 1 else f"{chart}-{index}"
        components.append(Component(name, flows.pods, ingress=ingress, egress=tuple(workloads)))
    return components


def chart_policies(
    chart: str,
    version: str,
    namespace: str,
    release: str,
    values: Mapping[str, Any],
    net: PlatformNetwork,
    declared: Sequence[ControllerFlows] = (),
) -> list[dict[str, Any]]:
    flows = chart_flows(chart, declared)
    if flows.version != version:
        raise ValueError(
            f"the network flows of chart {chart} were read at {flows.version}, but {version} is installed: read its ports again"
        )
    policies = (component.policy(namespace) for component in flows.components(net, release, values))
    return [policy for policy in policies if policy is not None]


# Namespaces of the kit that no chart creates.


def team_namespace_policies(namespace: str, net: PlatformNetwork) -> list[dict[str, Any]]:
    """A team's namespace (scheduling.teams): its people's Jobs talk among themselves, fetch data over HTTPS from
    outside the VPC (an internet-facing gateway too, with a team key) and take Pod Identity credentials. They reach no
    model server, endpoint picker, platform pod, or the Kubernetes API. The gateway's proxies are no exception: the
    agent admits a Service's address only where its port is the container's (Envoy's listener moves 80 to 10080), and
    an internal load balancer's addresses are in the VPC, where the pods of every namespace are."""
    own = {"podSelector": {}}
    team = Component(
        "team",
        EVERY_POD,
        ingress=(rule([own]),),
        egress=(rule([own]), outside_vpc_https(net), rule([cidr_peer(POD_IDENTITY_AGENT)], (POD_IDENTITY_PORT,))),
    )
    return [*namespace_baseline(namespace, net, api_for_every_pod=False), *component_policies(namespace, [team])]


def component_policies(namespace: str, components: Iterable[Component]) -> list[dict[str, Any]]:
    return [policy for policy in (component.policy(namespace) for component in components) if policy is not None]


def isolated_namespace(
    cluster: Construct, namespace: str, components: Iterable[Component] = (), *, api_for_every_pod: bool = True
) -> list[dict[str, Any]]:
    """The baseline and these components' policies for a namespace whose Namespace object the caller writes itself;
    nothing where the cluster does not isolate namespaces."""
    net = PlatformIsolation.of(cluster)
    if net is None:
        return []
    return [*namespace_baseline(namespace, net, api_for_every_pod=api_for_every_pod), *component_policies(namespace, components)]
