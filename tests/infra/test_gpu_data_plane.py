"""Karpenter, node pools, device plugins and capacity blocks as synthesized from the configs."""

import json

import pytest

from config.node_pools import CapacityBlockNodeGroup
from infra.gpu.capacity_blocks import node_group_user_data
from infra.gpu.interruption import INTERRUPTION_EVENTS
from infra.gpu.user_data import EFA_LOCKED_MEMORY_BYTES
from infra.stacks.gpu_props import capacity_block_node_group_props
from tests.helpers import REPO, helm_charts, helm_values, kubernetes_objects, only, resources, synth

pytestmark = pytest.mark.e2e  # every test here reads whole synthesized apps

EXAMPLES = REPO / "config" / "examples"


def _pools(template):
    """{pool name: (logical id, EC2NodeClass, NodePool)}."""
    out = {}
    for logical_id, objects in kubernetes_objects(template).items():
        kinds = {obj["kind"]: obj for obj in objects}
        if "NodePool" in kinds:
            out[kinds["NodePool"]["metadata"]["name"]] = (logical_id, kinds["EC2NodeClass"], kinds["NodePool"])
    return out


@pytest.fixture(scope="module")
def block_karpenter(tmp_path_factory):
    return synth(EXAMPLES / "p5-capacity-block-karpenter.yaml", tmp_path_factory.mktemp("cb-karpenter"))["llm-p5-cb-cluster"]


@pytest.fixture(scope="module")
def block_node_group(tmp_path_factory):
    return synth(EXAMPLES / "p5-capacity-block-node-group.yaml", tmp_path_factory.mktemp("cb-mng"))["llm-p5-mng-cluster"]


def test_karpenter_chart_is_pinned_and_runs_on_the_system_nodes(cluster_template):
    chart = helm_charts(cluster_template)["karpenter"]["Properties"]
    assert chart["Repository"] == "oci://public.ecr.aws/karpenter/karpenter"
    assert chart["Version"] == "1.14.1"
    values = json.loads(helm_values(chart["Values"]))
    assert values["nodeSelector"] == {"llm-kit/pool": "system"}
    assert values["replicas"] == 2
    assert values["settings"]["clusterName"] == "llm-kit"
    assert values["settings"]["interruptionQueue"] == "<token>"
    # Static pools (capacity blocks) only where a pool follows a block: the gate is alpha in v1.14.
    assert values["settings"]["featureGates"] == {"nodeRepair": True, "reservedCapacity": True, "staticCapacity": False}


def test_karpenter_uses_pod_identity_with_a_cluster_scoped_policy(cluster_template):
    karpenter = [
        a["Properties"]
        for a in resources(cluster_template, "AWS::EKS::PodIdentityAssociation").values()
        if a["Properties"]["ServiceAccount"] == "karpenter"
    ]
    assert len(karpenter) == 1 and karpenter[0]["Namespace"] == "kube-system"
    policy = next(p["Properties"] for name, p in resources(cluster_template, "AWS::IAM::ManagedPolicy").items() if "Karpenter" in name)
    statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    tagged = statements["AllowScopedEC2InstanceActionsWithTags"]["Condition"]
    assert tagged["StringEquals"]["aws:RequestTag/kubernetes.io/cluster/llm-kit"] == "owned"
    assert tagged["StringLike"] == {"aws:RequestTag/karpenter.sh/nodepool": "*"}
    deletion = statements["AllowScopedDeletion"]["Condition"]["StringEquals"]
    assert deletion == {"aws:ResourceTag/kubernetes.io/cluster/llm-kit": "owned"}
    assert statements["AllowRegionalReadActions"]["Condition"] == {"StringEquals": {"aws:RequestedRegion": "us-west-2"}}
    assert statements["AllowPassingInstanceRole"]["Condition"]["StringEquals"]["iam:PassedToService"] == [
        "ec2.amazonaws.com",
        "ec2.amazonaws.com.cn",
    ]
    assert "Fn::GetAtt" in statements["AllowPassingInstanceRole"]["Resource"]
    assert "ec2:DescribeCapacityReservations" in statements["AllowRegionalReadActions"]["Action"]
    # Karpenter 1.12+ polls instance status; without the action those health checks stop and log an error.
    assert "ec2:DescribeInstanceStatus" in statements["AllowRegionalReadActions"]["Action"]


