"""KV-cache tiers: the arguments per tier, the memory and disks they take, the janitor that bounds the file tiers."""

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from blueprints.common import kv_janitor
from blueprints.common.kv_offload import JANITOR_HEARTBEAT, FileTier, FsxTier, KvOffload, engine_args
from tests.blueprints.conftest import by_kind
from tests.helpers import assert_rejected

MIB = 1 << 20

S3 = {"type": "s3", "uri": "s3://{bucket}/models/org/model-8B/"}


def _server(**fields):
    # p5.48xlarge: 8 GPUs, 2048 GiB, 8 x 3.84 TB of instance store; the default config's EFA pool.
    return {"name": "chat", "blueprint": "vllm", "node_pool": "gpu-h100-efa", "model": S3, "tensor_parallel_size": 8, **fields}


def test_cpu_only_is_vllms_own_flag():
    assert engine_args(KvOffload(cpu_gib=64)) == ["--kv-offloading-size", "64"]


def test_file_tiers_go_through_one_tiering_connector_and_never_beside_the_size_flag():
    args = engine_args(KvOffload(cpu_gib=64, nvme=FileTier(size_gib=1000), fsx=FsxTier(size_gib=500)))
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
    spec = by_kind(render({"workloads": [workload], "storage": {"fsx": {"enabled": True}}})["chat"])["Deployment"]["spec"]["template"][
        "spec"
    ]
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["kv-nvme"] == {"name": "kv-nvme", "emptyDir": {}}
    assert volumes["kv-fsx"]["persistentVolumeClaim"]["claimName"] == "models-fsx"
    server, janitor = spec["containers"]
    assert {"name": "kv-fsx", "mountPath": "/kv-cache/fsx", "subPath": "kv/shared"} in server["volumeMounts"]
    assert janitor["name"] == "kv-cache-janitor" and janitor["image"] == server["image"]
    assert janitor["securityContext"] == server["securityContext"]
    # The program shipped is the module the tests below run, whole.
    assert janitor["command"][:3] == ["python3", "-c", Path(kv_janitor.__file__).read_text()]
    tiers = [janitor["command"][i + 1] for i, arg in enumerate(janitor["command"]) if arg == "--tier"]
    assert tiers == [f"/kv-cache/nvme={2000 << 30}", f"/kv-cache/fsx={500 << 30}"]


def _janitor_command(render, tmp_path) -> list[str]:
    """The janitor command a rendered pod runs, its heartbeat moved into tmp_path."""
    janitor = by_kind(render({"workloads": [_server(kv_offload={"cpu_gib": 8, "nvme": {"size_gib": 100}})]})["chat"])["Deployment"]
    command = janitor["spec"]["template"]["spec"]["containers"][1]["command"]
    return [arg.replace(JANITOR_HEARTBEAT, str(tmp_path / "alive")) for arg in command[: command.index("--tier")]]


def _run(command: list[str], root: Path, limit: int, rounds: int = 1) -> str:
    done = subprocess.run(
        [*command, "--tier", f"{root}={limit}", "--rounds", str(rounds), "--period", "0"], capture_output=True, text=True, check=True
    )
    return done.stdout


def _block(root: Path, name: str, written: float, read: float | None = None, size: int = MIB) -> Path:
    """A block file written `written` seconds ago, and (if given) read `read` seconds ago: atime past mtime."""
    block = root / "model_abc123_r0" / name[:3] / f"{name[3:5]}_g0" / f"{name}.bin"
    block.parent.mkdir(parents=True, exist_ok=True)
    block.write_bytes(b"x" * size)
    now = time.time()
    os.utime(block, (now - (read if read is not None else written), now - written))
    return block


def test_the_janitor_evicts_by_last_use_which_it_keeps_in_mtime(render, tmp_path):
    command, root = _janitor_command(render, tmp_path), tmp_path / "tier"
    # Six 1 MiB blocks written 60..10 minutes ago; the oldest was read (by a cache hit) two minutes ago.
    blocks = {
        name: _block(root, name, written=600 - index * 100)
        for index, name in enumerate(["aaa00", "bbb01", "ccc02", "ddd03", "eee04", "fff05"])
    }
    _block(root, "aaa00", written=600, read=120)
    (root / "model_abc123").mkdir()
    (root / "model_abc123" / "config.json").write_text("{}")
    out = _run(command, root, limit=6 * MIB + 64 * 1024)
    assert "evicted" not in out and all(block.exists() for block in blocks.values())
    # The read moved into mtime: atime is no longer past it, so relatime records the next read as well.
    read = blocks["aaa00"].stat()
    assert read.st_mtime_ns == read.st_atime_ns and time.time() - read.st_mtime < 130
    out = _run(command, root, limit=3 * MIB + 64 * 1024)
    assert "evicted 3 blocks" in out
    # Least recently used first: the read block is the newest in use, so the next three oldest writes went.
    assert sorted(path.stem for path in root.rglob("*.bin")) == ["aaa00", "eee04", "fff05"]
    assert (root / "model_abc123" / "config.json").exists()


