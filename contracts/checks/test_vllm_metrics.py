"""The vLLM metric names the kit's dashboards, alert rules, autoscalers and endpoint picker read, against what the
pinned vLLM's own Prometheus logger exposes (instantiated on a stand-in config; no engine runs)."""

# pyright: reportMissingImports=false, reportMissingModuleSource=false
# This module runs in its contract environment (contracts/environments.py, from contracts/locks), which holds
# the program it imports; the kit's own .venv, where the checker runs, does not.

from __future__ import annotations

from unittest.mock import MagicMock

import pytest


@pytest.fixture(scope="module")
def exposed() -> set[str]:
    import prometheus_client
    from vllm.v1.metrics.loggers import PrometheusStatLogger

    config = MagicMock()
    config.model_config.served_model_name = "model"
    config.model_config.max_model_len = 8192
    config.model_config.is_diffusion = False
    config.speculative_config = None
    config.lora_config = None
    config.kv_transfer_config = None
    config.observability_config.kv_cache_metrics = False
    config.cache_config.metrics_info = lambda: {"block_size": "16", "num_gpu_blocks": "1000"}
    # What the engine calls once it has sized its KV cache: the cache_config_info series the picker reads.
    PrometheusStatLogger(config, engine_indexes=[0]).log_engine_initialized()
    text = prometheus_client.generate_latest().decode()
    return {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line.startswith("vllm:")}


def test_every_vllm_metric_the_kit_reads_is_exposed(vllm_metrics, exposed):
    missing = sorted(set(vllm_metrics["names"]) - exposed)
    assert not missing, f"{vllm_metrics['where']}: vLLM does not expose {missing}"


def test_a_name_vllm_dropped_is_caught(exposed):
    # Dynamo's autoscaling docs still use the pre-v1 name; vLLM 0.30 no longer has it.
    assert "vllm:gpu_cache_usage_perc" not in exposed
