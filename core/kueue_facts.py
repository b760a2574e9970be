"""GPU queues (Kueue v0.19): the names and facts shared by the config checks, the blueprints and the cluster stack.

Each team of `scheduling.teams` gets a ClusterQueue with its nominal GPU quota per GPU capacity (a ResourceFlavor
each), all in one cohort so idle quota is lent; a LocalQueue named after the team in each of the team's namespaces,
and in the workloads namespace only for the teams the kit's own workloads queue on. Workloads that name a queue are
admitted by Kueue whole (a LeaderWorkerSet group, every pod of a Job), at one of three priorities; higher ones
preempt batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

QUEUE_LABEL = "kueue.x-k8s.io/queue-name"
PRIORITY_LABEL = "kueue.x-k8s.io/priority-class"
REQUIRED_TOPOLOGY = "kueue.x-k8s.io/podset-required-topology"
PODSET_GROUP = "kueue.x-k8s.io/podset-group-name"
# Kueue manages jobs only in namespaces with this label (its managedJobsNamespaceSelector, which also scopes its
# pod and Deployment webhooks, so a Kueue outage cannot block pods anywhere else).
MANAGED_NAMESPACE_LABEL = "llm-kit/kueue-managed"
COHORT = "llm-kit"
TOPOLOGY_NAME = "ec2-network"

Priority = Literal["realtime", "near-realtime", "batch"]
PRIORITIES: dict[str, int] = {"realtime": 1000, "near-realtime": 500, "batch": 100}
"""WorkloadPriorityClass values: real-time serving over near-real-time over batch."""


@runtime_checkable
class Queueable(Protocol):
    """A workload that may name a team's queue (every GPU workload: blueprints.common.params.GpuWorkloadParams). A
    Protocol here so that the cluster stack, which never imports a blueprint, reads the key typed."""

    @property
    def enabled(self) -> bool: ...
    @property
    def queue(self) -> str | None: ...


TopologyLevel = Literal["network-node-layer-1", "network-node-layer-2", "network-node-layer-3"]
TOPOLOGY_LABEL_PREFIX = "topology.k8s.aws/"
TOPOLOGY_LEVELS = ("network-node-layer-1", "network-node-layer-2", "network-node-layer-3")
"""EC2 instance topology as node labels (set by EKS's cloud controller manager from DescribeInstanceTopology): layer 1
is the top of the network, layer 3 the switch the instance hangs off. Kueue's Topology lists them top-down, then
the node itself."""
HOSTNAME_LABEL = "kubernetes.io/hostname"

# Instance families whose nodes carry the network topology labels (EC2 user guide, instance topology prerequisites,
# as listed 2026-11-29). Topology-aware placement applies only to fixed capacities of these families: Kueue counts
# only nodes that exist, and nodes that Karpenter has yet to launch do not.
TOPOLOGY_FAMILIES = frozenset(
    {"p3dn", "p4d", "p4de", "p5", "p5e", "p5en", "p6-b200", "p6-b300", "p6e-gb200", "g6e", "g7e", "trn1", "trn1n", "trn2", "trn2u"}
)


def has_topology_labels(instance_type: str) -> bool:
    return instance_type.split(".")[0] in TOPOLOGY_FAMILIES


@dataclass(frozen=True)
class SchedulingFacts:
    teams: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """(team, the GPU capacities it has quota on); empty: Kueue is not installed."""
    topology_capacities: frozenset[str] = frozenset()
    """Capacities whose ResourceFlavor is topology-aware (fixed nodes that carry the network labels)."""
    topology_level: TopologyLevel = "network-node-layer-2"
    """The level every pod of a multi-node group must share."""
    pods_ready_timeout_minutes: int = 60

    def capacities_of(self, team: str) -> tuple[str, ...] | None:
        return dict(self.teams).get(team)
