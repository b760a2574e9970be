import io
import json
import shutil
from datetime import UTC, datetime, timedelta

import boto3
import pytest
import yaml

from scripts import capacity_blocks as cb
from scripts._config_edit import ConfigDocument
from scripts.aws_session import ToolError
from assembly.kit import KIT
from tests.helpers import REPO
from tests.scripts.conftest import PartialStubber

REGION = "us-east-2"
OFFERING = "cb-0123456789abcdef0"
NEW_ID = "cr-0fedcba9876543210"
START = datetime(2026, 12, 1, 11, 30, tzinfo=UTC)
KARPENTER_EXAMPLE = REPO / "config" / "examples" / "p5-capacity-block-karpenter.yaml"
NODE_GROUP_EXAMPLE = REPO / "config" / "examples" / "p5-capacity-block-node-group.yaml"


def offering(offering_id=OFFERING, zone="us-east-2c", start=START, count=2, fee="4711.04", itype="p5.48xlarge"):
    return {
        "CapacityBlockOfferingId": offering_id,
        "InstanceType": itype,
        "AvailabilityZone": zone,
        "InstanceCount": count,
        "StartDate": start,
        "EndDate": start + timedelta(hours=48),
        "CapacityBlockDurationHours": 48,
        "UpfrontFee": fee,
        "CurrencyCode": "USD",
        "Tenancy": "default",
    }


@pytest.fixture
def ec2(moto_module, clean_aws_env, monkeypatch):
    """A moto EC2 client (zones) whose capacity-block calls are answered by the stubber."""
    client = boto3.client("ec2", region_name=REGION)
    stubber = PartialStubber(client)
    stubber.activate()
    monkeypatch.setattr(cb, "client", lambda session, service, region=None: client)
    yield stubber
    stubber.assert_no_pending_responses()


def offers(stubber, *items, **expected):
    params = {"InstanceType": "p5.48xlarge", "InstanceCount": 2, "CapacityDurationHours": 48, **expected}
    stubber.add_response("describe_capacity_block_offerings", {"CapacityBlockOfferings": list(items)}, params)


def bought(stubber, tags=None, reservation_id=NEW_ID, zone_id="use2-az3"):
    tags = tags or {"llm-kit/name": "llm-p5-cb", "llm-kit/pool": "p5-block"}
    params = {
        "CapacityBlockOfferingId": OFFERING,
        "InstancePlatform": "Linux/UNIX",
        "TagSpecifications": [{"ResourceType": "capacity-reservation", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}],
    }
    reservation = {
        "CapacityReservationId": reservation_id,
        "AvailabilityZoneId": zone_id,
        "InstanceType": "p5.48xlarge",
        "State": "payment-pending",
    }
    stubber.add_response("purchase_capacity_block", {"CapacityReservation": reservation}, params)


def search(*extra):
    return cb.main(["search", "--region", REGION, "--instance-type", "p5.48xlarge", "--count", "2", "--duration-hours", "48", *extra])


def copy_config(tmp_path, source=KARPENTER_EXAMPLE):
    path = tmp_path / "kit.yaml"
    shutil.copy(source, path)
    return path


def purchase(path, *extra, target=("--pool", "p5-block")):
    return cb.main(["purchase", "--offering-id", OFFERING, "--config", str(path), *target, "--duration-hours", "48", *extra])


def assert_user_error(code, capsys, *needles):
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("capacity_blocks: error: ")
    for needle in needles:
        assert needle in err


# search


def test_search_lists_offerings_with_az_name_and_id_sorted_by_start(ec2, capsys):
    later = offering("cb-0000000000000000b", zone="us-east-2a", start=START + timedelta(days=2), fee="5000.00")
    offers(ec2, later, offering())

    assert search() == 0

    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == [
        "AZ",
        "NAME",
        "AZ",
        "ID",
        "START",
        "(UTC)",
        "END",
        "(UTC)",
        "HOURS",
        "INSTANCE",
        "TYPE",
        "COUNT",
        "UPFRONT",
        "FEE",
        "CURRENCY",
        "OFFERING",
        "ID",
    ]
    assert lines[1].split() == [
        "us-east-2c",
        "use2-az3",
        "2026-12-01T11:30",
        "2026-12-03T11:30",
        "48",
        "p5.48xlarge",
        "2",
        "4711.04",
        "USD",
        OFFERING,
    ]
    assert lines[2].split()[:2] == ["us-east-2a", "use2-az1"]
    assert (
        "purchase --offering-id ID --config CONFIG --pool NAME (or --node-group NAME) --instance-type p5.48xlarge --count 2 "
        "--duration-hours 48" in out
    )


