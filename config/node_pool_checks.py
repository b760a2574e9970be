"""Cross-field checks of the GPU node pools and capacity-block node groups."""

from __future__ import annotations

import difflib
from collections import Counter
from datetime import UTC, timedelta

from config.burn_in_checks import burn_in_issues
from config.model import PlatformConfig
from config.node_pools import AL2023_FIXED_PULL, NodePool
from core.instances import INSTANCE_TYPES
from core.issues import ConfigIssue
from core.naming import SYSTEM_POOL

_TABLE = "core/instances.py"
# Karpenter binds Bottlerocket's default directory list to NVMe (SOCI's store included) only from this release.
BOTTLEROCKET_MINIMUM = (1, 46, 0)
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
    issues += _chains(config, set(names))
    return issues


def _chains(config: PlatformConfig, pool_names: set[str]) -> list[ConfigIssue]:
    """A chain is one logical capacity: its pools must be interchangeable for a pod, and their order unambiguous."""
    chains: dict[str, list[tuple[int, NodePool]]] = {}
    for index, pool in enumerate(config.node_pools):
        if pool.chain:
            chains.setdefault(pool.chain, []).append((index, pool))
    issues = []
    for name, members in chains.items():
        first_index, first = members[0]
        if name in pool_names:
            issues.append(
                ConfigIssue(
                    f"node_pools[{first_index}].chain",
                    "is also the name of a pool: workloads could not tell which they name",
                    value=name,
                    fix="give the chain its own name",
                )
            )
        if len(members) < 2:
            issues.append(
                ConfigIssue(
                    f"node_pools[{first_index}].chain",
                    "has one pool: a chain orders several pools of one kind of node",
                    value=name,
                    fix="add the chain to the pools it falls back to, or remove it",
                )
            )
        for index, pool in members[1:]:
            differs = [
                field
                for field in ("instance_types", "efa", "ami_family", "taints")
                if getattr(pool, field) != getattr(first, field)
                and not (field == "instance_types" and set(pool.instance_types) == set(first.instance_types))
            ]
            if differs:
                issues.append(
                    ConfigIssue(
                        f"node_pools[{index}]",
                        f"differs from node_pools[{first_index}] in its chain '{name}' "
                        f"({', '.join(differs)}): a pod must fit every pool of its chain",
                        fix=(
                            "give the pools of a chain the same instance_types, efa, "
                            "ami_family and taints; vary capacity_types, weight and gpu_limit"
                        ),
                    )
                )
        dynamic = [(index, pool) for index, pool in members if pool.capacity_block is None]
        weights = [pool.weight for _, pool in dynamic]
        if len(dynamic) > 1 and (None in weights or len(set(weights)) != len(weights)):
            issues.append(
                ConfigIssue(
                    f"node_pools[{dynamic[0][0]}].weight",
                    f"the pools of chain '{name}' that Karpenter scales need distinct weights to be tried in order",
                    value={pool.name: pool.weight for _, pool in dynamic},
                    fix="give each a different weight, highest for the pool to try first (e.g. spot 50, on-demand 10)",
                )
            )
    return issues


def _pool(path: str, pool) -> list[ConfigIssue]:
    issues = _known_types(f"{path}.instance_types", pool.instance_types)
    known = [name for name in pool.instance_types if name in INSTANCE_TYPES]
    if known:
        smallest = min(known, key=lambda name: INSTANCE_TYPES[name].gpus)
        node_gpus = INSTANCE_TYPES[smallest].gpus
        if pool.gpu_limit < node_gpus:
            issues.append(
                ConfigIssue(
                    f"{path}.gpu_limit",
                    f"is below one node: the smallest of the pool's types, {smallest}, "
                    f"has {node_gpus} GPUs, so Karpenter could never launch a node",
                    value=pool.gpu_limit,
                    allowed=f"at least {node_gpus}",
                    fix=f"set gpu_limit to {node_gpus} or more (a multiple of {node_gpus} for whole {smallest} nodes)",
                )
            )
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
    if (
        reserved
        and ({"consolidation_policy", "expire_after"} & chosen)
        and (pool.disruption.consolidation_policy != "WhenEmpty" or pool.disruption.expire_after != "Never")
    ):
        issues.append(
            ConfigIssue(
                f"{path}.disruption",
                "reserved capacity is paid for the whole block; the kit never consolidates or expires its nodes",
                value={key: getattr(pool.disruption, key) for key in ("consolidation_policy", "expire_after")},
                fix="remove consolidation_policy and expire_after from this pool, or move on-demand capacity to its own pool",
            )
        )
    issues += _disruption(path, pool)
    issues += _image_pull(path, pool)
    issues += _capacity_block(path, pool)
    issues += burn_in_issues(path, pool)
    if pool.ami_version is not None:
        looks_like = "bottlerocket" if pool.ami_version.count(".") == 2 else "al2023"
        if (
            looks_like == "bottlerocket" == pool.ami_family
            and tuple(int(p) for p in pool.ami_version[1:].split(".")) < BOTTLEROCKET_MINIMUM
        ):
            issues.append(
                ConfigIssue(
                    f"{path}.ami_version",
                    "is older than Bottlerocket v1.46.0: Karpenter would bind only containerd, "
                    "kubelet and pod logs to NVMe and leave SOCI's image store on the EBS volume",
                    value=pool.ami_version,
                    allowed="v1.46.0 or later",
                    fix="use a newer release, or leave ami_version empty for the kit's pin",
                )
            )
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


