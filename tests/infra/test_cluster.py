"""The cluster stack: EKS settings, system nodes in the GPU zone, add-ons, EFA security group."""

import pytest

from tests.helpers import kubernetes_objects, only, resources, subnet_of

pytestmark = pytest.mark.e2e  # every test here reads whole synthesized apps

PRIMARY = "usw2-az2"


def _cluster_config(template):
    return only(template, "AWS::EKS::Cluster")["Properties"]


def test_cluster_version_auth_mode_and_logging(cluster_template):
    cluster = _cluster_config(cluster_template)
    assert cluster["Version"] == "1.35"
    assert cluster["AccessConfig"]["AuthenticationMode"] == "API"
    enabled = cluster["Logging"]["ClusterLogging"]["EnabledTypes"]
    assert sorted(t["Type"] for t in enabled) == ["api", "audit", "authenticator", "controllerManager", "scheduler"]


def test_secrets_are_encrypted_with_a_rotating_key(cluster_template):
    cluster = _cluster_config(cluster_template)
    [encryption] = cluster["EncryptionConfig"]
    assert encryption["Resources"] == ["secrets"]
    key_id = encryption["Provider"]["KeyArn"]["Fn::GetAtt"][0]
    assert cluster_template["Resources"][key_id]["Properties"]["EnableKeyRotation"] is True


def test_endpoint_is_private_by_default(cluster_template):
    vpc_config = _cluster_config(cluster_template)["ResourcesVpcConfig"]
    assert vpc_config["EndpointPrivateAccess"] is True
    assert vpc_config["EndpointPublicAccess"] is False


def test_control_plane_uses_subnets_in_both_zones(default_templates, cluster_template):
    subnet_refs = _cluster_config(cluster_template)["ResourcesVpcConfig"]["SubnetIds"]
    zones = sorted(subnet_of(default_templates, ref)["Properties"]["AvailabilityZoneId"] for ref in subnet_refs)
    assert zones == ["usw2-az1", "usw2-az2"]


def test_system_node_group_lives_only_in_the_gpu_zone(default_templates, cluster_template):
    group = only(cluster_template, "AWS::EKS::Nodegroup")["Properties"]
    zones = {subnet_of(default_templates, ref)["Properties"]["AvailabilityZoneId"] for ref in group["Subnets"]}
    assert zones == {PRIMARY}
    assert group["AmiType"] == "AL2023_x86_64_STANDARD"
    assert group["InstanceTypes"] == ["m7i.xlarge"]
    assert group["ScalingConfig"] == {"MinSize": 2, "DesiredSize": 2, "MaxSize": 4}
    assert group["NodeRepairConfig"] == {"Enabled": True}
    assert group["Labels"] == {"llm-kit/pool": "system"}


def test_system_nodes_require_imdsv2_and_encrypted_disks(cluster_template):
    data = only(cluster_template, "AWS::EC2::LaunchTemplate")["Properties"]["LaunchTemplateData"]
    assert data["MetadataOptions"]["HttpTokens"] == "required"
    [disk] = data["BlockDeviceMappings"]
    assert disk["Ebs"]["Encrypted"] is True and disk["Ebs"]["VolumeType"] == "gp3"


def test_node_role_has_no_cni_policy(cluster_template):
    group = only(cluster_template, "AWS::EKS::Nodegroup")["Properties"]
    role = cluster_template["Resources"][group["NodeRole"]["Fn::GetAtt"][0]]["Properties"]
    policies = " ".join(str(p) for p in role["ManagedPolicyArns"])
    assert "AmazonEKSWorkerNodePolicy" in policies and "AmazonEC2ContainerRegistryPullOnly" in policies
    assert "CNI" not in policies