def test_without_reads_eviction_is_first_in_first_out(render, tmp_path):
    command, root = _janitor_command(render, tmp_path), tmp_path / "tier"
    for index, name in enumerate(["aaa00", "bbb01", "ccc02", "ddd03"]):
        _block(root, name, written=400 - index * 100)
    _run(command, root, limit=2 * MIB + 64 * 1024)
    assert sorted(path.stem for path in root.rglob("*.bin")) == ["ccc02", "ddd03"]


def test_the_janitor_removes_temporary_files_a_crash_left_and_not_those_being_written(render, tmp_path):
    command, root = _janitor_command(render, tmp_path), tmp_path / "tier"
    block = _block(root, "aaa00", written=10)
    stale, fresh = block.with_name("aaa00.bin_123.tmp"), block.with_name("aaa00.bin_456.tmp")
    stale.write_bytes(b"x")
    fresh.write_bytes(b"x")
    an_hour_ago = time.time() - 7200
    os.utime(stale, (an_hour_ago, an_hour_ago))
    _run(command, root, limit=100 * MIB)
    assert not stale.exists() and fresh.exists() and block.exists()


def test_one_janitor_walks_a_shared_directory_and_another_takes_over_when_it_goes(render, tmp_path):
    command, root = _janitor_command(render, tmp_path), tmp_path / "shared"
    root.mkdir()
    holder = subprocess.Popen([*command, "--tier", f"{root}={2 * MIB + 64 * 1024}", "--period", "0.2"], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None  # stdout=PIPE
    try:
        assert "holding the lock" in holder.stdout.readline()
        for index, name in enumerate(["aaa00", "bbb01", "ccc02", "ddd03"]):
            _block(root, name, written=400 - index * 100)
        waiting = _run(command, root, limit=0, rounds=3)  # a limit of nothing: it would empty the tier if it walked
        assert waiting.count("another janitor holds the lock") == 3 and "evicted" not in waiting
        deadline = time.time() + 10
        while len(list(root.rglob("*.bin"))) > 2 and time.time() < deadline:
            time.sleep(0.1)
        assert sorted(path.stem for path in root.rglob("*.bin")) == ["ccc02", "ddd03"]
    finally:
        holder.terminate()
        holder.wait(timeout=10)
    took_over = _run(command, root, limit=0)
    assert "holding the lock" in took_over and "evicted 2 blocks" in took_over and not list(root.rglob("*.bin"))


def test_the_janitor_is_restarted_when_its_rounds_stall(render, tmp_path):
    workload = _server(kv_offload={"cpu_gib": 8, "nvme": {"size_gib": 100}})
    janitor = by_kind(render({"workloads": [workload]})["chat"])["Deployment"]["spec"]["template"]["spec"]["containers"][1]
    heartbeat = tmp_path / "alive"
    probe = janitor["livenessProbe"]["exec"]["command"][2].replace(JANITOR_HEARTBEAT, str(heartbeat))
    assert janitor["readinessProbe"] == janitor["livenessProbe"]
    assert subprocess.run(["bash", "-c", probe]).returncode != 0  # no round yet
    (tmp_path / "tier").mkdir()
    _run(_janitor_command(render, tmp_path), tmp_path / "tier", limit=MIB)
    assert subprocess.run(["bash", "-c", probe]).returncode == 0
    ten_minutes_ago = time.time() - 600  # ten minutes without a round
    os.utime(heartbeat, (ten_minutes_ago, ten_minutes_ago))
    assert subprocess.run(["bash", "-c", probe]).returncode != 0


def test_the_janitor_stops_rather_than_walk_beside_others_where_the_volume_cannot_lock(tmp_path, monkeypatch):
    def unsupported(descriptor, operation):
        raise OSError(38, "Function not implemented")  # ENOSYS: a Lustre mount without the flock option

    monkeypatch.setattr(kv_janitor.fcntl, "flock", unsupported)
    with pytest.raises(SystemExit, match="must support flock"):
        kv_janitor.main(["--tier", f"{tmp_path}=1", "--rounds", "1", "--period", "0"])


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {
                "node_pool": "gpu-l40s",
                "tensor_parallel_size": 1,
                "instance_type": "g6e.2xlarge",
                "kv_offload": {"cpu_gib": 8, "nvme": {"size_gib": 100}},
            },
            [],
        ),
        (
            {"kv_offload": {"cpu_gib": 8, "nvme": {"size_gib": 50000}}},
            ["workloads[0].kv_offload.nvme.size_gib", "this pod's share of the node's instance store"],
        ),
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
    pools = [
        {"name": "gpu-g6e", "instance_types": ["g6e.2xlarge"], "capacity_types": ["on-demand"], "gpu_limit": 4, "image_pull": snapshot}
    ]
    workload = _server(node_pool="gpu-g6e", tensor_parallel_size=1, kv_offload={"cpu_gib": 4, "nvme": {"size_gib": 10}})
    rendered = assert_rejected(
        tmp_path, {"node_pools": pools, "workloads": [workload]}, ["workloads[0].kv_offload.nvme", "not on instance-store NVMe"]
    )
    assert "fix: remove kv_offload.nvme" in rendered


