"""metrics: in-cluster. kube-prometheus-stack on the system nodes: Prometheus on an encrypted gp3 volume, Alertmanager,
kube-state-metrics, Grafana with the kit's dashboards, and monitors for the workloads and Karpenter."""

from __future__ import annotations

from aws_cdk import aws_eks_v2 as eks
from constructs import Construct, IDependable

from blueprints.common.objects import WORKLOAD_LABEL
from infra.cluster.system_nodes import SYSTEM_POOL_LABEL
from infra.config.model import KitConfig
from infra.observability.dashboards import rendered
from infra.observability.exporters import KSM_VALUES, NAMESPACE
from infra.observability.rules import rule_groups
from infra.observability.scrape import KARPENTER_NAME, KARPENTER_NAMESPACE, annotated_pod_relabelings
from infra.cluster.storage_class import DEFAULT_STORAGE_CLASS
from infra.versions import KUBE_PROMETHEUS_STACK
from infra.cluster.helm import install_chart

RELEASE = "kube-prometheus-stack"
NODE_LABEL = [{"sourceLabels": ["__meta_kubernetes_pod_node_name"], "targetLabel": "node"}]


def pod_monitors(interval: str) -> list[dict]:
    return [
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


def stack_values(config: KitConfig) -> dict:
    settings = config.observability
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
                "externalLabels": {"cluster": config.name},
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
        "grafana": {"enabled": settings.in_cluster.grafana, **system},
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


class InClusterPrometheus(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: KitConfig, cluster: eks.Cluster, after: IDependable) -> None:
        super().__init__(scope, construct_id)
        self.chart = install_chart(
            cluster, "KubePrometheusStack", chart=RELEASE, pin=KUBE_PROMETHEUS_STACK, namespace=NAMESPACE, wait=True, values=stack_values(config)
        )
        self.chart.node.add_dependency(after)
        self.dashboards = None
        if config.observability.in_cluster.grafana:
            self.dashboards = cluster.add_manifest("GrafanaDashboards", *dashboard_config_maps())
            self.dashboards.node.add_dependency(self.chart)
