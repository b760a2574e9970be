"""Config switches change the templates as they promise (one synth of a config that flips several)."""

import pytest

from tests.helpers import only, resources, synth, write_config

pytestmark = pytest.mark.e2e  # every test here reads whole synthesized apps

ADMIN = "arn:aws:iam::111122223333:role/PlatformAdmin"
VARIANT = {
    "name": "byo-kit",
    "account": "111122223333",
    "cluster": {
        "public_access_cidrs": ["203.0.113.0/24"],
        "admin_principal_arns": [ADMIN],
        "logging": ["api", "audit"],
        "addon_versions": {"vpc-cni": "v1.20.4-eksbuild.1"},
    },
    "network": {
        "existing_vpc": {
            "vpc_id": "vpc-0123456789abcdef0",
            "cidr": "10.20.0.0/16",
            "node_subnet_ids": ["subnet-0aaaaaaaaaaaaaaa1"],
            "control_plane_subnet_ids": ["subnet-0bbbbbbbbbbbbbbb1", "subnet-0ccccccccccccccc1"],
            "control_plane_subnet_cidrs": ["10.20.240.0/28", "10.20.240.16/28"],
        }
    },
}


@pytest.fixture(scope="module")
def variant(tmp_path_factory):
    folder = tmp_path_factory.mktemp("variant")
    return synth(write_config(folder, VARIANT), folder / "out")


def test_existing_vpc_means_no_network_stack_and_no_lookups(variant):
    assert sorted(variant) == ["byo-kit-cluster", "byo-kit-images", "byo-kit-registry", "byo-kit-storage", "byo-kit-workloads"]
    template = variant["byo-kit-cluster"]
    assert not resources(template, "AWS::EC2::VPC") and not resources(template, "AWS::EC2::Subnet")
    vpc_config = only(template, "AWS::EKS::Cluster")["Properties"]["ResourcesVpcConfig"]
    assert vpc_config["SubnetIds"] == ["subnet-0bbbbbbbbbbbbbbb1", "subnet-0ccccccccccccccc1"]
    assert only(template, "AWS::EKS::Nodegroup")["Properties"]["Subnets"] == ["subnet-0aaaaaaaaaaaaaaa1"]


def test_public_endpoint_is_limited_to_the_listed_cidrs(variant):
    vpc_config = only(variant["byo-kit-cluster"], "AWS::EKS::Cluster")["Properties"]["ResourcesVpcConfig"]
    assert vpc_config["EndpointPublicAccess"] is True and vpc_config["EndpointPrivateAccess"] is True
    assert vpc_config["PublicAccessCidrs"] == ["203.0.113.0/24"]


def test_admins_get_cluster_admin_access_entries(variant):
    entries = [e["Properties"] for e in resources(variant["byo-kit-cluster"], "AWS::EKS::AccessEntry").values()]
    admin = [e for e in entries if e["PrincipalArn"] == ADMIN]
    assert len(admin) == 1
    [policy] = admin[0]["AccessPolicies"]
    assert "cluster-access-policy/AmazonEKSClusterAdminPolicy" in str(policy["PolicyArn"])
    assert policy["AccessScope"] == {"Type": "cluster"}


def test_logging_and_addon_pins_follow_the_config(variant):
    template = variant["byo-kit-cluster"]
    enabled = only(template, "AWS::EKS::Cluster")["Properties"]["Logging"]["ClusterLogging"]["EnabledTypes"]
    assert [t["Type"] for t in enabled] == ["api", "audit"]
    addons = {a["Properties"]["AddonName"]: a["Properties"] for a in resources(template, "AWS::EKS::Addon").values()}
    assert addons["vpc-cni"]["AddonVersion"] == "v1.20.4-eksbuild.1"
    assert "AddonVersion" not in addons["coredns"]


def test_kubectl_provider_uses_the_existing_node_subnets(variant):
    functions = [
        f["Properties"] for f in resources(variant["byo-kit-cluster"], "AWS::Lambda::Function").values() if "VpcConfig" in f["Properties"]
    ]
    assert [f["VpcConfig"]["SubnetIds"] for f in functions] == [["subnet-0aaaaaaaaaaaaaaa1"]] * 2
