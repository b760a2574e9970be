"""Cross-field checks of the GPU node pools and capacity-block node groups."""

from __future__ import annotations

from collections import Counter

from config.model import PlatformConfig
from core.instances import INSTANCE_TYPES
from core.issues import ConfigIssue
from core.naming import SYSTEM_POOL

_TABLE = "core/instances.py"
_AMI_VERSION_FORM = {"bottlerocket": r"v<major>.<minor>.<patch>, e.g. v1.65.0", "al2023": "v<YYYYMMDD>, e.g. v20260724"}


def node_pool_issues(config: PlatformConfig) -> list[ConfigIssue]:
    issues: list[ConfigIssue] = []
    names = [pool.name for pool in config.node_pools] + [group.name for group in config.capacity_block_node_groups]
    for name, count in Counter(names).items():
        if count > 1 or name == SYSTEM_POOL:
            issues.append(
                ConfigIssue(
                    "node_pools",
                    f"the pool name '{name}' is {'reserved for the system node group' if name == SYSTEM_POOL else 'used more than once'}",
                    value=name,
                    fix="give every node pool and capacity-block node group its own name",
                )
            )
    for index, pool in enumerate(config.node_pools):
        issues += _pool(f"node_pools[{index}]", pool)
    for index, group in enumerate(config.capacity_block_node_groups):
        path = f"capacity_block_node_groups[{index}]"
        issues += _known_types(f"{path}.instance_type", [group.instance_type])
        if group.efa and group.instance_type in INSTANCE_TYPES and not INSTANCE_TYPES[group.instance_type].efa:
            issues.append(_no_efa(f"{path}.efa", [group.instance_type]))
    return issues


def _pool(path: str, pool) -> list[ConfigIssue]:
    issues = _known_types(f"{path}.instance_types", pool.instance_types)
    known = [name for name in pool.instance_types if name in INSTANCE_TYPES]
    gpus = {INSTANCE_TYPES[name].gpu for name in known}
    if len(gpus) > 1:
        issues.append(
            ConfigIssue(
                f"{path}.instance_types",
                f"mixes GPU models ({', '.join(sorted(gpus))}); a replica split across them runs at the pace of the slowest",
                value=list(pool.instance_types),
                allowed="instance types with one GPU model",
                fix="split them into one pool per GPU model",
            )
        )
    if pool.efa:
        lacking = [name for name in known if not INSTANCE_TYPES[name].efa]
        if lacking:
            issues.append(_no_efa(f"{path}.efa", lacking))
    reserved = "reserved" in pool.capacity_types
    reservations = pool.capacity_reservations
    if reservations is not None and not reserved:
        issues.append(
            ConfigIssue(
                f"{path}.capacity_reservations",
                "names capacity reservations but the pool cannot launch into them",
                value=list(pool.capacity_types),
                allowed="capacity_types that include 'reserved'",
                fix="add 'reserved' to capacity_types, or remove capacity_reservations",
            )
        )
    if reserved and reservations is None:
        issues.append(
            ConfigIssue(
                f"{path}.capacity_types",
                "'reserved' needs the reservations to launch into",
                value=list(pool.capacity_types),
                fix="add capacity_reservations with ids (cr-...) or tags",
            )
        )
    if reservations is not None and bool(reservations.ids) == bool(reservations.tags):
        issues.append(
            ConfigIssue(
                f"{path}.capacity_reservations",
                "needs exactly one of ids or tags",
                value=reservations.model_dump(),
                fix="list the reservation IDs, or the tags that select them, not both",
            )
        )
    chosen = pool.disruption.model_fields_set
    if reserved and ({"consolidation_policy", "expire_after"} & chosen) and (
        pool.disruption.consolidation_policy != "WhenEmpty" or pool.disruption.expire_after != "Never"
    ):
        issues.append(
            ConfigIssue(
                f"{path}.disruption",
                "reserved capacity is paid for the whole block; the kit never consolidates or expires its nodes",
                value={key: getattr(pool.disruption, key) for key in ("consolidation_policy", "expire_after")},
                fix="remove consolidation_policy and expire_after from this pool, or move on-demand capacity to its own pool",
            )
        )
    if pool.ami_version is not None:
        looks_like = "bottlerocket" if pool.ami_version.count(".") == 2 else "al2023"
        if looks_like != pool.ami_family:
            issues.append(
                ConfigIssue(
                    f"{path}.ami_version",
                    f"is not a {pool.ami_family} release",
                    value=pool.ami_version,
                    allowed=_AMI_VERSION_FORM[pool.ami_family],
                    fix="use a release of the pool's ami_family, or leave it empty for the kit's pin",
                )
            )
    return issues


def _known_types(path: str, names: list[str]) -> list[ConfigIssue]:
    unknown = [name for name in names if name not in INSTANCE_TYPES]
    if not unknown:
        return []
    return [
        ConfigIssue(
            path,
            f"the kit has no facts (GPUs, network cards, EFA) for {', '.join(unknown)}",
            value=unknown,
            allowed=", ".join(sorted(INSTANCE_TYPES)),
            fix=f"pick a listed type, or add the type to {_TABLE} from `aws ec2 describe-instance-types`",
        )
    ]


def _no_efa(path: str, names: list[str]) -> ConfigIssue:
    return ConfigIssue(
        path,
        f"EFA is not available on {', '.join(names)}",
        value=True,
        allowed="EFA-capable types: " + ", ".join(sorted(name for name, f in INSTANCE_TYPES.items() if f.efa)),
        fix="set efa: false, or choose EFA-capable instance types",
    )
