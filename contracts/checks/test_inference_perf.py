"""The benchmark's config.yml, read by inference-perf 0.6.1's own config model.

inference-perf ignores keys it does not know, so a misspelt key would silently fall back to a default: the check
also walks the document against the model's fields.
"""

# pyright: reportMissingImports=false, reportMissingModuleSource=false
# This module runs in its contract environment (contracts/environments.py, from contracts/locks), which holds
# the program it imports; the kit's own .venv, where the checker runs, does not.

from __future__ import annotations

import pytest
import yaml
from inference_perf.config import Config
from pydantic import BaseModel


def unknown_keys(model: BaseModel, data: object, path: str = "") -> list[str]:
    if not isinstance(data, dict):
        return []
    found = []
    fields = {name: field for name, field in type(model).model_fields.items()}
    aliases = {field.alias: name for name, field in fields.items() if field.alias}
    for key, value in data.items():
        name = aliases.get(key, key)
        if name not in fields:
            found.append(f"{path}{key}")
            continue
        child = getattr(model, name, None)
        if isinstance(child, BaseModel):
            found += unknown_keys(child, value, f"{path}{key}.")
        elif isinstance(child, list) and isinstance(value, list):
            for index, (item, raw) in enumerate(zip(child, value)):
                if isinstance(item, BaseModel):
                    found += unknown_keys(item, raw, f"{path}{key}[{index}].")
    return found


def read(text: str) -> tuple[Config, dict]:
    data = yaml.safe_load(text)
    return Config(**data), data


def test_inference_perf_reads_the_benchmark_config(inference_perf):
    config, data = read(inference_perf["config_yml"])
    assert not unknown_keys(config, data)
    assert config.server.base_url == data["server"]["base_url"]
    assert [stage.concurrency_level for stage in config.load.stages] == [s["concurrency_level"] for s in data["load"]["stages"]]


def test_the_checks_refuse_what_inference_perf_would_refuse_or_ignore():
    with pytest.raises(ValueError):
        read("load: {type: constant, stages: [{concurrency_level: 4, num_requests: 10}]}\nserver: {base_url: http://x}\n")
    config, data = read("server: {base_url: http://x, ignore_eos: true, model: m}\n")
    assert unknown_keys(config, data) == ["server.model"]
