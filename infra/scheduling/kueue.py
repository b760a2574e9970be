"""Kueue v0.19 in the cluster stack: the controller, then the queues the config's teams get.

Cluster-wide objects come from here (priority classes, the EC2 network Topology, a ResourceFlavor per GPU capacity
a team has quota on, a ClusterQueue per team in one cohort, the teams' own namespaces and their LocalQueues). A team's
people submit to the LocalQueue in the team's namespaces, never to the workloads namespace: a pod there would sit
beside the model servers. The workloads namespace has a LocalQueue only for the teams the kit's own workloads queue
on (workload_teams), written with that namespace in the workloads stack.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import yaml
from aws_cdk import aws_eks_v2 as eks
from constructs import Construct, IDependable

from core.capacity import GpuCapacity
from core.isolation import pod_security_labels
from core.labels import GPU_RESOURCE, PART_OF, SYSTEM_POOL_LABEL
from core.kueue_facts import (
    COHORT,
    HOSTNAME_LABEL,
    MANAGED_NAMESPACE_LABEL,
    PRIORITIES,
    TOPOLOGY_LABEL_PREFIX,
    TOPOLOGY_LEVELS,
    TOPOLOGY_NAME,
    Queueable,
)
from core.versions import KUEUE
from infra.cluster.helm import install_chart
from infra.cluster.platform_policies import PlatformIsolation, team_namespace_policies

API = "kueue.x-k8s.io/v1beta2"
NAMESPACE = "kueue-system"
LABELS = {"app.kubernetes.io/part-of": PART_OF}
FRAMEWORKS = ["batch/job", "pod", "deployment", "leaderworkerset.x-k8s.io/leaderworkerset"]


class FlavorSource(Protocol):
    """What a ResourceFlavor reads of a GPU capacity (core.capacity.GpuCapacity): the node labels of its nodes."""

    def selector(self) -> dict[str, str]: ...


@dataclass(frozen=True, kw_only=True)
class TeamQueue:
    """A team's share of the GPUs (scheduling.teams[]): a ClusterQueue, and a LocalQueue in each of its namespaces."""

    name: str
    """The ClusterQueue's name, and the LocalQueue's in each namespace; workloads join it with `queue: <name>`."""
    gpus: Mapping[str, int]
    """Nominal GPU quota per GPU capacity (a ResourceFlavor), in the order the team's workloads try them."""
    borrowing_limit: int | None = None
    """The most GPUs the team may borrow per capacity beyond its quota. Default: None, no limit (Kueue's own)."""
    namespaces: tuple[str, ...] = ()
    """The team's own namespaces, created by the kit. Default: (), a team that only lends its quota."""

    def __post_init__(self) -> None:
        if not self.gpus:
            raise ValueError(
                f"TeamQueue.gpus: got an empty quota for team {self.name!r}; at least one capacity with a quota is allowed;"
                " give the team a quota (0 still lets it borrow)"
            )
        negative = {capacity: quota for capacity, quota in self.gpus.items() if quota < 0}
        if negative:
            raise ValueError(f"TeamQueue.gpus: got {negative} for team {self.name!r}; quotas of 0 or more are allowed; raise them")
        if self.borrowing_limit is not None and self.borrowing_limit < 0:
            raise ValueError(
                f"TeamQueue.borrowing_limit: got {self.borrowing_limit} for team {self.name!r}; 0 or more, or None, is allowed;"
                " raise it or leave it out"
            )


def manager_config(pods_ready_timeout_minutes: int) -> str:
    """The whole controller configuration (the chart takes it as one document)."""
    config = {
        "apiVersion": "config.kueue.x-k8s.io/v1beta2",
        "kind": "Configuration",
        "health": {"healthProbeBindAddress": ":8081"},
        "metrics": {"bindAddress": ":8443"},
        "webhook": {"port": 9443},
        "leaderElection": {"leaderElect": True, "resourceName": "c1f6bfd2.kueue.x-k8s.io"},
        # Only the namespaces the kit marks: Kueue's pod and Deployment webhooks fail closed, so they stay away
        # from every other namespace.
        "managedJobsNamespaceSelector": {"matchLabels": {MANAGED_NAMESPACE_LABEL: "true"}},
        # On by default in v0.19 with 30 minutes, which a large model's first start can exceed.
        "waitForPodsReady": {
            "timeout": f"{pods_ready_timeout_minutes}m",
            "recoveryTimeout": f"{pods_ready_timeout_minutes}m",
            "blockAdmission": False,
            "requeuingStrategy": {"timestamp": "Eviction", "backoffBaseSeconds": 60, "backoffMaxSeconds": 3600},
        },
        # Quota is on GPUs only: CPU and memory are whatever the GPU nodes bring.
        "resources": {"quotaCheckStrategy": "IgnoreUndeclared"},
        "integrations": {"frameworks": FRAMEWORKS},
    }
    return yaml.safe_dump(config, sort_keys=False)


