"""Alert rules over the metrics in metrics_catalog, with the thresholds of observability.thresholds.

Each rule names the runbook section of docs/observability.md that says what to do.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import yaml

from infra.observability.scrape import WORKLOAD

GROUP = "llm-kit"
RUNBOOK = "docs/observability.md"
# Nodes whose GPUs are paid for whether used or not: Karpenter's reserved capacity type, and capacity-block node groups.
RESERVED_NODES = (
    'kube_node_labels{label_karpenter_sh_capacity_type="reserved"}'
    ' or kube_node_labels{label_eks_amazonaws_com_capacity_type="CAPACITY_BLOCK"}'
)


@dataclass(frozen=True, kw_only=True)
class AlertRuleThresholds:
    """When the kit's alert rules fire (observability.thresholds; the config holds the defaults and their reasons)."""

    queue_waiting_requests: int
    """A vLLM server keeping more requests than this waiting (vllm:num_requests_waiting) is backlogged."""
    queue_minutes: int
    """How long the backlog, or a growing queue, must last before its alert fires."""
    idle_gpu_utilization_percent: int
    """A GPU below this utilisation (DCGM_FI_DEV_GPU_UTIL) counts as idle."""
    idle_reserved_minutes: int
    """Every GPU of a reserved or capacity-block node idle this long fires ReservedGpusIdle."""
    node_not_ready_minutes: int
    """A node NotReady (or Unknown) this long fires NodeNotReady."""

    def __post_init__(self) -> None:
        # The ranges the config allows (config/observability.py AlertThresholds).
        bounds = {
            "queue_waiting_requests": (1, 10000),
            "queue_minutes": (1, 120),
            "idle_gpu_utilization_percent": (0, 50),
            "idle_reserved_minutes": (10, 1440),
            "node_not_ready_minutes": (1, 60),
        }
        for field in fields(self):
            value, (low, high) = getattr(self, field.name), bounds[field.name]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ValueError(
                    f"AlertRuleThresholds.{field.name}: got {value!r}; a whole number from {low} to {high} is allowed;"
                    " pick one in that range"
                )


@dataclass(frozen=True)
class AlertRule:
    name: str
    expr: str
    for_minutes: int
    severity: str
    summary: str
    description: str
    runbook: str

    def as_prometheus(self) -> dict[str, Any]:
        rule: dict[str, Any] = {"alert": self.name, "expr": self.expr}
        if self.for_minutes:
            rule["for"] = f"{self.for_minutes}m"
        rule["labels"] = {"severity": self.severity}
        rule["annotations"] = {"summary": self.summary, "description": self.description, "runbook_url": f"{RUNBOOK}#{self.runbook}"}
        return rule


def alert_rules(t: AlertRuleThresholds) -> list[AlertRule]:
    queue = f"sum by (namespace, {WORKLOAD}, model_name) (vllm:num_requests_waiting)"
    return [
        AlertRule(
            "GpuXidError",
            "max by (node, gpu, UUID) (max_over_time(DCGM_FI_DEV_XID_ERRORS[5m])) > 0",
            0,
            "critical",
            "GPU {{ $labels.gpu }} on {{ $labels.node }} reported Xid {{ $value }}",
            "The NVIDIA driver logged an Xid error: anything from an application fault to a GPU that must be drained and replaced.",
            "gpuxiderror",
        ),
        AlertRule(
            "NodeNotReady",
            'kube_node_status_condition{condition="Ready",status="true"} == 0',
            t.node_not_ready_minutes,
            "warning",
            "Node {{ $labels.node }} has not been Ready for " + f"{t.node_not_ready_minutes} minutes",
            "Pods on the node are not served; GPU nodes that stay NotReady are replaced by Karpenter's node repair.",
            "nodenotready",
        ),
        AlertRule(
            "VllmQueueBacklog",
            f"{queue} > {t.queue_waiting_requests}",
            t.queue_minutes,
            "warning",
            "{{ $labels." + WORKLOAD + " }} keeps {{ $value }} requests waiting",
            f"More than {t.queue_waiting_requests} requests have waited in vLLM's queue for {t.queue_minutes} minutes: "
            "time to first token grows with the queue.",
            "vllmqueuebacklog",
        ),
        AlertRule(
            "VllmQueueGrowing",
            f"sum by (namespace, {WORKLOAD}, model_name) (deriv(vllm:num_requests_waiting[{t.queue_minutes}m])) > 0 and {queue} > 1",
            t.queue_minutes,
            "info",
            "The queue of {{ $labels." + WORKLOAD + " }} has grown for " + f"{t.queue_minutes} minutes",
            "Arrivals outpace what the replicas finish; scale out before the backlog alert fires.",
            "vllmqueuegrowing",
        ),
        AlertRule(
            "ReservedGpusIdle",
            f"max by (node) (max_over_time(DCGM_FI_DEV_GPU_UTIL[{t.idle_reserved_minutes}m])) < {t.idle_gpu_utilization_percent}"
            f" and on (node) ({RESERVED_NODES})"
            f" and on (node) (time() - kube_node_created > {t.idle_reserved_minutes * 60})",
            0,
            "warning",
            "Reserved GPUs on {{ $labels.node }} idle for " + f"{t.idle_reserved_minutes} minutes",
            f"Every GPU of a reserved or capacity-block node stayed under {t.idle_gpu_utilization_percent}% utilisation: "
            "capacity paid for and unused.",
            "reservedgpusidle",
        ),
    ]


def rule_groups(t: AlertRuleThresholds) -> dict:
    return {"groups": [{"name": GROUP, "rules": [rule.as_prometheus() for rule in alert_rules(t)]}]}


def rules_yaml(t: AlertRuleThresholds) -> str:
    """The rules file AMP's rule groups namespace takes (Prometheus rules format)."""
    return yaml.safe_dump(rule_groups(t), sort_keys=False, width=1000)