def test_managed_addons_and_their_order(cluster_template):
    addons = {body["Properties"]["AddonName"]: (name, body) for name, body in resources(cluster_template, "AWS::EKS::Addon").items()}
    assert set(addons) == {
        "vpc-cni",
        "coredns",
        "kube-proxy",
        "eks-pod-identity-agent",
        "aws-ebs-csi-driver",
        "eks-node-monitoring-agent",
        "aws-mountpoint-s3-csi-driver",
    }
    group_id = next(iter(resources(cluster_template, "AWS::EKS::Nodegroup")))
    group_deps = set(cluster_template["Resources"][group_id]["DependsOn"])
    for name in ("vpc-cni", "kube-proxy", "eks-pod-identity-agent"):
        assert addons[name][0] in group_deps
    for name in ("coredns", "aws-ebs-csi-driver", "eks-node-monitoring-agent", "aws-mountpoint-s3-csi-driver"):
        assert group_id in addons[name][1]["DependsOn"]


def test_addons_that_call_aws_use_pod_identity(cluster_template):
    addons = {body["Properties"]["AddonName"]: body["Properties"] for body in resources(cluster_template, "AWS::EKS::Addon").values()}
    assert addons["vpc-cni"]["PodIdentityAssociations"][0]["ServiceAccount"] == "aws-node"
    assert addons["aws-ebs-csi-driver"]["PodIdentityAssociations"][0]["ServiceAccount"] == "ebs-csi-controller-sa"
    role_id = addons["vpc-cni"]["PodIdentityAssociations"][0]["RoleArn"]["Fn::GetAtt"][0]
    trust = cluster_template["Resources"][role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert sorted(trust["Action"]) == ["sts:AssumeRole", "sts:TagSession"]


def test_efa_security_group_allows_all_traffic_only_to_and_from_itself(cluster_template):
    groups = {name: body for name, body in resources(cluster_template, "AWS::EC2::SecurityGroup").items() if "Efa" in name}
    [(efa_id, efa)] = groups.items()
    assert "SecurityGroupIngress" not in efa["Properties"] and "SecurityGroupEgress" not in efa["Properties"]
    ingress = list(resources(cluster_template, "AWS::EC2::SecurityGroupIngress").values())
    egress = list(resources(cluster_template, "AWS::EC2::SecurityGroupEgress").values())
    self_ref = {"Fn::GetAtt": [efa_id, "GroupId"]}
    assert [(r["Properties"]["IpProtocol"], r["Properties"]["SourceSecurityGroupId"]) for r in ingress] == [("-1", self_ref)]
    assert [(r["Properties"]["IpProtocol"], r["Properties"]["DestinationSecurityGroupId"]) for r in egress] == [("-1", self_ref)]
    assert all(r["Properties"]["GroupId"] == self_ref for r in ingress + egress)


def test_default_storage_class_is_encrypted_gp3_after_the_ebs_driver(cluster_template):
    [(logical_id, [storage_class])] = [(k, v) for k, v in kubernetes_objects(cluster_template).items() if v[0]["kind"] == "StorageClass"]
    assert storage_class["metadata"]["annotations"] == {"storageclass.kubernetes.io/is-default-class": "true"}
    assert storage_class["parameters"] == {"type": "gp3", "encrypted": "true"}
    assert storage_class["volumeBindingMode"] == "WaitForFirstConsumer"
    ebs = next(n for n, b in resources(cluster_template, "AWS::EKS::Addon").items() if b["Properties"]["AddonName"] == "aws-ebs-csi-driver")
    assert ebs in cluster_template["Resources"][logical_id]["DependsOn"]


def test_kubectl_provider_runs_in_the_node_subnet_that_reaches_chart_repositories(default_templates, cluster_template):
    functions = [f["Properties"] for f in resources(cluster_template, "AWS::Lambda::Function").values() if "VpcConfig" in f["Properties"]]
    assert len(functions) == 2
    for function in functions:
        [subnet_ref] = function["VpcConfig"]["SubnetIds"]
        subnet = subnet_of(default_templates, subnet_ref)
        tags = {tag["Key"]: tag["Value"] for tag in subnet["Properties"]["Tags"]}
        assert tags["llm-kit/subnet-role"] == "nodes"
