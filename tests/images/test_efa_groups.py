"""Multi-node groups on EFA pools run over EFA by default, with the environment and devices AWS's EFA guides give,
and the version matrix refuses an image whose CUDA needs a newer driver than the pool's AMI carries."""

from __future__ import annotations

import pytest

from assembly.app import render_workloads
from assembly.kit import KIT
from core.image_matrix import CUDA_MIN_DRIVER, driver_for, mismatch, required_driver
from core.versions import AMI_VERSIONS
from tests.helpers import assert_rejected, default_config_data, write_config

MODEL = {"type": "s3", "uri": "s3://{bucket}/models/meta-llama/Llama-3.1-405B-Instruct/"}


def _pool(name: str, instance_type: str, nodes: int, **fields) -> dict:
    from core.instances import facts

    return {
        "name": name,
        "instance_types": [instance_type],
        "capacity_types": ["on-demand"],
        "efa": True,
        "gpu_limit": nodes * facts(instance_type).gpus,
        **fields,
    }


def _group(pool: str, nodes: int, **fields) -> dict:
    return {
        "name": "big",
        "blueprint": "vllm-multinode",
        "node_pool": pool,
        "model": MODEL,
        "nodes": nodes,
        "tensor_parallel_size": 8,
        "memory_gib_per_gpu": 160,
        **fields,
    }


def _containers(tmp_path, pool: dict, group: dict) -> list[dict]:
    config = KIT.load(write_config(tmp_path, {"node_pools": [*default_config_data()["node_pools"], pool], "workloads": [group]}))
    [lws] = [o for o in render_workloads(config)["big"] if o["kind"] == "LeaderWorkerSet"]
    template = lws["spec"]["leaderWorkerTemplate"]
    return [template[role]["spec"]["containers"][0] for role in ("leaderTemplate", "workerTemplate")]


# Held out of the examples: groups of 2 and 4 nodes on p5 (32 EFA interfaces) and p5en (16).
@pytest.mark.parametrize("instance_type,interfaces", [("p5.48xlarge", "32"), ("p5en.48xlarge", "16")])
@pytest.mark.parametrize("nodes", [2, 4])
def test_a_group_on_an_efa_pool_sends_nccl_over_efa_with_every_interface(tmp_path, instance_type, interfaces, nodes):
    for container in _containers(tmp_path, _pool("efa-pool", instance_type, nodes), _group("efa-pool", nodes)):
        env = {e["name"]: e.get("value") for e in container["env"]}
        # aws-ofi-nccl's plugin by name, NCCL held to it, libfabric's EFA provider, device RDMA (p5 and p5en have RDMA read).
        assert {key: env.get(key) for key in ("NCCL_NET", "NCCL_NET_PLUGIN", "FI_PROVIDER", "FI_EFA_USE_DEVICE_RDMA")} == {
            "NCCL_NET": "OFI",
            "NCCL_NET_PLUGIN": "ofi",
            "FI_PROVIDER": "efa",
            "FI_EFA_USE_DEVICE_RDMA": "1",
        }
        limits = container["resources"]["limits"]
        assert limits["vpc.amazonaws.com/efa"] == interfaces and container["resources"]["requests"]["vpc.amazonaws.com/efa"] == interfaces
        assert "/llm-kit/vllm-efa:v0.30.0-efa1.50.0-" in container["image"]
        # Over EFA every node reads its share of the checkpoint, not the whole of it.
        assert env["RUNAI_STREAMER_DIST_GLOBAL"] == "1"


def test_device_rdma_is_never_forced_on_an_efa_device_without_rdma_read(tmp_path):
    """libfabric aborts the process when FI_EFA_USE_DEVICE_RDMA=1 meets a device without RDMA read (g6e has none)."""
    pool = _pool("l40s-efa", "g6e.48xlarge", 2)
    seventy = {"type": "s3", "uri": "s3://{bucket}/models/meta-llama/Llama-3.1-70B-Instruct/"}
    for container in _containers(tmp_path, pool, _group("l40s-efa", 2, memory_gib_per_gpu=60, model=seventy)):
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["FI_PROVIDER"] == "efa" and env["NCCL_NET"] == "OFI"
        assert "FI_EFA_USE_DEVICE_RDMA" not in env


def test_cuda_needs_the_driver_branch_nvidia_names():
    assert CUDA_MIN_DRIVER[13] == "580" and required_driver("13.0.3") == "580" and required_driver("12.9.1") == "525.60.13"


def test_the_kits_pinned_amis_carry_a_driver_every_recorded_image_accepts():
    for family in AMI_VERSIONS:
        for image in ("vllm", "vllm-efa", "nccl-tests-efa", "triton"):
            assert mismatch(image, family, None) is None, (family, image)


def test_a_release_between_two_recorded_ones_of_one_branch_is_on_that_branch_and_others_are_not_guessed():
    assert (driver := driver_for("al2023", "v20260301")) is not None and driver.version == "580"
    assert (driver := driver_for("al2023", "v20251001")) is not None and driver.version == "570"
    # Between R575 (v20250715) and R570 (v20250807) nothing is assumed; nor past the newest recorded release.
    assert driver_for("al2023", "v20250801") is None and driver_for("al2023", "v20270101") is None


def test_a_pool_on_an_ami_with_an_older_driver_is_refused_with_both_versions_named(tmp_path):
    pool = _pool("old-driver", "p5.48xlarge", 2, ami_family="al2023", ami_version="v20251016")
    assert_rejected(
        tmp_path,
        {"node_pools": [*default_config_data()["node_pools"], pool], "workloads": [_group("old-driver", 2)]},
        [
            "workloads[0].node_pool",
            "CUDA 13.0.3",
            "NVIDIA driver 580 or later",
            "al2023@v20251016 carries driver 570.195.03",
            "remove ami_version",
        ],
    )


def test_the_same_pool_on_a_newer_release_passes(tmp_path):
    pool = _pool("new-driver", "p5.48xlarge", 2, ami_family="al2023", ami_version="v20251120")
    KIT.load(write_config(tmp_path, {"node_pools": [*default_config_data()["node_pools"], pool], "workloads": [_group("new-driver", 2)]}))


def test_a_burn_in_that_would_run_the_kits_nccl_tests_on_an_old_driver_is_refused(tmp_path):
    pool = _pool("burn", "p5.48xlarge", 2, ami_family="al2023", ami_version="v20250704", burn_in={})
    assert_rejected(
        tmp_path,
        {"node_pools": [*default_config_data()["node_pools"], pool]},
        ["node_pools[2].ami_version", "nccl-tests-efa image is built on CUDA 13.0.3", "carries driver 570.158.01"],
    )
