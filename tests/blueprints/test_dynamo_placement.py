"""Do a disaggregated graph's workers fit the nodes they may use, whatever order the scheduler takes them in?

A small model of kube-scheduler over the pod templates the kit emits: a pod may go to a node with room for its GPUs
that no required (anti-)affinity term rules out; among those, it goes to one with the highest preferred score (the
weights of the matching podAffinity terms, less those of podAntiAffinity), and any of the tied nodes may be chosen.
Every order of the pods and every tie is tried. The resource scores (LeastAllocated and BalancedAllocation, up to 100
points each) are left out: under the default profile a matching preferred term of weight 100 is worth 200 points
(InterPodAffinity weighs 2), more than they set nodes apart in all but extreme cases; among tied nodes they decide,
and there the model tries every choice.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from assembly.kit import KIT
from blueprints.common import pod_scheduling
from blueprints.common.k8s_types import Affinity
from blueprints.contract import GpuBlueprint
from blueprints.dynamo import components
from blueprints.dynamo.params import DynamoWorkload
from tests.helpers import write_config

EXAMPLE = Path(__file__).parents[2] / "config" / "examples" / "dynamo-disaggregated-p5.yaml"
GPU = "nvidia.com/gpu"


def pods_of(graph: Sequence[Mapping[str, Any]]) -> list[tuple[str, int, dict, dict]]:
    """(role, GPUs, labels, affinity) of every GPU worker pod of a graph's components."""
    pods = []
    for component in graph:
        spec = component["podTemplate"]["spec"]
        [main] = [c for c in spec["containers"] if c["name"] == "main"]
        gpus = int(main["resources"].get("limits", {}).get(GPU, 0))
        if gpus:
            labels = component["podTemplate"]["metadata"]["labels"]
            pods += [(component["name"], gpus, labels, spec.get("affinity", {}))] * component["replicas"]
    return pods


def _terms(affinity: Mapping[str, Any], kind: str, when: str) -> list[tuple[int, dict]]:
    found = []
    for term in affinity.get(kind, {}).get(f"{when}DuringSchedulingIgnoredDuringExecution", []):
        weight, term = (term["weight"], term["podAffinityTerm"]) if when == "preferred" else (0, term)
        assert term["topologyKey"] == components.HOSTNAME_KEY, "the model knows node-level terms only"
        found.append((weight, term["labelSelector"]["matchLabels"]))
    return found


def always_fits(pods: Sequence[tuple[str, int, Mapping[str, Any], Mapping[str, Any]]], nodes: int, node_gpus: int) -> bool:
    """Whether every order of the pods, with every tie broken every way, places them all on `nodes` nodes."""
    kinds = {role: (gpus, labels, affinity) for role, gpus, labels, affinity in pods}

    def matches(node: tuple[str, ...], selector: dict) -> bool:
        return any(selector.items() <= kinds[role][1].items() for role in node)

    @functools.cache
    def placed(state: tuple[tuple[str, ...], ...], left: tuple[str, ...]) -> bool:
        if not left:
            return True
        for role in set(left):
            gpus, _, affinity = kinds[role]
            rest = list(left)
            rest.remove(role)
            feasible = [
                index
                for index, node in enumerate(state)
                if node_gpus - sum(kinds[r][0] for r in node) >= gpus
                and all(matches(node, s) for _, s in _terms(affinity, "podAffinity", "required"))
                and not any(matches(node, s) for _, s in _terms(affinity, "podAntiAffinity", "required"))
            ]
            if not feasible:
                return False
            score = {
                index: sum(w for w, s in _terms(affinity, "podAffinity", "preferred") if matches(state[index], s))
                - sum(w for w, s in _terms(affinity, "podAntiAffinity", "preferred") if matches(state[index], s))
                for index in feasible
            }
            best = max(score.values())
            for index in (i for i in feasible if score[i] == best):
                after = list(state)
                after[index] = tuple(sorted((*state[index], role)))
                if not placed(tuple(sorted(after)), tuple(sorted(rest))):
                    return False
        return True

    return placed(tuple(() for _ in range(nodes)), tuple(sorted(role for role, *_ in pods)))


def packable(sizes: list[int], nodes: int, node_gpus: int) -> bool:
    """Whether some placement fits them at all (sizes divide one another, so largest first is optimal)."""
    free = [node_gpus] * nodes
    for size in sorted(sizes, reverse=True):
        index = next((i for i, room in enumerate(free) if room >= size), None)
        if index is None:
            return False
        free[index] -= size
    return True


@pytest.fixture(scope="module")
def example():
    config = KIT.load(EXAMPLE)
    [workload] = config.workloads
    blueprint = KIT.by_name["dynamo"]
    assert isinstance(blueprint, GpuBlueprint) and isinstance(workload, DynamoWorkload)
    placement = blueprint.placement(workload, KIT.platform(config))
    pool = next(p for p in config.node_pools if p.name == workload.node_pool)
    return workload, placement, pool.gpu_limit // placement.instance.gpus


