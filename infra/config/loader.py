"""Find, read and validate the config file; all problems are raised together."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from pydantic import ValidationError

from infra.config.checks import cross_checks
from infra.config.errors import ConfigError, ConfigIssue
from infra.config.model import KitConfig
from infra.config.translate import issues_from_validation_error
from infra.config.yaml_source import dotted, read_yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = REPO_ROOT / "config" / "default.yaml"
ENV_VAR = "KIT_CONFIG"


def resolve_config_path(context_value: str | None = None) -> Path:
    """`-c config=PATH` wins over KIT_CONFIG, which wins over config/default.yaml."""
    chosen = context_value or os.environ.get(ENV_VAR) or DEFAULT_CONFIG
    return Path(chosen).expanduser()


def load_config(path: Path | str) -> KitConfig:
    path = Path(path)
    data, lines = read_yaml(path)
    try:
        config = KitConfig.model_validate(data)
    except ValidationError as err:
        raise ConfigError(str(path), issues_from_validation_error(err, KitConfig, lines)) from None
    issues = cross_checks(config)
    if issues:
        located = [_with_line(issue, lines) for issue in issues]
        raise ConfigError(str(path), located)
    return config


def _with_line(issue: ConfigIssue, lines: dict) -> ConfigIssue:
    if issue.line is not None:
        return issue
    by_path = {dotted(loc): line for loc, line in lines.items()}
    path = issue.path
    while path:
        if path in by_path:
            return replace(issue, line=by_path[path])
        path = path.rsplit(".", 1)[0] if "." in path else path.rsplit("[", 1)[0] if "[" in path else ""
    return issue