def test_search_json_and_date_window(ec2, capsys):
    offers(ec2, offering(), StartDateRange=datetime(2026, 12, 1, tzinfo=UTC), EndDateRange=datetime(2026, 12, 20, 12, 0, tzinfo=UTC))

    assert search("--earliest-start", "2026-12-01", "--latest-end", "2026-12-20T12:00", "--json") == 0

    [row] = json.loads(capsys.readouterr().out)
    assert row == {
        "offering_id": OFFERING,
        "instance_type": "p5.48xlarge",
        "instance_count": 2,
        "az_name": "us-east-2c",
        "az_id": "use2-az3",
        "start": "2026-12-01T11:30+00:00",
        "end": "2026-12-03T11:30+00:00",
        "duration_hours": 48,
        "upfront_fee": "4711.04",
        "currency": "USD",
    }


def test_search_takes_the_region_from_the_config(ec2, tmp_path, capsys, monkeypatch):
    regions = []
    monkeypatch.setattr(cb, "new_session", lambda profile, region: regions.append(region))
    offers(ec2, offering())

    code = cb.main(
        ["search", "--config", str(KARPENTER_EXAMPLE), "--instance-type", "p5.48xlarge", "--count", "2", "--duration-hours", "48"]
    )

    assert code == 0 and regions == ["us-east-2"]


def test_search_without_offerings_exits_1(ec2, capsys):
    offers(ec2, StartDateRange=datetime(2026, 12, 1, tzinfo=UTC))
    assert search("--earliest-start", "2026-12-01") == 1
    err = capsys.readouterr().err
    assert "no capacity block offerings for 2 x p5.48xlarge for 48 h in us-east-2 from 2026-12-01 00:00" in err
    assert "try another duration, count, window or region" in err


def test_search_api_error_is_explained(ec2, capsys):
    ec2.add_client_error("describe_capacity_block_offerings", "InvalidParameterValue", "Duration must be a multiple of 24")
    assert_user_error(
        search(),
        capsys,
        "EC2 DescribeCapacityBlockOfferings failed (InvalidParameterValue: Duration must be a multiple of 24)",
        "check --instance-type",
    )


def test_search_without_credentials(clean_aws_env, monkeypatch, capsys):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    assert_user_error(search(), capsys, "no AWS credentials found", "--profile")


def test_search_without_a_region(clean_aws_env, monkeypatch, capsys):
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    code = cb.main(["search", "--instance-type", "p5.48xlarge", "--count", "2", "--duration-hours", "48"])
    assert_user_error(code, capsys, "no AWS region chosen; pass --region or set AWS_REGION")


def test_search_when_zones_cannot_be_listed(ec2, capsys):
    offers(ec2, offering())
    ec2.add_client_error("describe_availability_zones", "UnauthorizedOperation", "You are not authorized to perform this operation.")
    assert_user_error(
        search(),
        capsys,
        "EC2 DescribeAvailabilityZones failed (UnauthorizedOperation: You are not authorized",
        "ec2:DescribeAvailabilityZones permission",
    )


def test_search_with_unknown_profile(clean_aws_env, capsys):
    assert_user_error(search("--profile", "nope"), capsys, "AWS profile 'nope' not found")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--count", "0"], "--count must be at least 1"),
        (["--earliest-start", "first of may"], "is not a date; use YYYY-MM-DD"),
        (["--earliest-start", "2026-12-10", "--latest-end", "2026-12-01"], "--latest-end must be after --earliest-start"),
    ],
)
def test_search_usage_errors(args, message, capsys):
    base = ["search", "--instance-type", "p5.48xlarge", "--count", "2", "--duration-hours", "48"]
    with pytest.raises(SystemExit) as exc:
        cb.main(base + args)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


# purchase


