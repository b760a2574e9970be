"""GPU showback per team and namespace: GPUs requested, used and idle-but-requested, and what they cost.

Sources: kube-state-metrics (each running pod's nvidia.com/gpu request, its node, its queue label, each node's pool)
and DCGM (each GPU's utilisation, labelled with the pod holding it). The team of a pod is its Kueue queue; pods
outside any queue count under team "none". Recording rules per 5-minute evaluation give GPUs (a gauge); GPU-hours
are their sums over time (the dashboard's and the docs' queries). Cost per hour uses each pool's gpu_hour_usd
(node_pools[].gpu_hour_usd, by pool name; a pool without a price has no cost series).
The alert: a pod has held GPUs for an hour without using them.
"""

from __future__ import annotations

from collections.abc import Mapping

GROUP = "llm-kit-gpu-showback"
QUEUE = "label_kueue_x_k8s_io_queue_name"
POOL = "label_llm_kit_pool"
IDLE_UTIL_PERCENT = 5
"""A GPU below 5% utilisation for the whole hour counts as idle."""

REQUESTED = 'kube_pod_container_resource_requests{resource="nvidia_com_gpu"}'
RUNNING = 'kube_pod_status_phase{phase="Running"} == 1'


def pod_team() -> str:
    """Each pod's team (its queue label; "none" without one), one series per pod."""
    queued = f'label_replace(kube_pod_labels{{{QUEUE}!=""}}, "team", "$1", "{QUEUE}", "(.+)")'
    unqueued = f'label_replace(kube_pod_labels{{{QUEUE}=""}}, "team", "none", "", "")'
    return f"max by (namespace, pod, team) ({queued} or {unqueued})"


def gpu_showback_rules(pool_prices: Mapping[str, float | None]) -> list[dict]:
    """pool_prices: each GPU node pool's price of one GPU-hour by pool name, None where the config gives none."""
    requested_by_pod = f"sum by (namespace, pod, node) ({REQUESTED} * on (namespace, pod) group_left () ({RUNNING}))"
    rules: list[dict] = [
        {"record": "llm_kit:pod_team", "expr": pod_team()},
        {"record": "llm_kit:pod_gpus_requested", "expr": requested_by_pod},
        {
            "record": "llm_kit:team_gpus_requested",
            "expr": "sum by (namespace, team) (llm_kit:pod_gpus_requested * on (namespace, pod) group_left (team) llm_kit:pod_team)",
        },
        {
            "record": "llm_kit:team_gpus_used",
            "expr": "sum by (namespace, team) (DCGM_FI_DEV_GPU_UTIL / 100 * on (namespace, pod) group_left (team) llm_kit:pod_team)",
        },
        {
            "record": "llm_kit:team_gpus_idle",
            "expr": "clamp_min(llm_kit:team_gpus_requested"
            " - on (namespace, team) (llm_kit:team_gpus_used or llm_kit:team_gpus_requested * 0), 0)",
        },
    ]
    priced = {pool: price for pool, price in pool_prices.items() if price}
    if priced:
        prices = " or ".join(f'label_replace(vector({price}), "pool", "{pool}", "", "")' for pool, price in priced.items())
        rules.append({"record": "llm_kit:pool_gpu_hour_usd", "expr": prices})
        node_pool = f'max by (node, pool) (label_replace(kube_node_labels{{{POOL}!=""}}, "pool", "$1", "{POOL}", "(.+)"))'
        on_pool = f"llm_kit:pod_gpus_requested * on (node) group_left (pool) {node_pool}"
        cost = (
            f"sum by (namespace, team, pool) (({on_pool}) * on (pool) group_left () llm_kit:pool_gpu_hour_usd"
            " * on (namespace, pod) group_left (team) llm_kit:pod_team)"
        )
        rules.append({"record": "llm_kit:team_gpu_cost_usd_per_hour", "expr": cost})
    rules.append(
        {
            "alert": "GpusAllocatedAndIdle",
            "expr": f"max by (namespace, pod) (max_over_time(DCGM_FI_DEV_GPU_UTIL[1h])) < {IDLE_UTIL_PERCENT}",
            "for": "5m",
            "labels": {"severity": "warning"},
            "annotations": {
                "summary": "{{ $labels.namespace }}/{{ $labels.pod }} has held GPUs for over an hour without using them",
                "description": f"Every GPU of the pod stayed below {IDLE_UTIL_PERCENT}% utilisation for the last hour:"
                " scale it down, or give the GPUs back.",
            },
        }
    )
    return rules


def gpu_showback_groups(pool_prices: Mapping[str, float | None]) -> list[dict]:
    return [{"name": GROUP, "rules": gpu_showback_rules(pool_prices)}]
