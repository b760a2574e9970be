"""A new version beside the old one: a workload names its next version, a whole workload of its own (another model,
image or engine setting), and the gateway sends a share of the old one's model name to it.

    workloads:
      - name: chat-v1            # serves the name clients call
        ...
        routing: {}
        rollout: {next: chat-v2, weight: 10}
      - name: chat-v2            # serves its own name too (for direct tests)
        ...
        routing: {}

With a weight between 1 and 100 the route of chat-v1's model name sends weight% of its requests to chat-v2 and the
rest to chat-v1. Envoy AI Gateway v1.1.0 takes one InferencePool alone in a rule ("only one InferencePool backend is
allowed per rule", api/v1beta1/ai_gateway_route.go), so a split goes to each version's Service through an
AIServiceBackend, with `weight` on each backendRef and `modelNameOverride` so the next version hears its own model
name (its docs, capabilities/traffic/model-virtualization.md): while a split runs, replicas within a version are
chosen by the Service, not by the endpoint picker. Weight 0 keeps the route as it was (the next version is reached
by its own name only). scripts/rollout.py compares the two versions' time to first token, errors and generation
speed in the metrics store against `thresholds` and says whether to promote or roll back; changing the weight is
the user's edit of the config.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from blueprints.common import objects
from blueprints.common.params import HasLora, HasRollout, OwnPort, WorkloadParams, gateway_routed
from core.issues import ConfigIssue
from core.platform import Platform
from core.schema import KubeName, StrictModel

if TYPE_CHECKING:
    import cdk8s


class RolloutThresholds(StrictModel):
    """What scripts/rollout.py requires of the next version, over the same window, before it says promote."""

    window_minutes: Annotated[int, Field(ge=5, le=1440)] = 30
    """How far back the metrics are read."""
    min_requests: Annotated[int, Field(ge=1)] = 200
    """Requests each version must have finished in the window before anything is judged (fewer: hold)."""
    max_ttft_p90_ratio: Annotated[float, Field(gt=0, le=10)] = 1.2
    """The next version's p90 time to first token at most this times the current one's."""
    max_error_rate: Annotated[float, Field(ge=0, le=1)] = 0.01
    """The share of the next version's finished requests that ended in an engine error (vLLM finished_reason error)."""
    min_speed_ratio: Annotated[float, Field(gt=0, le=10)] = 0.9
    """The next version's generation speed (tokens per second per running request) at least this times the current one's."""


class Rollout(StrictModel):
    next: KubeName
    """The workload that is the next version: enabled, serving the OpenAI API through the gateway."""
    weight: Annotated[int, Field(ge=0, le=100)] = 0
    """Percent of this workload's model name sent to the next version; 0 sends none, 100 all of it."""
    thresholds: RolloutThresholds = RolloutThresholds()


def issues(workloads: list[WorkloadParams]) -> list[ConfigIssue]:
    """The rollouts of a config's workloads, checked against the workloads they name."""
    by_name = {w.name: w for w in workloads}
    found = []
    for index, workload in enumerate(workloads):
        rollout = workload.rollout if isinstance(workload, HasRollout) else None
        if rollout is None or not workload.enabled:
            continue
        path = f"workloads[{index}].rollout"
        target = by_name.get(rollout.next)
        if not gateway_routed(workload):
            found.append(
                ConfigIssue(
                    path,
                    "splits this workload's model name at the gateway, but the workload is not routed through it",
                    fix="add routing: {} (routing.gateway: true), or remove rollout",
                )
            )
        if rollout.next == workload.name:
            found.append(
                ConfigIssue(
                    f"{path}.next", "names the workload itself", value=rollout.next, fix="name the workload that runs the next version"
                )
            )
        elif target is None:
            found.append(
                ConfigIssue(
                    f"{path}.next",
                    "names no workload",
                    value=rollout.next,
                    allowed=", ".join(sorted(n for n in by_name if n != workload.name)) or "none",
                    fix="add the next version as a workload of its own, or fix the name",
                )
            )
        elif not target.enabled:
            found.append(
                ConfigIssue(
                    f"{path}.next",
                    f"workload '{rollout.next}' is disabled: the share sent to it would fail",
                    value=rollout.next,
                    fix=f"enable '{rollout.next}', or set weight: 0",
                )
            )
        elif not gateway_routed(target):
            found.append(
                ConfigIssue(
                    f"{path}.next",
                    f"workload '{rollout.next}' is not routed through the gateway: its pods admit no request from the gateway's proxies",
                    value=rollout.next,
                    fix=f"add routing: {{}} to '{rollout.next}' (it then also serves its own name, for direct tests)",
                )
            )
        elif isinstance(target, HasRollout) and target.rollout is not None:
            found.append(
                ConfigIssue(
                    f"{path}.next",
                    f"'{rollout.next}' has a rollout of its own: one step at a time",
                    value=rollout.next,
                    fix=f"finish this rollout first, then move rollout to '{rollout.next}'",
                )
            )
        if isinstance(workload, HasLora) and workload.lora is not None:
            found.append(
                ConfigIssue(
                    path,
                    "cannot split a workload that serves LoRA adapters: the adapters' names stay on this version, and a weighted split "
                    "needs Service backends where the adapters' rules use the endpoint picker",
                    fix="move the adapters to the next version in a later step, or remove rollout",
                )
            )
    return found


def service_backend(chart: cdk8s.Chart, construct_id: str, name: str, labels: dict, service: str, port: int, platform: Platform) -> str:
    """An Envoy Gateway Backend for a workload's Service and the AIServiceBackend over it; returns the latter's name."""
    endpoint = {"fqdn": {"hostname": f"{service}.{platform.namespace}.svc.cluster.local", "port": port}}
    objects.api_object(
        chart,
        f"{construct_id}-backend",
        api_version="gateway.envoyproxy.io/v1alpha1",
        kind="Backend",
        name=name,
        labels_=labels,
        body={"spec": {"endpoints": [endpoint]}},
    )
    ai = {"schema": {"name": "OpenAI"}, "backendRef": {"group": "gateway.envoyproxy.io", "kind": "Backend", "name": name}}
    objects.api_object(
        chart,
        f"{construct_id}-ai-backend",
        api_version="aigateway.envoyproxy.io/v1beta1",
        kind="AIServiceBackend",
        name=name,
        labels_=labels,
        body={"spec": ai},
    )
    return name


def split_backends(chart: cdk8s.Chart, workload: WorkloadParams, labels: dict, platform: Platform) -> list[dict]:
    """The backendRefs of a split route (both versions at priority 0, by weight); [] when nothing is split."""
    if not isinstance(workload, HasRollout) or not isinstance(workload, OwnPort):
        return []  # only a workload serving on a port of its own is split (every blueprint with rollout has one)
    rollout = workload.rollout
    target = platform.endpoints.get(rollout.next) if rollout is not None else None
    if rollout is None or rollout.weight == 0 or target is None:
        return []
    current = service_backend(chart, "local", f"{workload.name}-local", labels, workload.name, workload.port, platform)
    following = service_backend(chart, "next", f"{workload.name}-next", labels, target.service, target.port, platform)
    return [
        {"name": current, "weight": 100 - rollout.weight, "priority": 0},
        {"name": following, "weight": rollout.weight, "priority": 0, "modelNameOverride": target.model_name},
    ]


def describe(workload: WorkloadParams) -> str:
    rollout = workload.rollout if isinstance(workload, HasRollout) else None
    if rollout is None:
        return ""
    if rollout.weight == 0:
        return f"; next version {rollout.next} (no traffic yet)"
    return f"; {100 - rollout.weight}% here, {rollout.weight}% to {rollout.next}"
