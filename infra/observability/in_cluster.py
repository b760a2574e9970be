"""metrics: in-cluster. kube-prometheus-stack on the system nodes: Prometheus on an encrypted gp3 volume, Alertmanager,
kube-state-metrics, Grafana with the kit's dashboards, and monitors for the workloads and Karpenter."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_eks_v2 as eks
from constructs import Construct, IDependable

from config.observability import ObservabilitySettings
from core.labels import SYSTEM_POOL_LABEL, WORKLOAD_LABEL
from core.naming import DEFAULT_STORAGE_CLASS
from core.versions import KUBE_PROMETHEUS_STACK
from infra.cluster.helm import install_chart
from infra.observability.dashboards import rendered
from infra.observability.exporters import KSM_VALUES, NAMESPACE
from infra.observability.rules import rule_groups
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


def stack_values(cluster_name: str, settings: ObservabilitySettings) -> dict:
    interval = f"{settings.scrape_interval_seconds}s"
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
                "retention": f"{settings.in_cluster.retention_days}d",
                "externalLabels": {"cluster": cluster_name},
                # Select monitors and rules from every release (the DCGM chart's ServiceMonitor too), not only this one.
                "serviceMonitorSelectorNilUsesHelmValues": False,
                "podMonitorSelectorNilUsesHelmValues": False,
                "ruleSelectorNilUsesHelmValues": False,
                "storageSpec": {
                    "volumeClaimTemplate": {
                        "spec": {
                            "storageClassName": DEFAULT_STORAGE_CLASS,
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": f"{settings.in_cluster.storage_gib}Gi"}},
                        }
                    }
                },
            },
            "additionalPodMonitors": pod_monitors(interval),
        },
        # Empty: the Grafana chart then generates a random admin password into its Secret instead of the
        # kube-prometheus-stack default that every reader of its values.yaml knows.
        "grafana": {"enabled": settings.in_cluster.grafana, "adminPassword": "", **system},
    }
    if settings.loads_alerts:
        values["additionalPrometheusRulesMap"] = {"llm-kit": rule_groups(settings.thresholds)}
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


@dataclass(frozen=True)
class InClusterPrometheusProps:
    cluster: eks.Cluster
    cluster_name: str
    after: IDependable
    settings: ObservabilitySettings = ObservabilitySettings(metrics="in-cluster")
    """Scrape interval, thresholds of the alert rules, Prometheus storage and Grafana (config.observability.ObservabilitySettings)."""
    extra_rule_groups: tuple[dict, ...] = ()
    """Rule groups beside the kit's alerts (the gateway's showback)."""


class InClusterPrometheus(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: InClusterPrometheusProps) -> None:
        super().__init__(scope, construct_id)
        cluster = props.cluster
        values = stack_values(props.cluster_name, props.settings)
        if props.extra_rule_groups:
            values.setdefault("additionalPrometheusRulesMap", {})["llm-kit-showback"] = {"groups": list(props.extra_rule_groups)}
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
        if props.settings.in_cluster.grafana:
            self.dashboards = cluster.add_manifest("GrafanaDashboards", *dashboard_config_maps())
            self.dashboards.node.add_dependency(self.chart)
