"""Capacity-block pools: no deploy ever resets the node count the reconciler set.

The kubectl provider applies manifests client-side (aws-eks-v2 kubectl-handler/apply: kubectl create --save-config on
create, kubectl apply on update), and an apply sets every field its manifest names back to the manifest's value. So a
block pool is created from a manifest that no config and no clock can change (CloudFormation never updates it), and
the rest of its spec follows the config through a JSON patch that names every field but spec.replicas.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest

from config.node_pools import NodePool
from core.capacity_block_schedule import desired_nodes
from infra.gpu.node_pool_manifests import node_pool, static_node_pool_creation, static_node_pool_patch
from infra.gpu.pool_props import NodePoolProps
from infra.stacks.gpu_props import node_pool_props

START = datetime(2026, 12, 1, 11, 30, tzinfo=UTC)


def _block(**fields) -> NodePoolProps:
    window = {"start": START, "end": START + timedelta(days=14), "instances": 2, **fields.pop("window", {})}
    base = {
        "name": "h100-block",
        "instance_types": ["p5.48xlarge"],
        "capacity_types": ["reserved"],
        "capacity_reservations": {"ids": ["cr-0123456789abcdef0"]},
        "capacity_block": window,
        "gpu_limit": 8 * window["instances"],
    }
    return node_pool_props(NodePool.model_validate({**base, **fields}), "use2-az2")


def _apply(patch: list[dict], live: dict) -> dict:
    """kubectl patch --type json with `add` operations (RFC 6902: an existing member is replaced)."""
    out = copy.deepcopy(live)
    for operation in patch:
        assert operation["op"] == "add"
        *parents, last = operation["path"].lstrip("/").split("/")
        node = out
        for key in parents:
            node = node[key]
        node[last] = copy.deepcopy(operation["value"])
    return out


VARIANTS = {
    "more instances": {"window": {"instances": 4}},
    "a later block": {"window": {"start": START + timedelta(days=30), "end": START + timedelta(days=37)}},
    "an earlier drain": {"window": {"drain_minutes_before_end": 120}},
    "efa": {"efa": True},
    "labels and taints": {"labels": {"team": "search"}, "taints": [{"key": "dedicated", "value": "search"}]},
    "al2023": {"ami_family": "al2023"},
}


@pytest.mark.parametrize("change", list(VARIANTS.values()), ids=list(VARIANTS))
def test_the_creation_manifest_never_changes_so_no_deploy_applies_it_again(change):
    assert static_node_pool_creation(_block(**change)) == static_node_pool_creation(_block())


def test_the_creation_manifest_is_a_static_pool_without_nodes():
    created = static_node_pool_creation(_block())
    assert created["spec"]["replicas"] == 0
    assert created["spec"]["template"]["spec"]["nodeClassRef"] == {
        "group": "karpenter.k8s.aws",
        "kind": "EC2NodeClass",
        "name": "h100-block",
    }
    assert "weight" not in created["spec"] and "limits" not in created["spec"]


def test_a_deploy_mid_block_keeps_the_reconcilers_count_and_brings_the_rest_up_to_date():
    old, new = _block(labels={"team": "search"}), _block(window={"instances": 4}, efa=True)
    live = _apply(static_node_pool_patch(old), static_node_pool_creation(old))
    # The reconciler scales the pool when the block opens (through the scale subresource: spec.replicas).
    live["spec"]["replicas"] = desired_nodes(START, START + timedelta(days=14), 2, 60, START + timedelta(days=1))
    assert live["spec"]["replicas"] == 2
    # A later deploy: CloudFormation updates only the patch (the creation manifest is unchanged, see above).
    assert all(not operation["path"].startswith("/spec/replicas") for operation in static_node_pool_patch(new))
    deployed = _apply(static_node_pool_patch(new), live)
    assert deployed["spec"]["replicas"] == 2
    wanted = node_pool(new)["spec"]
    assert {key: value for key, value in deployed["spec"].items() if key != "replicas"} == {
        key: wanted[key] for key in wanted if key != "replicas"
    }
    # Each member is replaced whole, as an apply would: a label dropped from the config leaves the pool.
    assert "team" not in deployed["spec"]["template"]["metadata"]["labels"]
    assert deployed["spec"]["limits"] == {"nodes": "4"}


def test_creation_and_patch_together_are_the_pool_the_kit_wants():
    pool = _block(efa=True, window={"drain_minutes_before_end": 90})
    assert _apply(static_node_pool_patch(pool), static_node_pool_creation(pool)) == node_pool(pool)
    assert node_pool(pool)["spec"]["template"]["spec"]["terminationGracePeriod"] == "50m"
