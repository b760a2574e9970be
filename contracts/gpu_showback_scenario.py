"""Synthetic GPU usage for the GPU showback rules, with what they must compute, as a promtool rule unit test.

Three running pods, each on a node of its own pool: the first team's pod uses its 8 GPUs at 50%, the second
team's pod holds 8 GPUs idle for over an hour (the alert), and a pod outside any queue uses one GPU fully. The
expected GPUs, idle GPUs and costs are worked out here from the config's pool prices.
"""

from __future__ import annotations

import yaml

from config.model import PlatformConfig
from infra.observability.rules.gpu_showback import GROUP, IDLE_UTIL_PERCENT, POOL, QUEUE, gpu_showback_rules

EVAL = "10m"
ALERT_MINUTES = 70
SAMPLES = 80


def rule_test(config: PlatformConfig) -> dict:
    teams = [team.name for team in config.scheduling.teams][:2]
    pools = config.node_pools
    price = {pool.name: pool.gpu_hour_usd for pool in pools}
    # The pools' names (or the node groups', where the config has no Karpenter pool) label the synthetic nodes.
    names = [pool.name for pool in pools] or [group.name for group in config.capacity_block_node_groups] or ["gpu"]
    # (pod, namespace, team or None, node, pool, GPUs, utilisation %)
    pods = [
        ("busy", "inference", teams[0], "node-a", names[0], 8, 50),
        ("idle", "inference", teams[-1], "node-b", names[min(1, len(names) - 1)], 8, 0),
        ("loose", "inference", None, "node-c", names[-1], 1, 100),
    ]
    series = []
    for pod, namespace, team, node, pool, gpus, util in pods:
        series.append(
            {"series": f'kube_pod_labels{{namespace="{namespace}",pod="{pod}",{QUEUE}="{team or ""}"}}', "values": f"1x{SAMPLES}"}
        )
        series.append({"series": f'kube_pod_status_phase{{namespace="{namespace}",pod="{pod}",phase="Running"}}', "values": f"1x{SAMPLES}"})
        series.append(
            {
                "series": (
                    f'kube_pod_container_resource_requests{{namespace="{namespace}",pod="{pod}",container="server",'
                    f'node="{node}",resource="nvidia_com_gpu",unit="integer"}}'
                ),
                "values": f"{gpus}x{SAMPLES}",
            }
        )
        series.append({"series": f'kube_node_labels{{node="{node}",{POOL}="{pool}"}}', "values": f"1x{SAMPLES}"})
        for gpu in range(gpus):
            series.append(
                {
                    "series": f'DCGM_FI_DEV_GPU_UTIL{{gpu="{gpu}",node="{node}",namespace="{namespace}",pod="{pod}"}}',
                    "values": f"{util}x{SAMPLES}",
                }
            )

    def sample(record: str, pod: tuple, value: float, **extra: str) -> dict:
        _, namespace, team, *_ = pod
        labels = ",".join([f'namespace="{namespace}"', f'team="{team or "none"}"', *(f'{k}="{v}"' for k, v in extra.items())])
        return {"labels": f"{record}{{{labels}}}", "value": value}

    requested = [sample("llm_kit:team_gpus_requested", pod, float(pod[5])) for pod in pods]
    used = [sample("llm_kit:team_gpus_used", pod, pod[5] * (pod[6] / 100)) for pod in pods]
    idle = [sample("llm_kit:team_gpus_idle", pod, max(pod[5] - pod[5] * (pod[6] / 100), 0.0)) for pod in pods]
    checks = [
        {"eval_time": EVAL, "expr": "llm_kit:team_gpus_requested", "exp_samples": _merged(requested)},
        {"eval_time": EVAL, "expr": "llm_kit:team_gpus_used", "exp_samples": _merged(used)},
        {"eval_time": EVAL, "expr": "llm_kit:team_gpus_idle", "exp_samples": _merged(idle)},
    ]
    costs = [sample("llm_kit:team_gpu_cost_usd_per_hour", pod, pod[5] * price[pod[4]], pool=pod[4]) for pod in pods if price.get(pod[4])]
    if costs:
        checks.append({"eval_time": EVAL, "expr": "llm_kit:team_gpu_cost_usd_per_hour", "exp_samples": _merged(costs)})
    rules = gpu_showback_rules(price)
    alert = next(rule for rule in rules if rule.get("alert"))
    firing = [
        {
            "exp_labels": {"namespace": namespace, "pod": pod, **alert["labels"]},
            "exp_annotations": {
                "summary": alert["annotations"]["summary"].replace("{{ $labels.namespace }}", namespace).replace("{{ $labels.pod }}", pod),
                "description": alert["annotations"]["description"],
            },
        }
        for pod, namespace, *_, util in pods
        if util < IDLE_UTIL_PERCENT
    ]
    tests = [
        {
            "interval": "1m",
            "input_series": series,
            "promql_expr_test": checks,
            "alert_rule_test": [{"eval_time": f"{ALERT_MINUTES}m", "alertname": alert["alert"], "exp_alerts": firing}],
        }
    ]
    return {
        "rules": yaml.safe_dump({"groups": [{"name": GROUP, "rules": rules}]}, sort_keys=False, width=1000),
        "tests": yaml.safe_dump({"rule_files": ["rules.yaml"], "evaluation_interval": "1m", "tests": tests}, sort_keys=False, width=1000),
        "firing": len(firing),
    }


def _merged(samples: list[dict]) -> list[dict]:
    """Pods of one team and namespace add up, as the rules sum them."""
    totals: dict[str, float] = {}
    for item in samples:
        totals[item["labels"]] = totals.get(item["labels"], 0.0) + item["value"]
    return [{"labels": labels, "value": value} for labels, value in totals.items()]
