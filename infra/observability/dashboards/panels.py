"""The dashboards, as data: every PromQL expression the kit shows is written here once."""

from __future__ import annotations

from dataclasses import dataclass, field

from infra.observability.scrape import WORKLOAD

GPUS = 'resource="nvidia_com_gpu"'
RUNNING_PODS = 'kube_pod_status_phase{phase="Running"} == 1'
REQUESTED_GPUS = f"(kube_pod_container_resource_requests{{{GPUS}}} and on (namespace, pod) ({RUNNING_PODS}))"
WORKLOAD_GPUS = f'{WORKLOAD}=~"$workload"'
VLLM = f'{WORKLOAD}=~"$workload"'
IDLE_PERCENT = 5


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""
    instant: bool = False


@dataclass(frozen=True)
class Panel:
    title: str
    queries: tuple[Query, ...]
    unit: str = "short"
    kind: str = "timeseries"
    description: str = ""
    width: int = 12


@dataclass(frozen=True)
class Dashboard:
    uid: str
    title: str
    description: str
    panels: tuple[Panel, ...]
    variables: tuple[tuple[str, str], ...] = field(default=())
    """(name, label_values query) pairs: multi-select template variables."""


def _quantiles(metric: str, selector: str) -> tuple[Query, ...]:
    return tuple(
        Query(
            f"histogram_quantile({q}, sum by (le, {WORKLOAD}) (rate({metric}_bucket{{{selector}}}[5m])))",
            f"p{int(q * 100)} {{{{{WORKLOAD}}}}}",
        )
        for q in (0.5, 0.99)
    )


GPU_FLEET = Dashboard(
    "llm-kit-gpu-fleet",
    "LLM kit / GPU fleet",
    "GPU utilisation and memory per node and per workload, capacity against requests, showback and idle GPUs.",
    variables=(("workload", f"label_values(DCGM_FI_DEV_GPU_UTIL, {WORKLOAD})"),),
    panels=(
        Panel("GPU utilisation per node", (Query("avg by (node) (DCGM_FI_DEV_GPU_UTIL)", "{{node}}"),), "percent"),
        Panel(
            "GPU utilisation per workload",
            (Query(f"avg by ({WORKLOAD}) (DCGM_FI_DEV_GPU_UTIL{{{WORKLOAD_GPUS}}})", f"{{{{{WORKLOAD}}}}}"),),
            "percent",
        ),
        Panel(
            "GPU memory used per node",
            (
                Query(
                    "sum by (node) (DCGM_FI_DEV_FB_USED)"
                    " / sum by (node) (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE + DCGM_FI_DEV_FB_RESERVED) * 100",
                    "{{node}}",
                ),
            ),
            "percent",
        ),
        Panel(
            "GPU memory used per workload",
            (Query(f"sum by ({WORKLOAD}) (DCGM_FI_DEV_FB_USED{{{WORKLOAD_GPUS}}}) * 1048576", f"{{{{{WORKLOAD}}}}}"),),
            "bytes",
        ),
        Panel(
            "GPUs: allocatable, requested, busy",
            (
                Query(f"sum(kube_node_status_allocatable{{{GPUS}}})", "allocatable"),
                Query(f"sum({REQUESTED_GPUS})", "requested by running pods"),
                Query(f"count(DCGM_FI_DEV_GPU_UTIL > {IDLE_PERCENT})", f"busy (> {IDLE_PERCENT}%)"),
            ),
            description="What the nodes offer, what pods hold, and what is actually computing.",
        ),
        Panel(
            "GPUs per node pool: provisioned and limit",
            (
                Query('sum by (nodepool) (karpenter_nodepools_usage{resource_type="nvidia.com/gpu"})', "{{nodepool}} provisioned"),
                Query('sum by (nodepool) (karpenter_nodepools_limit{resource_type="nvidia.com/gpu"})', "{{nodepool}} limit"),
            ),
        ),
        Panel(
            "GPU-hours per namespace (selected range)",
            (Query(f"sum by (namespace) (sum_over_time({REQUESTED_GPUS}[$__range:5m])) * 5 / 60", "{{namespace}}", instant=True),),
            kind="bargauge",
            description="Showback: GPUs requested by running pods, summed in 5-minute steps over the dashboard's time range.",
        ),
        Panel(
            "Requested but idle GPUs (30 min)",
            (
                Query(
                    f'count by (namespace, pod) (max_over_time(DCGM_FI_DEV_GPU_UTIL{{pod!=""}}[30m]) < {IDLE_PERCENT})',
                    "{{namespace}}/{{pod}}",
                    instant=True,
                ),
            ),
            kind="table",
            description=f"GPUs held by a pod whose utilisation stayed under {IDLE_PERCENT}% for 30 minutes.",
        ),
        Panel(
            "Reserved and capacity-block nodes",
            (
                Query('count(kube_node_labels{label_karpenter_sh_capacity_type="reserved"})', "reserved (Karpenter)"),
                Query('count(kube_node_labels{label_eks_amazonaws_com_capacity_type="CAPACITY_BLOCK"})', "capacity block"),
            ),
        ),
        Panel(
            "GPU Xid errors (last 24 h)",
            (Query("max by (node, gpu) (max_over_time(DCGM_FI_DEV_XID_ERRORS[24h])) > 0", "{{node}} gpu {{gpu}}", instant=True),),
            kind="table",
        ),
        Panel(
            "Nodes not Ready",
            (Query('sum(kube_node_status_condition{condition="Ready",status="true"} == 0) or vector(0)', "not ready"),),
            kind="stat",
        ),
        Panel("GPU power draw per node", (Query("sum by (node) (DCGM_FI_DEV_POWER_USAGE)", "{{node}}"),), "watt"),
    ),
)

