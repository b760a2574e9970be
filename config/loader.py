"""Read and validate a config file; every problem is raised together, before anything is built."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from config.translate import example_at, issues_from_validation_error
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
        issues = issues_from_validation_error(err, model, source)
        raise ConfigError(str(path), issues + _checks_beside(err, model, checks, source)) from None
    issues = checks(config)
    if issues:
        raise ConfigError(str(path), [_with_line(issue, source.lines) for issue in issues])
    return config


def _checks_beside(error: ValidationError, model: type[Model], checks: Callable[[Model], list[ConfigIssue]], source) -> list[ConfigIssue]:
    """The cross-field checks of a file that also has malformed values, so that every problem shows in one pass.

    Each malformed value is stood in for by its key's example (an unknown key is dropped); where the file then
    validates, the checks run on it, and what they report about the stood-in values, or about the lists and
    mappings that hold them, is left out: it would be about the example, not the file."""
    data = copy.deepcopy(source.data)
    repaired = []
    for item in error.errors(include_url=False):
        loc = tuple(part for part in item["loc"] if part != "[key]")
        stand_in = _stand_in(model, loc, item["type"])
        if stand_in is _NONE or not _put(data, loc, stand_in, item["type"] == "extra_forbidden"):
            return []
        repaired.append(dotted(loc))
    try:
        config = model.model_validate(data)
        found = checks(config)
    except Exception:  # noqa: BLE001 - a stand-in the checks cannot take is no reason to hide the file's own problems
        return []
    return [_with_line(issue, source.lines) for issue in found if not any(_related(issue.path, path) for path in repaired)]


_NONE = object()


def _stand_in(model: type[BaseModel], loc: tuple, kind: str) -> object:
    if kind == "extra_forbidden":
        return None
    example = example_at(model, loc)
    return _NONE if example is None else example


def _put(data: object, loc: tuple, value: object, remove: bool) -> bool:
    """Set (or remove) the value at loc in the parsed YAML; False where loc does not lead there (a union's tag in it)."""
    node = data
    for part in loc[:-1]:
        if isinstance(node, dict) and part in node or isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            return False
    last = loc[-1]
    if isinstance(node, dict) and (last in node or not remove):
        if remove:
            del node[last]
        else:
            node[last] = value
        return True
    if isinstance(node, list) and isinstance(last, int) and last < len(node) and not remove:
        node[last] = value
        return True
    return False


def _related(path: str, repaired: str) -> bool:
    """One path lies on the other's way: the same key, a key under it, or the list or mapping that holds it."""
    return path == repaired or repaired.startswith((path + ".", path + "[")) or path.startswith((repaired + ".", repaired + "["))


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
