"""Bad configs are rejected with every problem at once: key path, bad value, what is allowed, how to fix."""

import pytest

from assembly.kit import KIT
from core.issues import ConfigError
from tests.helpers import assert_rejected, write_config


def _problems(tmp_path, overrides):
    with pytest.raises(ConfigError) as caught:
        KIT.load(write_config(tmp_path, overrides))
    return caught.value


CASES = [
    pytest.param(
        {"placement": {"az_id": None, "az_idd": "usw2-az2"}},
        ["placement.az_idd", "unknown key 'az_idd'; did you mean 'az_id'?", "fix: rename it to 'az_id'"],
        id="misspelt-key",
    ),
    pytest.param(
        {"placement": {"az_idd": "usw2-az3"}},
        [
            "placement.az_idd",
            "unknown key 'az_idd'; it looks like a second 'az_id', which this mapping already sets",
            "fix: remove it, or keep its value under the existing 'az_id'",
        ],
        id="misspelt-copy-of-a-key-that-is-set",
    ),
    pytest.param(
        {"placement": {"az_id": "us-west-2a"}},
        [
            "placement.az_id",
            "got: 'us-west-2a'",
            "us-west-2a is an AZ name",
            "--zone-names us-west-2a",
            "fix: replace it with the AZ ID the command above prints for us-west-2a",
            "allowed: an AZ ID of the config's region: usw2-az1",
        ],
        id="az-name-instead-of-az-id",
    ),
    pytest.param(
        {"placement": {"az_id": "use1-az4"}},
        ["placement.az_id", "this AZ ID is not in region us-west-2", "usw2-az1", "describe-availability-zones"],
        id="az-id-of-another-region",
    ),
    pytest.param(
        {"placement": {"control_plane_az_id": "usw2-az2"}},
        ["placement.control_plane_az_id", "must differ from placement.az_id"],
        id="same-zone-twice",
    ),
    pytest.param(
        {"region": "us-weast-2"},
        ["region", "not a known AWS region name", "us-weast-2"],
        id="unknown-region",
    ),
    pytest.param(
        {"cluster": {"kubernetes_version": "1.29"}},
        ["cluster.kubernetes_version", "allowed: '1.34' or '1.35'", "got: '1.29'"],
        id="unsupported-kubernetes-version",
    ),
    pytest.param(
        {"cluster": {"public_access_cidrs": ["0.0.0.0/0"]}},
        ["cluster.public_access_cidrs[0]", "opens the Kubernetes API to the whole internet", "fix:"],
        id="api-open-to-the-internet",
    ),
    pytest.param(
        {"cluster": {"public_access_cidrs": ["0.0.0.0/1", "128.0.0.0/1"]}},
        ["cluster.public_access_cidrs[0]", "cluster.public_access_cidrs[1]", "2,147,483,648 addresses", "at most a /16"],
        id="api-open-to-the-internet-in-halves",
    ),
    pytest.param(
        {"cluster": {"public_access_cidrs": ["52.0.0.0/15"]}},
        ["cluster.public_access_cidrs[0]", "131,072 addresses", "got: '52.0.0.0/15'"],
        id="api-open-to-a-wide-block",
    ),
    pytest.param(
        {"cluster": {"public_access_cidrs": [f"{n}.0.0.0/16" for n in range(20, 37)]}},
        ["cluster.public_access_cidrs (line", "1,114,112 addresses", "sixteen /16s"],
        id="api-open-through-many-blocks",
    ),
    pytest.param(
        {"cluster": {"system_nodes": {"min_size": 3, "desired_size": 2}}},
        ["cluster.system_nodes", "min_size <= desired_size <= max_size"],
        id="node-sizes-out-of-order",
    ),
    pytest.param(
        {"network": {"vpc_cidr": "10.0.0.0/22", "node_subnet_prefix": 22}},
        ["network.node_subnet_prefix", "does not fit inside the /22 VPC", "fix: raise node_subnet_prefix"],
        id="node-subnet-too-big",
    ),
    pytest.param(
        {"network": {"nat_gateways": 0, "interface_endpoints": ["logs"]}},
        ["network.interface_endpoints", "without a NAT gateway", "add ecr.api, ecr.dkr, sts, ec2"],
        id="no-nat-and-no-endpoints",
    ),
    pytest.param(
        {"cluster": {"admin_principal_arns": ["arn:aws:iam::12345:role/Admin"]}},
        ["cluster.admin_principal_arns[0]", "does not have the form this key takes", "arn:aws:iam::111122223333:role/PlatformAdmin"],
        id="malformed-admin-arn",
    ),
    pytest.param(
        {"network": {"vpc_cidr": "10.0.0.300/16"}},
        ["network.vpc_cidr", "got: '10.0.0.300/16'"],
        id="malformed-cidr",
    ),
    pytest.param(
        {"name": "LLM_Kit"},
        ["name", "got: 'LLM_Kit'", "lower-case letters, digits and dashes"],
        id="bad-name",
    ),
    pytest.param(
        {"placement": None},
        ["placement", "required key is missing"],
        id="missing-placement",
    ),
    pytest.param(
        {
            "network": {
                "existing_vpc": {
                    "vpc_id": "vpc-0123456789abcdef0",
                    "cidr": "10.1.0.0/16",
                    "node_subnet_ids": [],
                    "control_plane_subnet_ids": ["subnet-0123456789abcdef0"],
                }
            }
        },
        ["network.existing_vpc.node_subnet_ids", "network.existing_vpc.control_plane_subnet_ids", "at least 1 item", "at least 2 items"],
        id="existing-vpc-without-subnets",
    ),
]


@pytest.mark.parametrize(("overrides", "expected"), CASES)
def test_bad_config_is_explained(tmp_path, overrides, expected):
    assert_rejected(tmp_path, overrides, [*expected, "nothing was synthesized"])


def test_every_problem_is_reported_at_once_with_its_line(tmp_path):
    error = _problems(tmp_path, {"placement": {"az_idd": "x"}, "cluster": {"kubernetes_version": "1.20", "logging": ["api", "everything"]}})
    paths = [issue.path for issue in error.issues]
    assert paths == ["placement.az_idd", "cluster.kubernetes_version", "cluster.logging[1]"]
    assert all(issue.line is not None for issue in error.issues)


def test_duplicate_keys_are_errors_not_silently_merged(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text("name: a-kit\nregion: us-west-2\nname: b-kit\nplacement: {az_id: usw2-az2, control_plane_az_id: usw2-az1}\n")
    with pytest.raises(ConfigError) as caught:
        KIT.load(path)
    [issue] = caught.value.issues
    assert issue.path == "name" and issue.line == 3 and "appears twice" in issue.message


def test_yaml_syntax_error_points_at_the_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: kit\nplacement:\n  az_id: [usw2-az2\n")
    with pytest.raises(ConfigError) as caught:
        KIT.load(path)
    assert "not valid YAML" in caught.value.render()
    assert caught.value.issues[0].line is not None


def test_missing_file_is_explained(tmp_path):
    with pytest.raises(ConfigError) as caught:
        KIT.load(tmp_path / "nope.yaml")
    assert "does not exist" in caught.value.render()


def test_a_list_where_a_mapping_belongs(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- name: kit\n")
    with pytest.raises(ConfigError) as caught:
        KIT.load(path)
    assert "must be a YAML mapping" in caught.value.render()
