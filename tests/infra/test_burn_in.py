"""Node burn-in: the startup taint, the per-pool DaemonSet and its checks, and the verdict on a stand-in API."""

import inspect
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from urllib.error import HTTPError

import pytest

from assembly.kit import KIT
from core.burn_in_thresholds import efa_ceiling, min_bus_bandwidth, min_efa_bus_bandwidth, nvlink_ceiling
from infra.gpu import burn_in_verdict
from infra.gpu.burn_in import _all_reduce, burn_in_objects
from infra.gpu.burn_in_verdict import apply_verdict, dcgm_failures, judge, pass_patch
from infra.gpu.node_pool_manifests import node_pool
from infra.stacks.gpu_props import node_pool_props
from tests.infra.fake_kube_api import FakeKubeApi

EXAMPLE = Path("config/examples/capacity-platform.yaml")
NODE = "/api/v1/nodes/ip-10-0-1-2"
BURN_IN_TAINT = {"key": "llm-kit/burn-in", "value": "pending", "effect": "NoSchedule"}
GPU_TAINT = {"key": "nvidia.com/gpu", "effect": "NoSchedule"}


@pytest.fixture(scope="module")
def config():
    return KIT.load(EXAMPLE)


def _pool(config, name):
    return next(pool for pool in config.node_pools if pool.name == name)


def _props(pools):
    return [node_pool_props(pool, "use2-az2") for pool in pools]


def test_new_nodes_of_a_burn_in_pool_start_tainted(config):
    spec = node_pool(node_pool_props(_pool(config, "h100-spot"), "use2-az2"))["spec"]["template"]["spec"]
    assert spec["startupTaints"] == [BURN_IN_TAINT]
    assert BURN_IN_TAINT not in spec["taints"]


def _objects(config):
    return burn_in_objects(_props(config.node_pools))


def test_one_daemon_set_per_pool_holds_every_gpu_and_efa_interface_while_it_tests(config):
    objects = _objects(config)
    sets = {o["metadata"]["name"]: o for o in objects if o["kind"] == "DaemonSet"}
    assert set(sets) == {f"gpu-burn-in-{pool.name}" for pool in config.node_pools}
    pod = sets["gpu-burn-in-h100-spot"]["spec"]["template"]["spec"]
    [term] = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert {"key": "llm-kit/burn-in", "operator": "NotIn", "values": ["passed", "failed"]} in term["matchExpressions"]
    assert {"key": "llm-kit/burn-in", "operator": "Exists"} in pod["tolerations"]
    checks = {c["name"]: c for c in pod["initContainers"]}
    assert list(checks) == ["dcgm", "all-reduce", "efa"]
    for check in checks.values():
        assert check["resources"]["limits"]["nvidia.com/gpu"] == "8"
        assert check["resources"]["limits"]["vpc.amazonaws.com/efa"] == "32"
    assert "dcgmi diag -r 2 -j" in checks["dcgm"]["command"][2]
    env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
    assert env["MIN_BUS_BANDWIDTH_NVLINK"] == "296.0"  # 80% of 370 GB/s for H100
    assert env["MIN_BUS_BANDWIDTH_EFA"] == "25.0"  # half of 3200 Gbps / 8 GPUs = 50 GB/s


def test_the_all_reduces_run_one_rank_per_gpu_under_mpirun_and_the_efa_one_cannot_fall_back_to_sockets(config):
    pod = next(o for o in _objects(config) if o["metadata"]["name"] == "gpu-burn-in-h100-spot")["spec"]["template"]["spec"]
    checks = {c["name"]: c["command"][2] for c in pod["initContainers"]}
    for command in (checks["all-reduce"], checks["efa"]):
        assert "/opt/amazon/openmpi/bin/mpirun --allow-run-as-root --bind-to none -np 8 " in command
        assert command.split("all_reduce_perf", 1)[1].split(">")[0].split() == ["-b", "256M", "-e", "4G", "-f", "2", "-g", "1"]
    for setting in (
        "NCCL_NET=OFI",
        "NCCL_NET_PLUGIN=ofi",
        "FI_PROVIDER=efa",
        "NCCL_P2P_DISABLE=1",
        "NCCL_SHM_DISABLE=1",
        "NCCL_NVLS_ENABLE=0",
    ):
        assert f" -x {setting} " in checks["efa"]
        assert setting not in checks["all-reduce"]


