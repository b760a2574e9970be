"""Autoscaling targets and windows that KEDA or the HorizontalPodAutoscaler would take without scaling as meant."""

import pytest

from assembly.kit import KIT
from blueprints.vllm.params import VllmWorkload
from tests.helpers import assert_rejected, write_config

HF = {"type": "hf", "repo_id": "meta-llama/Llama-3.1-8B-Instruct"}


def _scaled(**autoscaling):
    return {"workloads": [{"name": "chat", "blueprint": "vllm", "node_pool": "gpu-l40s", "model": HF, "autoscaling": autoscaling}]}


CASES = [
    pytest.param(
        {"signal": "time_to_first_token", "target": 500},
        [
            "workloads[0].autoscaling.target",
            "p90 time to first token in seconds",
            "500 s is 8.3 minutes: most likely milliseconds written as seconds",
            "got: 500",
            "allowed: 0.01 to 30 (seconds)",
            "fix: write seconds, e.g. target: 0.5 for 500 ms",
        ],
        id="ttft-milliseconds-as-seconds",
    ),
    pytest.param(
        {"signal": "time_to_first_token", "target": 0.001},
        ["workloads[0].autoscaling.target", "below what any model answers in", "got: 0.001", "allowed: 0.01 to 30 (seconds)"],
        id="ttft-too-small",
    ),
    pytest.param(
        {"signal": "kv_cache_usage", "target": 0.95},
        [
            "workloads[0].autoscaling.target",
            "even a full KV cache would add no replica",
            "got: 0.95",
            "allowed: above 0, at most 0.9",
            "fix: set target: 0.8",
        ],
        id="kv-target-inside-the-tolerance",
    ),
    pytest.param(
        {"signal": "requests_waiting", "target": 0.0004},
        ["workloads[0].autoscaling.target", "thousandths", "allowed: 0.001 or more"],
        id="target-below-kedas-precision",
    ),
    pytest.param(
        {"scale_down_seconds": 7200}, ["workloads[0].autoscaling.scale_down_seconds", "3600"], id="scale-down-window-over-an-hour"
    ),
    pytest.param(
        {"min_replicas": 2, "max_replicas": 4, "fallback_replicas": 6},
        ["fallback_replicas (6) is outside min_replicas..max_replicas (2..4)"],
        id="fallback-above-max",
    ),
]


@pytest.mark.parametrize(("autoscaling", "expected"), CASES)
def test_bad_autoscaling_is_explained(tmp_path, autoscaling, expected):
    assert_rejected(tmp_path, _scaled(**autoscaling), expected)


@pytest.mark.parametrize("target", [0.01, 0.5, 30])
def test_time_to_first_token_targets_in_seconds_are_accepted(tmp_path, target):
    config = KIT.load(write_config(tmp_path, _scaled(signal="time_to_first_token", target=target)))
    workload = config.workloads[0]
    assert isinstance(workload, VllmWorkload) and workload.autoscaling is not None
    assert workload.autoscaling.target == target