SERVING = Dashboard(
    "llm-kit-serving",
    "LLM kit / Serving",
    "Latency, throughput and queues of every vLLM engine (plain, multi-node leaders, Dynamo workers) and of the Dynamo frontend.",
    variables=(("workload", f"label_values(vllm:num_requests_running, {WORKLOAD})"),),
    panels=(
        Panel("Time to first token", _quantiles("vllm:time_to_first_token_seconds", VLLM), "s"),
        Panel("Inter-token latency", _quantiles("vllm:inter_token_latency_seconds", VLLM), "s"),
        Panel("End-to-end request latency", _quantiles("vllm:e2e_request_latency_seconds", VLLM), "s"),
        Panel("Queue time", _quantiles("vllm:request_queue_time_seconds", VLLM), "s"),
        Panel(
            "Throughput (tokens/s)",
            (
                Query(f"sum by ({WORKLOAD}) (rate(vllm:generation_tokens_total{{{VLLM}}}[5m]))", f"generated {{{{{WORKLOAD}}}}}"),
                Query(f"sum by ({WORKLOAD}) (rate(vllm:prompt_tokens_total{{{VLLM}}}[5m]))", f"prompt {{{{{WORKLOAD}}}}}"),
            ),
        ),
        Panel(
            "Finished requests (per s)",
            (
                Query(
                    f"sum by ({WORKLOAD}, finished_reason) (rate(vllm:request_success_total{{{VLLM}}}[5m]))",
                    f"{{{{{WORKLOAD}}}}} {{{{finished_reason}}}}",
                ),
            ),
            "reqps",
        ),
        Panel(
            "Queue depth",
            (
                Query(f"sum by ({WORKLOAD}) (vllm:num_requests_waiting{{{VLLM}}})", f"waiting {{{{{WORKLOAD}}}}}"),
                Query(f"sum by ({WORKLOAD}) (vllm:num_requests_running{{{VLLM}}})", f"running {{{{{WORKLOAD}}}}}"),
            ),
        ),
        Panel("KV cache usage", (Query(f"max by ({WORKLOAD}, pod) (vllm:kv_cache_usage_perc{{{VLLM}}}) * 100", "{{pod}}"),), "percent"),
        Panel(
            "Preemptions (per s)", (Query(f"sum by ({WORKLOAD}) (rate(vllm:num_preemptions_total{{{VLLM}}}[5m]))", f"{{{{{WORKLOAD}}}}}"),)
        ),
        Panel(
            "Prefix cache hit rate",
            (
                Query(
                    f"sum by ({WORKLOAD}) (rate(vllm:prefix_cache_hits_total{{{VLLM}}}[5m]))"
                    f" / sum by ({WORKLOAD}) (rate(vllm:prefix_cache_queries_total{{{VLLM}}}[5m])) * 100",
                    f"{{{{{WORKLOAD}}}}}",
                ),
            ),
            "percent",
        ),
        Panel("Dynamo frontend: time to first token", _quantiles("dynamo_frontend_time_to_first_token_seconds", VLLM), "s"),
        Panel("Dynamo frontend: inter-token latency", _quantiles("dynamo_frontend_inter_token_latency_seconds", VLLM), "s"),
        Panel(
            "Dynamo frontend: requests",
            (
                Query(f"sum by ({WORKLOAD}) (dynamo_frontend_queued_requests{{{VLLM}}})", f"queued {{{{{WORKLOAD}}}}}"),
                Query(f"sum by ({WORKLOAD}) (dynamo_frontend_inflight_requests{{{VLLM}}})", f"in flight {{{{{WORKLOAD}}}}}"),
            ),
        ),
    ),
)

