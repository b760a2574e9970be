"""Read and validate a config file; every problem is raised together, before anything is built."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from config.translate import issues_from_validation_error
from config.yaml_source import dotted, read_yaml
from core.issues import ConfigError, ConfigIssue

DEFAULT_CONFIG = Path(__file__).resolve().parent / "default.yaml"

Model = TypeVar("Model", bound=BaseModel)


def load_config(path: Path | str, model: type[Model], checks: Callable[[Model], list[ConfigIssue]]) -> Model:
    """Parse path into model, then run the cross-field checks; raise ConfigError with every problem found."""
    path = Path(path)
    source = read_yaml(path)
    try:
        config = model.model_validate(source.data)
    except ValidationError as err:
        raise ConfigError(str(path), issues_from_validation_error(err, model, source)) from None
    issues = checks(config)
    if issues:
        raise ConfigError(str(path), [_with_line(issue, source.lines) for issue in issues])
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
