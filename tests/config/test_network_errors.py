"""An existing VPC must say where the control plane's interfaces are, or the policies would admit the whole VPC."""

import pytest

from assembly.kit import KIT
from config.platform import control_plane_cidrs, network_facts
from tests.helpers import assert_rejected, write_config

SUBNETS = {
    "vpc_id": "vpc-0123456789abcdef0",
    "cidr": "10.20.0.0/16",
    "node_subnet_ids": ["subnet-0aaaaaaaaaaaaaaa1"],
    "control_plane_subnet_ids": ["subnet-0bbbbbbbbbbbbbbb1", "subnet-0ccccccccccccccc1"],
}
CIDRS = ["10.20.240.0/28", "10.20.240.16/28"]


def _existing(**changes) -> dict:
    return {"network": {"existing_vpc": {**SUBNETS, "control_plane_subnet_cidrs": CIDRS, **changes}}}


def test_the_control_plane_ranges_are_the_api_servers_and_the_scrapers_peers(tmp_path):
    config = KIT.load(write_config(tmp_path, _existing()))
    assert control_plane_cidrs(config) == CIDRS
    facts = network_facts(config)
    assert facts.metrics_from == tuple({"ipBlock": {"cidr": cidr}} for cidr in CIDRS)
    assert facts.api_server == ("172.20.0.1/32", *CIDRS)
    assert (facts.vpc_cidr, facts.service_cidr) == ("10.20.0.0/16", "172.20.0.0/16")


def test_without_network_policies_the_ranges_are_not_needed(tmp_path):
    config = KIT.load(write_config(tmp_path, {"network": {"existing_vpc": SUBNETS}, "cluster": {"network_policies": {"enabled": False}}}))
    assert config.network.existing_vpc is not None and config.network.existing_vpc.control_plane_subnet_cidrs is None
    assert not network_facts(config).enforced


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"network": {"existing_vpc": SUBNETS}},
            [
                "network.existing_vpc.control_plane_subnet_cidrs (line",
                "is required with cluster.network_policies.enabled",
                "every pod in it call the model servers' metrics ports",
                "aws ec2 describe-subnets --subnet-ids subnet-0bbbbbbbbbbbbbbb1 subnet-0ccccccccccccccc1",
            ],
        ),
        (
            _existing(control_plane_subnet_cidrs=["10.20.240.0/28"]),
            [
                "network.existing_vpc.control_plane_subnet_cidrs (line",
                "names 1 range for 2 control-plane subnets",
                "got: ['10.20.240.0/28']",
            ],
        ),
        (
            _existing(control_plane_subnet_cidrs=["10.20.240.0/28", "10.0.0.0/8"]),
            ["network.existing_vpc.control_plane_subnet_cidrs[1] (line", "holds the whole VPC (10.20.0.0/16)", "got: '10.0.0.0/8'"],
        ),
        (
            _existing(control_plane_subnet_ids=["subnet-0aaaaaaaaaaaaaaa1", "subnet-0ccccccccccccccc1"]),
            [
                "network.existing_vpc.control_plane_subnet_ids (line",
                "shares subnets with node_subnet_ids",
                "got: ['subnet-0aaaaaaaaaaaaaaa1']",
                "create two small subnets",
            ],
        ),
    ],
    ids=["ranges-missing", "one-range-for-two-subnets", "range-holds-the-vpc", "node-subnet-as-control-plane"],
)
def test_refused(tmp_path, overrides, expected):
    assert_rejected(tmp_path, overrides, [*expected, "nothing was synthesized"])