@pytest.mark.parametrize(
    ("workload", "expected"),
    [
        (
            {"blueprint": "triton", "node_pool": "gpu-l40s", "tensor_parallel_size": 1, "kv_offload": {"cpu_gib": 8}},
            ["workloads[0].kv_offload", "Triton's vLLM backend"],
        ),
        ({"blueprint": "dynamo", "mode": "disaggregated", "kv_offload": {"cpu_gib": 8}}, ["workloads[0].kv_offload", "one connector"]),
        ({"blueprint": "dynamo", "kv_offload": {"cpu_gib": 8, "nvme": {"size_gib": 100}}}, ["workloads[0].kv_offload", "CPU tier only"]),
    ],
    ids=["triton", "dynamo-disaggregated", "dynamo-file-tier"],
)
def test_engines_the_kit_does_not_offload_for_say_so(tmp_path, workload, expected):
    assert_rejected(tmp_path, {"workloads": [_server(**workload)]}, expected)


FSX_ON = {"fsx": {"enabled": True}}
FSX_MODEL = {"type": "fsx", "sub_path": "models/meta-llama/Llama-3.1-8B-Instruct"}


def _tiered(name: str, directory: str, **fields) -> dict:
    return _server(name=name, kv_offload={"cpu_gib": 8, "fsx": {"size_gib": 100, "directory": directory}}, **fields)


@pytest.mark.parametrize(
    ("workloads", "expected"),
    [
        (
            [_tiered("chat", "kv/../models")],
            [
                "workloads[0].kv_offload.fsx.directory",
                "refuses a subPath with a '..' element",
                "got: 'kv/../models'",
                "fix: use a value like 'kv-cache/chat'",
            ],
        ),
        ([_tiered("chat", "./kv")], ["workloads[0].kv_offload.fsx.directory", "plain relative path"]),
        (
            [_tiered("chat", "kv-cache"), _tiered("code", "kv-cache/code")],
            [
                "workloads[1].kv_offload.fsx.directory",
                "overlaps the FSx KV-cache tier 'kv-cache' of workload 'chat'",
                "got: 'kv-cache/code'",
                "fix: set kv_offload.fsx.directory",
            ],
        ),
        (
            [_server(name="chat", model=FSX_MODEL), _tiered("code", "models/meta-llama")],
            ["workloads[1].kv_offload.fsx.directory", "storage.fsx.file_system_path '/models'", "delete model files named *.bin"],
        ),
        (
            [_server(name="chat", model={"type": "fsx", "sub_path": "weights/llama"}), _tiered("code", "weights")],
            [
                "workloads[1].kv_offload.fsx.directory",
                "overlaps the model folder of workload 'chat' 'weights/llama'",
                "allowed: a folder of this workload's own",
            ],
        ),
        (
            [_tiered("chat", "weights/llama/kv", model={"type": "fsx", "sub_path": "weights/llama"})],
            ["workloads[0].kv_offload.fsx.directory", "overlaps this workload's model folder"],
        ),
    ],
    ids=["dot-dot", "dot", "two-workloads-one-folder", "inside-the-bucket-mirror", "another-workloads-model", "its-own-model"],
)
def test_an_fsx_tier_needs_a_folder_of_its_own(tmp_path, workloads, expected):
    rendered = assert_rejected(tmp_path, {"storage": FSX_ON, "workloads": workloads}, expected)
    assert "1 config problem" in rendered, rendered  # reported once, on the later workload


def test_fsx_tiers_in_folders_of_their_own_are_accepted_and_a_disabled_workload_holds_none(tmp_path):
    from assembly.kit import KIT
    from tests.helpers import write_config

    apart = [
        _tiered("chat", "kv-cache/chat", model=FSX_MODEL),
        _tiered("code", "kv-cache/code"),
        _tiered("old", "kv-cache/chat", enabled=False),
    ]
    KIT.load(write_config(tmp_path, {"storage": FSX_ON, "workloads": apart}))
