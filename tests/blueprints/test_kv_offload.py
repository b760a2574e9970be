"""KV-cache tiers: the arguments per tier, the memory and disks they take, the janitor that bounds the file tiers."""

import json
import os
import subprocess
import time

import pytest

from blueprints.common.kv_offload import JANITOR_HEARTBEAT, FileTier, KvOffload, engine_args, janitor_script
from tests.blueprints.conftest import by_kind
from tests.helpers import assert_rejected

S3 = {"type": "s3", "uri": "s3://{bucket}/models/org/model-8B/"}


def _server(**fields):
    # p5.48xlarge: 8 GPUs, 2048 GiB, 8 x 3.84 TB of instance store; the default config's EFA pool.
    return {"name": "chat", "blueprint": "vllm", "node_pool": "gpu-h100-efa", "model": S3, "tensor_parallel_size": 8, **fields}


def test_cpu_only_is_vllms_own_flag():
    assert engine_args(KvOffload(cpu_gib=64)) == ["--kv-offloading-size", "64"]


def test_file_tiers_go_through_one_tiering_connector_and_never_beside_the_size_flag():
    args = engine_args(KvOffload(cpu_gib=64, nvme={"size_gib": 1000}, fsx={"size_gib": 500}))
    assert args[0] == "--kv-transfer-config" and "--kv-offloading-size" not in args
    config = json.loads(args[1])
    assert (config["kv_connector"], config["kv_role"]) == ("OffloadingConnector", "kv_both")
    extra = config["kv_connector_extra_config"]
    assert extra["spec_name"] == "TieringOffloadingSpec" and extra["cpu_bytes_to_use"] == 64 * 2**30
    assert extra["secondary_tiers"] == [{"type": "fs", "root_dir": "/kv-cache/nvme"}, {"type": "fs", "root_dir": "/kv-cache/fsx"}]


def test_the_cpu_tier_grows_dev_shm_and_the_pods_memory(render):
    plain = by_kind(render({"workloads": [_server()]})["chat"])["Deployment"]["spec"]["template"]["spec"]
    offloaded = by_kind(render({"workloads": [_server(kv_offload={"cpu_gib": 256})]})["chat"])["Deployment"]["spec"]["template"]["spec"]

    def shm(spec):
        return int(next(v for v in spec["volumes"] if v["name"] == "dshm")["emptyDir"]["sizeLimit"].removesuffix("Gi"))

    def memory(spec):
        return int(spec["containers"][0]["resources"]["limits"]["memory"].removesuffix("Gi"))

    assert shm(offloaded) - shm(plain) == 256 and memory(offloaded) - memory(plain) == 256