def test_only_the_verdict_holds_an_api_token_and_no_container_holds_a_capability(config):
    objects = _objects(config)
    pod = next(o for o in objects if o["kind"] == "DaemonSet")["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    [token] = [v for v in pod["volumes"] if "projected" in v]
    assert {"serviceAccountToken": {"path": "token", "expirationSeconds": 3600}} in token["projected"]["sources"]
    for container in pod["initContainers"]:
        assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert all(m["name"] != token["name"] for m in container["volumeMounts"])
    [verdict] = pod["containers"]
    assert {"name": token["name"], "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": True} in verdict[
        "volumeMounts"
    ]
    [namespace] = [o for o in objects if o["kind"] == "Namespace"]
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"
    [cluster_role] = [o for o in objects if o["kind"] == "ClusterRole"]
    assert cluster_role["rules"] == [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "patch"]}]
    [role] = [o for o in objects if o["kind"] == "Role"]
    [binding] = [o for o in objects if o["kind"] == "RoleBinding"]
    assert role["metadata"]["namespace"] == binding["metadata"]["namespace"] == "default"
    assert role["rules"] == [{"apiGroups": [""], "resources": ["events"], "verbs": ["create"]}]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "gpu-burn-in", "namespace": "gpu-burn-in"}]
    # The verdict records its Events where the Role lets it.
    assert '"/api/v1/namespaces/default/events"' in inspect.getsource(burn_in_verdict)


def test_a_pool_of_several_types_gets_a_daemon_set_per_type_with_that_types_devices(config, tmp_path):
    pool = _pool(config, "h100-spot").model_copy(update={"instance_types": ["p5e.48xlarge", "p5en.48xlarge"], "chain": None})
    sets = [o for o in burn_in_objects(_props([pool])) if o["kind"] == "DaemonSet"]
    efa = {}
    for daemon_set in sets:
        spec = daemon_set["spec"]["template"]["spec"]
        [term] = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
        [kind] = next(e["values"] for e in term["matchExpressions"] if e["key"] == "node.kubernetes.io/instance-type")
        assert daemon_set["spec"]["selector"]["matchLabels"]["llm-kit/instance-type"] == kind
        efa[kind] = spec["initContainers"][0]["resources"]["limits"]["vpc.amazonaws.com/efa"]
    assert efa == {"p5e.48xlarge": "32", "p5en.48xlarge": "16"}


@pytest.mark.e2e
def test_device_plugins_and_exporters_tolerate_the_burn_in_taint(tmp_path):
    from tests.helpers import helm_charts, helm_values, synth

    templates = synth(EXAMPLE, tmp_path / "out")
    charts = helm_charts(templates["llm-capacity-cluster"])
    efa_plugin = json.loads(helm_values(charts["aws-efa-k8s-device-plugin"]["Properties"]["Values"]))
    assert {"key": "llm-kit/burn-in", "operator": "Exists"} in efa_plugin["tolerations"]


def test_thresholds_come_from_published_figures_or_the_config():
    assert min_bus_bandwidth("h100", None) == 296.0
    assert min_bus_bandwidth("a100", None) == 184.0
    assert min_bus_bandwidth("l40s", None) is None
    assert min_bus_bandwidth("l40s", 20.0) == 20.0
    assert min_efa_bus_bandwidth(["p5.48xlarge"], None) == 25.0
    assert min_efa_bus_bandwidth(["p4d.24xlarge"], None) == 3.1  # 400 Gbps over 8 GPUs: 6.25 GB/s each
    assert min_efa_bus_bandwidth(["g6e.48xlarge"], None) is None
    assert min_efa_bus_bandwidth(["p5.48xlarge", "g6e.48xlarge"], None) is None  # no figure for one of the types
    assert min_efa_bus_bandwidth(["g6e.48xlarge"], 4.0) == 4.0
    assert nvlink_ceiling("h100") == 528.0 and nvlink_ceiling("l40s") is None
    assert efa_ceiling(["p5.48xlarge", "p4de.24xlarge"]) == (6.88, "p4de.24xlarge")


def test_the_all_reduce_step_keeps_the_average_bus_bandwidth(tmp_path):
    fake = tmp_path / "mpirun"
    fake.write_text(
        f"#!/bin/sh\necho \"$@\" > {tmp_path}/args\necho '#  Out of bounds values : 0 OK'\necho '# Avg bus bandwidth    : 412.33 '\n"
    )
    fake.chmod(0o755)
    script = (
        _all_reduce("efa", 8, {"NCCL_NET": "OFI"}).replace("/opt/amazon/openmpi/bin/mpirun", str(fake)).replace("/results", str(tmp_path))
    )
    assert subprocess.run(["bash", "-c", script]).returncode == 0
    assert (tmp_path / "efa.busbw").read_text().strip() == "412.33"
    assert (tmp_path / "efa.rc").read_text().strip() == "0"
    assert (tmp_path / "args").read_text().split() == [
        *"--allow-run-as-root --bind-to none -np 8 -x NCCL_NET=OFI".split(),
        *"/opt/nccl-tests/build/all_reduce_perf -b 256M -e 4G -f 2 -g 1".split(),
    ]


