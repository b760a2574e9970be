"""GPU capacity as a platform, from the synthesized example: block windows, chains, Kueue queues and gangs."""

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from assembly.kit import KIT
from core.capacity_block_schedule import desired_nodes, termination_grace_minutes
from infra.gpu import capacity_block_reconciler as reconciler
from infra.gpu.node_pool_manifests import static_node_pool_creation
from infra.stacks.gpu_props import node_pool_props
from tests.infra.fake_kube_api import FakeKubeApi
from tests.helpers import helm_charts, helm_values, kubernetes_objects, nested_templates, resources, synth
from tests.infra.kube_patches import patched_kubernetes_objects

EXAMPLE = Path("config/examples/capacity-platform.yaml")
START = datetime(2026, 12, 1, 11, 30, tzinfo=UTC)
END = datetime(2026, 12, 15, 11, 30, tzinfo=UTC)
SECOND = timedelta(seconds=1)


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    out = tmp_path_factory.mktemp("capacity") / "out"
    templates = synth(EXAMPLE, out)
    cluster = [o for items in patched_kubernetes_objects(templates["llm-capacity-cluster"]).values() for o in items]
    workloads = [o for items in kubernetes_objects(templates["llm-capacity-workloads"]).values() for o in items]
    for nested in nested_templates(out).values():
        workloads += [o for items in kubernetes_objects(nested).values() for o in items]
    return {"templates": templates, "cluster": cluster, "workloads": workloads}


def _named(objects, kind):
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


# The block's schedule, over a fake clock


@pytest.mark.parametrize(
    ("now", "nodes"),
    [
        (START - SECOND, 0),
        (START, 2),
        (END - timedelta(minutes=60) - SECOND, 2),
        (END - timedelta(minutes=60), 0),  # drained an hour before the end
        (END - timedelta(minutes=30), 0),  # EC2 terminates from here
        (END + timedelta(days=1), 0),
    ],
    ids=["before", "at-start", "just-before-drain", "at-drain", "ec2-termination", "after"],
)
def test_the_block_holds_nodes_exactly_while_active(now, nodes):
    assert desired_nodes(START, END, 2, 60, now) == nodes


def test_pods_leave_before_karpenter_and_ec2_take_the_nodes():
    # Drain from T-60: pods get 20 minutes, until Karpenter's own expiry at T-40; EC2 terminates at T-30.
    assert termination_grace_minutes(60) == 20
    assert termination_grace_minutes(45) == 5


SCALE = "/apis/karpenter.sh/v1/nodepools/h100-block/scale"


@pytest.fixture
def kube():
    fake = FakeKubeApi({SCALE: {"spec": {"replicas": 0}}})
    yield fake
    fake.close()


def test_the_reconciler_scales_the_pool_at_the_edges_and_only_then(kube):
    blocks = [{"pool": "h100-block", "start": START.isoformat(), "end": END.isoformat(), "instances": 2, "drain_minutes_before_end": 60}]
    clock = [START - timedelta(minutes=5), START + timedelta(minutes=2), START + timedelta(days=3), END - timedelta(minutes=58), END]
    for now in clock:
        reconciler.reconcile(blocks, kube.api, now)
    # Up once at the start, down once at the drain point: the scale subresource of this pool, nothing else.
    assert kube.writes() == [("PATCH", SCALE, {"spec": {"replicas": 2}}), ("PATCH", SCALE, {"spec": {"replicas": 0}})]


@pytest.mark.e2e
def test_the_shipped_program_runs_without_the_kit(out, tmp_path):
    """The ConfigMap's two files alone import and agree with the kit's schedule (the pod has only Python)."""
    [config_map] = [o for o in out["cluster"] if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "capacity-block-reconciler"]
    for name, text in config_map["data"].items():
        (tmp_path / name).write_text(text)
    # Run as the CronJob runs it: a script beside the two files, no site-packages (the kit is installed there).
    (tmp_path / "probe.py").write_text(
        "import sys, datetime as d\n"
        "import capacity_block_reconciler as r\n"
        "assert 'core' not in sys.modules\n"
        "print(r.desired_nodes(d.datetime(2026,12,1,11,30,tzinfo=d.UTC), d.datetime(2026,12,15,11,30,tzinfo=d.UTC),"
        " 2, 60, d.datetime(2026,12,2,tzinfo=d.UTC)))\n"
    )
    result = subprocess.run([sys.executable, "-E", "-S", "probe.py"], cwd=tmp_path, capture_output=True, text=True)
    assert result.stdout.strip() == "2", result.stderr


