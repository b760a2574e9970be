"""Metric names the exporters the kit runs really publish: the one list dashboards and alert rules are checked against.

Each family records where its names were read. Histograms also publish <name>_bucket, _sum and _count.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Family:
    source: str
    gauges: tuple[str, ...] = ()
    counters: tuple[str, ...] = ()
    histograms: tuple[str, ...] = ()

    def names(self) -> set[str]:
        out = set(self.gauges) | set(self.counters)
        for name in self.histograms:
            out |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
        return out


DCGM = Family(
    "NVIDIA/dcgm-exporter etc/default-counters.csv at tag 4.5.3-4.8.2 (chart 4.8.2); per-GPU labels gpu, UUID, modelName, Hostname, "
    "and pod, namespace, container of the pod holding the GPU",
    gauges=(
        "DCGM_FI_DEV_GPU_UTIL",
        "DCGM_FI_DEV_MEM_COPY_UTIL",
        "DCGM_FI_DEV_FB_FREE",
        "DCGM_FI_DEV_FB_USED",
        "DCGM_FI_DEV_FB_RESERVED",
        "DCGM_FI_DEV_GPU_TEMP",
        "DCGM_FI_DEV_MEMORY_TEMP",
        "DCGM_FI_DEV_POWER_USAGE",
        "DCGM_FI_DEV_SM_CLOCK",
        "DCGM_FI_DEV_XID_ERRORS",
        "DCGM_FI_DEV_ROW_REMAP_FAILURE",
        "DCGM_FI_PROF_GR_ENGINE_ACTIVE",
        "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE",
        "DCGM_FI_PROF_DRAM_ACTIVE",
    ),
    counters=("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "DCGM_FI_DEV_PCIE_REPLAY_COUNTER", "DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS"),
)

KUBE_STATE_METRICS = Family(
    "kubernetes/kube-state-metrics docs/metrics (v2.20.0, chart 8.4.0); extended resources are sanitized"
    " (nvidia.com/gpu -> nvidia_com_gpu), "
    "allow-listed labels become label_<snake_case>",
    gauges=(
        "kube_node_status_condition",
        "kube_node_status_allocatable",
        "kube_node_status_capacity",
        "kube_node_labels",
        "kube_node_spec_unschedulable",
        "kube_node_created",
        "kube_pod_container_resource_requests",
        "kube_pod_labels",
        "kube_pod_status_phase",
        "kube_pod_info",
        "kube_deployment_status_replicas_available",
        "kube_job_status_failed",
        "kube_job_status_succeeded",
        # The HorizontalPodAutoscalers KEDA creates (keda-hpa-<workload>); label horizontalpodautoscaler.
        "kube_horizontalpodautoscaler_status_current_replicas",
        "kube_horizontalpodautoscaler_status_desired_replicas",
        "kube_horizontalpodautoscaler_spec_max_replicas",
        "kube_horizontalpodautoscaler_spec_min_replicas",
    ),
)

KARPENTER = Family(
    "Karpenter v1 reference/metrics (docs generated from hack/docs/metrics_gen)",
    gauges=("karpenter_nodepools_usage", "karpenter_nodepools_limit"),
    counters=("karpenter_nodeclaims_created_total", "karpenter_nodeclaims_terminated_total", "karpenter_nodeclaims_disrupted_total"),
)

VLLM = Family(
    "vllm-project/vllm vllm/v1/metrics/loggers.py (PrometheusStatLogger, v0.11 and later: inter_token_latency_seconds replaced "
    "time_per_output_token_seconds); labels model_name, engine",
    gauges=("vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:kv_cache_usage_perc"),
    counters=(
        "vllm:prompt_tokens_total",
        "vllm:generation_tokens_total",
        "vllm:request_success_total",
        "vllm:num_preemptions_total",
        "vllm:prefix_cache_queries_total",
        "vllm:prefix_cache_hits_total",
    ),
    histograms=(
        "vllm:time_to_first_token_seconds",
        "vllm:inter_token_latency_seconds",
        "vllm:e2e_request_latency_seconds",
        "vllm:request_queue_time_seconds",
    ),
)

DYNAMO_FRONTEND = Family(
    "ai-dynamo/dynamo lib/runtime/src/metrics/prometheus_names.rs (frontend_service, prefix dynamo_frontend); label model",
    gauges=("dynamo_frontend_queued_requests", "dynamo_frontend_inflight_requests"),
    counters=("dynamo_frontend_requests_total", "dynamo_frontend_output_tokens_total"),
    histograms=(
        "dynamo_frontend_time_to_first_token_seconds",
        "dynamo_frontend_inter_token_latency_seconds",
        "dynamo_frontend_request_duration_seconds",
    ),
)

ENVOY_GATEWAY = Family(
    "envoyproxy/gateway v1.8.1: Envoy's cluster and listener stats on :19001/stats/prometheus; a route's cluster is named "
    "httproute/<namespace>/<route>/rule/<n> (envoy_cluster_name), response classes in envoy_response_code_class; times in ms",
    counters=(
        "envoy_cluster_upstream_rq_total",
        "envoy_cluster_upstream_rq_xx",
        "envoy_http_downstream_rq_total",
        "envoy_http_downstream_rq_xx",
    ),
    histograms=("envoy_cluster_upstream_rq_time", "envoy_http_downstream_rq_time"),
)

ENDPOINT_PICKER = Family(
    "llm-d/llm-d-router v0.10.0 pkg/epp/metrics/metrics.go (the Inference Extension's names, still emitted beside llm_d_epp_*): "
    "pool gauges labelled name, scheduler attempts labelled status and pod_name",
    gauges=("inference_pool_average_kv_cache_utilization", "inference_pool_average_queue_size", "inference_pool_ready_pods"),
    counters=("inference_extension_scheduler_attempts_total",),
    histograms=("inference_extension_scheduler_e2e_duration_seconds",),
)

AI_GATEWAY = Family(
    "envoyproxy/ai-gateway v1.1.0 internal/metrics/genai.go (OpenTelemetry to Prometheus on the ext_proc's :1064/metrics); "
    "labels gen_ai_request_model, gen_ai_token_type (input, cached_input, cache_creation_input, output, reasoning), "
    "gen_ai_provider_name, and team_id from the x-team-id header (controller.metricsRequestHeaderAttributes)",
    histograms=("gen_ai_client_token_usage", "gen_ai_server_request_duration_seconds", "gen_ai_server_time_to_first_token_seconds"),
)

KIT_RECORDINGS = Family(
    "the kit's own recording rules (infra/observability/rules/showback.py, gpu_showback.py)",
    gauges=(
        "llm_kit:team_tokens:rate5m",
        "llm_kit:team_cost_usd_per_hour",
        "llm_kit:pod_team",
        "llm_kit:pod_gpus_requested",
        "llm_kit:team_gpus_requested",
        "llm_kit:team_gpus_used",
        "llm_kit:team_gpus_idle",
        "llm_kit:pool_gpu_hour_usd",
        "llm_kit:team_gpu_cost_usd_per_hour",
    ),
)

FAMILIES = {
    "dcgm": DCGM,
    "kube-state-metrics": KUBE_STATE_METRICS,
    "karpenter": KARPENTER,
    "vllm-server": VLLM,
    "dynamo-frontend": DYNAMO_FRONTEND,
    "envoy-gateway": ENVOY_GATEWAY,
    "endpoint-picker": ENDPOINT_PICKER,
    "ai-gateway": AI_GATEWAY,
    "kit-recordings": KIT_RECORDINGS,
}


def known_metric_names() -> set[str]:
    return set().union(*(family.names() for family in FAMILIES.values()))
