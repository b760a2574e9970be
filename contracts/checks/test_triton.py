"""Triton's model repository as the kit writes it: config.pbtxt parsed into Triton's ModelConfig protobuf (tritonclient
2.73.0 ships model_config.proto), with the settings the vLLM backend requires."""

# pyright: reportMissingImports=false, reportMissingModuleSource=false
# This module runs in its contract environment (contracts/environments.py, from contracts/locks), which holds
# the program it imports; the kit's own .venv, where the checker runs, does not.

from __future__ import annotations

from google.protobuf import text_format
from tritonclient.grpc import model_config_pb2

import pytest


def model_config(text: str) -> model_config_pb2.ModelConfig:
    return text_format.Parse(text, model_config_pb2.ModelConfig())


def test_config_pbtxt_is_a_triton_model_config_for_the_vllm_backend(triton):
    config = model_config(triton["config_pbtxt"])
    assert config.backend == "vllm"
    # The vLLM backend asserts a decoupled transaction policy and, above one GPU, KIND_MODEL placement.
    assert config.model_transaction_policy.decoupled
    [group] = config.instance_group
    assert group.kind == model_config_pb2.ModelInstanceGroup.Kind.KIND_MODEL
    assert config.parameters["REPORT_CUSTOM_METRICS"].string_value == "true"
    # REPORT_CUSTOM_METRICS only takes effect while vLLM's stats are on.
    assert triton["model_json"].get("disable_log_stats") is False


def test_the_protobuf_refuses_what_triton_refuses():
    with pytest.raises(text_format.ParseError):
        model_config('name: "m"\nbackend: "vllm"\nmax_batch: 0\n')
