"""Preflight checks of GPU capacity: capacity reservations and blocks, and the GPU vCPU quotas."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from core.instances import INSTANCE_TYPES
from scripts._checks import Check, fail, ok, skip, warn
from scripts._preflight_context import Context
from scripts.aws_session import error_code

USABLE_STATES = ("active", "scheduled")
_STATE_FIX = {
    "payment-pending": "wait a few minutes for the payment to clear, then re-run preflight",
    "payment-failed": "the block will not start: buy another one (scripts/capacity_blocks.py) and put its ID in the config",
    "pending": "wait until it is active or scheduled, then re-run preflight",
    "assessing": "wait until it is active or scheduled, then re-run preflight",
    "delayed": "wait until it is active or scheduled, then re-run preflight",
}
_NOT_FOUND = ("InvalidCapacityReservationId.NotFound", "InvalidCapacityReservationId.Malformed", "InvalidCapacityReservationId")

# Service Quotas codes (service ec2) of the GPU families, in vCPUs of running instances.
QUOTAS = {
    ("p", "on-demand"): ("L-417A185B", "Running On-Demand P instances"),
    ("g", "on-demand"): ("L-DB2E81BA", "Running On-Demand G and VT instances"),
    ("p", "spot"): ("L-7212CCBC", "All P Spot Instance Requests"),
    ("g", "spot"): ("L-3819A6DF", "All G and VT Spot Instance Requests"),
}


@dataclass(frozen=True)
class Want:
    """What a pool or node group expects of its reservations."""

    label: str
    types: list[str]
    instances: int | None
    """Instances the config runs on the reservation (a node group's size); None for a Karpenter pool."""


def reservations(ctx: Context) -> list[Check]:
    rows: list[Check] = []
    for pool in ctx.config.node_pools:
        selection = pool.capacity_reservations
        if selection is None:
            continue
        want = Want(f"node_pools[{pool.name}]", list(pool.instance_types), None)
        if selection.ids:
            found = [_describe(ctx, rid, want, rows) for rid in selection.ids]
        else:
            found = _by_tags(ctx, selection.tags, want, rows)
        reserved_gpus = sum(
            r["TotalInstanceCount"] * INSTANCE_TYPES[r["InstanceType"]].gpus for r in found if r and r["InstanceType"] in INSTANCE_TYPES
        )
        if pool.capacity_types == ["reserved"] and found and all(found) and reserved_gpus < pool.gpu_limit:
            rows.append(
                warn(
                    f"reservations[{want.label}]",
                    f"the reservations hold {reserved_gpus} GPUs but gpu_limit is "
                    f"{pool.gpu_limit}: pods beyond {reserved_gpus} GPUs stay pending",
                    "lower gpu_limit, reserve more, or add on-demand to capacity_types",
                )
            )
    for group in ctx.config.capacity_block_node_groups:
        _describe(ctx, group.reservation_id, Want(f"capacity_block_node_groups[{group.name}]", [group.instance_type], group.size), rows)
    return rows or [skip("capacity-reservations", "the config names no capacity reservations")]


def _describe(ctx: Context, reservation_id: str, want: Want, rows: list[Check]) -> dict[str, Any] | None:
    try:
        found = ctx.client("ec2").describe_capacity_reservations(CapacityReservationIds=[reservation_id])["CapacityReservations"]
    except ClientError as exc:
        if error_code(exc) not in _NOT_FOUND:
            raise
        found = []
    if not found:
        rows.append(
            fail(
                f"reservation[{reservation_id}]",
                f"{want.label} names {reservation_id}, which account {ctx.account} does not have in {ctx.region}",
                "check the ID with `aws ec2 describe-capacity-reservations --region "
                f"{ctx.region}`: reservations belong to one account and region",
            )
        )
        return None
    rows += judge(ctx, found[0], want)
    return found[0]


def _by_tags(ctx: Context, tags: dict[str, str], want: Want, rows: list[Check]) -> list[dict[str, Any]]:
    filters = [{"Name": f"tag:{key}", "Values": [value]} for key, value in tags.items()]
    found = []
    for page in ctx.client("ec2").get_paginator("describe_capacity_reservations").paginate(Filters=filters):
        found += page["CapacityReservations"]
    selector = ", ".join(f"{k}={v}" for k, v in tags.items())
    if not found:
        rows.append(
            fail(
                f"reservations[{want.label}]",
                f"no capacity reservation in {ctx.region} has the tags {selector}",
                "tag the reservations (aws ec2 create-tags --resources cr-...), or list their ids instead of tags",
            )
        )
    for reservation in found:
        rows += judge(ctx, reservation, want)
    return found


def judge(ctx: Context, reservation: dict[str, Any], want: Want) -> list[Check]:
    """Every problem of one reservation as its own row, or one PASS row."""
    rid = reservation["CapacityReservationId"]
    name = f"reservation[{rid}]"
    state = reservation.get("State", "")
    itype, count = reservation.get("InstanceType"), reservation.get("TotalInstanceCount", 0)
    az = reservation.get("AvailabilityZoneId") or _zone_id(ctx, reservation.get("AvailabilityZone"))
    wanted_az = ctx.config.placement.az_id
    rows = []
    if state not in USABLE_STATES:
        fix = _STATE_FIX.get(state, "reserve new capacity and replace the ID in the config")
        rows.append(fail(name, f"is {state}; only active or scheduled reservations can launch nodes", fix))
    if az != wanted_az:
        rows.append(
            fail(
                name,
                f"is in {az}, but placement.az_id is {wanted_az}",
                f"set placement.az_id: {az} (the whole data plane follows the reservation), or use a reservation in {wanted_az}",
            )
        )
    if itype not in want.types:
        where = "instance_types" if want.instances is None else "instance_type"
        rows.append(
            fail(
                name,
                f"is for {itype}, but {want.label} runs {', '.join(want.types)}",
                f"set {want.label}.{where} to include {itype}, or use a reservation for {want.types[0]}",
            )
        )
    if want.instances is not None and count < want.instances:
        rows.append(
            fail(
                name,
                f"holds {count} instances, but {want.label}.size is {want.instances}",
                f"set size: {count}, or reserve {want.instances} instances",
            )
        )
    rows += _dates(ctx, name, reservation)
    if not any(row.status == "FAIL" for row in rows):
        ends = _when(reservation.get("EndDate")) or "no end date"
        rows.insert(0, ok(name, f"{state}, {count} x {itype} in {az} for {want.label}, ends {ends}"))
    return rows


def _dates(ctx: Context, name: str, reservation: dict[str, Any]) -> list[Check]:
    end, start = reservation.get("EndDate"), reservation.get("StartDate")
    horizon = ctx.now + timedelta(hours=ctx.window_hours)
    if end is not None and end <= ctx.now:
        return [fail(name, f"ended {_when(end)}", "reserve new capacity and replace the ID in the config")]
    if end is not None and end < horizon:
        return [
            fail(
                name,
                f"ends {_when(end)}, within the next {ctx.window_hours} h",
                "extend it (aws ec2 describe-capacity-block-extension-offerings --capacity-reservation-id "
                f"{reservation['CapacityReservationId']}), "
                "buy a new block, or shorten --window-hours if the work ends sooner",
            )
        ]
    if start is not None and start > ctx.now:
        hours = (start - ctx.now).total_seconds() / 3600
        return [warn(name, f"starts {_when(start)} ({hours:.0f} h from now); its nodes launch only from then")]
    return []


def _zone_id(ctx: Context, zone_name: str | None) -> str | None:
    return next((zone_id for zone_id, zone in ctx.zones().items() if zone["ZoneName"] == zone_name), zone_name)


def _when(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else None


def vcpus_needed(instance_types: list[str], gpu_limit: int) -> tuple[int, float]:
    """vCPUs that gpu_limit GPUs take on the hungriest of the types, and that vCPUs-per-GPU ratio."""
    ratio = max(INSTANCE_TYPES[t].vcpus / INSTANCE_TYPES[t].gpus for t in instance_types)
    return math.ceil(gpu_limit * ratio), ratio


def quotas(ctx: Context) -> list[Check]:
    needs: dict[tuple[str, str], list[tuple[str, int, int, float]]] = {}
    for pool in ctx.capacities.values():
        if pool.provisioner != "karpenter":
            continue  # a capacity-block node group runs on its reservation, checked under capacity-reservations
        vcpus, ratio = vcpus_needed(list(pool.instance_types), pool.max_gpus)
        family = pool.instance_types[0][0]
        for capacity_type in pool.capacity_types:
            if (family, capacity_type) in QUOTAS:
                needs.setdefault((family, capacity_type), []).append((pool.name, pool.max_gpus, vcpus, ratio))
    if not needs:
        return [skip("quotas", "no on-demand or spot GPU pool; reserved capacity is checked under capacity-reservations")]
    rows = []
    quota_api = ctx.client("service-quotas")
    for key, pools in sorted(needs.items()):
        code, title = QUOTAS[key]
        need = sum(vcpus for _, _, vcpus, _ in pools)
        value = _quota_value(quota_api, code)
        name = f"quota[{code}]"
        how = ", ".join(f"{pool}: {gpus} GPUs x {ratio:g} vCPUs/GPU" for pool, gpus, _, ratio in pools)
        if value >= need:
            rows.append(ok(name, f"{title}: {value:g} vCPUs, the pools need up to {need} ({how})"))
        else:
            rows.append(
                fail(
                    name,
                    f"{title} is {value:g} vCPUs, but the pools need up to {need} ({how})",
                    f"request an increase: aws service-quotas request-service-quota-increase --region {ctx.region} "
                    f"--service-code ec2 --quota-code {code} --desired-value {need}; or lower gpu_limit",
                )
            )
    return rows


def _quota_value(quota_api: Any, code: str) -> float:
    """The applied quota; the AWS default when the account never changed it (GetServiceQuota then has nothing)."""
    try:
        return quota_api.get_service_quota(ServiceCode="ec2", QuotaCode=code)["Quota"]["Value"]
    except ClientError as exc:
        if error_code(exc) != "NoSuchResourceException":
            raise
    return quota_api.get_aws_default_service_quota(ServiceCode="ec2", QuotaCode=code)["Quota"]["Value"]