def test_purchase_into_a_pool_keeps_comments_and_moves_the_zone(ec2, tmp_path, capsys):
    path = copy_config(tmp_path)
    offers(ec2, offering())
    bought(ec2)

    assert purchase(path, "--instance-type", "p5.48xlarge", "--count", "2", "--yes") == 0

    text = path.read_text()
    data = yaml.safe_load(text)
    pool = data["node_pools"][0]
    assert pool["capacity_reservations"]["ids"] == ["cr-0123456789abcdef0", NEW_ID]
    assert pool["capacity_types"] == ["reserved"]
    assert data["placement"] == {"az_id": "use2-az3", "control_plane_az_id": "use2-az1"}
    assert "# Two p5.48xlarge on a capacity block, launched by Karpenter into the reservation." in text
    assert "capacity_types: [reserved]       # never consolidated or expired mid-block; no placement group" in text
    assert "az_id: use2-az3                    # the capacity block's AZ ID" in text
    out = capsys.readouterr().out
    assert "note: the block is in use2-az3, not in placement.az_id use2-az2; the whole data plane" in out
    assert "buying commits you to 4711.04 USD" in out
    assert "node_pools[p5-block].capacity_reservations.ids: added <new reservation id>" in out
    assert f"bought {NEW_ID}: 2 x p5.48xlarge in use2-az3" in out
    assert "placement.az_id: use2-az2 -> use2-az3" in out


def test_purchase_adds_reserved_to_an_on_demand_pool(ec2, tmp_path, capsys):
    path = copy_config(tmp_path)
    offers(ec2, offering(zone="us-east-2b"))
    bought(ec2, tags={"llm-kit/name": "llm-p5-cb", "llm-kit/pool": "p5-overflow"}, zone_id="use2-az2")

    assert purchase(path, "--instance-type", "p5.48xlarge", "--count", "2", "--yes", target=("--pool", "p5-overflow")) == 0

    overflow = yaml.safe_load(path.read_text())["node_pools"][1]
    assert overflow["capacity_types"] == ["on-demand", "reserved"]
    assert overflow["capacity_reservations"] == {"ids": [NEW_ID]}
    assert "placement.az_id" not in capsys.readouterr().out


def test_purchase_for_a_node_group_sets_reservation_and_size(ec2, tmp_path, capsys):
    path = copy_config(tmp_path, NODE_GROUP_EXAMPLE)
    offers(ec2, offering(count=2, zone="us-east-2a"), InstanceCount=2)
    bought(ec2, tags={"llm-kit/name": "llm-p5-mng", "llm-kit/pool": "p5-block"}, zone_id="use2-az1")

    assert purchase(path, "--yes", target=("--node-group", "p5-block")) == 0

    data = yaml.safe_load(path.read_text())
    assert data["capacity_block_node_groups"][0]["reservation_id"] == NEW_ID
    assert data["placement"] == {"az_id": "use2-az1", "control_plane_az_id": "use2-az2"}
    out = capsys.readouterr().out
    assert "placement.control_plane_az_id: use2-az1 -> use2-az2 (it must differ from az_id)" in out


def test_purchase_confirmed_by_typing_the_offering_id(ec2, tmp_path, monkeypatch):
    path = copy_config(tmp_path)
    offers(ec2, offering())
    bought(ec2)
    monkeypatch.setattr("sys.stdin", tty(OFFERING + "\n"))

    assert purchase(path, "--instance-type", "p5.48xlarge", "--count", "2") == 0
    assert NEW_ID in path.read_text()


def tty(text):
    stream = io.StringIO(text)
    stream.isatty = lambda: True
    return stream


def test_purchase_cancelled_buys_nothing(ec2, tmp_path, monkeypatch, capsys):
    path = copy_config(tmp_path)
    before = path.read_text()
    offers(ec2, offering())
    monkeypatch.setattr("sys.stdin", tty("yes\n"))

    assert purchase(path, "--instance-type", "p5.48xlarge", "--count", "2") == 1
    assert "cancelled; nothing was bought" in capsys.readouterr().err
    assert path.read_text() == before


def test_purchase_refuses_without_a_terminal(ec2, tmp_path, monkeypatch, capsys):
    path = copy_config(tmp_path)
    offers(ec2, offering())
    monkeypatch.setattr("sys.stdin", io.StringIO(OFFERING + "\n"))

    assert_user_error(
        purchase(path, "--instance-type", "p5.48xlarge", "--count", "2"), capsys, "refusing to buy without confirmation", "--yes"
    )


