"""The cold-start budget: weights sized from the model, the bytes each pod really reads, rates by source, and the
startup probe window derived from it."""

import pytest

from core.cold_start import POD_NETWORK_MB_S, PROBE_MARGIN, PROBE_SLACK_MINUTES, budget, weights_gb_from_name, WeightSource
from core.streamer import StreamerLoad, loader_extra_config
from tests.blueprints.conftest import by_kind
from tests.helpers import assert_rejected

S3 = {"type": "s3", "uri": "s3://{bucket}/models/meta-llama/Llama-3.1-70B-Instruct/"}
S3_405B = {"type": "s3", "uri": "s3://{bucket}/models/meta-llama/Llama-3.1-405B-Instruct/", "streamer_concurrency": 64}


def known(seconds: int | None) -> int:
    """A figure the budget computes whenever the weights' size is known (None only without it)."""
    assert seconds is not None, "the budget left a figure unknown although the weights' size was given"
    return seconds


@pytest.mark.parametrize(
    ("name", "quantization", "expected"),
    [
        ("meta-llama/Llama-3.1-8B-Instruct", None, 16.0),
        ("s3://b/models/Llama-3.1-405B-FP8/", "fp8", 405.0),
        ("Qwen/Qwen2.5-0.5B", None, 1.0),
        ("org/no-size-here", None, None),
    ],
)
def test_weights_are_sized_from_the_parameter_count_in_the_name(name, quantization, expected):
    assert weights_gb_from_name(name, quantization) == expected


def test_faster_sources_and_parallel_pulls_shorten_the_budget():
    slow = budget(image_gb=10, parallel_pull=False, weights_gb=140, source=WeightSource("hf"), node_launch=True)
    fast = budget(image_gb=10, parallel_pull=True, weights_gb=140, source=WeightSource("s3", streams=64), node_launch=True)
    assert fast.image_seconds < slow.image_seconds and known(fast.weights_seconds) < known(slow.weights_seconds)
    assert known(fast.total_seconds) < known(slow.total_seconds)
    # The probe starts with the container: it covers weights and warm-up with margin, not the node or the pull.
    assert known(fast.probe_minutes()) * 60 >= known(fast.in_container_seconds) * 1.5
    assert known(fast.probe_minutes()) < (known(fast.total_seconds) * 1.5) / 60 + PROBE_SLACK_MINUTES


@pytest.mark.parametrize(
    ("load", "pod_share", "rank_share"),
    [
        pytest.param(StreamerLoad(1), 1, 1, id="one-gpu"),
        pytest.param(StreamerLoad(8, asked=False), 8, 1, id="tp8-every-rank-streams-it-all"),
        pytest.param(StreamerLoad(8), 1, 1 / 8, id="tp8-distributed"),
        pytest.param(StreamerLoad(8, nodes=2, asked=False), 8, 1, id="2-nodes-every-rank-streams-it-all"),
        pytest.param(StreamerLoad(8, nodes=2), 1, 1 / 8, id="2-nodes-each-node-reads-it-once"),
        pytest.param(StreamerLoad(8, nodes=2, efa=True), 1 / 2, 1 / 16, id="2-nodes-over-efa-share-it"),
        pytest.param(StreamerLoad(1, nodes=2), 1, 1, id="one-rank-per-node-groups-of-one"),
    ],
)
def test_what_each_pod_and_rank_of_a_server_reads(load, pod_share, rank_share):
    """runai-model-streamer 0.15.7-0.16.1 distributed_streamer.py: groups of the ranks of one host, or of all with
    RUNAI_STREAMER_DIST_GLOBAL=1; no group (every rank reads everything) without vLLM's "distributed"."""
    assert (load.pod_share(), load.rank_share()) == (pod_share, pytest.approx(rank_share))


def test_the_loader_is_told_to_share_only_where_there_are_ranks_to_share_with():
    assert loader_extra_config(16, ranks=1) == {"concurrency": 16}
    assert loader_extra_config(16, ranks=2) == {"concurrency": 16, "distributed": True}


def test_each_rank_streams_with_its_own_threads_up_to_the_pods_network():
    s3 = WeightSource("s3", streams=16)
    assert s3.rate_mb_s(readers=1) == 16 * 60
    assert s3.rate_mb_s(readers=2) == 2 * 16 * 60
    assert s3.rate_mb_s(readers=8) == POD_NETWORK_MB_S


def test_a_shared_file_system_is_shared_by_the_nodes_of_a_group():
    fsx = WeightSource("fsx", fsx_mb_s=1000)
    assert fsx.rate_mb_s(pods=2) == fsx.rate_mb_s() / 2


