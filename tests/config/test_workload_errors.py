"""Workload entries are checked against the pools and storage they use."""

import pytest

from assembly.kit import KIT
from core.issues import ConfigError
from tests.helpers import assert_rejected, write_config

HF = {"type": "hf", "repo_id": "meta-llama/Llama-3.1-8B-Instruct"}


def _vllm(**fields):
    return {"name": "w", "blueprint": "vllm", "node_pool": "gpu-l40s", "model": HF, **fields}


CASES = [
    pytest.param(_vllm(node_pool="gpu-a100"), ["workloads[0].node_pool", "no node pool", "gpu-l40s, gpu-h100-efa"], id="unknown-pool"),
    pytest.param(_vllm(instance_type="g6e.2xlarge", tensor_parallel_size=4), ["needs 4 GPUs but g6e.2xlarge has 1", "vllm-multinode"], id="too-many-gpus"),
    pytest.param(_vllm(instance_type="g6e.48xlarge", tensor_parallel_size=3), ["leave GPUs of a 8-GPU g6e.48xlarge unusable"], id="tp-not-a-divisor"),
    pytest.param(_vllm(instance_type="p5.48xlarge"), ["workloads[0].instance_type", "is not one of pool"], id="type-outside-pool"),
    pytest.param(_vllm(efa=True), ["workloads[0].efa", "has no EFA"], id="efa-on-non-efa-pool"),
    pytest.param(_vllm(model={"type": "fsx", "sub_path": "models/x"}), ["workloads[0].model", "FSx for Lustre, which is switched off"], id="fsx-off"),
    pytest.param(_vllm(model={"type": "s3", "uri": "s3://someone-elses-bucket/models/x/"}), ["workloads[0].model.uri", "can read only the kit's model bucket"], id="foreign-bucket"),
    pytest.param(_vllm(model={"type": "gcs", "uri": "gs://x/y"}), ["workloads[0].model.type", "unknown type 'gcs'", "allowed: s3, fsx, hf"], id="unknown-model-scheme"),
    pytest.param(_vllm(model={"type": "s3", "uri": "https://bucket/models/x"}), ["must start with s3://"], id="not-an-s3-uri"),
    pytest.param({**_vllm(), "blueprint": "vllmm"}, ["workloads[0]", "vllmm"], id="unknown-blueprint"),
    pytest.param(_vllm(tensor_paralel_size=2), ["workloads[0].tensor_paralel_size", "did you mean 'tensor_parallel_size'"], id="misspelt-blueprint-key"),
]


@pytest.mark.parametrize(("workload", "expected"), CASES)
def test_bad_workload_is_explained(tmp_path, workload, expected):
    assert_rejected(tmp_path, {"workloads": [workload]}, expected)


def test_two_workloads_with_one_name(tmp_path):
    with pytest.raises(ConfigError) as caught:
        KIT.load(write_config(tmp_path, {"workloads": [_vllm(), _vllm()]}))
    assert "used more than once" in caught.value.render()
