"""Find and buy EC2 Capacity Blocks for ML, and point a kit config at the block.

    python -m scripts.capacity_blocks search --region us-east-2 --instance-type p5.48xlarge --count 2 --duration-hours 48
    python -m scripts.capacity_blocks search --config config/prod.yaml --instance-type p5.48xlarge --count 2 \\
        --duration-hours 168 --earliest-start 2026-12-01 --latest-end 2026-12-20 --json
    python -m scripts.capacity_blocks purchase --offering-id cb-0123456789abcdef0 --config config/prod.yaml \\
        --pool p5-block --instance-type p5.48xlarge --count 2 --duration-hours 48

`search` lists offerings with their AZ name and AZ ID. `purchase` finds the offering again (pass the same
--instance-type, --count, --duration-hours and window as the search that listed it; a node group's type and
size are the defaults), shows it, and buys it only after you type its offering id (or pass --yes). It then
writes the reservation ID into the config (node_pools[NAME].capacity_reservations.ids plus capacity type
'reserved'; with --follow-window the pool follows the block's window instead: node_pools[NAME].capacity_block; or
capacity_block_node_groups[NAME].reservation_id) and moves placement.az_id to the block's AZ
ID, keeping the file's comments. The edited config is validated before anything is bought and again before
it is written; an invalid result writes nothing.

Exit codes: 0 done, 1 no offering found or purchase cancelled, 2 usage, config, credentials or AWS error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assembly.kit import KIT
from core.docstrings import first_paragraph
from core.instances import known
from core.issues import ConfigError
from scripts._config_edit import ConfigDocument
from scripts.aws_session import ToolError, aws_errors, client, new_session

PROG = "capacity_blocks"
PLACEHOLDER_ID = "cr-00000000000000000"
"""Stands in for the reservation ID when the edit is validated before anything is bought."""
COLUMNS = ("AZ NAME", "AZ ID", "START (UTC)", "END (UTC)", "HOURS", "INSTANCE TYPE", "COUNT", "UPFRONT FEE", "CURRENCY", "OFFERING ID")


def parse_date(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date; use YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def search_offerings(
    ec2: Any, *, instance_type: str, count: int, hours: int, start: datetime | None, end: datetime | None
) -> list[dict[str, Any]]:
    params: dict[str, Any] = {"InstanceType": instance_type, "InstanceCount": count, "CapacityDurationHours": hours}
    if start:
        params["StartDateRange"] = start
    if end:
        params["EndDateRange"] = end
    offerings: list[dict[str, Any]] = []
    with aws_errors("EC2 DescribeCapacityBlockOfferings", "check --instance-type, --count, --duration-hours and the window"):
        for page in ec2.get_paginator("describe_capacity_block_offerings").paginate(**params):
            offerings += page["CapacityBlockOfferings"]
    return sorted(offerings, key=lambda o: (o["StartDate"], float(o.get("UpfrontFee") or 0)))


def zone_ids(ec2: Any) -> dict[str, str]:
    """AZ name -> AZ ID: names are shuffled per account, IDs are what the config uses."""
    with aws_errors("EC2 DescribeAvailabilityZones", "check the region and ec2:DescribeAvailabilityZones permission"):
        zones = ec2.describe_availability_zones(AllAvailabilityZones=True)["AvailabilityZones"]
    return {z["ZoneName"]: z["ZoneId"] for z in zones}


def as_row(offering: dict[str, Any], ids: dict[str, str]) -> dict[str, Any]:
    zone = offering.get("AvailabilityZone", "")
    return {
        "offering_id": offering["CapacityBlockOfferingId"],
        "instance_type": offering.get("InstanceType"),
        "instance_count": offering.get("InstanceCount"),
        "az_name": zone,
        "az_id": ids.get(zone, "?"),
        "start": offering["StartDate"].astimezone(UTC).isoformat(timespec="minutes"),
        "end": offering["EndDate"].astimezone(UTC).isoformat(timespec="minutes"),
        "duration_hours": offering.get("CapacityBlockDurationHours"),
        "upfront_fee": offering.get("UpfrontFee"),
        "currency": offering.get("CurrencyCode"),
    }


def table(rows: list[dict[str, Any]]) -> str:
    keys = (
        "az_name",
        "az_id",
        "start",
        "end",
        "duration_hours",
        "instance_type",
        "instance_count",
        "upfront_fee",
        "currency",
        "offering_id",
    )
    cells = [list(COLUMNS)] + [[str(row[k]).replace("+00:00", "") for k in keys] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(keys))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip() for line in cells)


def cmd_search(args: argparse.Namespace) -> int:
    region = args.region
    if region is None and args.config:
        region = _load(args.config).region
    ec2 = client(new_session(args.profile, region), "ec2")
    offerings = search_offerings(
        ec2, instance_type=args.instance_type, count=args.count, hours=args.duration_hours, start=args.earliest_start, end=args.latest_end
    )
    ids = zone_ids(ec2) if offerings else {}
    rows = [as_row(o, ids) for o in offerings]
    if args.json:
        print(json.dumps(rows, indent=2))
    elif rows:
        print(table(rows))
        print(
            "\nto buy one: python -m scripts.capacity_blocks purchase --offering-id ID "
            f"--config CONFIG --pool NAME (or --node-group NAME) {_search_flags(args)}"
        )
    if not rows:
        print(
            f"{PROG}: no capacity block offerings for {args.count} x "
            f"{args.instance_type} for {args.duration_hours} h in {ec2.meta.region_name}"
            f"{_window(args)}; try another duration, count, window or region",
            file=sys.stderr,
        )
        return 1
    return 0


def _search_flags(args: argparse.Namespace) -> str:
    flags = f"--instance-type {args.instance_type} --count {args.count} --duration-hours {args.duration_hours}"
    if args.earliest_start:
        flags += f" --earliest-start {args.earliest_start.isoformat()}"
    if args.latest_end:
        flags += f" --latest-end {args.latest_end.isoformat()}"
    return flags


def _window(args: argparse.Namespace) -> str:
    start = f" from {args.earliest_start:%Y-%m-%d %H:%M}" if args.earliest_start else ""
    end = f" ending by {args.latest_end:%Y-%m-%d %H:%M}" if args.latest_end else ""
    return start + end


def _load(path: Path) -> Any:
    try:
        return KIT.load(path)
    except ConfigError as err:
        raise ToolError(err.render().replace("nothing was synthesized", "fix the config first")) from None


def block_time(moment: datetime) -> str:
    """A block's start or end as the config writes it: UTC, to the second."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _plan(
    path: Path, args: argparse.Namespace, reservation_id: str, az_id: str, count: int, offering: dict[str, Any] | None = None
) -> ConfigDocument:
    doc = ConfigDocument.load(path)
    if args.pool and args.follow_window and offering is not None:
        instance = known(offering["InstanceType"])
        doc.set_pool_block(
            args.pool,
            reservation_id,
            start=block_time(offering["StartDate"]),
            end=block_time(offering["EndDate"]),
            instances=count,
            gpus_per_instance=instance.gpus if instance else 0,
        )
    elif args.pool:
        doc.add_pool_reservation(args.pool, reservation_id)
    else:
        doc.set_node_group_reservation(args.node_group, reservation_id, count)
    doc.set_zone(az_id)
    return doc


