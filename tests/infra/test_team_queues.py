"""Where teams queue: their own namespaces, which the model servers do not admit; the workloads namespace only for
the kit's own workloads."""

from pathlib import Path

import yaml

from assembly.kit import KIT
from infra.scheduling.kueue import TeamQueue, cluster_objects, workload_teams
from tests.helpers import assert_rejected, write_config

EXAMPLE = Path("config/examples/capacity-platform.yaml")


def _example(tmp_path, edit):
    data = yaml.safe_load(EXAMPLE.read_text())
    edit(data)
    path = tmp_path / "kit.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _queues(objects):
    return {
        (o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]): o
        for o in objects
        if o["kind"] in ("ClusterQueue", "LocalQueue")
    }


def test_only_teams_the_kits_workloads_join_get_a_queue_in_the_workloads_namespace(tmp_path):
    # research's batch workload is dropped: research keeps its own namespace's queue, not one beside the servers.
    config = KIT.load(_example(tmp_path, lambda d: d.update(workloads=[w for w in d["workloads"] if w.get("queue") != "research"])))
    assert workload_teams(config.workloads) == ("search",)
    teams = (
        TeamQueue(name="search", gpus={"h100": 1}, namespaces=("search-jobs",)),
        TeamQueue(name="research", gpus={"h100": 1}, namespaces=("research-jobs",)),
    )
    objects = cluster_objects(teams, {"h100": _Capacity()}, frozenset(), "inference", ("search",))
    queues = _queues(objects)
    selector = {
        team: queues[("ClusterQueue", None, team)]["spec"]["namespaceSelector"]["matchExpressions"][0]["values"]
        for team in ("search", "research")
    }
    assert selector == {"search": ["inference", "search-jobs"], "research": ["research-jobs"]}
    assert {key for key in queues if key[0] == "LocalQueue"} == {
        ("LocalQueue", "search-jobs", "search"),
        ("LocalQueue", "research-jobs", "research"),
    }


def test_a_team_with_no_namespace_and_no_workload_selects_no_namespace_at_all():
    """An In with no values is invalid; DoesNotExist on the name every namespace carries matches none."""
    teams = (TeamQueue(name="lender", gpus={"h100": 1}),)
    [queue] = [o for o in cluster_objects(teams, {"h100": _Capacity()}, frozenset(), "inference") if o["kind"] == "ClusterQueue"]
    assert queue["spec"]["namespaceSelector"] == {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "DoesNotExist"}]}


def test_a_teams_namespace_may_not_be_admitted_to_the_model_servers(tmp_path):
    def edit(data):
        data["cluster"] = {"network_policies": {"serving_from_namespaces": ["research-jobs"]}}

    assert_rejected(
        tmp_path,
        yaml.safe_load(_example(tmp_path, edit).read_text()),
        [
            "cluster.network_policies.serving_from_namespaces",
            "admits 'research-jobs', a namespace of team 'research'",
            "no API key, token budget or audit record",
            "through the gateway",
        ],
    )


class _Capacity:
    """The one fact cluster_objects reads of a capacity: the node labels of its flavor."""

    def selector(self):
        return {"llm-kit/capacity": "h100"}


def test_the_default_config_has_no_queue_anywhere(tmp_path):
    config = KIT.load(write_config(tmp_path))
    assert workload_teams(config.workloads) == () and not config.scheduling.teams
