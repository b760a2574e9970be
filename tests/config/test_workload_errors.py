"""Workload entries are checked against the pools and storage they use."""

from typing import Any

import pytest
import yaml

from assembly.kit import KIT
from blueprints.vllm.params import VllmWorkload
from core.issues import ConfigError
from tests.helpers import REPO, assert_rejected, assert_synth_refuses, write_config

HF = {"type": "hf", "repo_id": "meta-llama/Llama-3.1-8B-Instruct"}


def _vllm(**fields):
    return {"name": "w", "blueprint": "vllm", "node_pool": "gpu-l40s", "model": HF, **fields}


CASES = [
    pytest.param(_vllm(node_pool="gpu-a100"), ["workloads[0].node_pool", "no node pool", "gpu-l40s, gpu-h100-efa"], id="unknown-pool"),
    pytest.param(
        _vllm(instance_type="g6e.2xlarge", tensor_parallel_size=4),
        ["needs 4 GPUs but g6e.2xlarge has 1", "vllm-multinode"],
        id="too-many-gpus",
    ),
    pytest.param(
        _vllm(instance_type="g6e.48xlarge", tensor_parallel_size=3), ["leave GPUs of a 8-GPU g6e.48xlarge unusable"], id="tp-not-a-divisor"
    ),
    pytest.param(_vllm(instance_type="p5.48xlarge"), ["workloads[0].instance_type", "is not one of pool"], id="type-outside-pool"),
    pytest.param(_vllm(efa=True), ["workloads[0].efa", "has no EFA"], id="efa-on-non-efa-pool"),
    pytest.param(
        _vllm(model={"type": "fsx", "sub_path": "models/x"}), ["workloads[0].model", "FSx for Lustre, which is switched off"], id="fsx-off"
    ),
    pytest.param(
        _vllm(model={"type": "s3", "uri": "s3://someone-elses-bucket/models/x/"}),
        ["workloads[0].model.uri", "can read only the kit's model bucket"],
        id="foreign-bucket",
    ),
    pytest.param(
        _vllm(model={"type": "gcs", "uri": "gs://x/y"}),
        ["workloads[0].model.type", "unknown type 'gcs'", "allowed: s3, fsx, hf"],
        id="unknown-model-scheme",
    ),
    pytest.param(_vllm(model={"type": "s3", "uri": "https://bucket/models/x"}), ["must start with s3://"], id="not-an-s3-uri"),
    pytest.param({**_vllm(), "blueprint": "vllmm"}, ["workloads[0]", "vllmm"], id="unknown-blueprint"),
    pytest.param(
        _vllm(tensor_paralel_size=2),
        ["workloads[0].tensor_paralel_size", "did you mean 'tensor_parallel_size'"],
        id="misspelt-blueprint-key",
    ),
]


@pytest.mark.parametrize(("workload", "expected"), CASES)
def test_bad_workload_is_explained(tmp_path, workload, expected):
    assert_rejected(tmp_path, {"workloads": [workload]}, expected)


def test_two_workloads_with_one_name(tmp_path):
    with pytest.raises(ConfigError) as caught:
        KIT.load(write_config(tmp_path, {"workloads": [_vllm(), _vllm()]}))
    assert "used more than once" in caught.value.render()


def _multinode(**fields):
    return {
        "name": "big",
        "blueprint": "vllm-multinode",
        "node_pool": "gpu-h100-efa",
        "model": HF,
        "nodes": 2,
        "tensor_parallel_size": 8,
        "efa": False,
        **fields,
    }