def test_interruption_queue_is_encrypted_and_fed_by_the_exact_event_names(cluster_template):
    queue = only(cluster_template, "AWS::SQS::Queue")["Properties"]
    assert queue["SqsManagedSseEnabled"] is True
    assert queue["MessageRetentionPeriod"] == 300
    patterns = sorted(
        (r["Properties"]["EventPattern"]["source"][0], r["Properties"]["EventPattern"]["detail-type"][0])
        for r in resources(cluster_template, "AWS::Events::Rule").values()
    )
    assert patterns == sorted(
        [
            ("aws.health", "AWS Health Event"),
            ("aws.ec2", "EC2 Spot Instance Interruption Warning"),
            ("aws.ec2", "EC2 Instance Rebalance Recommendation"),
            ("aws.ec2", "EC2 Instance State-change Notification"),
            ("aws.ec2", "EC2 Capacity Reservation Instance Interruption Warning"),
        ]
    )
    assert len(INTERRUPTION_EVENTS) == 5
    policy = only(cluster_template, "AWS::SQS::QueuePolicy")["Properties"]["PolicyDocument"]["Statement"]
    assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in policy)


def test_node_role_has_an_ec2_linux_access_entry(cluster_template):
    entries = [e["Properties"] for e in resources(cluster_template, "AWS::EKS::AccessEntry").values()]
    assert [e["Type"] for e in entries if e.get("Type") == "EC2_LINUX"] == ["EC2_LINUX"]


def test_every_pool_is_pinned_to_the_gpu_zone_with_a_gpu_taint_and_labels(cluster_template):
    pools = _pools(cluster_template)
    assert set(pools) == {"gpu-l40s", "gpu-h100-efa"}
    for name, (_, node_class, node_pool) in pools.items():
        template = node_pool["spec"]["template"]
        requirements = {r["key"]: r["values"] for r in template["spec"]["requirements"]}
        assert requirements["topology.k8s.aws/zone-id"] == ["usw2-az2"]
        assert {"key": "nvidia.com/gpu", "effect": "NoSchedule"} in template["spec"]["taints"]
        assert template["metadata"]["labels"]["llm-kit/pool"] == name
        assert node_pool["spec"]["limits"] == {"nvidia.com/gpu": "16"}
        assert [term["id"] for term in node_class["spec"]["subnetSelectorTerms"]] == ["<token>"]
        assert node_class["spec"]["amiSelectorTerms"] == [{"alias": "bottlerocket@v1.65.0"}]
        assert node_class["spec"]["metadataOptions"]["httpTokens"] == "required"
        assert all(device["ebs"]["encrypted"] for device in node_class["spec"]["blockDeviceMappings"])
    assert pools["gpu-l40s"][2]["spec"]["template"]["metadata"]["labels"]["llm-kit/accelerator"] == "l40s"
    assert pools["gpu-h100-efa"][2]["spec"]["template"]["metadata"]["labels"]["llm-kit/accelerator"] == "h100"


def test_protected_windows_become_zero_node_budgets_and_forceful_expiry_is_off(cluster_template):
    spec = _pools(cluster_template)["gpu-l40s"][2]["spec"]
    assert spec["template"]["spec"]["expireAfter"] == "Never"
    budgets = spec["disruption"]["budgets"]
    assert budgets == [
        {"nodes": "10%"},
        {"nodes": "0", "schedule": "0 8 * * mon-fri", "duration": "10h", "reasons": ["Empty", "Underutilized", "Drifted"]},
    ]


def test_efa_pool_has_an_interface_per_card_the_efa_group_and_a_placement_group(cluster_template):
    _, node_class, _ = _pools(cluster_template)["gpu-h100-efa"]
    interfaces = node_class["spec"]["networkInterfaces"]
    assert interfaces[0] == {"networkCardIndex": 0, "deviceIndex": 0, "interfaceType": "interface"}
    efa_only = [i for i in interfaces if i["interfaceType"] == "efa-only"]
    assert sorted(i["networkCardIndex"] for i in efa_only) == list(range(32))
    assert len(node_class["spec"]["securityGroupSelectorTerms"]) == 2
    assert node_class["spec"]["placementGroupSelector"] == {"name": "<token>"}
    assert only(cluster_template, "AWS::EC2::PlacementGroup")["Properties"]["Strategy"] == "cluster"
    l40s_class = _pools(cluster_template)["gpu-l40s"][1]
    assert "networkInterfaces" not in l40s_class["spec"] and len(l40s_class["spec"]["securityGroupSelectorTerms"]) == 1


def test_teardown_removes_node_pools_before_the_controller_and_nodes(cluster_template):
    """CloudFormation deletes in reverse dependency order: pools -> Karpenter -> system nodes -> cluster."""
    chart = helm_charts(cluster_template)["karpenter"]
    system_nodegroup = next(name for name in resources(cluster_template, "AWS::EKS::Nodegroup") if "System" in name)
    assert system_nodegroup in chart["DependsOn"]
    for logical_id, _, _ in _pools(cluster_template).values():
        assert chart["id"] in cluster_template["Resources"][logical_id]["DependsOn"]