def test_every_node_of_a_group_reads_the_whole_checkpoint_unless_efa_lets_them_share():
    """Pipeline stages do not skip other stages' files: 810 GB per node, not 405, without a global group."""
    common = {
        "image_gb": 10,
        "parallel_pull": True,
        "weights_gb": 810,
        "source": WeightSource("s3", streams=64),
        "node_launch": False,
        "gpus": 8,
    }
    one_node = budget(**common)
    tcp = budget(**common, nodes=2)
    efa = budget(**common, nodes=2, efa=True)
    assert (one_node.pod_read_gb, tcp.pod_read_gb, efa.pod_read_gb) == (810, 810, 405)
    assert tcp.weights_seconds == one_node.weights_seconds == round(810_000 / POD_NETWORK_MB_S)
    assert efa.weights_seconds == pytest.approx(known(tcp.weights_seconds) / 2, abs=1)
    # Warm-up follows what each GPU holds: a sixteenth of the weights on two nodes.
    assert tcp.warmup_seconds < one_node.warmup_seconds


def test_the_leaders_window_covers_its_last_worker_arriving():
    common = {"image_gb": 10, "parallel_pull": True, "weights_gb": 810, "source": WeightSource("s3", streams=64), "gpus": 8, "nodes": 2}
    launched = budget(**common, node_launch=True)
    standing = budget(**common, node_launch=False)
    assert launched.join_seconds == launched.node_seconds + launched.image_seconds
    assert standing.join_seconds == standing.image_seconds
    assert launched.in_container_seconds == launched.join_seconds + known(launched.weights_seconds) + launched.warmup_seconds
    assert budget(**{**common, "nodes": 1}, node_launch=True).join_seconds == 0


def test_the_405b_group_window_covers_what_each_node_reads(render):
    """The window once derived from half the checkpoint per node (11 minutes) would restart the group while it loads."""
    workload = {
        "name": "big",
        "blueprint": "vllm-multinode",
        "node_pool": "gpu-h100-efa",
        "model": S3_405B,
        "nodes": 2,
        "tensor_parallel_size": 8,
        "efa": False,
        "memory_gib_per_gpu": 160,
    }
    leader = by_kind(render({"workloads": [workload]})["big"])["LeaderWorkerSet"]["spec"]["leaderWorkerTemplate"]["leaderTemplate"]
    probe = leader["spec"]["containers"][0]["startupProbe"]
    window = probe["failureThreshold"] * probe["periodSeconds"]
    reading = 810_000 / POD_NETWORK_MB_S  # the whole checkpoint into each node at the pod's network rate
    assert window >= PROBE_MARGIN * reading + PROBE_SLACK_MINUTES * 60
    assert window > 11 * 60


def test_the_startup_probe_follows_the_budget(render):
    workload = {"name": "big", "blueprint": "vllm", "node_pool": "gpu-h100-efa", "model": S3, "tensor_parallel_size": 8}
    small = {**workload, "name": "small", "model_size_gib": 2}
    objects = render({"workloads": [workload, small]})
    windows = {}
    for name in ("big", "small"):
        probe = by_kind(objects[name])["Deployment"]["spec"]["template"]["spec"]["containers"][0]["startupProbe"]
        windows[name] = probe["failureThreshold"] * probe["periodSeconds"] / 60
    assert windows["big"] > windows["small"] >= PROBE_SLACK_MINUTES


def test_a_startup_window_shorter_than_the_load_is_refused(tmp_path):
    workload = {
        "name": "big",
        "blueprint": "vllm",
        "node_pool": "gpu-h100-efa",
        "model": {**S3, "uri": "s3://{bucket}/models/Llama-3.1-405B-Instruct/"},
        "tensor_parallel_size": 8,
        "startup_timeout_minutes": 5,
    }
    assert_rejected(
        tmp_path,
        {"workloads": [workload]},
        [
            "workloads[0].startup_timeout_minutes",
            "Kubernetes would restart the server while it loads",
            "810 GB read by each pod",
            "remove it (the kit then allows",
        ],
    )


def test_a_groups_window_must_cover_its_last_node_arriving(tmp_path):
    # 9 minutes outlasts the weights and warm-up (5m17s), not the worker's node launch and pull before them.
    workload = {
        "name": "big",
        "blueprint": "vllm-multinode",
        "node_pool": "gpu-h100-efa",
        "model": S3_405B,
        "nodes": 2,
        "tensor_parallel_size": 8,
        "efa": False,
        "memory_gib_per_gpu": 160,
        "startup_timeout_minutes": 9,
    }
    assert_rejected(
        tmp_path,
        {"workloads": [workload]},
        [
            "workloads[0].startup_timeout_minutes",
            "the group's last node arriving, loading the weights and warming up",
            "810 GB read by each pod",
        ],
    )


def test_the_kits_bucket_is_named_in_the_model_uri_and_the_account_filled_at_deploy(render):
    container = by_kind(render({})["llama-8b"])["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert container["args"][0] == "s3://llm-kit-models-{account}-us-west-2/models/meta-llama/Llama-3.1-8B-Instruct/"
