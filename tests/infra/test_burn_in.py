"""Node burn-in: the startup taint, the per-pool DaemonSet and its checks, and the verdict on a stand-in API."""

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from assembly.kit import KIT
from config.platform import pool_capacity
from core.burn_in import min_bus_bandwidth
from infra.gpu.burn_in import _all_reduce, burn_in_objects
from infra.gpu.burn_in_verdict import apply_verdict, dcgm_failures, judge
from infra.gpu.node_pool_manifests import NodeClassContext, node_pool
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


def test_new_nodes_of_a_burn_in_pool_start_tainted(config):
    context = NodeClassContext("c", "use2-az2", "role", ["subnet-1"], ["sg-1"], "sg-efa")
    spec = node_pool(_pool(config, "h100-spot"), context)["spec"]["template"]["spec"]
    assert spec["startupTaints"] == [BURN_IN_TAINT]
    assert BURN_IN_TAINT not in spec["taints"]


def test_one_daemon_set_per_pool_holds_every_gpu_and_efa_interface_while_it_tests(config):
    pools = [(pool, pool_capacity(pool, "use2-az2")) for pool in config.node_pools]
    objects = burn_in_objects(pools)
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
    assert "NCCL_P2P_DISABLE=1 NCCL_SHM_DISABLE=1" in checks["efa"]["command"][2] and "-g 8" in checks["efa"]["command"][2]
    env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
    assert env["MIN_BUS_BANDWIDTH_NVLINK"] == "296.0"  # 80% of 370 GB/s for H100
    [namespace] = [o for o in objects if o["kind"] == "Namespace"]
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"


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


def test_the_all_reduce_step_keeps_the_average_bus_bandwidth(tmp_path):
    fake = tmp_path / "all_reduce_perf"
    fake.write_text("#!/bin/sh\necho '#  Out of bounds values : 0 OK'\necho '# Avg bus bandwidth    : 412.33 '\n")
    fake.chmod(0o755)
    script = _all_reduce("nvlink", 8).replace("/opt/nccl-tests/build/all_reduce_perf", str(fake)).replace("/results", str(tmp_path))
    assert subprocess.run(["bash", "-c", script]).returncode == 0
    assert (tmp_path / "nvlink.busbw").read_text().strip() == "412.33"
    assert (tmp_path / "nvlink.rc").read_text().strip() == "0"


REPORT_OK = {"DCGM Diagnostic": {"test_categories": [{"category": "Hardware", "tests": [{"name": "GPU Memory", "results": [{"status": "Pass"}]}]}]}}
REPORT_HW = {"DCGM Diagnostic": {"test_categories": [{"category": "Hardware", "tests": [{"name": "GPU Memory", "results": [{"status": "Fail", "gpu_id": 3}]}]}]}}
REPORT_ADVISORY = {"DCGM Diagnostic": {"test_categories": [{"category": "Deployment", "tests": [{"name": "Persistence Mode", "results": [{"status": "Fail"}]}]}]}}


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"dcgm.rc": "0", "dcgm.json": json.dumps(REPORT_OK), "nvlink.rc": "0", "nvlink.busbw": "420.5", "efa.rc": "0", "efa.busbw": "90"}, []),
        ({"dcgm.rc": "226", "dcgm.json": json.dumps(REPORT_HW)}, ["dcgm Hardware: GPU Memory"]),
        ({"dcgm.rc": "226", "dcgm.json": json.dumps(REPORT_ADVISORY)}, []),
        ({"dcgm.rc": "203", "dcgm.json": ""}, ["dcgmi diag exited 203 without a failed test in its report"]),
        ({}, ["the DCGM diagnostic left no result"]),
        ({"dcgm.rc": "0", "dcgm.json": "{}", "nvlink.rc": "0", "nvlink.busbw": "210.0"}, ["nvlink: all-reduce bus bandwidth 210.0 GB/s is below 296.0 GB/s"]),
        ({"dcgm.rc": "0", "dcgm.json": "{}", "nvlink.rc": "0", "nvlink.busbw": "400", "efa.rc": "1"}, ["efa: all_reduce_perf exited 1"]),
        ({"dcgm.rc": "0", "dcgm.json": "{}", "nvlink.rc": "0", "nvlink.busbw": ""}, ["nvlink: all_reduce_perf printed no average bus bandwidth"]),
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
    node = {"metadata": {"name": "ip-10-0-1-2", "uid": "u-1", "labels": {"llm-kit/pool": "h100-spot"}}, "spec": {"taints": [GPU_TAINT, BURN_IN_TAINT]}}
    fake = FakeKubeApi({NODE: node})
    yield fake
    fake.close()


def test_a_node_that_passes_is_labelled_and_untainted(kube):
    apply_verdict(kube.api, "ip-10-0-1-2", [], datetime(2026, 12, 1, tzinfo=UTC))
    node = kube.objects[NODE]
    assert node["metadata"]["labels"]["llm-kit/burn-in"] == "passed"
    assert node["spec"]["taints"] == [GPU_TAINT]
    assert "unschedulable" not in node["spec"]
    assert [call[0] for call in kube.writes()] == ["PATCH"]


def test_a_node_that_fails_stays_tainted_is_cordoned_and_the_event_says_why(kube):
    apply_verdict(kube.api, "ip-10-0-1-2", ["dcgm Hardware: GPU Memory"], datetime(2026, 12, 1, tzinfo=UTC))
    node = kube.objects[NODE]
    assert node["metadata"]["labels"]["llm-kit/burn-in"] == "failed"
    assert node["spec"]["unschedulable"] is True and BURN_IN_TAINT in node["spec"]["taints"]
    [event] = kube.objects["/api/v1/namespaces/default/events"]["items"]
    assert (event["reason"], event["type"], event["involvedObject"]["name"]) == ("GpuBurnInFailed", "Warning", "ip-10-0-1-2")
    assert event["message"] == "dcgm Hardware: GPU Memory"


def test_the_shipped_verdict_runs_without_the_kit(config, tmp_path):
    pools = [(pool, pool_capacity(pool, "use2-az2")) for pool in config.node_pools]
    [config_map] = [o for o in burn_in_objects(pools) if o["kind"] == "ConfigMap"]
    for name, text in config_map["data"].items():
        (tmp_path / name).write_text(text)
    (tmp_path / "probe.py").write_text("import sys\nimport burn_in_verdict as v\nassert 'core' not in sys.modules\nprint(v.all_reduce_failures(0, '100', 200.0))\n")
    result = subprocess.run([sys.executable, "-E", "-S", "probe.py"], cwd=tmp_path, capture_output=True, text=True)
    assert result.stdout.strip() == "['all-reduce bus bandwidth 100.0 GB/s is below 200.0 GB/s']", result.stderr