@pytest.mark.e2e
def test_block_pools_are_static_with_a_node_limit_and_a_grace_period(out):
    pools = _named(out["cluster"], "NodePool")
    block = pools["h100-block"]["spec"]
    assert block["limits"] == {"nodes": "2"} and "weight" not in block
    assert block["replicas"] == 0  # created without nodes; the reconciler alone sets the count after that
    assert block["template"]["spec"]["terminationGracePeriod"] == "20m"
    values = json.loads(helm_values(helm_charts(out["templates"]["llm-capacity-cluster"])["karpenter"]["Properties"]["Values"]))
    assert values["settings"]["featureGates"]["staticCapacity"] is True
    [role] = [o for o in out["cluster"] if o["kind"] == "ClusterRole" and o["metadata"]["name"] == "capacity-block-reconciler"]
    assert role["rules"] == [
        {
            "apiGroups": ["karpenter.sh"],
            "resources": ["nodepools/scale"],
            "resourceNames": ["h100-block", "p5-group-block"],
            "verbs": ["get", "patch"],
        }
    ]
    [cron] = [o for o in out["cluster"] if o["kind"] == "CronJob"]
    env = {e["name"]: e["value"] for e in cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert [b["pool"] for b in json.loads(env["BLOCKS"])] == ["h100-block", "p5-group-block"]


@pytest.mark.e2e
def test_no_deploy_applies_a_block_pools_node_count(out):
    """Created once from a manifest no config or clock changes; the rest of the spec follows by a JSON patch."""
    cluster = out["templates"]["llm-capacity-cluster"]
    manifests = kubernetes_objects(cluster)
    config = KIT.load(EXAMPLE)
    pools = {pool.name: node_pool_props(pool, config.placement.az_id) for pool in config.node_pools}
    patches = resources(cluster, "Custom::AWSCDK-EKS-KubernetesPatch")
    assert sorted(body["Properties"]["ResourceName"] for body in patches.values()) == [
        "nodepools.karpenter.sh/h100-block",
        "nodepools.karpenter.sh/p5-group-block",
    ]
    for body in patches.values():
        name = body["Properties"]["ResourceName"].split("/")[1]
        [(creation, [created])] = [
            (lid, objs) for lid, objs in manifests.items() if any(o["kind"] == "NodePool" and o["metadata"]["name"] == name for o in objs)
        ]
        # Alone in its manifest: a new AMI pin changes the EC2NodeClass's manifest, never this one.
        assert created["spec"] == static_node_pool_creation(pools[name])["spec"]
        assert creation in body["DependsOn"]
        # Teardown in reverse: the NodePool (waiting on its nodes) before its EC2NodeClass, that before Karpenter.
        [node_class] = [
            lid for lid, objs in manifests.items() if [o["kind"] for o in objs] == ["EC2NodeClass"] and objs[0]["metadata"]["name"] == name
        ]
        assert node_class in cluster["Resources"][creation]["DependsOn"]
        assert helm_charts(cluster)["karpenter"]["id"] in cluster["Resources"][node_class]["DependsOn"]
        assert body["Properties"]["PatchType"] == "json" and json.loads(body["Properties"]["RestorePatchJson"]) == []
        assert [op["path"] for op in json.loads(body["Properties"]["ApplyPatchJson"])] == [
            "/spec/template",
            "/spec/limits",
            "/spec/disruption",
        ]
    [reconciler] = [lid for lid, objs in manifests.items() if any(o["kind"] == "CronJob" for o in objs)]
    assert set(patches) <= set(cluster["Resources"][reconciler]["DependsOn"])


@pytest.mark.e2e
def test_a_chain_is_one_capacity_tried_block_first_then_by_weight(out):
    pools = _named(out["cluster"], "NodePool")
    for name in ("h100-block", "h100-spot", "h100-on-demand"):
        assert pools[name]["spec"]["template"]["metadata"]["labels"]["llm-kit/capacity"] == "h100"
    assert (pools["h100-spot"]["spec"]["weight"], pools["h100-on-demand"]["spec"]["weight"]) == (50, 10)
    server = _named(out["workloads"], "Deployment")["llama-70b"]["spec"]["template"]["spec"]
    assert server["nodeSelector"]["llm-kit/capacity"] == "h100" and "llm-kit/pool" not in server["nodeSelector"]


@pytest.mark.e2e
def test_each_team_gets_a_queue_with_its_quota_in_one_cohort(out):
    queues = _named(out["cluster"], "ClusterQueue")
    assert set(queues) == {"search", "research"}
    quotas = {
        team: {f["name"]: f["resources"][0]["nominalQuota"] for f in queue["spec"]["resourceGroups"][0]["flavors"]}
        for team, queue in queues.items()
    }
    # Every flavor on every queue (0 where the team has none: it may borrow there), the team's own first.
    assert quotas == {"search": {"h100": 32, "p5-group-block": 16}, "research": {"h100": 16, "p5-group-block": 0}}
    assert {queue["spec"]["cohortName"] for queue in queues.values()} == {"llm-kit"}
    research = queues["research"]["spec"]
    assert research["resourceGroups"][0]["flavors"][0]["resources"][0]["borrowingLimit"] == 16
    assert research["preemption"]["borrowWithinCohort"] == {"policy": "LowerPriority", "maxPriorityThreshold": 100}
    assert research["namespaceSelector"]["matchExpressions"][0]["values"] == ["inference", "research-jobs"]
    priorities = {name: o["value"] for name, o in _named(out["cluster"], "WorkloadPriorityClass").items()}
    assert priorities["realtime"] > priorities["near-realtime"] > priorities["batch"]
    local = {(o["metadata"]["namespace"], o["metadata"]["name"]) for o in out["cluster"] + out["workloads"] if o["kind"] == "LocalQueue"}
    assert local == {("inference", "search"), ("inference", "research"), ("search-jobs", "search"), ("research-jobs", "research")}
    [namespace] = [o for o in out["workloads"] if o["kind"] == "Namespace" and o["metadata"]["name"] == "inference"]
    assert namespace["metadata"]["labels"]["llm-kit/kueue-managed"] == "true"


@pytest.mark.e2e
def test_flavors_follow_capacities_and_only_standing_nodes_are_topology_aware(out):
    flavors = _named(out["cluster"], "ResourceFlavor")
    assert flavors["h100"]["spec"] == {"nodeLabels": {"llm-kit/capacity": "h100"}}
    assert flavors["p5-group-block"]["spec"] == {"nodeLabels": {"llm-kit/pool": "p5-group-block"}, "topologyName": "ec2-network"}
    [topology] = _named(out["cluster"], "Topology").values()
    assert [level["nodeLabel"] for level in topology["spec"]["levels"]] == [
        "topology.k8s.aws/network-node-layer-1",
        "topology.k8s.aws/network-node-layer-2",
        "topology.k8s.aws/network-node-layer-3",
        "kubernetes.io/hostname",
    ]


@pytest.mark.e2e
def test_a_multi_node_group_is_one_gang_under_one_spine(out):
    [group] = _named(out["workloads"], "LeaderWorkerSet").values()
    assert group["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "search"
    assert group["metadata"]["labels"]["kueue.x-k8s.io/priority-class"] == "realtime"
    templates = group["spec"]["leaderWorkerTemplate"]
    for key in ("leaderTemplate", "workerTemplate"):
        annotations = templates[key]["metadata"]["annotations"]
        assert annotations["kueue.x-k8s.io/podset-required-topology"] == "topology.k8s.aws/network-node-layer-2"
        assert annotations["kueue.x-k8s.io/podset-group-name"] == "group"
        near = templates[key]["spec"]["affinity"]["podAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
        assert [(t["podAffinityTerm"]["topologyKey"], t["podAffinityTerm"]["matchLabelKeys"]) for t in near] == [
            ("topology.k8s.aws/network-node-layer-3", ["leaderworkerset.sigs.k8s.io/group-key"]),
            ("topology.k8s.aws/network-node-layer-2", ["leaderworkerset.sigs.k8s.io/group-key"]),
        ]


@pytest.mark.e2e
def test_kueue_waits_for_pods_longer_than_the_slowest_start_and_counts_gpus_only(out):
    kueue = helm_charts(out["templates"]["llm-capacity-cluster"])["kueue"]["Properties"]
    assert (kueue["Repository"], kueue["Version"], kueue["Namespace"]) == (
        "oci://registry.k8s.io/kueue/charts/kueue",
        "0.19.2",
        "kueue-system",
    )
    config = yaml.safe_load(json.loads(helm_values(kueue["Values"]))["managerConfig"]["controllerManagerConfigYaml"])
    assert config["waitForPodsReady"]["timeout"] == "90m"
    assert config["resources"] == {"quotaCheckStrategy": "IgnoreUndeclared"}
    assert config["managedJobsNamespaceSelector"] == {"matchLabels": {"llm-kit/kueue-managed": "true"}}
    assert "leaderworkerset.x-k8s.io/leaderworkerset" in config["integrations"]["frameworks"]
