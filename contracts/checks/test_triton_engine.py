"""Triton's model.json is handed to vLLM's AsyncEngineArgs(**json) by the vLLM backend: every key must be a field.

The pinned Triton image carries vLLM 0.27.1; this runs in both contract environments, vLLM 0.26.0 and 0.30.0, so a
key passes only if the versions on either side of 0.27.1 both have it.
"""

# pyright: reportMissingImports=false, reportMissingModuleSource=false
# This module runs in its contract environment (contracts/environments.py, from contracts/locks), which holds
# the program it imports; the kit's own .venv, where the checker runs, does not.

from __future__ import annotations

import dataclasses
import os

os.environ.setdefault("VLLM_TARGET_DEVICE", "cpu")

from vllm.engine.arg_utils import AsyncEngineArgs  # noqa: E402


def test_model_json_keys_are_engine_arguments(triton):
    fields = {field.name for field in dataclasses.fields(AsyncEngineArgs)}
    unknown = sorted(set(triton["model_json"]) - fields)
    assert not unknown, f"AsyncEngineArgs has no {unknown}"
    AsyncEngineArgs(**triton["model_json"])
