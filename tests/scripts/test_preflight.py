import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError

from core.regions import AZ_IDS
from scripts import _preflight_context as preflight_context
from scripts import preflight
from tests.helpers import write_config
from tests.scripts.conftest import PartialStubber

REGION = "us-west-2"
ACCOUNT = "123456789012"  # moto's account
BOOTSTRAP = "/cdk-bootstrap/hnb659fds/version"
BUCKET = f"llm-kit-models-{ACCOUNT}-{REGION}"
RID = "cr-0123456789abcdef0"
G_ON_DEMAND, P_ON_DEMAND, G_SPOT = "L-DB2E81BA", "L-417A185B", "L-3819A6DF"
# The default config: gpu-l40s (16 GPUs, up to 24 vCPUs per GPU) and gpu-h100-efa (16 x p5, 24 vCPUs per GPU).
DEFAULT_QUOTAS = ((G_ON_DEMAND, 1000.0), (P_ON_DEMAND, 1000.0))
NO_POOLS = {"node_pools": [], "workloads": []}


class Aws:
    """moto for what it implements; per-service stubbers (created on demand) for the rest."""

    def __init__(self, moto: Callable[[str], Any]):
        self.stubs = {}
        self.moto = moto

    def stub(self, service):
        if service not in self.stubs:
            stubber = PartialStubber(boto3.client(service, region_name=REGION))
            stubber.activate()
            self.stubs[service] = stubber
        return self.stubs[service]

    def quota(self, code, value):
        answer = {"Quota": {"QuotaCode": code, "ServiceCode": "ec2", "Value": value}}
        self.stub("service-quotas").add_response("get_service_quota", answer, {"ServiceCode": "ec2", "QuotaCode": code})

    def reservations(self, *found, ids=(RID,)):
        self.stub("ec2").add_response(
            "describe_capacity_reservations", {"CapacityReservations": list(found)}, {"CapacityReservationIds": list(ids)}
        )

    def stacks(self, *names_found_or_missing):
        for name, exists in names_found_or_missing:
            if exists:
                stack = {"StackName": name, "CreationTime": datetime(2026, 1, 1, tzinfo=UTC), "StackStatus": "CREATE_COMPLETE"}
                self.stub("cloudformation").add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": name})
            else:
                self.stub("cloudformation").add_client_error("describe_stacks", "ValidationError", f"Stack with id {name} does not exist")