def _target(doc: ConfigDocument, args: argparse.Namespace) -> tuple[str, list[str], int | None]:
    """(label, instance types, node-group size) of the --pool or --node-group entry."""
    if args.pool:
        pool = doc.pool(args.pool)
        return f"node_pools[{args.pool}]", [str(t) for t in pool.get("instance_types") or []], None
    group = doc.node_group(args.node_group)
    return f"capacity_block_node_groups[{args.node_group}]", [str(group.get("instance_type"))], group.get("size")


def find_offering(ec2: Any, args: argparse.Namespace, instance_type: str, count: int) -> dict[str, Any]:
    offerings = search_offerings(
        ec2, instance_type=instance_type, count=count, hours=args.duration_hours, start=args.earliest_start, end=args.latest_end
    )
    for offering in offerings:
        if offering["CapacityBlockOfferingId"] == args.offering_id:
            return offering
    raise ToolError(
        f"offering {args.offering_id} is not among the {len(offerings)} "
        f"offerings for {count} x {instance_type} for {args.duration_hours} h "
        f"in {ec2.meta.region_name}{_window(args)}; offerings change quickly: run search again and pass the same flags to purchase"
    )


def confirm(offering_id: str, assume_yes: bool) -> bool:
    if assume_yes:
        return True
    if not sys.stdin.isatty():
        raise ToolError("refusing to buy without confirmation: there is no terminal to ask on; re-run with --yes to buy non-interactively")
    answer = input(f"Type the offering id ({offering_id}) to buy it; anything else cancels: ")
    return answer.strip() == offering_id