ROUTE = 'envoy_cluster_name=~"httproute/.*"'
HPA = 'horizontalpodautoscaler=~"keda-hpa-.*"'

ROUTING = Dashboard(
    "llm-kit-routing",
    "LLM kit / Routing and autoscaling",
    "The gateway's requests, errors and latency per route; the endpoint picker's decisions and the pool state it scores; "
    "replicas KEDA asks for against the signal it scales on.",
    panels=(
        Panel(
            "Gateway requests per route (per s)",
            (Query(f"sum by (envoy_cluster_name) (rate(envoy_cluster_upstream_rq_total{{{ROUTE}}}[5m]))", "{{envoy_cluster_name}}"),),
            "reqps",
        ),
        Panel(
            "Gateway 5xx per route (per s)",
            (
                Query(
                    f'sum by (envoy_cluster_name) (rate(envoy_cluster_upstream_rq_xx{{{ROUTE},envoy_response_code_class="5"}}[5m]))',
                    "{{envoy_cluster_name}}",
                ),
            ),
            "reqps",
        ),
        Panel(
            "Gateway latency per route (p99)",
            (
                Query(
                    "histogram_quantile(0.99, sum by (le, envoy_cluster_name)"
                    f" (rate(envoy_cluster_upstream_rq_time_bucket{{{ROUTE}}}[5m])))",
                    "{{envoy_cluster_name}}",
                ),
            ),
            "ms",
        ),
        Panel(
            "Picker decisions per replica (per s)",
            (Query('sum by (pod_name) (rate(inference_extension_scheduler_attempts_total{status="success"}[5m]))', "{{pod_name}}"),),
            "reqps",
        ),
        Panel(
            "Picker failures (per s)",
            (Query('sum by (name) (rate(inference_extension_scheduler_attempts_total{status!="success"}[5m])) or vector(0)', "failed"),),
            "reqps",
        ),
        Panel(
            "Picker scheduling time (p99)",
            (Query("histogram_quantile(0.99, sum by (le) (rate(inference_extension_scheduler_e2e_duration_seconds_bucket[5m])))", "p99"),),
            "s",
        ),
        Panel(
            "Pool state the picker scores",
            (
                Query("inference_pool_average_kv_cache_utilization * 100", "KV cache % {{name}}"),
                Query("inference_pool_average_queue_size", "queue {{name}}"),
                Query("inference_pool_ready_pods", "ready replicas {{name}}"),
            ),
        ),
        Panel(
            "Replicas: current, desired and maximum",
            (
                Query(f"kube_horizontalpodautoscaler_status_current_replicas{{{HPA}}}", "current {{horizontalpodautoscaler}}"),
                Query(f"kube_horizontalpodautoscaler_status_desired_replicas{{{HPA}}}", "desired {{horizontalpodautoscaler}}"),
                Query(f"kube_horizontalpodautoscaler_spec_max_replicas{{{HPA}}}", "max {{horizontalpodautoscaler}}"),
            ),
        ),
        Panel(
            "Scaling signals",
            (
                Query(f"sum by ({WORKLOAD}) (vllm:num_requests_waiting)", f"waiting {{{{{WORKLOAD}}}}}"),
                Query(f"avg by ({WORKLOAD}) (vllm:kv_cache_usage_perc)", f"KV cache share {{{{{WORKLOAD}}}}}"),
                Query(
                    f"histogram_quantile(0.9, sum by (le, {WORKLOAD}) (rate(vllm:time_to_first_token_seconds_bucket[2m])))",
                    f"TTFT p90 {{{{{WORKLOAD}}}}}",
                ),
            ),
        ),
    ),
)