def kueue_values(pods_ready_timeout_minutes: int) -> dict:
    return {
        "controllerManager": {"nodeSelector": SYSTEM_POOL_LABEL, "replicas": 2},
        "managerConfig": {"controllerManagerConfigYaml": manager_config(pods_ready_timeout_minutes)},
    }


def _meta(name: str, namespace: str | None = None) -> dict:
    return {"name": name, **({"namespace": namespace} if namespace else {}), "labels": LABELS}


def flavor_names(teams: Sequence[TeamQueue]) -> list[str]:
    """Every capacity any team has quota on, in first-mentioned order."""
    return list(dict.fromkeys(capacity for team in teams for capacity in team.gpus))


def workload_teams(workloads: Iterable[object]) -> tuple[str, ...]:
    """The teams whose queue an enabled workload of the kit names, in order: only these get a LocalQueue (and their
    ClusterQueue a selector) in the workloads namespace."""
    return tuple(dict.fromkeys(w.queue for w in workloads if isinstance(w, Queueable) and w.enabled and w.queue))


def cluster_objects(
    teams: Sequence[TeamQueue],
    capacities: Mapping[str, FlavorSource],
    topology: frozenset[str],
    workloads_namespace: str,
    queued_teams: tuple[str, ...] = (),
) -> list[dict[str, Any]]:
    """queued_teams: the teams of workload_teams, whose ClusterQueue also admits the workloads namespace."""
    flavors = flavor_names(teams)
    objects: list[dict[str, Any]] = [
        {
            "apiVersion": API,
            "kind": "WorkloadPriorityClass",
            "metadata": _meta(name),
            "value": value,
            "description": f"llm-kit {name} workloads",
        }
        for name, value in PRIORITIES.items()
    ]
    if topology & set(flavors):
        levels = [{"nodeLabel": TOPOLOGY_LABEL_PREFIX + level} for level in TOPOLOGY_LEVELS] + [{"nodeLabel": HOSTNAME_LABEL}]
        objects.append({"apiVersion": API, "kind": "Topology", "metadata": _meta(TOPOLOGY_NAME), "spec": {"levels": levels}})
    for name in flavors:
        spec: dict[str, Any] = {"nodeLabels": capacities[name].selector()}
        if name in topology:
            spec["topologyName"] = TOPOLOGY_NAME
        objects.append({"apiVersion": API, "kind": "ResourceFlavor", "metadata": _meta(name), "spec": spec})
    for team in teams:
        objects.append(cluster_queue(team, flavors, [*([workloads_namespace] if team.name in queued_teams else []), *team.namespaces]))
        for namespace in team.namespaces:
            labels = {**LABELS, **pod_security_labels("restricted"), MANAGED_NAMESPACE_LABEL: "true"}
            objects.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace, "labels": labels}})
            objects.append(local_queue(team.name, namespace))
    return objects


def cluster_queue(team: TeamQueue, flavors: list[str], namespaces: list[str]) -> dict[str, Any]:
    """The team's quota per flavor (0 where it has none: it may still borrow there), its own flavors first."""
    ordered = [name for name in team.gpus] + [name for name in flavors if name not in team.gpus]
    quotas = []
    for name in ordered:
        resource: dict[str, Any] = {"name": GPU_RESOURCE, "nominalQuota": team.gpus.get(name, 0)}
        if team.borrowing_limit is not None:
            resource["borrowingLimit"] = team.borrowing_limit
        quotas.append({"name": name, "resources": [resource]})
    spec = {
        "cohortName": COHORT,
        "namespaceSelector": namespace_selector(namespaces),
        "queueingStrategy": "BestEffortFIFO",
        "resourceGroups": [{"coveredResources": [GPU_RESOURCE], "flavors": quotas}],
        # Lower priorities give way inside the team; a team takes back its lent quota from anyone; and while
        # borrowing, only batch may be preempted to make room.
        "preemption": {
            "withinClusterQueue": "LowerPriority",
            "reclaimWithinCohort": "Any",
            "borrowWithinCohort": {"policy": "LowerPriority", "maxPriorityThreshold": PRIORITIES["batch"]},
        },
    }
    return {"apiVersion": API, "kind": "ClusterQueue", "metadata": _meta(team.name), "spec": spec}


