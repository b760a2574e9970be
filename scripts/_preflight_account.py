"""Preflight checks of the account and region: zones, instance offerings, EFA, CDK bootstrap, model bucket."""

from __future__ import annotations

from collections import defaultdict

from botocore.exceptions import ClientError, EndpointConnectionError

from scripts._checks import Check, fail, ok, skip, warn
from scripts._preflight_context import Context
from scripts.aws_session import error_code, explain

BOOTSTRAP_QUALIFIER = "hnb659fds"
MIN_BOOTSTRAP_VERSION = 6
"""The version the templates' CheckBootstrapVersion rule asks for with the default synthesizer."""


def capacity_targets(ctx: Context) -> list[tuple[str, list[str], bool]]:
    """(config label, instance types, efa) of every pool and capacity-block node group."""
    return [(capacity.config_key, list(capacity.instance_types), capacity.efa) for capacity in ctx.capacities.values()]


def region(ctx: Context) -> list[Check]:
    name = ctx.region
    try:
        regions = ctx.client("ec2").describe_regions(AllRegions=True)["Regions"]
    except EndpointConnectionError as exc:
        ctx.blocked = f"the EC2 endpoint of {name} is unreachable"
        return [
            fail(
                "region",
                f"cannot reach EC2 in {name} ({explain(exc)})",
                "check network access, proxy settings (HTTPS_PROXY) and AWS_ENDPOINT_URL",
            )
        ]
    found = next((r for r in regions if r["RegionName"] == name), None)
    if found is None:
        ctx.blocked = f"{name} is not a region of this partition"
        return [
            fail(
                "region",
                f"{name} is not a region these credentials can see",
                "set region to one listed by `aws ec2 describe-regions --all-regions`",
            )
        ]
    status = found.get("OptInStatus", "opt-in-not-required")
    if status == "not-opted-in":
        ctx.blocked = f"{name} is not enabled for this account"
        return [
            fail(
                "region",
                f"{name} is an opt-in region that account {ctx.account} has not enabled",
                f"enable it (aws account enable-region --region-name {name}), wait until it is ENABLED, then re-run",
            )
        ]
    return [ok("region", f"{name} answers and is enabled ({status})")]


def az_ids(ctx: Context) -> list[Check]:
    zones = ctx.zones()
    listing = ", ".join(f"{zone_id} ({zone['ZoneName']})" for zone_id, zone in sorted(zones.items()))
    rows = []
    for key in ("az_id", "control_plane_az_id"):
        wanted = getattr(ctx.config.placement, key)
        name = f"az-id[{key}]"
        zone = zones.get(wanted)
        if zone is None:
            rows.append(
                fail(
                    name,
                    f"placement.{key} {wanted} is not an availability zone of {ctx.region}",
                    f"set placement.{key} to one of: {listing}",
                )
            )
        elif zone.get("State", "available") != "available":
            rows.append(
                warn(
                    name,
                    f"{wanted} ({zone['ZoneName']}) is {zone.get('State')}",
                    "wait for the zone to be available, or pick another AZ ID",
                )
            )
        else:
            rows.append(ok(name, f"{wanted} is {zone['ZoneName']} in this account"))
    return rows


def _offerings(ctx: Context, types: list[str]) -> dict[str, set[str]]:
    """instance type -> AZ IDs of the region that offer it."""

    def load() -> dict[str, set[str]]:
        offered: dict[str, set[str]] = defaultdict(set)
        paginator = ctx.client("ec2").get_paginator("describe_instance_type_offerings")
        filters = [{"Name": "instance-type", "Values": types}]
        for page in paginator.paginate(LocationType="availability-zone-id", Filters=filters):
            for offering in page["InstanceTypeOfferings"]:
                offered[offering["InstanceType"]].add(offering["Location"])
        return offered

    return ctx.memo("offerings", load)


def instance_types(ctx: Context) -> list[Check]:
    targets = capacity_targets(ctx)
    if not targets:
        return [skip("instance-types", "the config has no node pools or capacity-block node groups")]
    az = ctx.config.placement.az_id
    offered = _offerings(ctx, sorted({t for _, types, _ in targets for t in types}))
    rows = []
    for label, types, _ in targets:
        name = f"instance-types[{label}]"
        missing = [t for t in types if az not in offered.get(t, set())]
        if not missing:
            rows.append(ok(name, f"{', '.join(types)} offered in {az}"))
            continue
        where = "; ".join(f"{t} is offered in {', '.join(sorted(offered[t])) or 'no zone of ' + ctx.region}" for t in missing)
        if len(missing) < len(types):
            rows.append(
                warn(
                    name,
                    f"{', '.join(missing)} not offered in {az}, so the pool never launches them ({where})",
                    f"remove {', '.join(missing)} from {label}.instance_types",
                )
            )
        else:
            rows.append(
                fail(
                    name,
                    f"none of {', '.join(types)} is offered in {az} ({where})",
                    f"move the data plane to an AZ ID that offers them (placement.az_id), or change {label}'s instance types",
                )
            )
    return rows