def test_purchase_of_an_unknown_offering(ec2, tmp_path, capsys):
    path = copy_config(tmp_path)
    offers(ec2, offering("cb-0000000000000000c"))
    code = purchase(path, "--instance-type", "p5.48xlarge", "--count", "2", "--yes")
    assert_user_error(
        code, capsys, f"offering {OFFERING} is not among the 1 offerings for 2 x p5.48xlarge for 48 h in us-east-2", "run search again"
    )


def test_purchase_that_would_break_the_config_buys_nothing(ec2, tmp_path, capsys):
    path = copy_config(tmp_path)
    text = path.read_text().replace(
        "    weight: 10\n", "    weight: 10\n    disruption:\n      consolidation_policy: WhenEmptyOrUnderutilized\n"
    )
    path.write_text(text)
    offers(ec2, offering(zone="us-east-2b"))

    code = purchase(path, "--instance-type", "p5.48xlarge", "--count", "2", "--yes", target=("--pool", "p5-overflow"))

    assert_user_error(
        code,
        capsys,
        "the edited config would not be valid, so the file was not changed",
        "node_pools[1].disruption",
        "reserved capacity is paid for the whole block",
    )
    assert path.read_text() == text


def test_purchase_api_failure_changes_nothing(ec2, tmp_path, capsys):
    path = copy_config(tmp_path)
    before = path.read_text()
    offers(ec2, offering())
    ec2.add_client_error("purchase_capacity_block", "InsufficientInstanceCapacity", "The offering is no longer available")

    code = purchase(path, "--instance-type", "p5.48xlarge", "--count", "2", "--yes")

    assert_user_error(
        code,
        capsys,
        "EC2 PurchaseCapacityBlock failed (InsufficientInstanceCapacity: The offering is no longer available); nothing was bought",
    )
    assert path.read_text() == before


def test_purchase_reports_the_block_when_the_config_cannot_be_written(ec2, tmp_path, monkeypatch, capsys):
    path = copy_config(tmp_path)
    offers(ec2, offering())
    bought(ec2)

    def refuse(self):
        raise ToolError("kit.yaml: the edited config would not be valid")

    monkeypatch.setattr(ConfigDocument, "save", refuse)
    code = purchase(path, "--instance-type", "p5.48xlarge", "--count", "2", "--yes")
    assert_user_error(code, capsys, f"the block {NEW_ID} WAS bought: put its ID and AZ ID use2-az3 in the config by hand")


def test_pool_selected_by_tags_gets_the_block_tagged(ec2, tmp_path, capsys):
    path = copy_config(tmp_path)
    path.write_text(path.read_text().replace("      ids: [cr-0123456789abcdef0]\n", "      tags: {team: ml}\n"))
    offers(ec2, offering(zone="us-east-2b"))
    bought(ec2, tags={"llm-kit/name": "llm-p5-cb", "llm-kit/pool": "p5-block", "team": "ml"}, zone_id="use2-az2")

    assert purchase(path, "--instance-type", "p5.48xlarge", "--count", "2", "--yes") == 0

    assert yaml.safe_load(path.read_text())["node_pools"][0]["capacity_reservations"] == {"tags": {"team": "ml"}}
    assert "selects reservations by tags; the block carries them" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("target", "extra", "message"),
    [
        (("--pool", "nope"), [], "has no node_pools entry named 'nope' (node_pools: p5-block, p5-overflow); pass one of them to --pool"),
        (("--node-group", "nope"), [], "has no capacity_block_node_groups entry named 'nope' (capacity_block_node_groups: none)"),
        (
            ("--pool", "p5-block"),
            ["--instance-type", "p5.48xlarge"],
            "--count is needed to find the offering (node_pools[p5-block] does not fix it)",
        ),
        (
            ("--pool", "p5-block"),
            ["--instance-type", "g6e.xlarge", "--count", "1"],
            "the offering's instance type g6e.xlarge is not one node_pools[p5-block] runs (p5.48xlarge)",
        ),
    ],
)
def test_purchase_target_errors(clean_aws_env, tmp_path, capsys, target, extra, message):
    path = copy_config(tmp_path)
    assert_user_error(purchase(path, "--yes", *extra, target=target), capsys, message)


