"""What scripts/stage_model.py records of what it staged, for the fit check to read offline.

A model folder: its config.json facts (core/model_fit.py from_config_json) and the size of its weight files go
beside the weights as <prefix>/<name>/kit-model.json, and into the local catalog (config/models.yaml by default,
core/model_catalog.py), keyed by the URI it was staged to. An adapter folder (--adapter): its adapter_config.json's
rank, base model and target modules, into the catalog's adapters. The catalog is the copy the config check reads
(it never calls AWS); commit it with the config that uses the models.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from core.model_fit import from_config_json

RECORD = "kit-model.json"
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")
HEADER = (
    "# Models and LoRA adapters staged with scripts/stage_model.py: the facts of their config.json and the size of their\n"
    "# weights, by the URI they were staged to. The config check reads this file for the GPU memory fit (docs/models.md);\n"
    "# stage_model rewrites it, so edit entries only by staging again.\n"
)


class RecordError(ValueError):
    """A folder that is not what --adapter or a model stage says it is."""


def weight_bytes(files: list[tuple[str, int]]) -> int:
    """The checkpoint's weight files, safetensors where there are any (a repo may carry both formats)."""
    safetensors = [size for rel, size in files if rel.endswith(".safetensors")]
    return sum(safetensors) if safetensors else sum(size for rel, size in files if rel.endswith(WEIGHT_SUFFIXES))


def model_record(source: Path, name: str, uri: str, files: list[tuple[str, int]], label: str) -> dict[str, Any]:
    """The record of a model folder; RecordError when its config.json does not describe a decoder the kit can size."""
    config_path = source / "config.json"
    if not config_path.is_file():
        raise RecordError(f"{source} has no config.json")
    try:
        config = json.loads(config_path.read_text())
        facts = from_config_json(name, config, weight_bytes=weight_bytes(files) or None)
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise RecordError(f"{config_path} does not describe a decoder model the kit can size (missing or bad {err})") from err
    kept = {key: value for key, value in dataclasses.asdict(facts).items() if key not in ("name", "source") and value is not None}
    return {"name": name, "uri": uri, "source": label, "staged": _now(), "facts": kept}


def adapter_record(source: Path, name: str, uri: str, label: str) -> dict[str, Any]:
    """The record of a LoRA adapter folder; refuses a folder vLLM would not load as one."""
    path = source / "adapter_config.json"
    if not path.is_file():
        raise RecordError(f"{source} has no adapter_config.json: --adapter stages a PEFT LoRA adapter folder")
    config = json.loads(path.read_text())
    if str(config.get("peft_type", "")).upper() != "LORA" or not isinstance(config.get("r"), int):
        raise RecordError(
            f"{path} is not a LoRA adapter (peft_type {config.get('peft_type')!r}, r {config.get('r')!r}); vLLM serves LoRA adapters only"
        )
    if not any(rel.name.startswith("adapter_model") for rel in source.iterdir()):
        raise RecordError(f"{source} has no adapter_model.safetensors (or .bin): the adapter's weights are missing")
    modules = config.get("target_modules")
    return {
        "name": name,
        "uri": uri,
        "source": label,
        "staged": _now(),
        "rank": config["r"],
        "base_model": config.get("base_model_name_or_path"),
        "target_modules": sorted(modules) if isinstance(modules, list) else modules,
    }


def update_catalog(path: Path, kind: str, record: dict[str, Any]) -> None:
    """Add or replace (by URI) one entry of the catalog's `models` or `adapters`."""
    data = yaml.safe_load(path.read_text()) if path.is_file() else None
    data = data if isinstance(data, dict) else {}
    entries = [entry for entry in data.get(kind) or [] if isinstance(entry, dict) and entry.get("uri") != record["uri"]]
    data[kind] = sorted([*entries, record], key=lambda entry: entry["uri"])
    data.setdefault("models", [])
    data.setdefault("adapters", [])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + yaml.safe_dump({"models": data["models"], "adapters": data["adapters"]}, sort_keys=False, width=120))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
