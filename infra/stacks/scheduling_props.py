"""scheduling.* mapped to the props of infra/scheduling (Kueue and the teams' queues)."""

from __future__ import annotations

from aws_cdk import aws_eks_v2 as eks
from constructs import IDependable

from config.model import PlatformConfig
from config.platform import platform as platform_facts
from infra.scheduling.kueue import KueueProps, TeamQueue


def kueue_props(config: PlatformConfig, cluster: eks.Cluster, after: IDependable, *, queued_teams: tuple[str, ...]) -> KueueProps | None:
    """None without teams: Kueue is installed only for them. queued_teams: infra.scheduling.kueue.workload_teams of the
    enabled workloads (the assembly's config holds them, not PlatformConfig)."""
    scheduling = config.scheduling
    if not scheduling.teams:
        return None
    facts = platform_facts(config)
    return KueueProps(
        cluster=cluster,
        teams=tuple(
            TeamQueue(name=team.name, gpus=dict(team.gpus), borrowing_limit=team.borrowing_limit, namespaces=tuple(team.namespaces))
            for team in scheduling.teams
        ),
        capacities=dict(facts.capacities),
        topology_capacities=facts.scheduling.topology_capacities,
        workloads_namespace=config.storage.workloads_namespace,
        queued_teams=queued_teams,
        after=after,
        pods_ready_timeout_minutes=scheduling.pods_ready_timeout_minutes,
    )