def _disruption(path: str, pool) -> list[ConfigIssue]:
    disruption = pool.disruption
    if disruption.protected_windows and "expire_after" in disruption.model_fields_set and disruption.expire_after != "Never":
        return [
            ConfigIssue(
                f"{path}.disruption.expire_after",
                "expiry is forceful: Karpenter replaces an expired node whatever the budgets say, inside protected windows too",
                value=disruption.expire_after,
                allowed="Never, or no expire_after (Never is the default while protected_windows are set)",
                fix="remove expire_after: a new AMI pin still rolls the nodes by drift, which the protected windows hold back",
            )
        ]
    return []


def _image_pull(path: str, pool) -> list[ConfigIssue]:
    pull = pool.image_pull
    issues = []
    if pool.ami_family == "al2023":
        tuned = {
            key: getattr(pull, key)
            for key in AL2023_FIXED_PULL
            if key in pull.model_fields_set and getattr(pull, key) != AL2023_FIXED_PULL[key]
        }
        if tuned:
            issues.append(
                ConfigIssue(
                    f"{path}.image_pull",
                    f"sets {', '.join(sorted(tuned))}, which never reach an AL2023 "
                    "node: nodeadm's FastImagePull writes a fixed SOCI configuration",
                    value=tuned,
                    allowed=", ".join(f"{k}: {v}" for k, v in AL2023_FIXED_PULL.items())
                    + " (nodeadm's values), or ami_family: bottlerocket",
                    fix=f"remove {', '.join(sorted(tuned))}, or use ami_family: bottlerocket to tune parallel pull",
                )
            )
        if pull.prepulled_images_snapshot_id is not None:
            issues.append(
                ConfigIssue(
                    f"{path}.image_pull.prepulled_images_snapshot_id",
                    "is a Bottlerocket data-volume snapshot; AL2023 nodes have no separate data volume to restore it to",
                    value=pull.prepulled_images_snapshot_id,
                    fix="remove it, or use ami_family: bottlerocket",
                )
            )
    return issues


def _known_types(path: str, names: list[str]) -> list[ConfigIssue]:
    unknown = [name for name in names if name not in INSTANCE_TYPES]
    if not unknown:
        return []
    close = {name: difflib.get_close_matches(name, list(INSTANCE_TYPES), n=1, cutoff=0.8) for name in unknown}
    guesses = [f"{name} -> {match[0]}" for name, match in close.items() if match]
    fix = f"did you mean {', '.join(guesses)}? " if guesses else ""
    return [
        ConfigIssue(
            path,
            f"the kit has no facts (GPUs, network cards, EFA) for {', '.join(unknown)}",
            value=unknown,
            allowed=", ".join(sorted(INSTANCE_TYPES)),
            fix=fix + f"pick a listed GPU type, or add the type to {_TABLE} from `aws ec2 describe-instance-types`",
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


BLOCK_END_UTC = (11, 30)
"""EC2: every Capacity Block ends at 11:30 UTC."""


def _capacity_block(path: str, pool) -> list[ConfigIssue]:
    """A block pool is one reservation of one instance type, reserved only, with a window that makes sense."""
    block = pool.capacity_block
    if block is None:
        return []
    key = f"{path}.capacity_block"
    issues = []
    if list(pool.capacity_types) != ["reserved"]:
        issues.append(
            ConfigIssue(
                f"{path}.capacity_types",
                "a capacity-block pool launches only into its block",
                value=list(pool.capacity_types),
                allowed="[reserved]",
                fix=(
                    "set capacity_types: [reserved] and put spot or on-demand capacity in pools of their own (a capacity chain orders them)"
                ),
            )
        )
    ids = pool.capacity_reservations.ids if pool.capacity_reservations else []
    if len(ids) != 1:
        issues.append(
            ConfigIssue(
                f"{path}.capacity_reservations",
                "a capacity-block pool follows exactly one block",
                value=list(ids),
                fix="list the block's reservation id (cr-...) alone under capacity_reservations.ids",
            )
        )
    if len(pool.instance_types) != 1:
        issues.append(
            ConfigIssue(
                f"{path}.instance_types",
                "a capacity block holds one instance type",
                value=list(pool.instance_types),
                fix="list only the block's instance type",
            )
        )
    if pool.weight is not None:
        issues.append(
            ConfigIssue(
                f"{path}.weight",
                "Karpenter allows no weight on a static pool (its nodes are used first anyway)",
                value=pool.weight,
                fix="remove weight",
            )
        )
    start, end = block.start, block.end
    if end <= start:
        issues.append(
            ConfigIssue(
                f"{key}.end",
                "is not after start",
                value=end.isoformat(),
                fix="copy start and end from the reservation (scripts/capacity_blocks.py prints them)",
            )
        )
    elif end - timedelta(minutes=block.drain_minutes_before_end) <= start:
        issues.append(
            ConfigIssue(
                f"{key}.drain_minutes_before_end",
                "leaves no time with nodes: the drain point is before the block starts",
                value=block.drain_minutes_before_end,
                fix="lower it (45 at least) or check start and end",
            )
        )
    utc = end.astimezone(UTC)
    if (utc.hour, utc.minute, utc.second) != (*BLOCK_END_UTC, 0):
        issues.append(
            ConfigIssue(
                f"{key}.end",
                "is not 11:30 UTC, when EC2 ends every Capacity Block",
                value=end.isoformat(),
                fix="copy the end time from the reservation (scripts/capacity_blocks.py prints it), e.g. 2026-12-15T11:30:00Z",
            )
        )
    known = INSTANCE_TYPES.get(pool.instance_types[0])
    if known is not None and pool.gpu_limit != block.instances * known.gpus:
        issues.append(
            ConfigIssue(
                f"{path}.gpu_limit",
                f"differs from the block: {block.instances} x {pool.instance_types[0]} is {block.instances * known.gpus} GPUs",
                value=pool.gpu_limit,
                allowed=str(block.instances * known.gpus),
                fix=f"set gpu_limit to {block.instances * known.gpus}",
            )
        )
    return issues
