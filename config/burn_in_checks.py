"""Checks of a node pool's burn_in: thresholds a healthy node can reach, given where they take effect.

A threshold above what the hardware reaches cordons every new node; the usual causes are units (a Gbps network
figure where GB/s bus bandwidth is asked) and NVLink's bidirectional link rate taken for all-reduce bus bandwidth.
"""

from __future__ import annotations

from core.burn_in_thresholds import (
    CEILING_MARGIN,
    EFA_PASS_SHARE,
    NVLINK_BUS_BANDWIDTH_MAX_GB_S,
    PASS_SHARE,
    efa_ceiling,
    efa_line_rate_gb_s,
    min_bus_bandwidth,
    min_efa_bus_bandwidth,
    nvlink_ceiling,
)
from core.instances import INSTANCE_TYPES
from core.issues import ConfigIssue

_SOURCES = "core/burn_in_thresholds.py"


def burn_in_issues(path: str, pool) -> list[ConfigIssue]:
    settings = pool.burn_in
    if settings is None:
        return []
    key = f"{path}.burn_in"
    known = [INSTANCE_TYPES[name] for name in pool.instance_types if name in INSTANCE_TYPES]
    multi_gpu = any(facts.gpus > 1 for facts in known)
    given = {
        name: getattr(settings, name)
        for name in ("min_bus_bandwidth_gb_s", "min_efa_bus_bandwidth_gb_s")
        if getattr(settings, name) is not None
    }
    if given and not settings.all_reduce:
        return [
            ConfigIssue(
                f"{key}.all_reduce",
                f"is false, so no all-reduce runs and {', '.join(given)} would judge nothing",
                value=False,
                fix=f"remove {', '.join(given)}, or set all_reduce: true",
            )
        ]
    if given and known and not multi_gpu:
        return [
            ConfigIssue(
                f"{key}.{next(iter(given))}",
                f"applies to an all-reduce across a node's GPUs, and every type of the pool has one GPU ({', '.join(pool.instance_types)})",
                value=next(iter(given.values())),
                fix="remove the threshold: the burn-in of one-GPU nodes is the DCGM diagnostic alone",
            )
        ]
    issues = []
    nvlink = settings.min_bus_bandwidth_gb_s
    gpu = known[0].gpu if known else None
    ceiling = nvlink_ceiling(gpu) if gpu else None
    if nvlink is not None and gpu and ceiling is not None and nvlink > ceiling:
        published = NVLINK_BUS_BANDWIDTH_MAX_GB_S[gpu]
        issues.append(
            ConfigIssue(
                f"{key}.min_bus_bandwidth_gb_s",
                f"is above the all-reduce bus bandwidth {gpu} nodes are published "
                f"to reach ({published:g} GB/s), so every new node would fail",
                value=nvlink,
                allowed=f"more than 0, up to {ceiling:g} GB/s ({published:g} plus {round((CEILING_MARGIN - 1) * 100)}%)",
                fix=(
                    "give nccl-tests' busbw in GB/s: NVLink's advertised figures (e.g. 900 GB/s for NVLink 4) are "
                    f"bidirectional link rates, not bus bandwidth; or leave it unset for {min_bus_bandwidth(gpu, None):g} GB/s "
                    f"({round(PASS_SHARE * 100)}% of the published figure, {_SOURCES})"
                ),
            )
        )
    over_efa = settings.min_efa_bus_bandwidth_gb_s
    if over_efa is not None and not pool.efa:
        issues.append(
            ConfigIssue(
                f"{key}.min_efa_bus_bandwidth_gb_s",
                "is set but the pool has no EFA, so no all-reduce runs over EFA",
                value=over_efa,
                fix="remove it, or set efa: true on an EFA-capable pool",
            )
        )
    elif over_efa is not None and (limit := efa_ceiling(pool.instance_types)) is not None and over_efa > limit[0]:
        ceiling_gb_s, slowest = limit
        rate = efa_line_rate_gb_s(slowest)
        default = min_efa_bus_bandwidth(pool.instance_types, None)
        issues.append(
            ConfigIssue(
                f"{key}.min_efa_bus_bandwidth_gb_s",
                f"is above what the run over EFA can reach on {slowest}: one GPU's share of its EFA bandwidth is {rate:g} GB/s, "
                "so every new node would fail",
                value=over_efa,
                allowed=f"more than 0, up to {ceiling_gb_s:g} GB/s ({rate:g} plus {round((CEILING_MARGIN - 1) * 100)}%)",
                fix=(
                    "give GB/s, not Gbps (divide a Gbps figure by 8, and the instance's figure also by its GPUs)"
                    + (
                        f"; or leave it unset for {default:g} GB/s ({round(EFA_PASS_SHARE * 100)}% of the line rate, {_SOURCES})"
                        if default is not None
                        else ""
                    )
                ),
            )
        )
    return issues
