"""Each registered blueprint's example workload as a config: config/default.yaml with the example added to its workloads.

A blueprint's `example` names the default config's node pools (and, where it needs another workload, the default's
llama-8b), so the default file is the one platform every example runs on. tests/blueprints/test_examples.py checks,
renders and validates each; contracts/collect.py hands their command lines to the programs that read them. A new
blueprint is covered by both once it is registered.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from assembly.kit import KIT, Kit, KitConfig
from blueprints.contract import Blueprint
from config.loader import DEFAULT_CONFIG


def example_data(blueprint: Blueprint, base: Path = DEFAULT_CONFIG) -> dict:
    """The base config's data, with the keys the blueprint's example_platform gives, and the example appended to its
    workloads, as the YAML would say it."""
    data = {**yaml.safe_load(base.read_text()), **blueprint.example_platform}
    data["workloads"] = [*data.get("workloads", []), blueprint.example.model_dump(mode="json", exclude_unset=True)]
    return data


def write_example(blueprint: Blueprint, folder: Path, base: Path = DEFAULT_CONFIG) -> Path:
    """The example's config file, folder/example-<blueprint>.yaml: what `./kit check` and `./kit synth` take."""
    path = folder / f"example-{blueprint.name}.yaml"
    path.write_text(yaml.safe_dump(example_data(blueprint, base), sort_keys=False))
    return path


def load_example(blueprint: Blueprint, folder: Path, kit: Kit = KIT) -> KitConfig:
    """The example's config through the kit's own loading: parsed, typed and checked (ConfigError on a problem)."""
    return kit.load(write_example(blueprint, folder))