def namespace_selector(namespaces: list[str]) -> dict[str, Any]:
    """These namespaces; none at all when the list is empty (an In with no values is invalid, and every namespace
    carries kubernetes.io/metadata.name, so DoesNotExist matches none): such a team only lends its quota."""
    if not namespaces:
        return {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "DoesNotExist"}]}
    return {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In", "values": namespaces}]}


def local_queue(team: str, namespace: str) -> dict[str, Any]:
    return {"apiVersion": API, "kind": "LocalQueue", "metadata": _meta(team, namespace), "spec": {"clusterQueue": team}}


@dataclass(frozen=True, kw_only=True)
class KueueProps:
    """Kueue's controller, and the cluster-wide queues, flavors and namespaces of the teams."""

    cluster: eks.Cluster
    """The cluster Kueue is installed in."""
    teams: tuple[TeamQueue, ...]
    """The teams (scheduling.teams), at least one: Kueue is installed only for them."""
    capacities: Mapping[str, GpuCapacity]
    """Every GPU capacity by name; each one a team has quota on becomes a ResourceFlavor with its node labels."""
    topology_capacities: frozenset[str] = frozenset()
    """Capacities whose flavor carries the EC2 network Topology. Default: none, no topology-aware placement."""
    workloads_namespace: str = "inference"
    """The kit's workloads namespace. Default: "inference", as storage.workloads_namespace has it."""
    after: IDependable
    """What Kueue's chart waits for: the system nodes, and the controllers whose CRDs (LeaderWorkerSet) Kueue integrates."""
    queued_teams: tuple[str, ...] = ()
    """workload_teams of the config: the teams with a LocalQueue in the workloads namespace. Default: (), none."""
    pods_ready_timeout_minutes: int = 60
    """How long an admitted workload's pods may take to become Ready before Kueue requeues it. Default: 60, as
    scheduling.pods_ready_timeout_minutes has it: above a large model's cold start, where Kueue's own 30 is not."""

    def __post_init__(self) -> None:
        if not self.teams:
            raise ValueError("KueueProps.teams: got (); at least one team is allowed; install no Kueue without teams")
        names = [team.name for team in self.teams]
        unknown_queued = sorted(set(self.queued_teams) - set(names))
        if unknown_queued:
            raise ValueError(
                f"KueueProps.queued_teams: got {', '.join(unknown_queued)}; only names in teams ({', '.join(names)}) are allowed;"
                " add the team or drop the queue"
            )
        unknown = sorted({capacity for team in self.teams for capacity in team.gpus} - set(self.capacities))
        if unknown:
            raise ValueError(
                f"KueueProps.teams: got quota on {', '.join(unknown)}; only capacities in capacities"
                f" ({', '.join(self.capacities) or 'none'}) are allowed; add the capacity or drop the quota"
            )
        if self.pods_ready_timeout_minutes < 1:
            raise ValueError(
                f"KueueProps.pods_ready_timeout_minutes: got {self.pods_ready_timeout_minutes}; 1 or more is allowed;"
                " give it above the slowest cold start"
            )


class Kueue(Construct):
    """Kueue v0.19 and the teams' queues; the queues wait for Kueue's webhooks."""

    def __init__(self, scope: Construct, construct_id: str, props: KueueProps) -> None:
        super().__init__(scope, construct_id)
        # wait: the queues below go through Kueue's webhooks, which must be serving.
        self.chart = install_chart(
            props.cluster,
            "Kueue",
            chart="kueue",
            pin=KUEUE,
            namespace=NAMESPACE,
            values=kueue_values(props.pods_ready_timeout_minutes),
            wait=True,
        )
        self.chart.node.add_dependency(props.after)
        objects = cluster_objects(props.teams, props.capacities, props.topology_capacities, props.workloads_namespace, props.queued_teams)
        network = PlatformIsolation.of(props.cluster)
        if network is not None:
            namespaces = dict.fromkeys(namespace for team in props.teams for namespace in team.namespaces)
            objects += [policy for namespace in namespaces for policy in team_namespace_policies(namespace, network)]
        self.queues = props.cluster.add_manifest("KueueQueues", *objects)
        self.queues.node.add_dependency(self.chart)
