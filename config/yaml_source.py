"""Read a YAML config, keeping the line of every key so errors can point at it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from core.issues import ConfigError, ConfigIssue

Loc = tuple[str | int, ...]


def read_yaml(path: Path) -> tuple[dict[str, Any], dict[Loc, int]]:
    """Return the parsed mapping and a map from key path to its 1-based line."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(source, [ConfigIssue("", "the config file does not exist", fix="check the path in KIT_CONFIG or -c config=")]) from None
    except OSError as err:
        raise ConfigError(source, [ConfigIssue("", f"the config file cannot be read: {err.strerror}")]) from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(err, "problem", None) or str(err)
        raise ConfigError(source, [ConfigIssue("", f"not valid YAML: {problem}", line=line, fix="fix the YAML syntax at that line")]) from None
    if not isinstance(data, dict):
        raise ConfigError(
            source,
            [ConfigIssue("", "the config must be a YAML mapping of keys to values", value=data, fix="start from config/default.yaml")],
        )
    lines: dict[Loc, int] = {}
    duplicates: list[ConfigIssue] = []
    _walk(root, (), lines, duplicates)
    if duplicates:
        raise ConfigError(source, duplicates)
    return data, lines


def _walk(node: yaml.Node, loc: Loc, lines: dict[Loc, int], duplicates: list[ConfigIssue]) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            path = (*loc, key)
            if key in seen:
                duplicates.append(
                    ConfigIssue(
                        dotted(path),
                        "this key appears twice in the same mapping; YAML would silently keep only the last one",
                        line=key_node.start_mark.line + 1,
                        fix="keep one of the two entries",
                    )
                )
            seen.add(key)
            lines[path] = key_node.start_mark.line + 1
            _walk(value_node, path, lines, duplicates)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*loc, index)] = item.start_mark.line + 1
            _walk(item, (*loc, index), lines, duplicates)


def dotted(loc: Loc) -> str:
    """('cluster', 'admins', 0) -> 'cluster.admins[0]'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def line_of(lines: dict[Loc, int], loc: Loc) -> int | None:
    """The line of the key path, or of its nearest parent that exists in the file."""
    for end in range(len(loc), 0, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None