def test_device_plugins_are_installed_only_where_needed(cluster_template, block_node_group):
    default = helm_charts(cluster_template)
    assert "aws-efa-k8s-device-plugin" in default and "nvidia-device-plugin" not in default  # Bottlerocket ships its own
    assert default["aws-efa-k8s-device-plugin"]["Properties"]["Version"] == "v0.5.30"
    mng = helm_charts(block_node_group)
    assert {"aws-efa-k8s-device-plugin", "nvidia-device-plugin"} <= set(mng)


def test_reserved_pool_targets_the_reservation_and_is_never_disrupted(block_karpenter):
    pools = _pools(block_karpenter)
    _, node_class, node_pool = pools["p5-block"]
    assert node_class["spec"]["capacityReservationSelectorTerms"] == [{"id": "cr-0123456789abcdef0"}]
    assert "placementGroupSelector" not in node_class["spec"]
    requirements = {r["key"]: r["values"] for r in node_pool["spec"]["template"]["spec"]["requirements"]}
    assert requirements["karpenter.sh/capacity-type"] == ["reserved"]
    assert node_pool["spec"]["template"]["spec"]["expireAfter"] == "Never"
    assert node_pool["spec"]["disruption"] == {"consolidationPolicy": "WhenEmpty", "consolidateAfter": "Never", "budgets": [{"nodes": "0"}]}
    assert node_pool["spec"]["weight"] == 100
    # Karpenter drains a block's nodes from 40 minutes before its end; EC2 takes them from 30: the drain is bounded.
    assert node_pool["spec"]["template"]["spec"]["terminationGracePeriod"] == "8m"
    assert "terminationGracePeriod" not in pools["p5-overflow"][2]["spec"]["template"]["spec"]
    assert "placementGroupSelector" in pools["p5-overflow"][1]["spec"]
    assert len(resources(block_karpenter, "AWS::EC2::PlacementGroup")) == 1


def test_capacity_block_node_group_launch_template(block_node_group):
    group = next(
        g["Properties"]
        for g in resources(block_node_group, "AWS::EKS::Nodegroup").values()
        if g["Properties"]["NodegroupName"] == "p5-block"
    )
    assert group["CapacityType"] == "CAPACITY_BLOCK"
    assert group["ScalingConfig"]["DesiredSize"] == 2
    assert group["AmiType"] == "AL2023_x86_64_NVIDIA"
    assert group["Taints"] == [{"Effect": "NO_SCHEDULE", "Key": "nvidia.com/gpu"}]
    template_id = group["LaunchTemplate"]["Id"]["Ref"]
    data = block_node_group["Resources"][template_id]["Properties"]["LaunchTemplateData"]
    assert data["InstanceMarketOptions"] == {"MarketType": "capacity-block"}
    assert data["CapacityReservationSpecification"] == {"CapacityReservationTarget": {"CapacityReservationId": "cr-0123456789abcdef0"}}
    assert "Placement" not in data and not resources(block_node_group, "AWS::EC2::PlacementGroup")
    interfaces = data["NetworkInterfaces"]
    assert len(interfaces) == 32
    assert (interfaces[0]["NetworkCardIndex"], interfaces[0]["DeviceIndex"], interfaces[0]["InterfaceType"]) == (0, 0, "efa")
    assert all(i["InterfaceType"] == "efa-only" for i in interfaces[1:])
    groups = interfaces[0]["Groups"]
    assert {
        "Fn::GetAtt": [
            next(
                n
                for n in block_node_group["Resources"]
                if n.startswith("ControlPlaneCluster") and block_node_group["Resources"][n]["Type"] == "AWS::EKS::Cluster"
            ),
            "ClusterSecurityGroupId",
        ]
    } in groups
    assert len(groups) == 2
    # AL2023: the only volume holds the images; EFA nodes get the NodeConfig that lifts the locked-memory limit.
    assert [(m["DeviceName"], m["Ebs"]["VolumeSize"], m["Ebs"]["Encrypted"]) for m in data["BlockDeviceMappings"]] == [
        ("/dev/xvda", 200, True)
    ]
    user_data = data["UserData"]["Fn::Base64"]
    config = CapacityBlockNodeGroup(name="p5-block", instance_type="p5.48xlarge", reservation_id="cr-0123456789abcdef0", size=2)
    assert user_data == node_group_user_data(capacity_block_node_group_props(config, "use2-az2"))
    assert f"soft: {EFA_LOCKED_MEMORY_BYTES}" in user_data and "18446744073709551615" not in user_data