def test_a_run_that_fails_leaves_its_exit_code_and_no_bandwidth(tmp_path):
    fake = tmp_path / "mpirun"
    fake.write_text("#!/bin/sh\necho 'NCCL WARN Failed to initialize any NET plugin'\nexit 3\n")
    fake.chmod(0o755)
    script = (
        _all_reduce("efa", 8, {"NCCL_NET": "OFI"}).replace("/opt/amazon/openmpi/bin/mpirun", str(fake)).replace("/results", str(tmp_path))
    )
    assert subprocess.run(["bash", "-c", script]).returncode == 0
    assert (tmp_path / "efa.rc").read_text().strip() == "3"
    assert judge(tmp_path, {})[-1] == "efa: all_reduce_perf exited 3"


REPORT_OK = {
    "DCGM Diagnostic": {"test_categories": [{"category": "Hardware", "tests": [{"name": "GPU Memory", "results": [{"status": "Pass"}]}]}]}
}
REPORT_HW = {
    "DCGM Diagnostic": {
        "test_categories": [{"category": "Hardware", "tests": [{"name": "GPU Memory", "results": [{"status": "Fail", "gpu_id": 3}]}]}]
    }
}
REPORT_ADVISORY = {
    "DCGM Diagnostic": {
        "test_categories": [{"category": "Deployment", "tests": [{"name": "Persistence Mode", "results": [{"status": "Fail"}]}]}]
    }
}


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {
                "dcgm.rc": "0",
                "dcgm.json": json.dumps(REPORT_OK),
                "nvlink.rc": "0",
                "nvlink.busbw": "420.5",
                "efa.rc": "0",
                "efa.busbw": "90",
            },
            [],
        ),
        ({"dcgm.rc": "226", "dcgm.json": json.dumps(REPORT_HW)}, ["dcgm Hardware: GPU Memory"]),
        ({"dcgm.rc": "226", "dcgm.json": json.dumps(REPORT_ADVISORY)}, []),
        ({"dcgm.rc": "203", "dcgm.json": ""}, ["dcgmi diag exited 203 without a failed test in its report"]),
        ({}, ["the DCGM diagnostic left no result"]),
        (
            {"dcgm.rc": "0", "dcgm.json": "{}", "nvlink.rc": "0", "nvlink.busbw": "210.0"},
            ["nvlink: all-reduce bus bandwidth 210.0 GB/s is below 296.0 GB/s"],
        ),
        ({"dcgm.rc": "0", "dcgm.json": "{}", "nvlink.rc": "0", "nvlink.busbw": "400", "efa.rc": "1"}, ["efa: all_reduce_perf exited 1"]),
        (
            {"dcgm.rc": "0", "dcgm.json": "{}", "nvlink.rc": "0", "nvlink.busbw": ""},
            ["nvlink: all_reduce_perf printed no average bus bandwidth"],
        ),
    ],
    ids=["healthy", "gpu-memory-fails", "only-advisory", "crash-without-report", "nothing-ran", "slow-nvlink", "efa-fails", "no-bandwidth"],
)
def test_the_verdict(tmp_path, files, expected):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    assert judge(tmp_path, {"nvlink": 296.0, "efa": None}) == expected


def test_a_report_that_is_not_json_counts_as_no_report():
    assert dcgm_failures(1, "not json") == ["dcgmi diag exited 1 without a failed test in its report"]
    assert dcgm_failures(0, "not json") == []


@pytest.fixture
def kube():
    node = {
        "metadata": {"name": "ip-10-0-1-2", "uid": "u-1", "labels": {"llm-kit/pool": "h100-spot"}},
        "spec": {"taints": [GPU_TAINT, BURN_IN_TAINT]},
    }
    fake = FakeKubeApi({NODE: node})
    yield fake
    fake.close()