TEAMS = Dashboard(
    "llm-kit-teams",
    "LLM kit / Teams and usage",
    "Tokens and cost per team and model through the gateway (Envoy AI Gateway's usage metrics and the kit's showback rules).",
    panels=(
        Panel(
            "Tokens per team (per s)",
            (Query('sum by (team_id) (rate(gen_ai_client_token_usage_sum{gen_ai_token_type=~"input|output"}[5m]))', "{{team_id}}"),),
        ),
        Panel(
            "Tokens per team and model (per s)",
            (
                Query(
                    "sum by (team_id, gen_ai_request_model) (rate(gen_ai_client_token_usage_sum[5m]))",
                    "{{team_id}} {{gen_ai_request_model}}",
                ),
            ),
        ),
        Panel(
            "Tokens per team, last 24 h",
            (
                Query(
                    'sum by (team_id) (increase(gen_ai_client_token_usage_sum{gen_ai_token_type=~"input|output"}[1d]))',
                    "{{team_id}}",
                    instant=True,
                ),
            ),
            kind="table",
        ),
        Panel("Cost per team (USD per hour)", (Query("sum by (team_id) (llm_kit:team_cost_usd_per_hour)", "{{team_id}}"),), "currencyUSD"),
        Panel(
            "Cost per team and source",
            (Query("sum by (team_id, source) (llm_kit:team_cost_usd_per_hour)", "{{team_id}} {{source}}"),),
            "currencyUSD",
        ),
        Panel(
            "Gateway time to first token per model (p90)",
            (
                Query(
                    "histogram_quantile(0.9, sum by (le, gen_ai_request_model)"
                    " (rate(gen_ai_server_time_to_first_token_seconds_bucket[5m])))",
                    "{{gen_ai_request_model}}",
                ),
            ),
            "s",
        ),
        Panel(
            "Requests per provider (per s)",
            (Query("sum by (gen_ai_provider_name) (rate(gen_ai_server_request_duration_seconds_count[5m]))", "{{gen_ai_provider_name}}"),),
            "reqps",
        ),
    ),
)

CAPACITY = Dashboard(
    "llm-kit-capacity",
    "LLM kit / GPU capacity per team",
    "GPUs requested, used and idle per team and namespace, GPU-hours and their cost (the kit's GPU showback rules).",
    panels=(
        Panel("GPUs requested per team", (Query("sum by (team) (llm_kit:team_gpus_requested)", "{{team}}"),)),
        Panel("GPUs used per team (busy share x GPUs)", (Query("sum by (team) (llm_kit:team_gpus_used)", "{{team}}"),)),
        Panel("GPUs requested but idle per team", (Query("sum by (team) (llm_kit:team_gpus_idle)", "{{team}}"),)),
        Panel(
            "GPU-hours per team and namespace, last 24 h",
            (
                Query(
                    "sum by (team, namespace) (sum_over_time(llm_kit:team_gpus_requested[1d:5m])) / 12",
                    "{{team}} {{namespace}}",
                    instant=True,
                ),
            ),
            kind="table",
        ),
        Panel(
            "Idle GPU-hours per team, last 24 h",
            (Query("sum by (team) (sum_over_time(llm_kit:team_gpus_idle[1d:5m])) / 12", "{{team}}", instant=True),),
            kind="table",
        ),
        Panel(
            "GPU cost per team and pool (USD per hour)",
            (Query("sum by (team, pool) (llm_kit:team_gpu_cost_usd_per_hour)", "{{team}} {{pool}}"),),
            "currencyUSD",
        ),
        Panel(
            "Pods holding idle GPUs (max utilisation, last hour)",
            (Query("max by (namespace, pod) (max_over_time(DCGM_FI_DEV_GPU_UTIL[1h])) < 5", "{{namespace}}/{{pod}}", instant=True),),
            kind="table",
        ),
    ),
)

DASHBOARDS = (GPU_FLEET, SERVING, ROUTING, TEAMS, CAPACITY)