REPEATED_FLAG = "repeats a flag the kit already passes"
# extra_args that repeat or override what the kit writes, in every spelling vLLM accepts; more than a pool can hold.
NEVER_RUNS = [
    pytest.param(
        _vllm(extra_args=["--port", "9000"]),
        [
            "workloads[0].extra_args[0]",
            REPEATED_FLAG + ": the kit writes --port 8000",
            "got: '--port'",
            "fix: remove it and set the workload's port instead",
        ],
        id="port-flag",
    ),
    pytest.param(
        _vllm(extra_args=["--max-num-seqs", "64", "--tensor_parallel_size=2"]),
        [
            "workloads[0].extra_args[2]",
            "(vLLM reads --tensor_parallel_size as --tensor-parallel-size): the kit writes --tensor-parallel-size 1",
            "got: '--tensor_parallel_size=2'",
            "set the workload's tensor_parallel_size instead",
        ],
        id="underscores-and-equals",
    ),
    pytest.param(
        _vllm(extra_args=["-tp", "2"]),
        ["workloads[0].extra_args[0]", "(vLLM reads -tp as --tensor-parallel-size)", "got: '-tp'"],
        id="short-alias",
    ),
    pytest.param(
        _vllm(extra_args=["--tensor-parallel", "2"]),
        [
            "workloads[0].extra_args[0]",
            "(vLLM takes --tensor-parallel as an abbreviation of --tensor-parallel-size)",
            "got: '--tensor-parallel'",
        ],
        id="abbreviation",
    ),
    pytest.param(
        _vllm(extra_args=["--no-enable-prefix-caching"]),
        [
            "workloads[0].extra_args[0]",
            "(vLLM reads --no-enable-prefix-caching as --enable-prefix-caching): the kit writes --enable-prefix-caching,",
            "set the workload's enable_prefix_caching instead",
        ],
        id="negation",
    ),
    pytest.param(
        _vllm(extra_args=["--model", "org/other"]),
        [
            "workloads[0].extra_args[0]",
            "the kit writes the model (meta-llama/Llama-3.1-8B-Instruct)",
            "got: '--model'",
            "set the workload's model instead",
        ],
        id="second-model",
    ),
    pytest.param(
        _vllm(kv_offload={"cpu_gib": 8}, extra_args=["--kv-transfer-config", "{}"]),
        [
            "workloads[0].extra_args[0]",
            "sets the KV connector, as the kit's --kv-offloading-size 8 does",
            "got: '--kv-transfer-config'",
            "fix: remove it; the kit writes this setting from the workload's own keys",
        ],
        id="kv-connector-beside-the-cpu-tier",
    ),
    pytest.param(
        _vllm(kv_offload={"cpu_gib": 8, "fsx": {"size_gib": 100}}, extra_args=["--kv-offloading-size=16"]),
        ["workloads[0].extra_args[0]", "sets the KV connector, as the kit's --kv-transfer-config", "got: '--kv-offloading-size=16'"],
        id="offloading-size-beside-file-tiers",
    ),
    pytest.param(
        _multinode(extra_args=["-n", "3", "--headless"]),
        [
            "workloads[0].extra_args[0]",
            "(vLLM reads -n as --nnodes): the kit writes --nnodes 2",
            "workloads[0].extra_args[2]",
            "the kit writes --headless,",
        ],
        id="multinode-flags",
    ),
    pytest.param(
        _multinode(port=29501),
        [
            "workloads[0].port",
            "is the port the leader's torch.distributed store listens on (--master-port 29501)",
            "got: 29501",
            "fix: keep the default 8000",
        ],
        id="multinode-port-on-the-master-port",
    ),
    pytest.param(
        _multinode(nodes=3),
        [
            "workloads[0].nodes",
            "one gang needs 24 GPUs, more than 'gpu-h100-efa' can ever hold "
            "(16 GPUs: 2 x p5.48xlarge): its pods would stay Pending forever",
            "got: 3",
            "or shrink the group",
        ],
        id="group-larger-than-the-pool-outside-queues",
    ),
    pytest.param(
        _vllm(replicas=20),
        [
            "workloads[0].replicas",
            "20 copies of 1 GPU need 20 GPUs at once, more than 'gpu-l40s' can ever hold "
            "(16 GPUs: 16 x g6e.2xlarge): the pods beyond it would stay Pending forever",
            "got: 20",
            "fix: lower replicas to 16 or fewer",
        ],
        id="replicas-beyond-the-pool",
    ),
    pytest.param(
        _vllm(model={"type": "s3", "uri": "s3://{bucket}/models/org/model/model-00001-of-00004.safetensors"}),
        [
            "workloads[0].model.uri",
            "names one file (model-00001-of-00004.safetensors); vLLM loads a model folder",
            "got: 's3://{bucket}/models/org/model/model-00001-of-00004.safetensors'",
            "fix: drop /model-00001-of-00004.safetensors from the URI",
        ],
        id="s3-uri-of-one-file",
    ),
]


@pytest.mark.parametrize(("workload", "expected"), NEVER_RUNS)
def test_a_workload_that_would_not_run_is_refused_before_anything_is_written(tmp_path, workload, expected):
    overrides: dict[str, Any] = {"workloads": [workload]}
    if workload.get("kv_offload", {}).get("fsx"):
        overrides["storage"] = {"fsx": {"enabled": True}}
    assert_synth_refuses(tmp_path, write_config(tmp_path, overrides), expected)


def test_extra_args_the_kit_does_not_write_are_kept(tmp_path):
    """--max-num-seqs, and a KV connector where kv_offload sets none, are not the kit's: accepted as given."""
    extra = [
        "--max-num-seqs",
        "64",
        "--enable-chunked-prefill",
        "--max_num_batched_tokens=8192",
        "--kv-transfer-config",
        '{"kv_connector":"LMCacheConnectorV1","kv_role":"kv_both"}',
    ]
    config = KIT.load(write_config(tmp_path, {"workloads": [_vllm(extra_args=extra)]}))
    workload = config.workloads[0]
    assert isinstance(workload, VllmWorkload) and workload.extra_args == extra


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param(
            {"extra_args": ["--disaggregation-mode", "decode"]},
            ["workloads[0].extra_args[0]", REPEATED_FLAG + ": the kit writes --disaggregation-mode prefill"],
            id="dynamo-role-flag",
        ),
        pytest.param(
            {"extra_args": ["--kv-offloading-size", "8"]},
            ["workloads[0].extra_args[0]", 'sets the KV connector, as the kit\'s --kv-transfer-config {"kv_connector":"NixlConnector"'],
            id="dynamo-offloading-beside-nixl",
        ),
        pytest.param(
            {"prefill_workers": 4},
            [
                "workloads[0].prefill_workers",
                "4 prefill workers of 4 GPUs and 1 decode worker of 8 GPUs need 24 GPUs "
                "at once, more than 'p5-efa' can ever hold (16 GPUs: 2 x p5.48xlarge)",
                "got: 4",
                "fix: lower prefill_workers",
            ],
            id="dynamo-workers-beyond-the-pool",
        ),
    ],
)
def test_a_dynamo_graph_that_would_not_run_is_refused(tmp_path, fields, expected):
    data = yaml.safe_load((REPO / "config" / "examples" / "dynamo-disaggregated-p5.yaml").read_text())
    data["workloads"][0].update(fields)
    path = tmp_path / "kit.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    assert_synth_refuses(tmp_path, path, expected)