def cmd_purchase(args: argparse.Namespace) -> int:
    config = _load(args.config)
    label, types, size = _target(ConfigDocument.load(args.config), args)
    instance_type = args.instance_type or (types[0] if len(types) == 1 else None)
    count = args.count or size
    if instance_type is None or count is None:
        missing = "--instance-type" if instance_type is None else "--count"
        raise ToolError(f"{missing} is needed to find the offering ({label} does not fix it); pass the flags the search used")
    if instance_type not in types:
        raise ToolError(
            f"the offering's instance type {instance_type} is not one {label} runs "
            f"({', '.join(types)}); pick another --pool/--node-group or offering"
        )
    ec2 = client(new_session(args.profile, config.region), "ec2")
    offering = find_offering(ec2, args, instance_type, count)
    row = as_row(offering, zone_ids(ec2))
    az_id = row["az_id"]
    preview = _plan(args.config, args, PLACEHOLDER_ID, az_id, row["instance_count"], offering)
    preview.validate()
    print(table([row]))
    print(f"\n{args.config} will change:")
    for change in preview.changes:
        print(f"  {change.replace(PLACEHOLDER_ID, '<new reservation id>')}")
    if config.placement.az_id != az_id:
        print(
            f"\nnote: the block is in {az_id}, not in placement.az_id {config.placement.az_id}; "
            f"the whole data plane (node subnets, FSx, every pool) moves to {az_id}"
        )
    print(f"\nbuying commits you to {row['upfront_fee']} {row['currency']}, paid up front and not refundable")
    if not confirm(args.offering_id, args.yes):
        print(f"{PROG}: cancelled; nothing was bought and {args.config} is unchanged", file=sys.stderr)
        return 1
    tags = {"llm-kit/name": config.name, "llm-kit/pool": args.pool or args.node_group}
    if args.pool:
        tags.update(preview.pool_selection_tags(args.pool))
    with aws_errors("EC2 PurchaseCapacityBlock", "nothing was bought; run search again for a current offering"):
        answer = ec2.purchase_capacity_block(
            CapacityBlockOfferingId=args.offering_id,
            InstancePlatform=args.instance_platform,
            TagSpecifications=[{"ResourceType": "capacity-reservation", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}],
        )
    reservation = answer["CapacityReservation"]
    reservation_id = reservation["CapacityReservationId"]
    az_id = reservation.get("AvailabilityZoneId") or az_id
    print(f"bought {reservation_id}: {row['instance_count']} x {instance_type} in {az_id}, {row['start']} to {row['end']}")
    doc = _plan(args.config, args, reservation_id, az_id, row["instance_count"], offering)
    try:
        doc.save()
    except ToolError as exc:
        raise ToolError(f"{exc}\nthe block {reservation_id} WAS bought: put its ID and AZ ID {az_id} in the config by hand") from None
    print(f"updated {args.config}:")
    for change in doc.changes:
        print(f"  {change}")
    print(f"next: python -m scripts.preflight --config {args.config}")
    return 0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=PROG, description=first_paragraph(__doc__))
    commands = parser.add_subparsers(dest="command", required=True)
    search = commands.add_parser("search", help="list capacity block offerings")
    buy = commands.add_parser("purchase", help="buy an offering and write it into a config")
    for sub, required in ((search, True), (buy, False)):
        sub.add_argument("--instance-type", required=required, help="e.g. p5.48xlarge")
        sub.add_argument("--count", type=int, required=required, help="instances in the block")
        sub.add_argument("--duration-hours", type=int, required=True, help="length of the block in hours")
        sub.add_argument("--earliest-start", type=parse_date, help="earliest start, YYYY-MM-DD[THH:MM] UTC")
        sub.add_argument("--latest-end", type=parse_date, help="latest end, YYYY-MM-DD[THH:MM] UTC")
        sub.add_argument("--profile", help="AWS profile")
    search.add_argument("--region", help="region to search (default: the --config's region, else the profile's)")
    search.add_argument("--config", type=Path, help="kit config whose region to search")
    search.add_argument("--json", action="store_true", help="print the offerings as JSON")
    buy.add_argument("--offering-id", required=True)
    buy.add_argument("--config", type=Path, required=True, help="kit config to update")
    target = buy.add_mutually_exclusive_group(required=True)
    target.add_argument("--pool", help="Karpenter node pool that launches into the block")
    target.add_argument("--node-group", help="capacity-block managed node group that runs the block")
    buy.add_argument(
        "--follow-window",
        action="store_true",
        help=(
            "with --pool: make the pool follow the block (reserved only, this "
            "block alone, its window and size): nodes while it runs, none outside"
        ),
    )
    buy.add_argument("--instance-platform", default="Linux/UNIX", help="default Linux/UNIX")
    buy.add_argument("--yes", action="store_true", help="buy without asking (for scripts); the fee is not refundable")
    args = parser.parse_args(argv)
    for flag in ("count", "duration_hours"):
        if getattr(args, flag) is not None and getattr(args, flag) < 1:
            parser.error(f"--{flag.replace('_', '-')} must be at least 1")
    if getattr(args, "follow_window", False) and not args.pool:
        parser.error("--follow-window applies to --pool (a node group runs the block's instances for its whole life)")
    if args.earliest_start and args.latest_end and args.latest_end <= args.earliest_start:
        parser.error("--latest-end must be after --earliest-start")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return cmd_search(args) if args.command == "search" else cmd_purchase(args)
    except ToolError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