def test_purchase_for_a_pool_of_several_types_needs_the_type(clean_aws_env, tmp_path, capsys):
    path = copy_config(tmp_path, REPO / "config" / "default.yaml")
    code = purchase(path, "--count", "1", "--yes", target=("--pool", "gpu-l40s"))
    assert_user_error(code, capsys, "--instance-type is needed to find the offering (node_pools[gpu-l40s] does not fix it)")


def test_purchase_with_an_invalid_config(clean_aws_env, tmp_path, capsys):
    path = copy_config(tmp_path)
    path.write_text(path.read_text().replace("az_id: use2-az2", "az_id: usw2-az2"))
    assert_user_error(purchase(path, "--yes"), capsys, "placement.az_id", "this AZ ID is not in region us-east-2", "fix the config first")


# the comment-keeping editor on its own


def test_editor_keeps_a_compact_layout(tmp_path):
    path = tmp_path / "kit.yaml"
    compact = (REPO / "config" / "examples" / "p5-capacity-block-node-group.yaml").read_text()
    compact = compact.replace("  - name: p5-block\n    instance_type", "- name: p5-block\n  instance_type")
    for key in ("reservation_id", "size", "ami_type", "efa"):
        compact = compact.replace(f"\n    {key}:", f"\n  {key}:")
    path.write_text(compact)

    doc = ConfigDocument.load(path)
    doc.set_node_group_reservation("p5-block", NEW_ID, 2)
    doc.save()

    assert path.read_text() == compact.replace("cr-0123456789abcdef0", NEW_ID)


def test_editor_writes_nothing_when_the_result_is_invalid(tmp_path):
    path = copy_config(tmp_path)
    before = path.read_text()
    doc = ConfigDocument.load(path)
    doc.set_zone("usw2-az1")

    with pytest.raises(ToolError, match=r"placement.az_id \(line \d+\): this AZ ID is not in region us-east-2"):
        doc.save()

    assert path.read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kit.yaml"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: [unclosed\n", "is not valid YAML"),
        ("- a\n- b\n", "is not a YAML mapping; start from config/default.yaml"),
        (None, "cannot read"),
    ],
)
def test_editor_rejects_what_it_cannot_edit(tmp_path, text, message):
    path = tmp_path / "kit.yaml"
    if text is not None:
        path.write_text(text)
    with pytest.raises(ToolError, match=message):
        ConfigDocument.load(path)


def test_editor_needs_a_placement(tmp_path):
    path = tmp_path / "kit.yaml"
    path.write_text("name: x\n")
    with pytest.raises(ToolError, match="has no placement mapping; add placement.az_id"):
        ConfigDocument.load(path).set_zone("use2-az1")


def test_purchase_with_follow_window_makes_the_pool_follow_the_block(ec2, tmp_path, capsys):
    path = copy_config(tmp_path)
    block_start = datetime(2026, 12, 1, 11, 30, tzinfo=UTC)
    offers(ec2, offering(start=block_start))
    bought(ec2)

    assert purchase(path, "--instance-type", "p5.48xlarge", "--count", "2", "--follow-window", "--yes") == 0

    pool = yaml.safe_load(path.read_text())["node_pools"][0]
    assert pool["capacity_types"] == ["reserved"]
    assert pool["capacity_reservations"] == {"ids": [NEW_ID]}  # this block alone
    window = pool["capacity_block"]
    assert (str(window["start"]), str(window["end"]), window["instances"]) == ("2026-12-01T11:30:00Z", "2026-12-03T11:30:00Z", 2)
    assert pool["gpu_limit"] == 16
    assert (
        "follows <new reservation id> from 2026-12-01T11:30:00Z to 2026-12-03T11:30:00Z with 2 nodes (16 GPUs)" in capsys.readouterr().out
    )
    KIT.load(path)  # the written config is valid


def test_follow_window_needs_a_pool(clean_aws_env, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        purchase(copy_config(tmp_path), "--follow-window", target=("--node-group", "p5-block"))
    assert exc.value.code == 2
    assert "--follow-window applies to --pool" in capsys.readouterr().err