def _graph(workload, placement) -> list[Mapping[str, Any]]:
    """The worker components, read as the scheduler reads their templates: plain data."""
    return [components.worker(workload, placement, role) for role in workload.role_replicas()]


def _spread_rule(placement, name: str, role: str) -> Affinity:
    """The shared rule's affinity, which spreads a role's pods over nodes."""
    scheduling = pod_scheduling.gpu_scheduling(placement, components.role_selector(name, role))
    assert "affinity" in scheduling
    return scheduling["affinity"]


def test_the_example_graph_fits_its_two_nodes_in_any_order(example):
    workload, placement, nodes = example
    pods = pods_of(_graph(workload, placement))
    assert nodes == 2 and sorted(gpus for _, gpus, *_ in pods) == [4, 4, 8]
    assert always_fits(pods, nodes, placement.instance.gpus)


def test_spreading_each_role_over_nodes_could_strand_the_decode_worker(example):
    # The rule the workers had: each role's pods keep away from one another's nodes. The model finds the order that
    # puts the two 4-GPU prefill workers on both nodes, where no 8-GPU decode worker fits.
    workload, placement, nodes = example
    spread = []
    for role, gpus, labels, _ in pods_of(_graph(workload, placement)):
        spread.append((role, gpus, labels, _spread_rule(placement, workload.name, role)))
    assert not always_fits(spread, nodes, placement.instance.gpus)


def test_workers_prefer_their_own_roles_nodes_and_whole_node_workers_need_no_rule(example):
    workload, placement, _ = example
    graph = {component["name"]: component["podTemplate"]["spec"] for component in _graph(workload, placement)}
    [term] = graph["prefill"]["affinity"]["podAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    assert term["podAffinityTerm"]["labelSelector"]["matchLabels"]["app.kubernetes.io/component"] == "prefill"
    assert "podAntiAffinity" not in graph["prefill"]["affinity"] and "affinity" not in graph["decode"]
    assert graph["decode"]["nodeSelector"] == graph["prefill"]["nodeSelector"]


LAYOUTS = [
    (prefill, prefill_gpus, decode, decode_gpus)
    for prefill_gpus in (1, 2, 4, 8)
    for decode_gpus in (1, 2, 4, 8)
    for prefill in range(1, 7)
    for decode in range(1, 4)
    if prefill * prefill_gpus + decode * decode_gpus <= 24
]


def test_any_disaggregated_layout_fits_the_fewest_nodes_that_can_hold_it(example):
    workload, placement, _ = example
    node_gpus = placement.instance.gpus
    stranded, stranded_when_spread = [], []
    for prefill, prefill_gpus, decode, decode_gpus in LAYOUTS:
        layout = workload.model_copy(
            update={
                "prefill_workers": prefill,
                "prefill_tensor_parallel_size": prefill_gpus,
                "decode_workers": decode,
                "decode_tensor_parallel_size": decode_gpus,
            }
        )
        pods = pods_of(_graph(layout, placement))
        nodes = math.ceil(sum(gpus for _, gpus, *_ in pods) / node_gpus)
        assert packable([gpus for _, gpus, *_ in pods], nodes, node_gpus)
        if not always_fits(pods, nodes, node_gpus):
            stranded.append((prefill, prefill_gpus, decode, decode_gpus))
        spread = [(role, gpus, labels, _spread_rule(placement, layout.name, role)) for role, gpus, labels, _ in pods]
        if not always_fits(spread, nodes, node_gpus):
            stranded_when_spread.append((prefill, prefill_gpus, decode, decode_gpus))
    assert len(LAYOUTS) > 150 and stranded == []
    assert len(stranded_when_spread) > 20  # the sweep tells the rules apart


def test_aggregated_workers_still_spread(tmp_path):
    config = KIT.load(
        write_config(
            tmp_path,
            {
                "workloads": [
                    {
                        "name": "chat",
                        "blueprint": "dynamo",
                        "node_pool": "gpu-h100-efa",
                        "workers": 2,
                        "tensor_parallel_size": 4,
                        "model": {"type": "hf", "repo_id": "org/model-8B"},
                    }
                ]
            },
        )
    )
    [workload] = config.workloads
    blueprint = KIT.by_name["dynamo"]
    assert isinstance(blueprint, GpuBlueprint) and isinstance(workload, DynamoWorkload)
    placement = blueprint.placement(workload, KIT.platform(config))
    [worker] = _graph(workload, placement)
    [term] = worker["podTemplate"]["spec"]["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    assert term["podAffinityTerm"]["labelSelector"]["matchLabels"]["app.kubernetes.io/component"] == "worker"
