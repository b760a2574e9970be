"""Facts of the request path that blueprints need: the kit's Gateway and where serving metrics can be queried."""

from __future__ import annotations

from dataclasses import dataclass

# The Gateway every routed workload attaches to, in the workloads namespace; its proxies run in Envoy Gateway's.
GATEWAY_NAME = "llm-gateway"
GATEWAY_CLASS = "llm-kit"
PROXY_NAMESPACE = "envoy-gateway-system"
# Envoy AI Gateway copies the request body's "model" into this header; each workload's route matches on it.
MODEL_HEADER = "x-ai-eg-model"
# Stands for the AMP workspace's query URL in rendered objects; the workloads stack fills it in from the cluster stack.
AMP_QUERY_URL = "{amp-query-url}"
IN_CLUSTER_PROMETHEUS = "http://kube-prometheus-stack-prometheus.monitoring.svc.cluster.local:9090"


@dataclass(frozen=True)
class RoutingFacts:
    gateway_listener_port: int = 80
    metrics_backend: str = "amp"
    """observability.metrics: amp, in-cluster, cloudwatch or none."""

    @property
    def metrics_query_url(self) -> str | None:
        """Where KEDA sends PromQL; None where the backend speaks none."""
        return {"amp": AMP_QUERY_URL, "in-cluster": IN_CLUSTER_PROMETHEUS}.get(self.metrics_backend)