def test_file_tiers_are_mounted_and_bounded_by_a_janitor(render):
    workload = _server(kv_offload={"cpu_gib": 64, "nvme": {"size_gib": 2000}, "fsx": {"size_gib": 500, "directory": "kv/shared"}})
    spec = by_kind(render({"workloads": [workload], "storage": {"fsx": {"enabled": True}}})["chat"])["Deployment"]["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["kv-nvme"] == {"name": "kv-nvme", "emptyDir": {}}
    assert volumes["kv-fsx"]["persistentVolumeClaim"]["claimName"] == "models-fsx"
    server, janitor = spec["containers"]
    assert {"name": "kv-fsx", "mountPath": "/kv-cache/fsx", "subPath": "kv/shared"} in server["volumeMounts"]
    assert janitor["name"] == "kv-cache-janitor" and janitor["image"] == server["image"]
    assert janitor["securityContext"] == server["securityContext"]
    assert "2000 * 1024 * 1024" in janitor["command"][2] and "500 * 1024 * 1024" in janitor["command"][2]


def test_the_janitor_deletes_the_least_recently_used_blocks_above_the_limit(tmp_path):
    root = tmp_path / "tier"
    (root / "model_digest_r0" / "ab").mkdir(parents=True)
    for index in range(6):
        block = root / "model_digest_r0" / "ab" / f"{index}.bin"
        block.write_bytes(b"x" * 400 * 1024)
        os.utime(block, (time.time() - 600 + index * 60,) * 2)  # block 0 least recently used
    once = janitor_script([("test", str(root), FileTier(size_gib=1))]).replace("while sleep 60; do", "for _ in once; do")
    # 1 GiB is far above 2.4 MB: nothing goes. Scale the limit down to 1 MiB to make the tier overfull.
    assert subprocess.run(["bash", "-c", once], check=True).returncode == 0
    assert len(list(root.rglob("*.bin"))) == 6
    subprocess.run(["bash", "-c", once.replace("1 * 1024 * 1024", "1 * 1024")], check=True)
    left = sorted(path.name for path in root.rglob("*.bin"))
    assert left == ["4.bin", "5.bin"]  # the newest that fit under 1 MiB


def test_the_janitor_is_restarted_when_its_rounds_stall(render, tmp_path):
    workload = _server(kv_offload={"cpu_gib": 8, "nvme": {"size_gib": 100}})
    janitor = by_kind(render({"workloads": [workload]})["chat"])["Deployment"]["spec"]["template"]["spec"]["containers"][1]
    heartbeat = tmp_path / "alive"
    probe = janitor["livenessProbe"]["exec"]["command"][2].replace(JANITOR_HEARTBEAT, str(heartbeat))
    assert janitor["readinessProbe"] == janitor["livenessProbe"]
    assert subprocess.run(["bash", "-c", probe]).returncode != 0  # no round yet
    once = janitor["command"][2].replace(JANITOR_HEARTBEAT, str(heartbeat)).replace("while sleep 60; do", "for _ in once; do")
    subprocess.run(["bash", "-c", once.replace("/kv-cache/nvme", str(tmp_path))], check=True)
    assert subprocess.run(["bash", "-c", probe]).returncode == 0
    os.utime(heartbeat, (time.time() - 600,) * 2)  # ten minutes without a round
    assert subprocess.run(["bash", "-c", probe]).returncode != 0


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"node_pool": "gpu-l40s", "tensor_parallel_size": 1, "instance_type": "g6e.2xlarge", "kv_offload": {"cpu_gib": 8, "nvme": {"size_gib": 100}}}, []),
        ({"kv_offload": {"cpu_gib": 8, "nvme": {"size_gib": 50000}}}, ["workloads[0].kv_offload.nvme.size_gib", "this pod's share of the node's instance store"]),
        ({"kv_offload": {"cpu_gib": 8, "fsx": {"size_gib": 100}}}, ["workloads[0].kv_offload.fsx", "switched off"]),
        ({"kv_offload": {"cpu_gib": 4000}}, ["workloads[0].memory_gib_per_gpu", "of them the KV-cache CPU tier", "kv_offload.cpu_gib"]),
    ],
    ids=["nvme-on-a-pool-with-instance-store", "nvme-beyond-the-disks", "fsx-tier-without-fsx", "cpu-tier-beyond-memory"],
)
def test_tiers_must_fit_what_exists(tmp_path, overrides, expected):
    if not expected:
        from assembly.kit import KIT
        from tests.helpers import write_config

        KIT.load(write_config(tmp_path, {"workloads": [_server(**overrides)]}))
        return
    assert_rejected(tmp_path, {"workloads": [_server(**overrides)]}, expected)


def test_a_pool_whose_volumes_are_not_on_nvme_takes_no_nvme_tier(tmp_path):
    # A pre-pulled image snapshot keeps the kubelet's directory on EBS (no RAID0 of the instance store).
    snapshot = {"prepulled_images_snapshot_id": "snap-0123456789abcdef0"}
    pools = [{"name": "gpu-g6e", "instance_types": ["g6e.2xlarge"], "capacity_types": ["on-demand"], "gpu_limit": 4, "image_pull": snapshot}]
    workload = _server(node_pool="gpu-g6e", tensor_parallel_size=1, kv_offload={"cpu_gib": 4, "nvme": {"size_gib": 10}})
    rendered = assert_rejected(tmp_path, {"node_pools": pools, "workloads": [workload]}, ["workloads[0].kv_offload.nvme", "not on instance-store NVMe"])
    assert "fix: remove kv_offload.nvme" in rendered


@pytest.mark.parametrize(
    ("workload", "expected"),
    [
        ({"blueprint": "triton", "node_pool": "gpu-l40s", "tensor_parallel_size": 1, "kv_offload": {"cpu_gib": 8}}, ["workloads[0].kv_offload", "Triton's vLLM backend"]),
        ({"blueprint": "dynamo", "mode": "disaggregated", "kv_offload": {"cpu_gib": 8}}, ["workloads[0].kv_offload", "one connector"]),
        ({"blueprint": "dynamo", "kv_offload": {"cpu_gib": 8, "nvme": {"size_gib": 100}}}, ["workloads[0].kv_offload", "CPU tier only"]),
    ],
    ids=["triton", "dynamo-disaggregated", "dynamo-file-tier"],
)
def test_engines_the_kit_does_not_offload_for_say_so(tmp_path, workload, expected):
    assert_rejected(tmp_path, {"workloads": [_server(**workload)]}, expected)
