"""What is scraped and how its series are labelled, written once for the AMP scraper and the in-cluster Prometheus.

Every series gets `node` (the node the target runs on); workload pods also get `llm_kit_workload` and
`llm_kit_blueprint`, the label names DCGM's pod-label mapping produces, so GPU and server metrics join on them.
"""

from __future__ import annotations

import base64

import yaml

from core.labels import BLUEPRINT_LABEL, WORKLOAD_LABEL
from core.routing import PROXY_NAMESPACE

WORKLOAD = "llm_kit_workload"
BLUEPRINT = "llm_kit_blueprint"
DCGM_NAME = "dcgm-exporter"
DCGM_PORT = 9400
KSM_NAME = "kube-state-metrics"
KSM_PORT = 8080
KARPENTER_NAME = "karpenter"
KARPENTER_NAMESPACE = "kube-system"
KARPENTER_PORT = 8080


def _meta(label: str) -> str:
    """The service-discovery label of a pod label such as llm-kit/workload."""
    return "__meta_kubernetes_pod_label_" + "".join(c if c.isalnum() else "_" for c in label)


def pod_target_labels() -> list[dict]:
    """Relabelings (Prometheus config spelling) that every pod target gets."""
    return [
        {"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
        {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
        {"source_labels": ["__meta_kubernetes_pod_node_name"], "target_label": "node"},
        {"source_labels": [_meta(WORKLOAD_LABEL)], "target_label": WORKLOAD},
        {"source_labels": [_meta(BLUEPRINT_LABEL)], "target_label": BLUEPRINT},
    ]


AI_GATEWAY_JOB = "ai-gateway"
AI_GATEWAY_METRICS_PORT = 1064


def _exporter_job(name: str, app: str, port: int, interval: int, namespace: str | None = None) -> dict:
    keep = [
        {"source_labels": [_meta("app.kubernetes.io/name")], "regex": app, "action": "keep"},
        {"source_labels": ["__meta_kubernetes_pod_container_port_number"], "regex": str(port), "action": "keep"},
        {"source_labels": ["__meta_kubernetes_pod_phase"], "regex": "Running", "action": "keep"},
    ]
    if namespace:
        keep.insert(0, {"source_labels": ["__meta_kubernetes_namespace"], "regex": namespace, "action": "keep"})
    # DCGM and kube-state-metrics report the namespace/pod they describe: keep theirs, not the exporter's own.
    return {
        "job_name": name,
        "scrape_interval": f"{interval}s",
        "honor_labels": True,
        "kubernetes_sd_configs": [{"role": "pod"}],
        "relabel_configs": keep + [{"source_labels": ["__meta_kubernetes_pod_node_name"], "target_label": "node"}],
    }


def _annotated_pods_job(interval: int) -> dict:
    return {
        "job_name": "annotated-pods",
        "scrape_interval": f"{interval}s",
        "kubernetes_sd_configs": [{"role": "pod"}],
        "relabel_configs": [
            {"source_labels": ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"], "regex": "true", "action": "keep"},
            {"source_labels": ["__meta_kubernetes_pod_phase"], "regex": "Running", "action": "keep"},
            {"source_labels": ["__meta_kubernetes_pod_annotation_prometheus_io_path"], "regex": "(.+)", "target_label": "__metrics_path__"},
            # One target per pod: the address is the pod IP and the annotated port, whichever container port was discovered.
            {
                "source_labels": ["__meta_kubernetes_pod_ip", "__meta_kubernetes_pod_annotation_prometheus_io_port"],
                "regex": "(.+);(\\d+)",
                "replacement": "$1:$2",
                "target_label": "__address__",
            },
            *pod_target_labels(),
        ],
    }


def scrape_config(interval_seconds: int, *, cluster_name: str) -> dict:
    """Prometheus configuration for the AWS managed scraper (only the sections it accepts)."""
    return {
        "global": {"scrape_interval": f"{interval_seconds}s", "external_labels": {"cluster": cluster_name}},
        "scrape_configs": [
            _exporter_job(DCGM_NAME, DCGM_NAME, DCGM_PORT, interval_seconds),
            _exporter_job(KSM_NAME, KSM_NAME, KSM_PORT, interval_seconds),
            _exporter_job(KARPENTER_NAME, KARPENTER_NAME, KARPENTER_PORT, interval_seconds, namespace=KARPENTER_NAMESPACE),
            # Envoy AI Gateway's ext_proc sidecar in the gateway's proxies: token usage per team and model.
            _exporter_job(AI_GATEWAY_JOB, "envoy", AI_GATEWAY_METRICS_PORT, interval_seconds, namespace=PROXY_NAMESPACE),
            _annotated_pods_job(interval_seconds),
        ],
    }


def scrape_config_blob(interval_seconds: int, *, cluster_name: str) -> str:
    """The configuration as the AWS::APS::Scraper ConfigurationBlob wants it: base64 of the YAML."""
    text = yaml.safe_dump(scrape_config(interval_seconds, cluster_name=cluster_name), sort_keys=False)
    return base64.b64encode(text.encode()).decode()


def operator_relabelings(relabel_configs: list[dict]) -> list[dict]:
    """The same relabelings in prometheus-operator's camelCase spelling (PodMonitor/ServiceMonitor)."""
    names = {"source_labels": "sourceLabels", "target_label": "targetLabel"}
    return [{names.get(key, key): value for key, value in rule.items()} for rule in relabel_configs]


def annotated_pod_relabelings() -> list[dict]:
    return operator_relabelings(_annotated_pods_job(30)["relabel_configs"])
