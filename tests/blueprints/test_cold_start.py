"""The cold-start budget: weights sized from the model, rates by source, the startup probe window derived from it."""

import pytest

from core.cold_start import PROBE_SLACK_MINUTES, Source, budget, weights_gb_from_name
from tests.blueprints.conftest import by_kind
from tests.helpers import assert_rejected

S3 = {"type": "s3", "uri": "s3://{bucket}/models/meta-llama/Llama-3.1-70B-Instruct/"}


@pytest.mark.parametrize(
    ("name", "quantization", "expected"),
    [("meta-llama/Llama-3.1-8B-Instruct", None, 16.0), ("s3://b/models/Llama-3.1-405B-FP8/", "fp8", 405.0), ("Qwen/Qwen2.5-0.5B", None, 1.0), ("org/no-size-here", None, None)],
)
def test_weights_are_sized_from_the_parameter_count_in_the_name(name, quantization, expected):
    assert weights_gb_from_name(name, quantization) == expected


def test_faster_sources_and_parallel_pulls_shorten_the_budget():
    slow = budget(image_gb=10, parallel_pull=False, weights_gb=140, source=Source("hf"), node_launch=True)
    fast = budget(image_gb=10, parallel_pull=True, weights_gb=140, source=Source("s3", streams=64), node_launch=True)
    assert fast.image_seconds < slow.image_seconds and fast.weights_seconds < slow.weights_seconds
    assert fast.total_seconds < slow.total_seconds
    # The probe starts with the container: it covers weights and warm-up with margin, not the node or the pull.
    assert fast.probe_minutes() * 60 >= fast.in_container_seconds * 1.5
    assert fast.probe_minutes() < (fast.total_seconds * 1.5) / 60 + PROBE_SLACK_MINUTES


def test_pipeline_stages_each_load_their_share():
    whole = budget(image_gb=10, parallel_pull=True, weights_gb=800, source=Source("s3", streams=64), node_launch=False, gpus=8)
    halves = budget(image_gb=10, parallel_pull=True, weights_gb=800, source=Source("s3", streams=64), node_launch=False, gpus=8, shards=2)
    assert halves.weights_seconds == pytest.approx(whole.weights_seconds / 2, abs=1)
    assert halves.node_seconds == 0


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
    workload = {"name": "big", "blueprint": "vllm", "node_pool": "gpu-h100-efa", "model": {**S3, "uri": "s3://{bucket}/models/Llama-3.1-405B-Instruct/"}, "tensor_parallel_size": 8, "startup_timeout_minutes": 5}
    assert_rejected(tmp_path, {"workloads": [workload]}, ["workloads[0].startup_timeout_minutes", "Kubernetes would restart the server while it loads", "remove it (the kit then allows"])


def test_the_kits_bucket_is_named_in_the_model_uri_and_the_account_filled_at_deploy(render):
    container = by_kind(render({})["llama-8b"])["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert container["args"][0] == "s3://llm-kit-models-{account}-us-west-2/models/meta-llama/Llama-3.1-8B-Instruct/"
