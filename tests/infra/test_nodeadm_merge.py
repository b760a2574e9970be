"""Every NodeConfig the kit writes for AL2023 nodes, put through the generic merge nodeadm puts it through.

nodeadm (awslabs/amazon-eks-ami v20260724, the AL2023 pin) reads each NodeConfig part of the user data and merges the
containerd base runtime spec into its default one with util.Merge (nodeadm/internal/containerd/base_runtime_spec.go ->
nodeadm/internal/util/merge.go): through map[string]interface{}, so every number becomes a float64 and is written back
in Go's shortest form. containerd then decodes the spec into the OCI runtime-spec types (POSIXRlimit hard/soft:
uint64). A number that does not survive, such as RLIM_INFINITY, leaves containerd's CRI without a spec and the node
NotReady. tests/infra/go_json.py emulates the Go side; it was checked against Go's encoding/json on 140,000 values.
"""

from __future__ import annotations

import json

import pytest

from assembly.kit import KIT
from config.node_pools import CapacityBlockNodeGroup, NodePool
from core.instances import INSTANCE_TYPES
from infra.gpu.capacity_blocks import node_group_user_data
from infra.gpu.node_pool_manifests import NodeClassContext, node_class
from infra.gpu.pool_props import CapacityBlockNodeGroupProps, NodePoolProps
from infra.gpu.user_data import AL2023_DEFAULT_NOFILE
from infra.stacks.gpu_props import capacity_block_node_group_props, node_pool_props
from tests.helpers import DEFAULT_CONFIG, REPO
from tests.infra import go_json
from tests.infra.mime_user_data import node_configs

CONTEXT = NodeClassContext(
    node_role_name="nodes", subnet_ids=("subnet-0aaaaaaaaaaaaaaa1",), security_group_ids=("sg-0a",), efa_security_group_id="sg-0efa"
)
ZONE = "usw2-az2"

# The parts of nodeadm's default base runtime spec a merge meets (v20260724, internal/containerd/base-runtime-spec.json).
NODEADM_DEFAULT_SPEC = {
    "ociVersion": "1.1.0",
    "process": {
        "cwd": "/",
        "noNewPrivileges": True,
        "rlimits": [{"type": "RLIMIT_NOFILE", "soft": AL2023_DEFAULT_NOFILE[0], "hard": AL2023_DEFAULT_NOFILE[1]}],
        "user": {"gid": 0, "uid": 0},
    },
}

# The Go type each number the kit writes is decoded into, by its path in the base runtime spec ("*": any list item).
# opencontainers/runtime-spec specs-go/config.go: POSIXRlimit{Type string; Hard uint64; Soft uint64}.
CONSUMER_TYPES = {
    ("process", "rlimits", "*", "hard"): "uint64",
    ("process", "rlimits", "*", "soft"): "uint64",
}
DECODERS = {"uint64": go_json.decode_uint64, "int64": go_json.decode_int64}


def _variants():
    """Shapes no shipped config has: an AL2023 EFA pool on Karpenter, AL2023 node groups with and without EFA."""
    efa_pool = NodePool.model_validate(
        {"name": "al2023-efa", "instance_types": ["p5.48xlarge"], "gpu_limit": 8, "ami_family": "al2023", "efa": True}
    )
    yield pytest.param(node_pool_props(efa_pool, ZONE), id="variant:karpenter:al2023-efa")
    for efa in (True, False):
        group = CapacityBlockNodeGroup(name="g", instance_type="p5.48xlarge", reservation_id="cr-0123456789abcdef0", size=1, efa=efa)
        yield pytest.param(capacity_block_node_group_props(group, ZONE), id=f"variant:node-group:efa-{efa}")


def _shipped():
    for path in [DEFAULT_CONFIG, *sorted((REPO / "config" / "examples").glob("*.yaml"))]:
        config = KIT.load(path)
        for pool in map(node_pool_props, config.node_pools, [ZONE] * len(config.node_pools)):
            if pool.capacity.ami_family == "al2023":
                yield pytest.param(pool, id=f"{path.name}:karpenter:{pool.name}")
        for group in config.capacity_block_node_groups:
            props = capacity_block_node_group_props(group, ZONE)
            if props.capacity.ami_family == "al2023":
                yield pytest.param(props, id=f"{path.name}:node-group:{group.name}")


CASES = list(_shipped()) + list(_variants())


Source = NodePoolProps | CapacityBlockNodeGroupProps


def _user_data(source: Source) -> str | None:
    if isinstance(source, NodePoolProps):
        return node_class(source, CONTEXT)["spec"]["userData"]
    return node_group_user_data(source)


def _path(source: Source) -> str:
    return "karpenter" if isinstance(source, NodePoolProps) else "node-group"


