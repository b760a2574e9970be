"""Kueue v0.19 in the cluster stack: the controller, then the queues the config's teams get.

Cluster-wide objects come from here (priority classes, the EC2 network Topology, a ResourceFlavor per GPU capacity
a team has quota on, a ClusterQueue per team in one cohort, the teams' own namespaces and their LocalQueues). A team's
people submit to the LocalQueue in the team's namespaces, never to the workloads namespace: a pod there would sit
beside the model servers. The workloads namespace has a LocalQueue only for the teams the kit's own workloads queue
on (workload_teams), written with that namespace in the workloads stack.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import yaml
from aws_cdk import aws_eks_v2 as eks
from constructs import Construct, IDependable

from config.gpu_queues import QueueTeam, Scheduling
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


def manager_config(settings: Scheduling) -> str:
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
            "timeout": f"{settings.pods_ready_timeout_minutes}m",
            "recoveryTimeout": f"{settings.pods_ready_timeout_minutes}m",
            "blockAdmission": False,
            "requeuingStrategy": {"timestamp": "Eviction", "backoffBaseSeconds": 60, "backoffMaxSeconds": 3600},
        },
        # Quota is on GPUs only: CPU and memory are whatever the GPU nodes bring.
        "resources": {"quotaCheckStrategy": "IgnoreUndeclared"},
        "integrations": {"frameworks": FRAMEWORKS},
    }
    return yaml.safe_dump(config, sort_keys=False)


def kueue_values(settings: Scheduling) -> dict:
    return {
        "controllerManager": {"nodeSelector": SYSTEM_POOL_LABEL, "replicas": 2},
        "managerConfig": {"controllerManagerConfigYaml": manager_config(settings)},
    }


def _meta(name: str, namespace: str | None = None) -> dict:
    return {"name": name, **({"namespace": namespace} if namespace else {}), "labels": LABELS}


def flavor_names(teams: list[QueueTeam]) -> list[str]:
    """Every capacity any team has quota on, in first-mentioned order."""
    return list(dict.fromkeys(capacity for team in teams for capacity in team.gpus))


def workload_teams(workloads: Iterable[object]) -> tuple[str, ...]:
    """The teams whose queue an enabled workload of the kit names, in order: only these get a LocalQueue (and their
    ClusterQueue a selector) in the workloads namespace."""
    return tuple(dict.fromkeys(w.queue for w in workloads if isinstance(w, Queueable) and w.enabled and w.queue))


def cluster_objects(
    settings: Scheduling,
    capacities: dict[str, GpuCapacity],
    topology: frozenset[str],
    workloads_namespace: str,
    queued_teams: tuple[str, ...] = (),
) -> list[dict[str, Any]]:
    """queued_teams: the teams of workload_teams, whose ClusterQueue also admits the workloads namespace."""
    teams = settings.teams
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


def cluster_queue(team: QueueTeam, flavors: list[str], namespaces: list[str]) -> dict[str, Any]:
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


@dataclass(frozen=True)
class KueueProps:
    cluster: eks.Cluster
    settings: Scheduling
    capacities: dict
    topology_capacities: frozenset[str]
    workloads_namespace: str
    after: IDependable
    queued_teams: tuple[str, ...] = ()
    """workload_teams of the config: the teams with a LocalQueue in the workloads namespace."""


class Kueue(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: KueueProps) -> None:
        super().__init__(scope, construct_id)
        # wait: the queues below go through Kueue's webhooks, which must be serving.
        self.chart = install_chart(
            props.cluster, "Kueue", chart="kueue", pin=KUEUE, namespace=NAMESPACE, values=kueue_values(props.settings), wait=True
        )
        self.chart.node.add_dependency(props.after)
        objects = cluster_objects(
            props.settings, props.capacities, props.topology_capacities, props.workloads_namespace, props.queued_teams
        )
        network = PlatformIsolation.of(props.cluster)
        if network is not None:
            namespaces = dict.fromkeys(namespace for team in props.settings.teams for namespace in team.namespaces)
            objects += [policy for namespace in namespaces for policy in team_namespace_policies(namespace, network)]
        self.queues = props.cluster.add_manifest("KueueQueues", *objects)
        self.queues.node.add_dependency(self.chart)
