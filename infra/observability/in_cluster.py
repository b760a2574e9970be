"""metrics: in-cluster. kube-prometheus-stack on the system nodes: Prometheus on an encrypted gp3 volume, Alertmanager,
kube-state-metrics, Grafana with the kit's dashboards, and monitors for the workloads and Karpenter."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_eks_v2 as eks
from constructs import Construct, IDependable

from core.labels import SYSTEM_POOL_LABEL, WORKLOAD_LABEL
from core.naming import DEFAULT_STORAGE_CLASS
from core.versions import KUBE_PROMETHEUS_STACK
from infra.cluster.helm import install_chart
from infra.observability.dashboards import rendered
from infra.observability.exporters import KSM_VALUES, NAMESPACE
from infra.observability.rules import AlertRuleThresholds, rule_groups
from core.routing import PROXY_NAMESPACE
from infra.observability.scrape import AI_GATEWAY_JOB, KARPENTER_NAME, KARPENTER_NAMESPACE, annotated_pod_relabelings

RELEASE = "kube-prometheus-stack"
NODE_LABEL = [{"sourceLabels": ["__meta_kubernetes_pod_node_name"], "targetLabel": "node"}]


def pod_monitors(interval: str) -> list[dict]:
    return [
        {
            "name": AI_GATEWAY_JOB,
            "selector": {"matchLabels": {"app.kubernetes.io/name": "envoy", "app.kubernetes.io/component": "proxy"}},
            "namespaceSelector": {"matchNames": [PROXY_NAMESPACE]},
            "podMetricsEndpoints": [{"port": "aigw-admin", "path": "/metrics", "interval": interval}],
        },
        {
            "name": "llm-kit-workloads",
            "selector": {"matchExpressions": [{"key": WORKLOAD_LABEL, "operator": "Exists"}]},
            "namespaceSelector": {"any": True},
            "podMetricsEndpoints": [{"interval": interval, "relabelings": annotated_pod_relabelings()}],
        },
        {
            "name": KARPENTER_NAME,
            "selector": {"matchLabels": {"app.kubernetes.io/name": KARPENTER_NAME}},
            "namespaceSelector": {"matchNames": [KARPENTER_NAMESPACE]},
            "podMetricsEndpoints": [{"port": "http-metrics", "interval": interval, "relabelings": NODE_LABEL}],
        },
    ]


def stack_values(props: InClusterPrometheusProps) -> dict:
    interval = f"{props.scrape_interval_seconds}s"
    system = {"nodeSelector": SYSTEM_POOL_LABEL}
    values = {
        # EKS runs these control-plane parts itself; Prometheus cannot reach them.
        "kubeControllerManager": {"enabled": False},
        "kubeScheduler": {"enabled": False},
        "kubeEtcd": {"enabled": False},
        "kubeProxy": {"enabled": False},
        "kube-state-metrics": KSM_VALUES,
        "prometheusOperator": {**system, "admissionWebhooks": {"patch": system}},
        "alertmanager": {"alertmanagerSpec": system},
        "prometheus": {
            "prometheusSpec": {
                **system,
                "scrapeInterval": interval,
                "retention": f"{props.retention_days}d",
                "externalLabels": {"cluster": props.cluster_name},
                # Select monitors and rules from every release (the DCGM chart's ServiceMonitor too), not only this one.
                "serviceMonitorSelectorNilUsesHelmValues": False,
                "podMonitorSelectorNilUsesHelmValues": False,
                "ruleSelectorNilUsesHelmValues": False,
                "storageSpec": {
                    "volumeClaimTemplate": {
                        "spec": {
                            "storageClassName": DEFAULT_STORAGE_CLASS,
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": f"{props.storage_gib}Gi"}},
                        }
                    }
                },
            },
            "additionalPodMonitors": pod_monitors(interval),
        },
        # Empty: the Grafana chart then generates a random admin password into its Secret instead of the
        # kube-prometheus-stack default that every reader of its values.yaml knows.
        "grafana": {"enabled": props.grafana, "adminPassword": "", **system},
    }
    if props.alert_thresholds is not None:
        values["additionalPrometheusRulesMap"] = {"llm-kit": rule_groups(props.alert_thresholds)}
    if props.extra_rule_groups:
        values.setdefault("additionalPrometheusRulesMap", {})["llm-kit-showback"] = {"groups": list(props.extra_rule_groups)}
    return values


def dashboard_config_maps() -> list[dict]:
    """The dashboards as ConfigMaps that Grafana's sidecar loads (label grafana_dashboard=1)."""
    return [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": f"llm-kit-{name.removesuffix('.json')}", "namespace": NAMESPACE, "labels": {"grafana_dashboard": "1"}},
            "data": {name: text},
        }
        for name, text in rendered().items()
    ]


@dataclass(frozen=True, kw_only=True)
class InClusterPrometheusProps:
    """kube-prometheus-stack on the system nodes: Prometheus and its volume, Alertmanager, and Grafana."""

    cluster: eks.Cluster
    """The cluster the chart is installed in."""
    cluster_name: str
    """The `cluster` external label of every series."""
    after: IDependable
    """What the chart waits for: the system nodes and the default StorageClass of Prometheus' volume."""
    scrape_interval_seconds: int = 30
    """How often Prometheus scrapes. Default: 30, as the AMP scraper does, so dashboards read alike on both."""
    retention_days: int = 15
    """Days Prometheus keeps samples (bounded by storage_gib too). Default: 15, as observability.in_cluster has it."""
    storage_gib: int = 100
    """Size of Prometheus' encrypted gp3 volume. Default: 100, as observability.in_cluster has it."""
    grafana: bool = True
    """Run Grafana with the kit's dashboards loaded. Default: True, the dashboards are how the metrics are read."""
    alert_thresholds: AlertRuleThresholds | None = None
    """Load the kit's alert rules with these thresholds. Default: None, no kit alert rules."""
    extra_rule_groups: tuple[dict, ...] = ()
    """Rule groups beside the kit's alerts (the gateway's showback). Default: ()."""

    def __post_init__(self) -> None:
        if self.scrape_interval_seconds < 1:
            raise ValueError(
                f"InClusterPrometheusProps.scrape_interval_seconds: got {self.scrape_interval_seconds}; 1 or more is allowed;"
                " give a positive number of seconds"
            )
        for field, value, low, high in (
            ("retention_days", self.retention_days, 1, 365),
            ("storage_gib", self.storage_gib, 10, 4096),
        ):
            if not low <= value <= high:
                raise ValueError(f"InClusterPrometheusProps.{field}: got {value}; {low} to {high} is allowed; pick one in that range")


class InClusterPrometheus(Construct):
    """metrics: in-cluster. kube-prometheus-stack, and the dashboards' ConfigMaps when Grafana runs."""

    def __init__(self, scope: Construct, construct_id: str, props: InClusterPrometheusProps) -> None:
        super().__init__(scope, construct_id)
        cluster = props.cluster
        values = stack_values(props)
        # Privileged: the stack's node exporter reads the host's /proc and /sys in its network and PID namespaces.
        self.chart = install_chart(
            cluster,
            "KubePrometheusStack",
            chart=RELEASE,
            pin=KUBE_PROMETHEUS_STACK,
            namespace=NAMESPACE,
            wait=True,
            values=values,
            pod_security="privileged",
        )
        self.chart.node.add_dependency(props.after)
        self.dashboards = None
        if props.grafana:
            self.dashboards = cluster.add_manifest("GrafanaDashboards", *dashboard_config_maps())
            self.dashboards.node.add_dependency(self.chart)
