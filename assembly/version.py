"""The kit's version, as pyproject.toml states it."""

from __future__ import annotations

import importlib.metadata
import tomllib
from pathlib import Path

DISTRIBUTION = "llm-serving-kit"
PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def kit_version() -> str:
    """The version in the clone's pyproject.toml; the installed package's metadata when run outside a clone."""
    if PYPROJECT.exists():
        return tomllib.loads(PYPROJECT.read_text())["project"]["version"]
    return importlib.metadata.version(DISTRIBUTION)
