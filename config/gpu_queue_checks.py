"""Cross-field checks of the GPU queues: quotas on capacities that exist, and no more GPUs promised than they hold."""

from __future__ import annotations

from collections import Counter

from config.model import PlatformConfig
from config.platform import all_capacities
from core.issues import ConfigIssue
from core.namespaces import RESERVED as RESERVED_NAMESPACES

# Namespaces the kit or EKS own: a team's Jobs have no business there, and Kueue never manages kube-system.


def scheduling_issues(config: PlatformConfig) -> list[ConfigIssue]:
    teams = config.scheduling.teams
    if not teams:
        return []
    known = all_capacities(config)
    issues = []
    for name, count in Counter(team.name for team in teams).items():
        if count > 1:
            issues.append(
                ConfigIssue(
                    "scheduling.teams", f"the team name '{name}' is used more than once", value=name, fix="give each team its own name"
                )
            )
    for index, team in enumerate(teams):
        path = f"scheduling.teams[{index}]"
        if team.name == "default":
            issues.append(
                ConfigIssue(
                    f"{path}.name",
                    "a LocalQueue named 'default' makes Kueue queue every Job and Deployment of its namespace, labelled or not",
                    value=team.name,
                    fix="pick another name",
                )
            )
        for capacity in team.gpus:
            if capacity not in known:
                issues.append(
                    ConfigIssue(
                        f"{path}.gpus.{capacity}",
                        "names no GPU capacity",
                        value=capacity,
                        allowed=", ".join(known) or "(none configured)",
                        fix="name a node pool, a capacity chain or a capacity-block node group",
                    )
                )
            elif known[capacity].chain:
                issues.append(
                    ConfigIssue(
                        f"{path}.gpus.{capacity}",
                        f"is a pool of chain '{known[capacity].chain}': quota is given on the chain, which its workloads name",
                        value=capacity,
                        fix=f"give the quota on '{known[capacity].chain}'",
                    )
                )
        for namespace in team.namespaces:
            if namespace in RESERVED_NAMESPACES or namespace == config.storage.workloads_namespace:
                issues.append(
                    ConfigIssue(
                        f"{path}.namespaces",
                        "is a namespace the kit or Kubernetes owns; a team's Jobs run in namespaces of its own",
                        value=namespace,
                        fix="name the team's own namespace (the kit creates it)",
                    )
                )
    admitted = set(config.cluster.network_policies.serving_from_namespaces)
    for index, team in enumerate(teams):
        for namespace in team.namespaces:
            if namespace in admitted:
                issues.append(
                    ConfigIssue(
                        "cluster.network_policies.serving_from_namespaces",
                        f"admits '{namespace}', a namespace of team '{team.name}', to the model servers directly: the team's "
                        "Jobs would call every model with no API key, token budget or audit record",
                        value=namespace,
                        fix=f"remove it; the team's Jobs call the models through the gateway with its key (gateway.teams), "
                        f"or move '{namespace}' out of scheduling.teams[{index}].namespaces if it is not a team's",
                    )
                )
    owners = Counter(namespace for team in teams for namespace in team.namespaces)
    for namespace, count in owners.items():
        if count > 1:
            issues.append(
                ConfigIssue(
                    "scheduling.teams",
                    f"the namespace '{namespace}' belongs to more than one team",
                    value=namespace,
                    fix="give each team its own namespaces",
                )
            )
    promised: Counter[str] = Counter()
    for team in teams:
        for capacity, gpus in team.gpus.items():
            promised[capacity] += gpus
    for capacity, total in promised.items():
        if capacity in known and total > known[capacity].max_gpus:
            shares = ", ".join(f"{team.name} {team.gpus[capacity]}" for team in teams if capacity in team.gpus)
            issues.append(
                ConfigIssue(
                    "scheduling.teams",
                    f"the teams' quotas on '{capacity}' add up to {total} GPUs ({shares}), but it can run {known[capacity].max_gpus}",
                    value=total,
                    allowed=f"at most {known[capacity].max_gpus} in all",
                    fix=(
                        f"lower the quotas, or raise the capacity of '{capacity}' (gpu_limit, or "
                        "the block's instances); teams borrow idle quota from each other anyway"
                    ),
                )
            )
    return issues
