"""Config of the GPU queues: teams with GPU quotas per capacity, under Kueue."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from core.kueue_facts import TopologyLevel
from core.schema import KubeName, KubernetesName, StrictModel


class QueueTeam(StrictModel):
    """A team's share of the GPUs: a Kueue ClusterQueue, and a LocalQueue named after it in each of its namespaces."""

    name: KubernetesName
    """Workloads join the team's queue with `queue: <name>`."""
    gpus: Annotated[dict[KubeName, Annotated[int, Field(ge=0, le=100_000)]], Field(min_length=1)]
    """Nominal GPU quota per GPU capacity (a node pool, chain or capacity-block node group), in the order the team's
    workloads try them. Together the teams' quotas of a capacity may not exceed what it can run."""
    borrowing_limit: Annotated[int | None, Field(ge=0)] = None
    """The most GPUs the team may borrow beyond its quota, per capacity, from quota other teams leave idle
    (default: no limit). Borrowed GPUs are the first taken back when their owner needs them."""
    namespaces: list[KubernetesName] = []
    """The team's own namespaces (created by the kit), where its people submit Jobs and LeaderWorkerSets to its
    queue. They call models through the gateway with the team's key: the model servers admit no pod of these
    namespaces. The workloads namespace has the team's queue only while a workload of the config names it."""


class Scheduling(StrictModel):
    """Kueue: installed while `teams` is not empty."""

    teams: list[QueueTeam] = []
    topology_level: TopologyLevel = "network-node-layer-2"
    """Multi-node groups on fixed capacity (capacity blocks) are placed with all pods under one node of this EC2
    network layer: layer-2 keeps a group under one spine, layer-3 under one switch (tighter, harder to find)."""
    pods_ready_timeout_minutes: Annotated[int, Field(ge=10, le=1440)] = 60
    """After admission, how long a queued workload's pods may take to become Ready before Kueue evicts and requeues
    it (Kueue's waitForPodsReady): above every queued workload's cold start."""
