"""Node user data of every pool in every config the kit ships, parsed as the node will parse it.

Bottlerocket reads TOML and rejects settings its model does not define; nodeadm reads a MIME part holding a NodeConfig.
The names below were read from Bottlerocket's settings model (container-runtime, container-runtime-plugins
soci-snapshotter, as documented for v1.65.0) and from nodeadm's API types (awslabs/amazon-eks-ami v20260724,
nodeadm/api/v1alpha1).
"""

from __future__ import annotations

import tomllib

import pytest

from assembly.kit import KIT
from contracts.collect import configs
from infra.gpu.node_pool_manifests import NodeClassContext, node_class
from infra.stacks.gpu_props import node_pool_props
from tests.infra.mime_user_data import NODE_CONFIG_TYPE, node_configs, parts

BOTTLEROCKET_SETTINGS = {
    "settings.container-runtime.snapshotter",
    "settings.container-runtime-plugins.soci-snapshotter.pull-mode",
    "settings.container-runtime-plugins.soci-snapshotter.parallel-pull-unpack.max-concurrent-downloads",
    "settings.container-runtime-plugins.soci-snapshotter.parallel-pull-unpack.max-concurrent-downloads-per-image",
    "settings.container-runtime-plugins.soci-snapshotter.parallel-pull-unpack.concurrent-download-chunk-size",
    "settings.container-runtime-plugins.soci-snapshotter.parallel-pull-unpack.max-concurrent-unpacks",
    "settings.container-runtime-plugins.soci-snapshotter.parallel-pull-unpack.max-concurrent-unpacks-per-image",
    "settings.container-runtime-plugins.soci-snapshotter.parallel-pull-unpack.discard-unpacked-layers",
}
NODEADM_FEATURE_GATES = {"FastImagePull", "InstanceIdNodeName"}
CONTEXT = NodeClassContext(
    node_role_name="nodes", subnet_ids=("subnet-0aaaaaaaaaaaaaaa1",), security_group_ids=("sg-0a",), efa_security_group_id="sg-0efa"
)


def _leaves(table: dict, prefix: str = "") -> list[str]:
    out = []
    for key, value in table.items():
        out += _leaves(value, f"{prefix}{key}.") if isinstance(value, dict) else [f"{prefix}{key}"]
    return out


def _pools():
    for path in configs():
        config = KIT.load(path)
        for pool in config.node_pools:
            yield pytest.param(node_pool_props(pool, config.placement.az_id), id=f"{path.name}:{pool.name}")


@pytest.mark.parametrize("pool", list(_pools()))
def test_user_data_is_what_the_node_reads(pool):
    spec = node_class(pool, CONTEXT)["spec"]
    if pool.capacity.ami_family == "bottlerocket":
        settings = _leaves(tomllib.loads(spec["userData"]))
        assert set(settings) <= BOTTLEROCKET_SETTINGS, set(settings) - BOTTLEROCKET_SETTINGS
        assert ("settings.container-runtime.snapshotter" in settings) == pool.image_pull.soci_parallel_pull
    else:
        [(kind, _)] = parts(spec["userData"])
        assert kind == NODE_CONFIG_TYPE
        [config] = node_configs(spec["userData"])
        assert (config["apiVersion"], config["kind"]) == ("node.eks.aws/v1alpha1", "NodeConfig")
        assert set(config["spec"]) == {"featureGates"} and set(config["spec"]["featureGates"]) <= NODEADM_FEATURE_GATES
