"""The exporters every Prometheus backend needs: NVIDIA's DCGM exporter on GPU nodes, and kube-state-metrics."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_eks_v2 as eks
from constructs import Construct, IDependable

from core.kueue_facts import QUEUE_LABEL
from core.labels import (
    ACCELERATOR_LABEL,
    BLUEPRINT_LABEL,
    EKS_CAPACITY_TYPE_LABEL,
    INSTANCE_TYPE_LABEL,
    KARPENTER_CAPACITY_TYPE_LABEL,
    POOL_LABEL,
    SYSTEM_POOL_LABEL,
    WORKLOAD_LABEL,
)
from core.versions import DCGM_EXPORTER, KUBE_STATE_METRICS, HelmPin
from infra.cluster.helm import install_chart
from infra.gpu.device_plugins import gpu_node_tolerations
from infra.observability.scrape import DCGM_NAME, KSM_NAME

NAMESPACE = "monitoring"
# Node labels the alert rules and dashboards select on; kube-state-metrics exports only allow-listed labels.
NODE_LABELS = (KARPENTER_CAPACITY_TYPE_LABEL, EKS_CAPACITY_TYPE_LABEL, POOL_LABEL, ACCELERATOR_LABEL, INSTANCE_TYPE_LABEL)
POD_LABELS = (WORKLOAD_LABEL, BLUEPRINT_LABEL)
# kube-state-metrics also reports each pod's queue (its team, for GPU showback): kube_pod_labels{label_kueue_x_k8s_io_queue_name}.
STATE_POD_LABELS = (*POD_LABELS, QUEUE_LABEL)
KSM_VALUES = {
    "metricLabelsAllowlist": [f"nodes=[{','.join(NODE_LABELS)}]", f"pods=[{','.join(STATE_POD_LABELS)}]"],
    "nodeSelector": SYSTEM_POOL_LABEL,
}


def dcgm_values(extra_taint_keys: tuple[str, ...], *, service_monitor: bool) -> dict:
    return {
        "fullnameOverride": DCGM_NAME,
        # Only GPU nodes: Karpenter pools and capacity-block groups both label their nodes with the accelerator.
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [{"matchExpressions": [{"key": ACCELERATOR_LABEL, "operator": "Exists"}]}]
                }
            }
        },
        # The exporter belongs on every GPU node, whatever taints its capacity adds.
        "tolerations": gpu_node_tolerations(extra_taint_keys),
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


@dataclass(frozen=True, kw_only=True)
class ExportersProps:
    """The exporters a Prometheus backend scrapes: NVIDIA's DCGM exporter and kube-state-metrics."""

    cluster: eks.Cluster
    """The cluster the exporters' charts are installed in."""
    after: IDependable
    """What the charts wait for (the system nodes; with in-cluster Prometheus, its chart and CRDs)."""
    dcgm: bool = True
    """NVIDIA's DCGM exporter on every GPU node. Default: True, GPU utilisation feeds the alerts and showback."""
    state_metrics: bool = True
    """kube-state-metrics. Default: True; set False where kube-prometheus-stack brings its own."""
    service_monitors: bool = False
    """Let the exporters' charts create ServiceMonitors. Default: False, the CRD exists only where a
    prometheus-operator runs."""
    gpu_taint_keys: tuple[str, ...] = ()
    """Taint keys GPU nodes carry beyond the GPU taint; the DCGM exporter tolerates them. Default: (), none."""


class Exporters(Construct):
    """The exporters' Helm charts, in the monitoring namespace."""

    def __init__(self, scope: Construct, construct_id: str, props: ExportersProps) -> None:
        super().__init__(scope, construct_id)
        cluster = props.cluster
        self.charts: dict[str, eks.HelmChart] = {}
        if props.dcgm:
            self.charts[DCGM_NAME] = self._chart(
                cluster, DCGM_NAME, DCGM_EXPORTER, dcgm_values(props.gpu_taint_keys, service_monitor=props.service_monitors)
            )
        if props.state_metrics:
            self.charts[KSM_NAME] = self._chart(cluster, KSM_NAME, KUBE_STATE_METRICS, {**KSM_VALUES, "fullnameOverride": KSM_NAME})
        for chart in self.charts.values():
            chart.node.add_dependency(props.after)

    def _chart(self, cluster: eks.Cluster, name: str, pin: HelmPin, values: dict) -> eks.HelmChart:
        # Privileged: the DCGM exporter reads the kubelet's pod-resources socket from the host and profiles the GPUs.
        return install_chart(cluster, name, chart=name, pin=pin, namespace=NAMESPACE, values=values, pod_security="privileged")