def test_a_node_that_passes_is_labelled_and_untainted(kube):
    apply_verdict(kube.api, "ip-10-0-1-2", [], datetime(2026, 12, 1, tzinfo=UTC))
    node = kube.objects[NODE]
    assert node["metadata"]["labels"] == {"llm-kit/pool": "h100-spot", "llm-kit/burn-in": "passed"}
    assert node["spec"]["taints"] == [GPU_TAINT]
    assert "unschedulable" not in node["spec"]
    [(method, _, patch)] = kube.writes()
    assert method == "PATCH" and {"op": "test", "path": "/spec/taints/1", "value": BURN_IN_TAINT} in patch


OTHER_TAINT = {"key": "node.kubernetes.io/network-unavailable", "effect": "NoSchedule"}


def _taint_added(first: bool):
    def add(objects):
        taints = objects[NODE]["spec"]["taints"]
        taints.insert(0, OTHER_TAINT) if first else taints.append(OTHER_TAINT)

    return add


@pytest.mark.parametrize("first", [True, False], ids=["before-ours", "after-ours"])
def test_a_taint_added_between_the_read_and_the_write_is_kept(kube, first):
    kube.after_get.append(_taint_added(first))
    apply_verdict(kube.api, "ip-10-0-1-2", [], datetime(2026, 12, 1, tzinfo=UTC))
    node = kube.objects[NODE]
    assert node["spec"]["taints"] == ([OTHER_TAINT, GPU_TAINT] if first else [GPU_TAINT, OTHER_TAINT])
    assert node["metadata"]["labels"]["llm-kit/burn-in"] == "passed"
    # Added before ours, the taint moves ours: the guarded removal is refused once (422) and made again on a fresh read.
    assert [call[0] for call in kube.calls] == (["GET", "PATCH", "GET", "PATCH"] if first else ["GET", "PATCH"])


def test_a_node_that_keeps_changing_is_left_tainted_and_the_pod_retries(kube):
    kube.after_get.extend(_taint_added(True) for _ in range(burn_in_verdict.ATTEMPTS))
    with pytest.raises(HTTPError) as refused:
        apply_verdict(kube.api, "ip-10-0-1-2", [], datetime(2026, 12, 1, tzinfo=UTC))
    assert refused.value.code == 422
    assert BURN_IN_TAINT in kube.objects[NODE]["spec"]["taints"]
    assert "llm-kit/burn-in" not in kube.objects[NODE]["metadata"]["labels"]


def test_the_pass_patch_escapes_the_label_key_and_removes_every_burn_in_taint_from_the_end():
    node = {"metadata": {"labels": {}}, "spec": {"taints": [BURN_IN_TAINT, GPU_TAINT, BURN_IN_TAINT]}}
    assert pass_patch(node) == [
        {"op": "add", "path": "/metadata/labels/llm-kit~1burn-in", "value": "passed"},
        {"op": "test", "path": "/spec/taints/2", "value": BURN_IN_TAINT},
        {"op": "remove", "path": "/spec/taints/2"},
        {"op": "test", "path": "/spec/taints/0", "value": BURN_IN_TAINT},
        {"op": "remove", "path": "/spec/taints/0"},
    ]


def test_a_node_that_fails_stays_tainted_is_cordoned_and_the_event_says_why(kube):
    apply_verdict(kube.api, "ip-10-0-1-2", ["dcgm Hardware: GPU Memory"], datetime(2026, 12, 1, tzinfo=UTC))
    node = kube.objects[NODE]
    assert node["metadata"]["labels"]["llm-kit/burn-in"] == "failed"
    assert node["spec"]["unschedulable"] is True and BURN_IN_TAINT in node["spec"]["taints"]
    [event] = kube.objects["/api/v1/namespaces/default/events"]["items"]
    assert (event["reason"], event["type"], event["involvedObject"]["name"]) == ("GpuBurnInFailed", "Warning", "ip-10-0-1-2")
    assert event["message"] == "dcgm Hardware: GPU Memory"


def test_the_shipped_verdict_runs_without_the_kit(config, tmp_path):
    [config_map] = [o for o in burn_in_objects(_props(config.node_pools)) if o["kind"] == "ConfigMap"]
    for name, text in config_map["data"].items():
        (tmp_path / name).write_text(text)
    (tmp_path / "probe.py").write_text(
        "import sys\nimport burn_in_verdict as v\nassert 'core' not in sys.modules\nprint(v.all_reduce_failures(0, '100', 200.0))\n"
    )
    result = subprocess.run([sys.executable, "-E", "-S", "probe.py"], cwd=tmp_path, capture_output=True, text=True)
    assert result.stdout.strip() == "['all-reduce bus bandwidth 100.0 GB/s is below 200.0 GB/s']", result.stderr
