"""Checks of GPU capacity as a whole: each reservation followed by one pool, block windows EC2 can sell, limits of whole
nodes, room for the Karpenter controller, and (only where the caller gives the time) blocks that are already over.

The clock never enters a synth: `python -m assembly.check` (which `./kit synth`, `diff` and `deploy` run first) passes
the current time to `dated_issues`; loading a config, rendering and synthesizing read no clock, so the same file
always builds the same output.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from math import gcd

from config.model import PlatformConfig
from core.instances import known
from core.issues import ConfigIssue

MAX_BLOCK_DAYS = 182
"""EC2 sells Capacity Blocks in 1-day steps up to 14 days and in 7-day steps up to 182 days (EC2 user guide,
"Find and purchase Capacity Blocks"). A block that starts today ends at the next 11:30 UTC, so a window may run up
to a day past the duration asked for."""
_LONGEST_WINDOW = timedelta(days=MAX_BLOCK_DAYS + 1)
_FROM_THE_PURCHASE = "copy start and end from the reservation (python -m scripts.capacity_blocks prints and writes them)"


def capacity_issues(config: PlatformConfig) -> list[ConfigIssue]:
    return _shared_reservations(config) + _block_lengths(config) + _whole_nodes(config) + _controller_room(config)


def _whole_nodes(config: PlatformConfig) -> list[ConfigIssue]:
    """Karpenter launches no node that would take a pool past its GPU limit: a limit between whole nodes leaves GPUs
    that can never run, and the queues' quota checks would count them."""
    issues = []
    for index, pool in enumerate(config.node_pools):
        sizes = sorted({facts.gpus for facts in map(known, pool.instance_types) if facts is not None})
        if not sizes or pool.gpu_limit < sizes[0] or pool.capacity_block is not None:
            continue  # below one node, and a block's own size, are reported by the node-pool checks
        step = gcd(*sizes)
        if pool.gpu_limit % step:
            lower, higher = pool.gpu_limit // step * step, (pool.gpu_limit // step + 1) * step
            issues.append(
                ConfigIssue(
                    f"node_pools[{index}].gpu_limit",
                    f"is not a whole number of nodes: the pool's types have {' or '.join(map(str, sizes))} "
                    f"GPUs, so at most {lower} of the {pool.gpu_limit} GPUs can ever run",
                    value=pool.gpu_limit,
                    allowed=f"a multiple of {step}",
                    fix=f"set gpu_limit to {lower} or {higher}",
                )
            )
    return issues


def _controller_room(config: PlatformConfig) -> list[ConfigIssue]:
    """Karpenter's chart (v1.14.1, charts/karpenter/values.yaml) keeps its replicas on separate nodes (a required
    anti-affinity on the hostname), and nothing adds system nodes: a replica beyond them stays Pending, and its
    PodDisruptionBudget (one unavailable) then blocks every drain of a system node."""
    replicas, nodes = config.karpenter.replicas, config.cluster.system_nodes
    if replicas <= nodes.min_size:
        return []
    return [
        ConfigIssue(
            "karpenter.replicas",
            f"is more than the {nodes.min_size} system node{'s' if nodes.min_size > 1 else ''} "
            "the group may shrink to (cluster.system_nodes.min_size): "
            "each Karpenter replica needs a node of its own, so one would stay Pending and block node drains",
            value=replicas,
            allowed=f"at most {nodes.min_size}",
            fix=f"lower karpenter.replicas to {nodes.min_size}, or raise cluster.system_nodes.min_size (and desired_size) to {replicas}",
        )
    ]


def _reservation_users(config: PlatformConfig) -> list[tuple[str, str]]:
    """(reservation id, the key that names it) for every pool and capacity-block node group."""
    found = []
    for index, pool in enumerate(config.node_pools):
        if pool.capacity_reservations is not None:
            found += [(rid, f"node_pools[{index}].capacity_reservations.ids[{n}]") for n, rid in enumerate(pool.capacity_reservations.ids)]
    for index, group in enumerate(config.capacity_block_node_groups):
        found.append((group.reservation_id, f"capacity_block_node_groups[{index}].reservation_id"))
    return found


def _shared_reservations(config: PlatformConfig) -> list[ConfigIssue]:
    """Two pools launching into one reservation each count its instances as theirs: a block pool then asks for
    nodes the other already holds, Karpenter's limits and the queues' quotas promise GPUs twice, and the showback
    bills them twice."""
    users = _reservation_users(config)
    issues = []
    for rid, count in Counter(rid for rid, _ in users).items():
        if count < 2:
            continue
        keys = [key for other, key in users if other == rid]
        issues.append(
            ConfigIssue(
                keys[1],
                f"names the capacity reservation {rid}, which {keys[0]} names too: both would count its instances as their own",
                value=rid,
                allowed="each reservation or capacity block (cr-...) in one pool or node group",
                fix=(
                    f"keep {rid} in one place; to use a block's nodes from several "
                    "workloads, point the workloads at that one pool (or its chain)"
                ),
            )
        )
    return issues


def _block_lengths(config: PlatformConfig) -> list[ConfigIssue]:
    issues = []
    for index, pool in enumerate(config.node_pools):
        block = pool.capacity_block
        if block is None or block.end <= block.start:
            continue  # an end before the start is reported by the node-pool checks
        length = block.end - block.start
        if length > _LONGEST_WINDOW:
            issues.append(
                ConfigIssue(
                    f"node_pools[{index}].capacity_block.end",
                    f"makes a window of {length.days} days; EC2 sells Capacity Blocks of at most {MAX_BLOCK_DAYS} days",
                    value=block.end.isoformat(),
                    allowed=f"1 to 14 days, or whole weeks up to {MAX_BLOCK_DAYS} days, after start ({block.start.isoformat()})",
                    fix=f"check the year and month of start and end; {_FROM_THE_PURCHASE}",
                )
            )
    return issues


def dated_issues(config: PlatformConfig, now: datetime) -> list[ConfigIssue]:
    """Capacity blocks whose window ended before `now`: their pools would hold no node, ever again."""
    issues = []
    for index, pool in enumerate(config.node_pools):
        block = pool.capacity_block
        if block is None or block.end > now:
            continue
        issues.append(
            ConfigIssue(
                f"node_pools[{index}].capacity_block.end",
                f"the block is over (checked at {now.isoformat(timespec='minutes')}): EC2 "
                f"has taken its instances back, and pool '{pool.name}' would never get a node",
                value=block.end.isoformat(),
                allowed="a block whose end is still ahead",
                fix="remove the pool (and move its workloads, or its chain's, to other capacity), or buy a new block and "
                + _FROM_THE_PURCHASE,
            )
        )
    return issues
