"""The GPU data plane's props refuse what Karpenter, EC2 or the kit's own programs would refuse later, naming the field.

Each refusal is a ValueError "<Props>.<field>: got <value>; <allowed>; <fix>", raised when the props are built.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from aws_cdk.lambda_layer_kubectl_v35 import KubectlV35Layer
from constructs import Construct

from config.node_pools import CapacityBlockNodeGroup, NodePool
from core.capacity import GpuCapacity, NodeTaint
from infra.cfn import cfn_resource
from infra.gpu.data_plane import GpuDataPlaneProps
from infra.gpu.device_plugins import DevicePluginsProps
from infra.gpu.interruption import InterruptionQueueProps
from infra.gpu.karpenter import KarpenterProps
from infra.gpu.pool_props import (
    BurnInProps,
    CapacityBlockNodeGroupProps,
    CapacityBlockProps,
    DisruptionProps,
    ImagePullProps,
    NodePoolProps,
    ProtectedWindowProps,
)
from infra.network.refs import NetworkRefs
from infra.stacks.gpu_props import capacity_block_node_group_props, node_pool_props
from tests.helpers import unvalidated_app

ZONE = "usw2-az2"
START = datetime(2026, 12, 1, 11, 30, tzinfo=UTC)
BLOCK = {"start": START, "end": START + timedelta(days=14), "instances": 2}


def _pool(**fields) -> NodePoolProps:
    return node_pool_props(NodePool.model_validate({"name": "p", "instance_types": ["p5.48xlarge"], "gpu_limit": 8, **fields}), ZONE)


def _block_pool() -> NodePoolProps:
    return _pool(capacity_types=["reserved"], capacity_reservations={"ids": ["cr-0123456789abcdef0"]}, capacity_block=BLOCK)


def _group(**fields) -> CapacityBlockNodeGroupProps:
    base = {"name": "g", "instance_type": "p5.48xlarge", "reservation_id": "cr-0123456789abcdef0", "size": 2}
    return capacity_block_node_group_props(CapacityBlockNodeGroup.model_validate({**base, **fields}), ZONE)


def _refused(match: str):
    return pytest.raises(ValueError, match=match)


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"schedule": "every morning", "duration": "10h"}, r"ProtectedWindowProps\.schedule: got 'every morning'"),
        ({"schedule": "0 8 * * 1-5", "duration": "10h30s"}, r"ProtectedWindowProps\.duration: got '10h30s'"),
    ],
)
def test_a_protected_window_has_karpenters_schedule_and_duration(fields, match):
    with _refused(match):
        ProtectedWindowProps(**fields)


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"consolidate_after": "ten minutes"}, r"DisruptionProps\.consolidate_after: got 'ten minutes'"),
        ({"expire_after": "30d"}, r"DisruptionProps\.expire_after: got '30d'; a Karpenter duration"),
        ({"max_disrupted": "110%"}, r"DisruptionProps\.max_disrupted: got '110%'"),
    ],
)
def test_disruption_settings_have_karpenters_formats(fields, match):
    with _refused(match):
        DisruptionProps(**fields)


def test_disruption_accepts_never_and_compound_durations():
    assert DisruptionProps(consolidate_after="1h30m", expire_after="Never", max_disrupted="0").expire_after == "Never"


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"max_concurrent_downloads_per_image": 0}, r"ImagePullProps\.max_concurrent_downloads_per_image: got 0; at least 1"),
        ({"max_concurrent_unpacks_per_image": -1}, r"ImagePullProps\.max_concurrent_unpacks_per_image: got -1"),
        ({"concurrent_download_chunk_size": "16MiB"}, r"ImagePullProps\.concurrent_download_chunk_size: got '16MiB'"),
        ({"prepulled_images_snapshot_id": "ami-0123456789"}, r"ImagePullProps\.prepulled_images_snapshot_id: got 'ami-0123456789'"),
    ],
)
def test_image_pull_settings_are_what_the_soci_snapshotter_reads(fields, match):
    with _refused(match):
        ImagePullProps(**fields)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 0.0, -5.0])
@pytest.mark.parametrize("name", ["min_bus_bandwidth_gb_s", "min_efa_bus_bandwidth_gb_s"])
def test_a_burn_in_threshold_is_a_finite_positive_bandwidth(name, value):
    """NaN compares false to every measurement: a NaN threshold would pass every node."""
    with _refused(rf"BurnInProps\.{name}: got {value!r}; a finite number"):
        BurnInProps(**{name: value})


def test_a_burn_in_runs_dcgm_level_one_or_two():
    with _refused(r"BurnInProps\.dcgm_level: got 3; 1 or 2"):
        BurnInProps(dcgm_level=3)  # pyright: ignore[reportArgumentType] -- the refusal of a value the type already excludes


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"start": datetime(2026, 12, 1, 11, 30)}, r"CapacityBlockProps\.start: got '2026-12-01T11:30:00'; a time with its zone"),
        ({"end": START}, r"CapacityBlockProps\.end: got '2026-12-01T11:30:00\+00:00'; a time after start"),
        ({"instances": 0}, r"CapacityBlockProps\.instances: got 0"),
        ({"drain_minutes_before_end": 40}, r"CapacityBlockProps\.drain_minutes_before_end: got 40; more than 40"),
    ],
)
def test_a_capacity_block_is_a_window_with_nodes_and_a_drain_before_karpenters_expiry(fields, match):
    with _refused(match):
        CapacityBlockProps(**{**BLOCK, **fields})


def _capacity(pool: NodePoolProps, **changes) -> GpuCapacity:
    return dataclasses.replace(pool.capacity, **changes)


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"provisioner": "chain"}, r"NodePoolProps\.capacity\.provisioner: got 'chain'; karpenter"),
        (
            {"instance_types": ()},
            r"NodePoolProps\.capacity: got \{'instance_types': \(\), .*\}; at least one instance type.*; list them in node_pools\[p\]",
        ),
        ({"ami_version": None}, r"NodePoolProps\.capacity\.ami_version: got None"),
        ({"max_gpus": 0}, r"NodePoolProps\.capacity\.max_gpus: got 0"),
    ],
)
def test_a_pools_capacity_is_a_karpenter_pool_with_types_an_ami_and_gpus(changes, match):
    pool = _pool()
    with _refused(match):
        dataclasses.replace(pool, capacity=_capacity(pool, **changes))


def test_a_pools_data_volume_is_a_gp3_size():
    with _refused(r"NodePoolProps\.data_volume_gib: got 16385; 1 to 16384"):
        dataclasses.replace(_pool(), data_volume_gib=16385)


def test_reservations_are_named_by_ids_or_tags_and_only_for_reserved_capacity():
    reserved = _pool(capacity_types=["reserved"], capacity_reservations={"ids": ["cr-0123456789abcdef0"]})
    with _refused(r"NodePoolProps\.reservation_tags: got \{'team': 'ml'\}; no tags where node_pools\[p\] names ids"):
        dataclasses.replace(reserved, reservation_tags={"team": "ml"})
    with _refused(r"NodePoolProps\.capacity\.capacity_types: got \('on-demand',\); 'reserved' with reservations"):
        dataclasses.replace(_pool(), reservation_tags={"team": "ml"})
    with _refused(r"NodePoolProps\.reservation_tags: got \{\}; reservation ids or tags for a reserved pool"):
        dataclasses.replace(reserved, capacity=_capacity(reserved, reservation_ids=()))


def test_a_block_pools_window_is_its_capacitys():
    pool = _block_pool()
    assert pool.capacity_block is not None and pool.capacity.block_window == pool.capacity_block.window
    with _refused(r"NodePoolProps\.capacity_block: got None; the capacity's block_window"):
        dataclasses.replace(pool, capacity_block=None)
    later = dataclasses.replace(pool.capacity_block, end=START + timedelta(days=21))
    with _refused(r"NodePoolProps\.capacity_block: got \(.*\); the capacity's block_window"):
        dataclasses.replace(pool, capacity_block=later)


def test_burn_in_comes_with_its_startup_taint_and_never_without():
    with _refused(r"NodePoolProps\.burn_in: got BurnInProps\(.*\); burn-in settings exactly when .* llm-kit/burn-in startup taint"):
        dataclasses.replace(_pool(), burn_in=BurnInProps())
    tested = _pool(burn_in={})
    assert [taint.key for taint in tested.capacity.startup_taints] == ["llm-kit/burn-in"]
    with _refused(r"NodePoolProps\.burn_in: got None"):
        dataclasses.replace(tested, burn_in=None)
    other = _capacity(tested, startup_taints=(NodeTaint("example.com/warming"),))
    with _refused(r"NodePoolProps\.burn_in: got BurnInProps"):
        dataclasses.replace(tested, capacity=other)


def test_the_mapping_gives_the_nodepool_what_karpenter_runs_with():
    windows = _pool(disruption={"protected_windows": [{"schedule": "0 8 * * mon-fri", "duration": "10h"}]})
    assert windows.disruption.expire_after == "Never"
    assert windows.disruption.protected_windows == (ProtectedWindowProps(schedule="0 8 * * mon-fri", duration="10h"),)
    tagged = _pool(capacity_types=["reserved"], capacity_reservations={"tags": {"team": "ml"}})
    assert (tagged.capacity.reservation_ids, dict(tagged.reservation_tags)) == ((), {"team": "ml"})
    reserved_efa = _pool(efa=True, capacity_types=["reserved"], capacity_reservations={"ids": ["cr-0123456789abcdef0"]})
    assert _pool(efa=True).wants_placement_group and not reserved_efa.wants_placement_group


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"provisioner": "karpenter"}, r"CapacityBlockNodeGroupProps\.capacity\.provisioner: got 'karpenter'"),
        ({"instance_types": ("p5.48xlarge", "p5e.48xlarge")}, r"CapacityBlockNodeGroupProps\.capacity: got .*; one instance type"),
        ({"reservation_ids": ()}, r"CapacityBlockNodeGroupProps\.capacity: got .*; one instance type and one reservation"),
        ({"fixed_nodes": None}, r"CapacityBlockNodeGroupProps\.capacity\.fixed_nodes: got None"),
        (
            {"ami_family": "bottlerocket"},
            r"CapacityBlockNodeGroupProps\.ami_type: got 'AL2023_x86_64_NVIDIA'; a type of the capacity's family",
        ),
    ],
)
def test_a_node_group_is_one_block_of_one_type_on_an_ami_of_its_family(changes, match):
    group = _group()
    assert (group.name, group.instance_type, group.reservation_id, group.size) == ("g", "p5.48xlarge", "cr-0123456789abcdef0", 2)
    with _refused(match):
        dataclasses.replace(group, capacity=dataclasses.replace(group.capacity, **changes))


@pytest.fixture(scope="module")
def cluster_pieces():
    stack = cdk.Stack(unvalidated_app(), "Bare", env=cdk.Environment(account="111122223333", region="us-west-2"))
    cluster = eks.Cluster(
        stack,
        "Cluster",
        version=eks.KubernetesVersion.V1_35,
        kubectl_provider_options=eks.KubectlProviderOptions(kubectl_layer=KubectlV35Layer(stack, "Layer")),
    )
    network = NetworkRefs(vpc=cluster.vpc, vpc_cidr="10.0.0.0/16", node_subnets=(), control_plane_subnets=(), az_id=ZONE)
    nodegroup = cluster.add_nodegroup_capacity("System", min_size=1)
    return stack, cluster, network, ec2.SecurityGroup(stack, "Efa", vpc=cluster.vpc), nodegroup


def _data_plane(pieces, **fields) -> GpuDataPlaneProps:
    _, cluster, network, efa, nodegroup = pieces
    base = {"cluster": cluster, "cluster_name": "kit", "network": network, "efa_security_group": efa, "system_nodegroup": nodegroup}
    return GpuDataPlaneProps(**{**base, **fields})


def test_the_data_plane_names_each_capacity_once(cluster_pieces):
    with _refused(r"GpuDataPlaneProps\.node_pools: got the names \['g'\] more than once"):
        _data_plane(cluster_pieces, node_pools=(_pool(name="g"),), capacity_block_node_groups=(_group(),))


def test_the_data_plane_keeps_every_capacity_in_the_nodes_zone(cluster_pieces):
    elsewhere = node_pool_props(NodePool.model_validate({"name": "p", "instance_types": ["p5.48xlarge"], "gpu_limit": 8}), "usw2-az4")
    with _refused(r"GpuDataPlaneProps\.node_pools: got p in zone usw2-az4; the network's zone usw2-az2"):
        _data_plane(cluster_pieces, node_pools=(elsewhere,))


def test_the_data_plane_runs_a_karpenter_controller(cluster_pieces):
    with _refused(r"GpuDataPlaneProps\.karpenter_replicas: got 0; at least 1"):
        _data_plane(cluster_pieces, karpenter_replicas=0)


def test_karpenter_needs_a_controller_and_the_clusters_written_name(cluster_pieces):
    _, cluster, *_ = cluster_pieces
    with _refused(r"KarpenterProps\.replicas: got 0"):
        KarpenterProps(cluster=cluster, cluster_name="kit", replicas=0)
    with _refused(r"KarpenterProps\.cluster_name: got '\$\{Token\[.*\]\}'; the cluster's name as written"):
        KarpenterProps(cluster=cluster, cluster_name=cluster.cluster_name)
    with _refused(r"KarpenterProps\.cluster_name: got '-kit'"):
        KarpenterProps(cluster=cluster, cluster_name="-kit")


def test_the_interruption_queue_has_an_sqs_name():
    with _refused(r"InterruptionQueueProps\.queue_name: got '.*' \(81 characters\); up to 80"):
        InterruptionQueueProps(queue_name="k" * 71 + "-karpenter")
    assert InterruptionQueueProps(queue_name="k" * 70 + "-karpenter").queue_name.endswith("-karpenter")


def test_device_plugins_tolerate_each_extra_taint_once(cluster_pieces):
    _, cluster, *_ = cluster_pieces
    with _refused(r"DevicePluginsProps\.gpu_taint_keys: got \['nvidia\.com/gpu'\]"):
        DevicePluginsProps(cluster=cluster, gpu_taint_keys=("nvidia.com/gpu",))
    with _refused(r"DevicePluginsProps\.gpu_taint_keys: got \['a', 'a'\]"):
        DevicePluginsProps(cluster=cluster, gpu_taint_keys=("a", "a"))


def test_the_cloudformation_resource_under_an_l2_or_a_type_error(cluster_pieces):
    stack, _, _, _, nodegroup = cluster_pieces
    assert cfn_resource(nodegroup).cfn_resource_type == "AWS::EKS::Nodegroup"
    with pytest.raises(TypeError, match="no CloudFormation resource"):
        cfn_resource(Construct(stack, "Empty"))
