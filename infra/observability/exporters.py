"""The exporters every Prometheus backend needs: NVIDIA's DCGM exporter on GPU nodes, and kube-state-metrics."""

from __future__ import annotations

from aws_cdk import aws_eks_v2 as eks
from constructs import Construct, IDependable

from infra.cluster.system_nodes import SYSTEM_POOL_LABEL
from infra.config.model import KitConfig
from infra.gpu.node_pool_manifests import ACCELERATOR_LABEL, GPU_TAINT
from infra.observability.scrape import DCGM_NAME, KSM_NAME
from infra.versions import DCGM_EXPORTER, KUBE_STATE_METRICS
from infra.cluster.helm import install_chart

NAMESPACE = "monitoring"
# Node labels the alert rules and dashboards select on; kube-state-metrics exports only allow-listed labels.
NODE_LABELS = ("karpenter.sh/capacity-type", "eks.amazonaws.com/capacityType", "llm-kit/pool", "llm-kit/accelerator", "node.kubernetes.io/instance-type")
POD_LABELS = ("llm-kit/workload", "llm-kit/blueprint")
KSM_VALUES = {
    "metricLabelsAllowlist": [f"nodes=[{','.join(NODE_LABELS)}]", f"pods=[{','.join(POD_LABELS)}]"],
    "nodeSelector": SYSTEM_POOL_LABEL,
}


def gpu_tolerations(config: KitConfig) -> list[dict]:
    """The GPU taint every GPU node carries, plus any taint a pool adds: the exporter belongs on every GPU node."""
    keys = {taint.key for pool in config.node_pools for taint in pool.taints} - {GPU_TAINT["key"]}
    return [{"key": GPU_TAINT["key"], "operator": "Exists", "effect": GPU_TAINT["effect"]}] + [{"key": key, "operator": "Exists"} for key in sorted(keys)]


def dcgm_values(config: KitConfig, *, service_monitor: bool) -> dict:
    return {
        "fullnameOverride": DCGM_NAME,
        # Only GPU nodes: Karpenter pools and capacity-block groups both label their nodes with the accelerator.
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [{"key": ACCELERATOR_LABEL, "operator": "Exists"}]}]}
            }
        },
        "tolerations": gpu_tolerations(config),
        # Per-workload GPU series: the pod holding a GPU lends its workload labels (as llm_kit_workload, llm_kit_blueprint).
        "kubernetes": {"enablePodLabels": True, "podLabelAllowlistRegex": [f"^{label}$" for label in POD_LABELS]},
        "serviceMonitor": {
            "enabled": service_monitor,
            "honorLabels": True,
            # As in the AMP scrape job: pod/namespace/container name the pod holding a GPU, never the exporter itself.
            "relabelings": [
                {"sourceLabels": ["__meta_kubernetes_pod_node_name"], "targetLabel": "node"},
                {"action": "labeldrop", "regex": "pod|namespace|container"},
            ],
        },
    }


class Exporters(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: KitConfig, cluster: eks.Cluster, after: IDependable, service_monitors: bool, state_metrics: bool) -> None:
        super().__init__(scope, construct_id)
        self.charts: dict[str, eks.HelmChart] = {}
        if config.observability.runs_dcgm_exporter:
            self.charts[DCGM_NAME] = self._chart(cluster, DCGM_NAME, DCGM_EXPORTER, dcgm_values(config, service_monitor=service_monitors))
        if state_metrics:
            self.charts[KSM_NAME] = self._chart(cluster, KSM_NAME, KUBE_STATE_METRICS, {**KSM_VALUES, "fullnameOverride": KSM_NAME})
        for chart in self.charts.values():
            chart.node.add_dependency(after)

    def _chart(self, cluster: eks.Cluster, name: str, pin, values: dict) -> eks.HelmChart:
        return install_chart(cluster, name, chart=name, pin=pin, namespace=NAMESPACE, values=values)
