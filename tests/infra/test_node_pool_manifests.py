"""NodePool/EC2NodeClass rendering for the pool variants the default config does not exercise."""

from config.node_pools import NodePool
from core.capacity_block_schedule import EC2_TERMINATES_MINUTES_BEFORE_END, KARPENTER_EXPIRES_MINUTES_BEFORE_END
from infra.gpu.node_pool_manifests import RESERVED_TERMINATION_GRACE_MINUTES, NodeClassContext, node_class, node_pool
from infra.gpu.pool_props import NodePoolProps
from infra.stacks.gpu_props import node_pool_props
from tests.infra.mime_user_data import node_configs

CONTEXT = NodeClassContext(
    node_role_name="kit-nodes",
    subnet_ids=("subnet-0aaaaaaaaaaaaaaa1",),
    security_group_ids=("sg-0cluster",),
    efa_security_group_id="sg-0efa",
    placement_group_name="kit-pg",
)


def _pool(**fields) -> NodePoolProps:
    return node_pool_props(NodePool.model_validate({"name": "p", "instance_types": ["g6e.12xlarge"], "gpu_limit": 8, **fields}), "usw2-az2")


def test_al2023_pool_uses_nodeadm_fast_image_pull_and_raid0_instance_store():
    spec = node_class(_pool(ami_family="al2023"), CONTEXT)["spec"]
    assert spec["amiSelectorTerms"] == [{"alias": "al2023@v20260724"}]
    assert spec["instanceStorePolicy"] == "RAID0"
    [config] = node_configs(spec["userData"])
    assert config["spec"]["featureGates"] == {"FastImagePull": True}
    [root] = spec["blockDeviceMappings"]
    assert root["deviceName"] == "/dev/xvda" and root["rootVolume"] is True and root["ebs"]["encrypted"] is True


def test_bottlerocket_nvme_is_karpenters_raid0_and_the_data_volume_is_the_kubelet_root():
    spec = node_class(_pool(), CONTEXT)["spec"]
    # Karpenter binds Bottlerocket's default directory list (containerd, kubelet, pod logs, SOCI's store) to RAID0.
    assert spec["instanceStorePolicy"] == "RAID0"
    os_volume, data_volume = spec["blockDeviceMappings"]
    # rootVolume is the volume Karpenter counts as ephemeral storage: the data volume, never the 4 GiB OS volume.
    assert os_volume["deviceName"] == "/dev/xvda" and "rootVolume" not in os_volume
    assert data_volume["deviceName"] == "/dev/xvdb" and data_volume["rootVolume"] is True


def test_prepulled_image_snapshot_backs_the_bottlerocket_data_volume_and_keeps_images_off_nvme():
    spec = node_class(_pool(image_pull={"prepulled_images_snapshot_id": "snap-0123456789abcdef0"}, data_volume_gib=500), CONTEXT)["spec"]
    os_volume, data_volume = spec["blockDeviceMappings"]
    assert os_volume["deviceName"] == "/dev/xvda" and "snapshotID" not in os_volume["ebs"]
    assert data_volume["deviceName"] == "/dev/xvdb"
    assert data_volume["ebs"]["snapshotID"] == "snap-0123456789abcdef0"
    assert data_volume["ebs"]["volumeSize"] == "500Gi"
    # A RAID0 bind of /var/lib/containerd would hide the snapshot's images behind an empty NVMe directory.
    assert "instanceStorePolicy" not in spec


def test_protected_windows_make_nodes_expire_never():
    windows = {"protected_windows": [{"schedule": "0 8 * * mon-fri", "duration": "10h"}]}
    assert node_pool(_pool(disruption=windows))["spec"]["template"]["spec"]["expireAfter"] == "Never"
    assert node_pool(_pool())["spec"]["template"]["spec"]["expireAfter"] == "720h"


def test_reservations_by_tags_and_pinned_ami_version():
    pool = _pool(capacity_types=["reserved"], capacity_reservations={"tags": {"team": "ml"}}, ami_version="v1.66.0")
    spec = node_class(pool, CONTEXT)["spec"]
    assert spec["capacityReservationSelectorTerms"] == [{"tags": {"team": "ml"}}]
    assert spec["amiSelectorTerms"] == [{"alias": "bottlerocket@v1.66.0"}]


def test_extra_taints_and_labels_join_the_gpu_taint():
    pool = _pool(labels={"team": "search"}, taints=[{"key": "dedicated", "value": "search", "effect": "NoSchedule"}], weight=50)
    spec = node_pool(pool)["spec"]
    assert spec["template"]["spec"]["taints"] == [
        {"key": "nvidia.com/gpu", "effect": "NoSchedule"},
        {"key": "dedicated", "effect": "NoSchedule", "value": "search"},
    ]
    assert spec["template"]["metadata"]["labels"]["team"] == "search"
    assert spec["weight"] == 50


def test_spot_and_on_demand_efa_pool_gets_the_placement_group():
    spec = node_class(_pool(instance_types=["p5en.48xlarge"], capacity_types=["spot", "on-demand"], efa=True), CONTEXT)["spec"]
    assert spec["placementGroupSelector"] == {"name": "kit-pg"}
    assert [t["id"] for t in spec["securityGroupSelectorTerms"]] == ["sg-0cluster", "sg-0efa"]
    assert len([i for i in spec["networkInterfaces"] if i["interfaceType"] == "efa-only"]) == 16


def test_a_reserved_pool_drains_between_karpenters_expiry_of_a_block_and_ec2s():
    """Karpenter v1.14.1 deletes a block's nodes 40 minutes before its end (a controller polled every minute); EC2
    terminates them from 30 minutes before. Without a grace period the drain waits on PodDisruptionBudgets until EC2
    ends it; with it, the pods are gone a minute before EC2 starts, the instance shut down by then."""
    reserved = _pool(capacity_types=["reserved"], capacity_reservations={"ids": ["cr-0123456789abcdef0"]})
    template = node_pool(reserved)["spec"]["template"]["spec"]
    assert template["terminationGracePeriod"] == f"{RESERVED_TERMINATION_GRACE_MINUTES}m" == "8m"
    pods_gone = KARPENTER_EXPIRES_MINUTES_BEFORE_END - 1 - RESERVED_TERMINATION_GRACE_MINUTES  # minutes before the end, at the latest
    assert pods_gone - 1 >= EC2_TERMINATES_MINUTES_BEFORE_END
    # Spot and on-demand pools keep draining as long as their budgets say.
    assert "terminationGracePeriod" not in node_pool(_pool(capacity_types=["spot", "on-demand"]))["spec"]["template"]["spec"]
