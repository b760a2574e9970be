"""A queued workload's objects carry its team's queue and its priority; Kueue admits each gang whole.

- Deployment (a single-node server): each pod is admitted on its own (Kueue's Deployment integration).
- LeaderWorkerSet: one Kueue Workload per group, leader and workers admitted together or not at all; on a
  topology-aware capacity, both pod templates ask for one node of the configured EC2 network layer.
- Job: all its pods or none.
The labels go on the object (where Kueue's webhooks read them) and on its pod templates (where the pod
integration reads them).
"""

from __future__ import annotations

from blueprints.common.params import GpuWorkloadParams, WorkloadParams
from core.issues import ConfigIssue
from core.labels import GPU_RESOURCE
from core.platform import Platform
from core.kueue_facts import PODSET_GROUP, PRIORITY_LABEL, QUEUE_LABEL, REQUIRED_TOPOLOGY, TOPOLOGY_LABEL_PREFIX

QUEUED_KINDS = ("Deployment", "LeaderWorkerSet", "Job")


def issues(workload: GpuWorkloadParams, platform: Platform, *, startup_minutes: int) -> list[ConfigIssue]:
    """The queue is a team with quota on the workload's capacity, and pods get ready in time. (Whether a gang fits its
    capacity at all is checked for every workload, queued or not: blueprints/common/checks.py capacity_fit_issues.)"""
    if workload.queue is None:
        return []
    facts = platform.scheduling
    capacities = facts.capacities_of(workload.queue)
    if capacities is None:
        teams = ", ".join(team for team, _ in facts.teams) or "none: scheduling.teams is empty"
        return [
            ConfigIssue(
                "queue",
                "names no team of scheduling.teams",
                value=workload.queue,
                allowed=teams,
                fix="name a team, add it under scheduling.teams, or remove queue",
            )
        ]
    found = []
    if workload.node_pool not in capacities:
        found.append(
            ConfigIssue(
                "queue",
                f"team '{workload.queue}' has no quota on '{workload.node_pool}': Kueue would never admit the workload",
                value=workload.queue,
                allowed=", ".join(capacities),
                fix=f"add '{workload.node_pool}' to scheduling.teams[{workload.queue}].gpus (0 lets the team borrow only), or move the "
                "workload",
            )
        )
    if startup_minutes > facts.pods_ready_timeout_minutes:
        found.append(
            ConfigIssue(
                "queue",
                f"the pods may take up to {startup_minutes} minutes to become ready, longer than scheduling.pods_ready_timeout_minutes "
                f"({facts.pods_ready_timeout_minutes}): Kueue would evict and requeue the workload while it loads",
                value=workload.queue,
                fix=f"raise scheduling.pods_ready_timeout_minutes to {startup_minutes + 10} or more",
            )
        )
    return found


def apply(objects: list[dict], workload: WorkloadParams, platform: Platform) -> None:
    """Label the workload's GPU objects with its queue and priority, and add topology requests to its groups."""
    if not isinstance(workload, GpuWorkloadParams) or workload.queue is None:
        return
    labels = {QUEUE_LABEL: workload.queue, PRIORITY_LABEL: workload.priority}
    topology = workload.node_pool in platform.scheduling.topology_capacities
    for obj in objects:
        if obj["kind"] not in QUEUED_KINDS or not _uses_gpus(obj):
            continue
        obj["metadata"].setdefault("labels", {}).update(labels)
        for role, template in _pod_templates(obj):
            template.setdefault("metadata", {}).setdefault("labels", {}).update(labels)
            if topology and obj["kind"] == "LeaderWorkerSet":
                annotations = template["metadata"].setdefault("annotations", {})
                annotations[REQUIRED_TOPOLOGY] = TOPOLOGY_LABEL_PREFIX + platform.scheduling.topology_level
                annotations[PODSET_GROUP] = "group"


def _pod_templates(obj: dict) -> list[tuple[str, dict]]:
    spec = obj["spec"]
    if obj["kind"] == "LeaderWorkerSet":
        lws = spec["leaderWorkerTemplate"]
        return [(role, lws[key]) for role, key in (("leader", "leaderTemplate"), ("worker", "workerTemplate")) if key in lws]
    return [("pod", spec["template"])]


def _uses_gpus(obj: dict) -> bool:
    for _, template in _pod_templates(obj):
        for container in template["spec"].get("containers", []):
            if GPU_RESOURCE in container.get("resources", {}).get("limits", {}):
                return True
    return False