def efa(ctx: Context) -> list[Check]:
    targets = [(label, types) for label, types, wants_efa in capacity_targets(ctx) if wants_efa]
    if not targets:
        return [skip("efa", "no pool or node group asks for EFA")]
    offered = _offerings(ctx, sorted({t for _, types, _ in capacity_targets(ctx) for t in types}))
    known = sorted({t for _, types in targets for t in types if offered.get(t)})
    info = {}
    if known:
        for page in ctx.client("ec2").get_paginator("describe_instance_types").paginate(InstanceTypes=known):
            info.update({item["InstanceType"]: item.get("NetworkInfo", {}) for item in page["InstanceTypes"]})
    rows = []
    for label, types in targets:
        name = f"efa[{label}]"
        checked = [t for t in types if t in info]
        if not checked:
            rows.append(skip(name, f"{', '.join(types)} not offered in {ctx.region}; see instance-types"))
            continue
        lacking = [t for t in checked if not info[t].get("EfaSupported")]
        if lacking:
            rows.append(
                fail(
                    name,
                    f"EC2 reports no EFA support for {', '.join(lacking)}",
                    f"set {label}.efa: false, or use EFA-capable instance types",
                )
            )
        else:
            rows.append(ok(name, f"EFA supported on {', '.join(checked)}"))
    return rows


def cdk_bootstrap(ctx: Context) -> list[Check]:
    name, parameter = "cdk-bootstrap", f"/cdk-bootstrap/{BOOTSTRAP_QUALIFIER}/version"
    command = f"npx cdk bootstrap aws://{ctx.account or 'ACCOUNT'}/{ctx.region}"
    try:
        version: int | None = int(ctx.client("ssm").get_parameter(Name=parameter)["Parameter"]["Value"])
        source = f"SSM parameter {parameter}"
    except ClientError as exc:
        if error_code(exc) not in ("ParameterNotFound", "AccessDeniedException", "AccessDenied"):
            raise
        version, source = _toolkit_stack_version(ctx), "stack CDKToolkit"
    if version is None:
        return [fail(name, f"{ctx.region} of account {ctx.account} is not CDK-bootstrapped (no {parameter}, no CDKToolkit stack)", command)]
    if version < MIN_BOOTSTRAP_VERSION:
        return [
            fail(
                name,
                f"bootstrap version {version} ({source}) is older than the {MIN_BOOTSTRAP_VERSION} the templates need",
                f"{command} (upgrades it in place)",
            )
        ]
    return [ok(name, f"bootstrap version {version} ({source})")]


def _toolkit_stack_version(ctx: Context) -> int | None:
    try:
        stack = ctx.client("cloudformation").describe_stacks(StackName="CDKToolkit")["Stacks"][0]
    except ClientError as exc:
        if error_code(exc) == "ValidationError":
            return None
        raise
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    return int(outputs.get("BootstrapVersion", 0))


def _head_bucket(ctx: Context, bucket: str) -> tuple[int, str | None]:
    """(HTTP status, bucket region) of HeadBucket; 404 when it does not exist."""
    try:
        answer = ctx.client("s3").head_bucket(Bucket=bucket)
    except ClientError as exc:
        answer = exc.response
    meta = answer.get("ResponseMetadata", {})
    return meta.get("HTTPStatusCode", 0), answer.get("BucketRegion") or meta.get("HTTPHeaders", {}).get("x-amz-bucket-region")


def model_bucket(ctx: Context) -> list[Check]:
    storage = ctx.config.storage.model_bucket
    if storage.existing_bucket_name:
        return [_existing_bucket(ctx, storage.existing_bucket_name)]
    if not ctx.account:
        return [skip("model-bucket", "the account is unknown (STS unreachable), so the bucket name is too")]
    bucket = f"{ctx.config.name}-models-{ctx.account}-{ctx.region}"
    name = f"model-bucket[{bucket}]"
    status, _ = _head_bucket(ctx, bucket)
    if status == 404:
        return [ok(name, "the name is free; the storage stack creates the bucket")]
    if status in (200, 301, 400):
        stack = f"{ctx.config.name}-storage"
        if _stack_exists(ctx, stack):
            return [ok(name, f"exists and belongs to stack {stack} (a redeploy)")]
        return [
            fail(
                name,
                f"already exists outside stack {stack} (the kit keeps the bucket when a stack is destroyed)",
                f"reuse it with storage.model_bucket.existing_bucket_name: {bucket}, or empty and delete it",
            )
        ]
    return [
        fail(
            name,
            f"the name is taken by a bucket these credentials cannot see (HTTP {status})",
            "set storage.model_bucket.existing_bucket_name to a bucket you own, or change name",
        )
    ]


def _existing_bucket(ctx: Context, bucket: str) -> Check:
    name = f"model-bucket[{bucket}]"
    status, where = _head_bucket(ctx, bucket)
    if status == 404:
        return fail(
            name,
            "storage.model_bucket.existing_bucket_name names a bucket that does not exist",
            f"create it (aws s3 mb s3://{bucket} --region {ctx.region}) or fix the name",
        )
    if status == 403:
        return fail(
            name,
            "HeadBucket was denied (403): the bucket belongs to another account, or these credentials lack s3:ListBucket on it",
            "check the name; for another account's bucket, its bucket policy must allow this account",
        )
    if where and where != ctx.region:
        return warn(
            name,
            f"is in {where}, the cluster in {ctx.region}: every model load crosses regions (slower, paid transfer)",
            f"stage the weights in a bucket in {ctx.region} (scripts/stage_model.py)",
        )
    if status == 200:
        return ok(name, f"reachable, in {where or ctx.region}")
    return fail(name, f"HeadBucket answered HTTP {status}", "check the bucket name and region")


def _stack_exists(ctx: Context, stack: str) -> bool:
    try:
        ctx.client("cloudformation").describe_stacks(StackName=stack)
    except ClientError as exc:
        if error_code(exc) == "ValidationError":
            return False
        raise
    return True
