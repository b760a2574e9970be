"""EFA layouts per instance type and the node user data, parsed the way the nodes parse them."""

import tomllib

import pytest

from core.instances import INSTANCE_TYPES, facts
from infra.gpu import efa
from infra.gpu.pool_props import ImagePullProps
from infra.gpu.user_data import EFA_LOCKED_MEMORY_BYTES, al2023_node_config, bottlerocket_settings
from tests.infra.mime_user_data import NODE_CONFIG_TYPE, node_configs, parts

# type -> (network cards carrying EFA)
EXPECTED_EFA_CARDS = {
    "p4d.24xlarge": range(0, 4),
    "p4de.24xlarge": range(0, 4),
    "p5.48xlarge": range(0, 32),
    "p5e.48xlarge": range(0, 32),
    "p5en.48xlarge": range(0, 16),
    "p6-b200.48xlarge": range(0, 8),
    "p6-b300.48xlarge": range(1, 17),
    "g6e.48xlarge": range(0, 4),
    "g5.48xlarge": range(0, 1),
}


@pytest.mark.parametrize("name", sorted(EXPECTED_EFA_CARDS))
def test_karpenter_layout_puts_one_efa_only_interface_on_every_efa_card(name):
    interfaces = efa.karpenter_interfaces(facts(name))
    assert interfaces[0] == {"networkCardIndex": 0, "deviceIndex": 0, "interfaceType": "interface"}
    efa_cards = [i["networkCardIndex"] for i in interfaces if i["interfaceType"] == "efa-only"]
    assert efa_cards == list(EXPECTED_EFA_CARDS[name])
    pairs = [(i["networkCardIndex"], i["deviceIndex"]) for i in interfaces]
    assert len(pairs) == len(set(pairs)), "card/device pairs must be unique (Karpenter CEL rule)"


def test_p6_b300_keeps_card_zero_for_ena_only():
    interfaces = efa.launch_template_interfaces(facts("p6-b300.48xlarge"), ["sg-1"])
    assert (interfaces[0].network_card_index, interfaces[0].interface_type) == (0, "interface")
    assert [i.network_card_index for i in interfaces[1:]] == list(range(1, 17))


def test_launch_template_primary_is_efa_where_card_zero_has_efa():
    interfaces = efa.launch_template_interfaces(facts("p5en.48xlarge"), ["sg-1", "sg-2"])
    assert (interfaces[0].network_card_index, interfaces[0].device_index, interfaces[0].interface_type) == (0, 0, "efa")
    assert len(interfaces) == 16 and all(i.groups == ["sg-1", "sg-2"] for i in interfaces)


def test_types_without_efa_have_no_efa_cards():
    for name, instance in INSTANCE_TYPES.items():
        if not instance.efa:
            assert instance.efa_cards() == [], name
            assert efa.karpenter_interfaces(instance) == [{"networkCardIndex": 0, "deviceIndex": 0, "interfaceType": "interface"}]


def test_instance_table_is_consistent():
    for name, instance in INSTANCE_TYPES.items():
        assert instance.gpus >= 1 and instance.gpu_memory_mib > 0, name
        assert instance.efa_interfaces <= instance.network_cards, name
        assert max(instance.efa_cards(), default=0) < instance.network_cards, name


def test_bottlerocket_settings_enable_soci_parallel_pull():
    settings = tomllib.loads(bottlerocket_settings(ImagePullProps(max_concurrent_downloads_per_image=32, discard_unpacked_layers=False)))[
        "settings"
    ]
    assert settings["container-runtime"] == {"snapshotter": "soci"}
    soci = settings["container-runtime-plugins"]["soci-snapshotter"]
    assert soci["pull-mode"] == "parallel-pull-unpack"
    assert soci["parallel-pull-unpack"] == {
        "max-concurrent-downloads-per-image": 32,
        "concurrent-download-chunk-size": "16mb",
        "max-concurrent-unpacks-per-image": 12,
        "discard-unpacked-layers": False,
    }
    # NVMe is Karpenter's business (instanceStorePolicy: RAID0): the kit writes no bind command of its own.
    assert "bootstrap-commands" not in settings


def test_bottlerocket_settings_without_soci_are_empty():
    assert tomllib.loads(bottlerocket_settings(ImagePullProps(soci_parallel_pull=False))) == {}


def test_al2023_user_data_is_a_mime_nodeconfig_with_fast_image_pull():
    text = al2023_node_config(ImagePullProps(), efa=False)
    [(kind, _)] = parts(text)
    assert kind == NODE_CONFIG_TYPE
    [config] = node_configs(text)
    assert config["kind"] == "NodeConfig" and config["apiVersion"] == "node.eks.aws/v1alpha1"
    assert config["spec"]["featureGates"] == {"FastImagePull": True}


def _node_config(text: str) -> dict:
    [config] = node_configs(text)
    return config


def test_al2023_efa_nodes_lift_the_locked_memory_limit_and_keep_the_open_files_limit():
    limits = _node_config(al2023_node_config(ImagePullProps(), efa=True))["spec"]["containerd"]["baseRuntimeSpec"]["process"]["rlimits"]
    # Not RLIM_INFINITY: nodeadm's float64 merge would turn it into a number containerd cannot read
    # (tests/infra/test_nodeadm_merge.py).
    assert EFA_LOCKED_MEMORY_BYTES == 2**53
    assert {"type": "RLIMIT_MEMLOCK", "soft": EFA_LOCKED_MEMORY_BYTES, "hard": EFA_LOCKED_MEMORY_BYTES} in limits
    # nodeadm replaces its default list with this one: the default's open-files limit must be repeated.
    assert {"type": "RLIMIT_NOFILE", "soft": 65536, "hard": 1048576} in limits
    assert "containerd" not in _node_config(al2023_node_config(ImagePullProps(), efa=False))["spec"]
    capacity_block_only = _node_config(al2023_node_config(None, efa=True))["spec"]
    assert set(capacity_block_only) == {"containerd"}