def _numbers(value, path=()):
    """(path, number) of every number in a decoded document; list items under '*'."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _numbers(item, (*path, key))
    elif isinstance(value, list):
        for item in value:
            yield from _numbers(item, (*path, "*"))
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield path, value


def _raw(text: str):
    """A JSON document with every number kept as its literal text."""
    return json.loads(text, parse_int=str, parse_float=str)


def _assert_numbers_survive(original, raw, where=()):
    """Every number of original, at the same place in raw (numbers as text), as the same integer literal."""
    if isinstance(original, dict):
        assert set(original) == set(raw), where
        for key, item in original.items():
            _assert_numbers_survive(item, raw[key], (*where, key))
    elif isinstance(original, list):
        assert len(original) == len(raw), where
        for index, item in enumerate(original):
            _assert_numbers_survive(item, raw[index], (*where, index))
    elif isinstance(original, int | float) and not isinstance(original, bool):
        assert raw.lstrip("-").isdigit() and int(raw) == original, f"{where}: {original} comes back as {raw}"


def _at(document, path):
    """The values at a path with '*' wildcards."""
    if not path:
        return [document]
    head, *rest = path
    if head == "*":
        return [found for item in document for found in _at(item, rest)]
    return _at(document[head], rest) if isinstance(document, dict) and head in document else []


def _source(case) -> Source:
    [source] = case.values
    return source


def test_the_cases_cover_both_paths_and_the_locked_memory_limit():
    kinds = {(_path(_source(case)), "RLIMIT_MEMLOCK" in (_user_data(_source(case)) or "")) for case in CASES}
    assert {("karpenter", True), ("node-group", True), ("karpenter", False)} <= kinds


@pytest.mark.parametrize("source", CASES)
def test_every_number_survives_nodeadms_float_merge_exactly(source: Source):
    user_data = _user_data(source)
    if user_data is None:  # no NodeConfig of the kit's (an AL2023 node group without EFA)
        assert _path(source) == "node-group" and not source.capacity.efa
        return
    for config in node_configs(user_data):
        spec = config["spec"]
        # Every inline document is merged through interface{} when two NodeConfigs both carry it (internal/api/merge.go):
        # the whole spec must survive the round trip, number for number.
        _assert_numbers_survive(spec, _raw(go_json.dumps(go_json.loads_as_interface(json.dumps(spec)))))
        base = spec.get("containerd", {}).get("baseRuntimeSpec")
        if base is None:
            continue
        merged = _raw(go_json.nodeadm_merge(NODEADM_DEFAULT_SPEC, base))
        written = list(_numbers(base))
        assert written, "a base runtime spec without numbers tests nothing"
        for where, number in written:
            assert where in CONSUMER_TYPES, f"{where}: no consumer type recorded for this number; add it from the OCI spec"
            decode = DECODERS[CONSUMER_TYPES[where]]
            texts = _at(merged, where)
            assert number in [decode(text) for text in texts], f"{where}: {number} not among {texts} after the merge"


@pytest.mark.parametrize("source", [case for case in CASES if _source(case).capacity.efa])
def test_efa_nodes_lock_more_memory_than_any_instance_has_and_keep_the_open_files_limit(source: Source):
    user_data = _user_data(source)
    assert user_data is not None
    [config] = node_configs(user_data)
    merged = _raw(go_json.nodeadm_merge(NODEADM_DEFAULT_SPEC, config["spec"]["containerd"]["baseRuntimeSpec"]))
    limits = {
        limit["type"]: (go_json.decode_uint64(limit["soft"]), go_json.decode_uint64(limit["hard"]))
        for limit in merged["process"]["rlimits"]
    }
    # The list replaces nodeadm's default whole: the open-files limit is repeated, unchanged.
    assert limits["RLIMIT_NOFILE"] == AL2023_DEFAULT_NOFILE
    soft, hard = limits["RLIMIT_MEMLOCK"]
    assert soft == hard > max(instance.memory_gib for instance in INSTANCE_TYPES.values()) * 2**30
    # The rest of nodeadm's default is kept.
    assert merged["process"]["cwd"] == "/" and merged["process"]["user"] == {"gid": "0", "uid": "0"}


def test_the_emulated_go_writes_what_go_writes():
    """Known answers of Go's encoding/json (go1.19 and later) for numbers read into interface{}."""
    assert go_json.dumps(go_json.loads_as_interface("18446744073709551615")) == "18446744073709552000"
    assert go_json.dumps(go_json.loads_as_interface("9223372036854775807")) == "9223372036854776000"
    assert go_json.dumps(go_json.loads_as_interface("9007199254740992")) == "9007199254740992"
    assert go_json.dumps(go_json.loads_as_interface("1e21")) == "1e+21"
    assert go_json.dumps(go_json.loads_as_interface("0.0000001")) == "1e-7"
    assert go_json.dumps(go_json.loads_as_interface("[100000000000000000000, 0.000001, 123.5]")) == "[100000000000000000000,0.000001,123.5]"


def test_rlim_infinity_would_break_containerd_and_the_merge_keeps_lists_whole():
    """What the kit wrote before: 2**64-1 comes back out of range for the uint64 containerd decodes."""
    unlimited = {"process": {"rlimits": [{"type": "RLIMIT_MEMLOCK", "soft": 2**64 - 1, "hard": 2**64 - 1}]}}
    merged = _raw(go_json.nodeadm_merge(NODEADM_DEFAULT_SPEC, unlimited))
    [limit] = merged["process"]["rlimits"]  # the default's open-files entry is gone: lists are replaced, not merged
    assert limit["hard"] == "18446744073709552000"
    with pytest.raises(ValueError, match="uint64"):
        go_json.decode_uint64(limit["hard"])