@pytest.fixture(scope="module")
def moto_clients(moto_module):
    """moto-backed clients shared by the module's tests: creating a botocore client costs ~25 ms."""
    clients = {}

    def get(service):
        if service not in clients:
            clients[service] = boto3.client(service, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
        return clients[service]

    return get


@pytest.fixture
def aws(moto_clients, clean_aws_env, monkeypatch):
    """Every client preflight asks for: the test's stubber where it made one, else a shared moto client."""
    env = Aws(moto_clients)

    def fake_client(session, service, region=None, config=None):
        return env.stubs[service].client if service in env.stubs else moto_clients(service)

    for module in (preflight, preflight_context):
        monkeypatch.setattr(module, "client", fake_client)
    ssm, s3 = moto_clients("ssm"), moto_clients("s3")
    ssm.put_parameter(Name=BOOTSTRAP, Value="30", Type="String", Overwrite=True)
    yield env
    ssm.delete_parameters(Names=[BOOTSTRAP])
    for bucket in s3.list_buckets()["Buckets"]:
        s3.delete_bucket(Bucket=bucket["Name"])
    for stubber in env.stubs.values():
        stubber.assert_no_pending_responses()


def context(tmp_path, overrides=None, window_hours=24):
    return preflight.connect(write_config(tmp_path, overrides), None, window_hours)


def run(ctx, *names):
    return preflight.run(ctx, [(name, check) for name, check in preflight.CHECKS if name in names])


def row(rows, name):
    found = [r for r in rows if r.name == name]
    assert len(found) == 1, f"{name}: {rows}"
    return found[0]


def assert_row(rows, name, status, *fragments, fix=()):
    found = row(rows, name)
    assert found.status == status, found
    for fragment in fragments:
        assert fragment in found.detail, found
    for fragment in (fix,) if isinstance(fix, str) else fix:
        assert fragment in (found.fix or ""), found


# the whole run


def test_healthy_account_passes_every_check(aws, tmp_path, capsys):
    for code, value in DEFAULT_QUOTAS:
        aws.quota(code, value)

    assert preflight.main(["--config", str(write_config(tmp_path))]) == 0

    out = capsys.readouterr().out
    assert out.startswith(f"preflight: config {tmp_path / 'kit.yaml'}, account {ACCOUNT}, region {REGION}, az_id usw2-az2\nCHECK")
    assert out.rstrip().endswith("preflight: 10 PASS, 0 FAIL, 0 WARN, 1 SKIP")
    for fragment in (
        "us-west-2 answers and is enabled (opt-in-not-required)",
        "usw2-az2 is us-west-2a in this account",
        "g6e.2xlarge, g6e.4xlarge, g6e.12xlarge, g6e.48xlarge offered in usw2-az2",
        "EFA supported on p5.48xlarge",
        "the config names no capacity reservations",
        "Running On-Demand G and VT instances: 1000 vCPUs, the pools need up to 384 (gpu-l40s: 16 GPUs x 24 vCPUs/GPU)",
        "Running On-Demand P instances: 1000 vCPUs, the pools need up to 384 (gpu-h100-efa: 16 GPUs x 24 vCPUs/GPU)",
        "bootstrap version 30 (SSM parameter /cdk-bootstrap/hnb659fds/version)",
        f"model-bucket[{BUCKET}]  PASS    the name is free; the storage stack creates the bucket",
    ):
        assert fragment in out


def test_json_report_and_failure_exit_code(aws, tmp_path, capsys):
    aws.quota(G_ON_DEMAND, 1000.0)
    aws.quota(P_ON_DEMAND, 0.0)

    assert preflight.main(["--config", str(write_config(tmp_path)), "--json"]) == 1

    body = json.loads(capsys.readouterr().out)
    assert body["ok"] is False and body["account"] == ACCOUNT and body["region"] == REGION
    assert body["summary"] == {"PASS": 9, "FAIL": 1, "WARN": 0, "SKIP": 1}
    failed = [c for c in body["checks"] if c["status"] == "FAIL"]
    assert failed == [
        {
            "name": "quota[L-417A185B]",
            "status": "FAIL",
            "detail": "Running On-Demand P instances is 0 vCPUs, but the pools need up to 384 (gpu-h100-efa: 16 GPUs x 24 vCPUs/GPU)",
            "fix": "request an increase: aws service-quotas request-service-quota-increase --region us-west-2 --service-code ec2 "
            "--quota-code L-417A185B --desired-value 384; or lower gpu_limit",
        }
    ]


def test_config_from_kit_config_variable(aws, tmp_path, monkeypatch, capsys):
    monkeypatch.delitem(AZ_IDS, "us-west-2")  # an AZ ID the kit's table does not know: preflight asks the account
    monkeypatch.setenv("KIT_CONFIG", str(write_config(tmp_path, {"placement": {"az_id": "usw2-az9"}, **NO_POOLS})))
    assert preflight.main(["--json"]) == 1
    assert json.loads(capsys.readouterr().out)["az_id"] == "usw2-az9"


# zones and instance types


def test_az_id_missing_from_the_region(aws, tmp_path, monkeypatch):
    monkeypatch.delitem(AZ_IDS, "us-west-2")  # an AZ ID the kit's table does not know: preflight asks the account
    rows = run(context(tmp_path, {"placement": {"az_id": "usw2-az9"}}), "az-ids", "instance-types")
    assert_row(
        rows,
        "az-id[az_id]",
        "FAIL",
        "placement.az_id usw2-az9 is not an availability zone of us-west-2",
        fix="set placement.az_id to one of: usw2-az1 (us-west-2b), ",
    )
    assert_row(rows, "az-id[control_plane_az_id]", "PASS", "usw2-az1 is us-west-2b")
    assert_row(
        rows,
        "instance-types[node_pools[gpu-h100-efa]]",
        "FAIL",
        "none of p5.48xlarge is offered in usw2-az9 (p5.48xlarge is offered in usw2-az1, usw2-az2, usw2-az3, usw2-az4)",
        fix="move the data plane to an AZ ID that offers them (placement.az_id)",
    )


def offerings(*pairs):
    return {"InstanceTypeOfferings": [{"InstanceType": t, "LocationType": "availability-zone-id", "Location": az} for t, az in pairs]}


def test_instance_types_partly_or_not_offered_in_the_zone(aws, tmp_path):
    l40s = [(t, "usw2-az2") for t in ("g6e.2xlarge", "g6e.4xlarge", "g6e.12xlarge")] + [("g6e.48xlarge", "usw2-az1")]
    aws.stub("ec2").add_response("describe_instance_type_offerings", offerings(*l40s))

    rows = run(context(tmp_path), "instance-types", "efa")

    assert_row(rows, "efa[node_pools[gpu-h100-efa]]", "SKIP", "p5.48xlarge not offered in us-west-2; see instance-types")
    assert_row(
        rows,
        "instance-types[node_pools[gpu-l40s]]",
        "WARN",
        "g6e.48xlarge not offered in usw2-az2, so the pool never launches them (g6e.48xlarge is offered in usw2-az1)",
        fix="remove g6e.48xlarge from node_pools[gpu-l40s].instance_types",
    )
    assert_row(
        rows,
        "instance-types[node_pools[gpu-h100-efa]]",
        "FAIL",
        "p5.48xlarge is offered in no zone of us-west-2",
        fix="change node_pools[gpu-h100-efa]'s instance types",
    )


def test_zone_that_is_not_available(aws, tmp_path):
    zones = [
        {"ZoneName": "us-west-2a", "ZoneId": "usw2-az2", "State": "impaired", "ZoneType": "availability-zone"},
        {"ZoneName": "us-west-2b", "ZoneId": "usw2-az1", "State": "available", "ZoneType": "availability-zone"},
        {"ZoneName": "us-west-2-lax-1a", "ZoneId": "usw2-lax1-az1", "State": "available", "ZoneType": "local-zone"},
    ]
    aws.stub("ec2").add_response("describe_availability_zones", {"AvailabilityZones": zones})
    rows = run(context(tmp_path), "az-ids")
    assert_row(rows, "az-id[az_id]", "WARN", "usw2-az2 (us-west-2a) is impaired", fix="wait for the zone to be available")


def test_efa_not_supported_by_ec2(aws, tmp_path):
    network = {"EfaSupported": False, "MaximumNetworkCards": 32}
    aws.stub("ec2").add_response(
        "describe_instance_types",
        {"InstanceTypes": [{"InstanceType": "p5.48xlarge", "NetworkInfo": network}]},
        {"InstanceTypes": ["p5.48xlarge"]},
    )

    rows = run(context(tmp_path), "efa")

    assert_row(
        rows,
        "efa[node_pools[gpu-h100-efa]]",
        "FAIL",
        "EC2 reports no EFA support for p5.48xlarge",
        fix="set node_pools[gpu-h100-efa].efa: false",
    )


def test_no_pools_skip_the_capacity_checks(aws, tmp_path):
    rows = run(context(tmp_path, NO_POOLS), "instance-types", "efa", "quotas")
    assert [(r.name, r.status) for r in rows] == [("instance-types", "SKIP"), ("efa", "SKIP"), ("quotas", "SKIP")]


# capacity reservations


NODE_GROUP = {
    **NO_POOLS,
    "capacity_block_node_groups": [{"name": "p5-group", "instance_type": "p5.48xlarge", "reservation_id": RID, "size": 2}],
}
RESERVED_POOL = {
    "node_pools": [
        {
            "name": "p5-block",
            "instance_types": ["p5.48xlarge"],
            "capacity_types": ["reserved"],
            "capacity_reservations": {"ids": [RID]},
            "efa": True,
            "gpu_limit": 16,
        }
    ],
    "workloads": [],
}


def reservation(state="active", az="usw2-az2", itype="p5.48xlarge", count=2, starts=-1, ends=48, rid=RID):
    now = datetime.now(UTC)
    return {
        "CapacityReservationId": rid,
        "InstanceType": itype,
        "AvailabilityZoneId": az,
        "AvailabilityZone": "us-west-2a",
        "TotalInstanceCount": count,
        "State": state,
        "StartDate": now + timedelta(hours=starts),
        "EndDate": now + timedelta(hours=ends),
    }


def test_usable_reservation_passes(aws, tmp_path):
    aws.reservations(reservation())
    [result] = run(context(tmp_path, NODE_GROUP), "capacity-reservations")
    assert result.status == "PASS"
    assert f"active, 2 x p5.48xlarge in usw2-az2 for capacity_block_node_groups[p5-group], ends {datetime.now(UTC):%Y}" in result.detail


@pytest.mark.parametrize(
    ("found", "detail", "fix"),
    [
        (
            reservation(state="payment-pending"),
            "is payment-pending; only active or scheduled reservations can launch nodes",
            "wait a few minutes for the payment to clear",
        ),
        (reservation(state="payment-failed"), "is payment-failed", "the block will not start: buy another one"),
        (reservation(state="expired"), "is expired", "reserve new capacity and replace the ID in the config"),
        (
            reservation(az="usw2-az1"),
            "is in usw2-az1, but placement.az_id is usw2-az2",
            "set placement.az_id: usw2-az1 (the whole data plane follows the reservation)",
        ),
        (
            reservation(itype="p5e.48xlarge"),
            "is for p5e.48xlarge, but capacity_block_node_groups[p5-group] runs p5.48xlarge",
            "set capacity_block_node_groups[p5-group].instance_type",
        ),
        (
            reservation(count=1),
            "holds 1 instances, but capacity_block_node_groups[p5-group].size is 2",
            "set size: 1, or reserve 2 instances",
        ),
        (reservation(starts=-72, ends=-2), "ended ", "reserve new capacity"),
        (
            reservation(ends=5),
            "within the next 24 h",
            "aws ec2 describe-capacity-block-extension-offerings --capacity-reservation-id cr-0123456789abcdef0",
        ),
        (reservation(state="pending"), "is pending", "wait until it is active or scheduled, then re-run preflight"),
    ],
    ids=["payment-pending", "payment-failed", "expired", "zone", "type", "count", "ended", "ends-soon", "pending"],
)
def test_unusable_reservations_fail(aws, tmp_path, found, detail, fix):
    aws.reservations(found)
    rows = run(context(tmp_path, NODE_GROUP), "capacity-reservations")
    assert_row(rows, f"reservation[{RID}]", "FAIL", detail, fix=fix)


def test_shorter_window_accepts_a_block_that_ends_soon(aws, tmp_path):
    aws.reservations(reservation(ends=5))
    [result] = run(context(tmp_path, NODE_GROUP, window_hours=4), "capacity-reservations")
    assert result.status == "PASS"


def test_scheduled_block_warns_when_it_starts(aws, tmp_path):
    aws.reservations(reservation(state="scheduled", starts=30, ends=78))
    rows = run(context(tmp_path, NODE_GROUP), "capacity-reservations")
    assert [r.status for r in rows] == ["PASS", "WARN"]
    assert "h from now); its nodes launch only from then" in rows[1].detail


def test_zone_name_is_mapped_to_its_id(aws, tmp_path):
    found = reservation()
    del found["AvailabilityZoneId"]
    aws.reservations(found)
    [result] = run(context(tmp_path, NODE_GROUP), "capacity-reservations")
    assert result.status == "PASS" and "in usw2-az2" in result.detail


def test_unknown_reservation(aws, tmp_path):
    aws.stub("ec2").add_client_error(
        "describe_capacity_reservations", "InvalidCapacityReservationId.NotFound", f"The reservation ID '{RID}' does not exist"
    )
    rows = run(context(tmp_path, NODE_GROUP), "capacity-reservations")
    assert_row(
        rows,
        f"reservation[{RID}]",
        "FAIL",
        f"capacity_block_node_groups[p5-group] names {RID}, which account {ACCOUNT} does not have in us-west-2",
        fix="aws ec2 describe-capacity-reservations --region us-west-2",
    )


def test_reserved_pool_with_fewer_gpus_than_its_limit(aws, tmp_path):
    aws.reservations(reservation(count=1))
    rows = run(context(tmp_path, RESERVED_POOL), "capacity-reservations")
    assert_row(rows, f"reservation[{RID}]", "PASS")
    assert_row(
        rows, "reservations[node_pools[p5-block]]", "WARN", "the reservations hold 8 GPUs but gpu_limit is 16", fix="lower gpu_limit"
    )


def test_reservations_selected_by_tags(aws, tmp_path):
    tagged = {"node_pools": [{**RESERVED_POOL["node_pools"][0], "capacity_reservations": {"tags": {"team": "ml"}}}], "workloads": []}
    filters = {"Filters": [{"Name": "tag:team", "Values": ["ml"]}]}
    aws.stub("ec2").add_response("describe_capacity_reservations", {"CapacityReservations": []}, filters)
    aws.stub("ec2").add_response("describe_capacity_reservations", {"CapacityReservations": [reservation()]}, filters)

    missing = run(context(tmp_path, tagged), "capacity-reservations")
    found = run(context(tmp_path, tagged), "capacity-reservations")

    assert_row(
        missing,
        "reservations[node_pools[p5-block]]",
        "FAIL",
        "no capacity reservation in us-west-2 has the tags team=ml",
        fix="aws ec2 create-tags",
    )
    assert [r.status for r in found] == ["PASS"]


# quotas


def test_quota_that_was_never_changed_uses_the_aws_default(aws, tmp_path):
    spot = {
        "node_pools": [{"name": "spot-l4", "instance_types": ["g6.xlarge"], "capacity_types": ["spot"], "gpu_limit": 4}],
        "workloads": [],
    }
    aws.stub("service-quotas").add_client_error("get_service_quota", "NoSuchResourceException", "no applied quota")
    aws.stub("service-quotas").add_response(
        "get_aws_default_service_quota", {"Quota": {"Value": 8.0}}, {"ServiceCode": "ec2", "QuotaCode": G_SPOT}
    )

    rows = run(context(tmp_path, spot), "quotas")

    assert_row(
        rows,
        f"quota[{G_SPOT}]",
        "FAIL",
        "All G and VT Spot Instance Requests is 8 vCPUs, but the pools need up to 16 (spot-l4: 4 GPUs x 4 vCPUs/GPU)",
        fix="--desired-value 16",
    )


def test_quota_api_denied_is_a_warning(aws, tmp_path):
    aws.stub("service-quotas").add_client_error(
        "get_service_quota", "AccessDeniedException", "not authorized to perform servicequotas:GetServiceQuota"
    )
    [result] = run(context(tmp_path), "quotas")
    assert (result.name, result.status) == ("quotas", "WARN")
    assert "not checked: GetServiceQuota was denied (AccessDeniedException: not authorized" in result.detail
    assert "allow GetServiceQuota for these credentials" in (result.fix or "")


def test_quota_endpoint_unreachable_is_skipped(aws, tmp_path):
    quotas = aws.stub("service-quotas").client

    def unreachable(**_):
        raise EndpointConnectionError(endpoint_url="https://servicequotas.us-west-2.amazonaws.com/")

    quotas.meta.events.register("before-call.service-quotas.GetServiceQuota", unreachable)
    [result] = run(context(tmp_path), "quotas")
    assert result.status == "SKIP"
    assert "not checked: the API is not available here (cannot reach https://servicequotas.us-west-2.amazonaws.com/)" in result.detail


# CDK bootstrap


def test_account_not_bootstrapped(aws, tmp_path):
    aws.moto("ssm").delete_parameter(Name=BOOTSTRAP)
    aws.stacks(("CDKToolkit", False))
    rows = run(context(tmp_path), "cdk-bootstrap")
    assert_row(
        rows,
        "cdk-bootstrap",
        "FAIL",
        f"us-west-2 of account {ACCOUNT} is not CDK-bootstrapped",
        fix=f"npx cdk bootstrap aws://{ACCOUNT}/us-west-2",
    )


def test_old_bootstrap_version(aws, tmp_path):
    aws.moto("ssm").put_parameter(Name=BOOTSTRAP, Value="4", Type="String", Overwrite=True)
    rows = run(context(tmp_path), "cdk-bootstrap")
    assert_row(
        rows,
        "cdk-bootstrap",
        "FAIL",
        "bootstrap version 4 (SSM parameter",
        "older than the 6 the templates need",
        fix="(upgrades it in place)",
    )


def test_bootstrap_read_from_the_stack_when_ssm_is_denied(aws, tmp_path):
    aws.stub("ssm").add_client_error("get_parameter", "AccessDeniedException", "no ssm:GetParameter")
    stack = {"StackName": "CDKToolkit", "CreationTime": datetime(2026, 1, 1, tzinfo=UTC), "StackStatus": "UPDATE_COMPLETE"}
    stack["Outputs"] = [{"OutputKey": "BootstrapVersion", "OutputValue": "29"}]
    aws.stub("cloudformation").add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": "CDKToolkit"})
    rows = run(context(tmp_path), "cdk-bootstrap")
    assert_row(rows, "cdk-bootstrap", "PASS", "bootstrap version 29 (stack CDKToolkit)")


# model bucket


def test_bucket_left_from_an_earlier_deploy(aws, tmp_path):
    aws.moto("s3").create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    aws.stacks(("llm-kit-storage", False), ("llm-kit-storage", True))

    orphan = run(context(tmp_path), "model-bucket")
    redeploy = run(context(tmp_path), "model-bucket")

    assert_row(
        orphan,
        f"model-bucket[{BUCKET}]",
        "FAIL",
        "already exists outside stack llm-kit-storage",
        fix=f"storage.model_bucket.existing_bucket_name: {BUCKET}",
    )
    assert_row(redeploy, f"model-bucket[{BUCKET}]", "PASS", "exists and belongs to stack llm-kit-storage")


def test_bucket_name_taken_by_another_account(aws, tmp_path):
    aws.stub("s3").add_client_error("head_bucket", "403", "Forbidden", http_status_code=403)
    rows = run(context(tmp_path), "model-bucket")
    assert_row(
        rows,
        f"model-bucket[{BUCKET}]",
        "FAIL",
        "the name is taken by a bucket these credentials cannot see (HTTP 403)",
        fix="set storage.model_bucket.existing_bucket_name to a bucket you own",
    )


def test_bucket_skipped_when_the_account_is_unknown(aws, tmp_path):
    def unreachable(**_):
        raise EndpointConnectionError(endpoint_url="https://sts.us-west-2.amazonaws.com/")

    aws.stub("sts").client.meta.events.register("before-call.sts.GetCallerIdentity", unreachable)
    ctx = context(tmp_path)
    assert ctx.account is None
    assert_row(run(ctx, "model-bucket"), "model-bucket", "SKIP", "the account is unknown (STS unreachable)")


def existing(name):
    return {"storage": {"model_bucket": {"existing_bucket_name": name}}}


def test_existing_bucket(aws, tmp_path):
    s3 = aws.moto("s3")
    s3.create_bucket(Bucket="acme-models", CreateBucketConfiguration={"LocationConstraint": REGION})
    boto3.client("s3", region_name="eu-west-1").create_bucket(
        Bucket="acme-models-eu", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )

    rows = run(context(tmp_path, existing("acme-models")), "model-bucket")
    rows += run(context(tmp_path, existing("acme-models-eu")), "model-bucket")
    rows += run(context(tmp_path, existing("acme-nothing-here")), "model-bucket")

    assert_row(rows, "model-bucket[acme-models]", "PASS", "reachable, in us-west-2")
    assert_row(
        rows,
        "model-bucket[acme-models-eu]",
        "WARN",
        "is in eu-west-1, the cluster in us-west-2",
        fix="stage the weights in a bucket in us-west-2",
    )
    assert_row(
        rows,
        "model-bucket[acme-nothing-here]",
        "FAIL",
        "names a bucket that does not exist",
        fix="aws s3 mb s3://acme-nothing-here --region us-west-2",
    )


def test_existing_bucket_odd_answer(aws, tmp_path):
    aws.stub("s3").add_client_error("head_bucket", "400", "Bad Request", http_status_code=400)
    rows = run(context(tmp_path, existing("acme-models")), "model-bucket")
    assert_row(rows, "model-bucket[acme-models]", "FAIL", "HeadBucket answered HTTP 400", fix="check the bucket name and region")


def test_existing_bucket_denied(aws, tmp_path):
    aws.stub("s3").add_client_error("head_bucket", "403", "Forbidden", http_status_code=403)
    rows = run(context(tmp_path, existing("someone-elses")), "model-bucket")
    assert_row(rows, "model-bucket[someone-elses]", "FAIL", "HeadBucket was denied (403)", fix="its bucket policy must allow this account")


# region, credentials, config


def test_region_not_enabled_skips_the_ec2_checks(aws, tmp_path):
    regions = {"Regions": [{"RegionName": REGION, "OptInStatus": "not-opted-in"}]}
    aws.stub("ec2").add_response("describe_regions", regions, {"AllRegions": True})

    rows = preflight.run(context(tmp_path))

    assert_row(
        rows,
        "region",
        "FAIL",
        f"us-west-2 is an opt-in region that account {ACCOUNT} has not enabled",
        fix="aws account enable-region --region-name us-west-2",
    )
    skipped = [r.name for r in rows if r.status == "SKIP"]
    assert skipped == ["az-ids", "instance-types", "efa", "capacity-reservations", "quotas"]
    assert all(r.detail == "skipped: us-west-2 is not enabled for this account" for r in rows if r.status == "SKIP")
    assert {r.name for r in rows} >= {"cdk-bootstrap", f"model-bucket[{BUCKET}]"}


def test_region_unknown_to_the_partition(aws, tmp_path):
    aws.stub("ec2").add_response(
        "describe_regions", {"Regions": [{"RegionName": "us-east-1", "OptInStatus": "opt-in-not-required"}]}, {"AllRegions": True}
    )
    rows = run(context(tmp_path), "region")
    assert_row(rows, "region", "FAIL", "us-west-2 is not a region these credentials can see", fix="aws ec2 describe-regions --all-regions")


def test_region_unreachable(aws, tmp_path):
    ec2 = aws.stub("ec2").client

    def unreachable(**_):
        raise EndpointConnectionError(endpoint_url="https://ec2.us-west-2.amazonaws.com/")

    ec2.meta.events.register("before-call.ec2.DescribeRegions", unreachable)
    rows = run(context(tmp_path), "region", "az-ids")
    assert_row(
        rows, "region", "FAIL", "cannot reach EC2 in us-west-2 (cannot reach https://ec2.us-west-2.amazonaws.com/)", fix="HTTPS_PROXY"
    )
    assert_row(rows, "az-ids", "SKIP", "the EC2 endpoint of us-west-2 is unreachable")


def test_unexpected_api_error_is_a_warning_not_a_traceback(aws, tmp_path):
    aws.stub("ec2").add_client_error("describe_availability_zones", "InternalError", "An internal error has occurred")
    [result] = run(context(tmp_path), "az-ids")
    assert (result.status, result.detail) == (
        "WARN",
        "not checked: DescribeAvailabilityZones failed (InternalError: An internal error has occurred)",
    )


def assert_exit_2(capsys, *fragments):
    err = capsys.readouterr().err
    assert err.startswith("preflight: error: ")
    for fragment in fragments:
        assert fragment in err


def test_no_credentials(moto_module, clean_aws_env, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    assert preflight.main(["--config", str(write_config(tmp_path))]) == 2
    assert_exit_2(capsys, "no AWS credentials found; pass --profile")


def test_rejected_credentials_in_json_mode(aws, tmp_path, capsys):
    aws.stub("sts").add_client_error("get_caller_identity", "ExpiredToken", "The security token included in the request is expired")
    assert preflight.main(["--config", str(write_config(tmp_path)), "--json"]) == 2
    out, err = capsys.readouterr()
    assert json.loads(out)["ok"] is False
    assert "AWS rejected the credentials (ExpiredToken: The security token included in the request is expired)" in err


def test_credentials_that_expire_during_the_run(aws, tmp_path, capsys):
    aws.stub("ec2").add_client_error("describe_regions", "RequestExpired", "Request has expired")
    assert preflight.main(["--config", str(write_config(tmp_path))]) == 2
    assert_exit_2(capsys, "AWS rejected the credentials (RequestExpired: Request has expired)")


def test_identity_call_failing_for_another_reason(aws, tmp_path, capsys):
    aws.stub("sts").add_client_error("get_caller_identity", "RegionDisabledException", "STS is not activated in this region")
    assert preflight.main(["--config", str(write_config(tmp_path))]) == 2
    assert_exit_2(capsys, "cannot identify the credentials with sts:GetCallerIdentity (RegionDisabledException: STS is not activated")


def test_credentials_for_another_account(aws, tmp_path, capsys):
    assert preflight.main(["--config", str(write_config(tmp_path, {"account": "111122223333"}))]) == 2
    assert_exit_2(capsys, f"the credentials are for account {ACCOUNT}, but", "sets account: 111122223333", "--profile")


def test_invalid_config(aws, tmp_path, capsys):
    assert preflight.main(["--config", str(write_config(tmp_path, {"placement": {"az_id": "euw1-az1"}}))]) == 2
    assert_exit_2(capsys, "placement.az_id", "this AZ ID is not in region us-west-2", "nothing was checked")


def test_unknown_profile(clean_aws_env, tmp_path, capsys):
    assert preflight.main(["--config", str(write_config(tmp_path)), "--profile", "nope"]) == 2
    assert_exit_2(capsys, "AWS profile 'nope' not found")


def test_negative_window_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        preflight.main(["--window-hours", "-1"])
    assert exc.value.code == 2
    assert "--window-hours must be 0 or more" in capsys.readouterr().err
