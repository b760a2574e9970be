"""The EBS layout of GPU nodes per AMI family, on both node paths: Karpenter's EC2NodeClass and the managed node
group's launch template.

Where each AMI family keeps images and the kubelet (Karpenter v1.14.1, pkg/providers/amifamily: EphemeralBlockDevice):
AL2023 on its root /dev/xvda; Bottlerocket on the data volume /dev/xvdb, beside a 4 GiB OS volume /dev/xvda. The kit
ships x86_64 node types only (core/instances.py; node groups: the ami_type values below); an Arm type would be added
here with its own ami_type.
"""

from __future__ import annotations

import typing

import pytest
from aws_cdk import aws_ec2 as ec2

from config.node_pools import CapacityBlockNodeGroup, NodePool
from infra.gpu.capacity_blocks import DATA_VOLUME_GIB, capacity_block_launch_data
from infra.gpu.node_pool_manifests import NodeClassContext, node_class
from infra.gpu.pool_props import CapacityBlockNodeGroupProps, NodePoolProps
from infra.stacks.gpu_props import capacity_block_node_group_props, node_pool_props

IMAGES_ON = {"al2023": "/dev/xvda", "bottlerocket": "/dev/xvdb"}
OS_VOLUME = {"al2023": None, "bottlerocket": ("/dev/xvda", 4)}
CONTEXT = NodeClassContext(
    node_role_name="nodes", subnet_ids=("subnet-0aaaaaaaaaaaaaaa1",), security_group_ids=("sg-0a",), efa_security_group_id="sg-0efa"
)
AMI_TYPES = typing.get_args(CapacityBlockNodeGroup.model_fields["ami_type"].annotation)


def _pool(**fields) -> NodePoolProps:
    return node_pool_props(NodePool.model_validate({"instance_types": ["p5.48xlarge"], "gpu_limit": 8, **fields}), "usw2-az2")


def _group(ami_type: str) -> CapacityBlockNodeGroupProps:
    group = CapacityBlockNodeGroup.model_validate(
        {"name": "g", "instance_type": "p5.48xlarge", "reservation_id": "cr-0123456789abcdef0", "size": 1, "ami_type": ami_type}
    )
    return capacity_block_node_group_props(group, "usw2-az2")


def _launch_template_volumes(group: CapacityBlockNodeGroupProps) -> dict[str | None, ec2.CfnLaunchTemplate.EbsProperty]:
    """device -> EBS settings, in the launch template's order."""
    mappings = capacity_block_launch_data(group, ["sg-1", "sg-2"]).block_device_mappings
    assert isinstance(mappings, list)
    volumes = {}
    for mapping in mappings:
        assert isinstance(mapping, ec2.CfnLaunchTemplate.BlockDeviceMappingProperty)
        assert isinstance(mapping.ebs, ec2.CfnLaunchTemplate.EbsProperty)
        volumes[mapping.device_name] = mapping.ebs
    return volumes


def _expected(family: str, data_gib: int) -> dict[str, int]:
    """device -> GiB."""
    os_volume = OS_VOLUME[family]
    return {**({os_volume[0]: os_volume[1]} if os_volume else {}), IMAGES_ON[family]: data_gib}


@pytest.mark.parametrize("family", ["al2023", "bottlerocket"])
@pytest.mark.parametrize("instance_type", ["g6e.12xlarge", "p5.48xlarge"])
def test_karpenter_sizes_the_volume_the_family_keeps_images_on(family, instance_type):
    pool = _pool(name="p", instance_types=[instance_type], ami_family=family, data_volume_gib=500)
    mappings = node_class(pool, CONTEXT)["spec"]["blockDeviceMappings"]
    assert {m["deviceName"]: int(m["ebs"]["volumeSize"].removesuffix("Gi")) for m in mappings} == _expected(family, 500)
    # rootVolume marks what Karpenter counts as ephemeral storage: where the kubelet's root lives.
    assert [m["deviceName"] for m in mappings if m.get("rootVolume")] == [IMAGES_ON[family]]
    assert all(m["ebs"]["encrypted"] and m["ebs"]["volumeType"] == "gp3" and m["ebs"]["deleteOnTermination"] for m in mappings)


@pytest.mark.parametrize("ami_type", AMI_TYPES)
def test_node_group_launch_template_sizes_the_volume_the_family_keeps_images_on(ami_type):
    assert "_x86_64_" in ami_type, "an Arm node group needs its own layout check"
    group = _group(ami_type)
    family = group.capacity.ami_family
    mappings = _launch_template_volumes(group)
    assert {device: ebs.volume_size for device, ebs in mappings.items()} == _expected(family, DATA_VOLUME_GIB)
    assert all(ebs.encrypted and ebs.volume_type == "gp3" and ebs.delete_on_termination for ebs in mappings.values())


@pytest.mark.parametrize("ami_type", AMI_TYPES)
def test_both_paths_lay_out_the_same_family_alike(ami_type):
    group = _group(ami_type)
    pool = _pool(name="g", ami_family=group.capacity.ami_family, data_volume_gib=DATA_VOLUME_GIB)
    karpenter = [(m["deviceName"], m["ebs"]["volumeSize"]) for m in node_class(pool, CONTEXT)["spec"]["blockDeviceMappings"]]
    node_group = [(device, f"{ebs.volume_size}Gi") for device, ebs in _launch_template_volumes(group).items()]
    assert karpenter == node_group
