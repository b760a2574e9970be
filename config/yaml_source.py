"""Read a YAML config, keeping where every key is and how every unquoted value was written, so errors can point
at the line and show the value as the file has it (not as YAML turned it into a number or a boolean)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from core.issues import ConfigError, ConfigIssue

Loc = tuple[str | int, ...]
TAGS_YAML_CHANGES = {
    "tag:yaml.org,2002:int": "a number",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:bool": "a boolean",
    "tag:yaml.org,2002:null": "null",
    "tag:yaml.org,2002:timestamp": "a date",
}


@dataclass
class Source:
    """Where each key path of the file is, and the text of every unquoted scalar YAML read as something else."""

    data: dict[str, Any]
    lines: dict[Loc, int] = field(default_factory=dict)
    retyped: dict[Loc, tuple[str, str]] = field(default_factory=dict)
    """key path -> (the text as written, what YAML read it as), for plain scalars YAML turned into numbers, booleans or null."""


def read_yaml(path: Path) -> Source:
    source = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            source,
            [
                ConfigIssue(
                    "",
                    "the config file does not exist",
                    fix="check the path given with --config or KIT_CONFIG (relative paths are read from the current directory)",
                )
            ],
        ) from None
    except IsADirectoryError:
        raise ConfigError(
            source, [ConfigIssue("", "is a directory, not a config file", fix="name a .yaml file, e.g. config/default.yaml")]
        ) from None
    except OSError as err:
        raise ConfigError(source, [ConfigIssue("", f"the config file cannot be read: {err.strerror}")]) from None
    text = _decode(source, raw)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        try:
            data = yaml.safe_load(text)
        except ValueError:
            # PyYAML builds every unquoted YYYY-MM-DD... as a date and raises a bare ValueError for an impossible one.
            raise ConfigError(source, _impossible_dates(root)) from None
    except yaml.YAMLError as err:
        raise ConfigError(source, [_syntax_issue(err, text)]) from None
    if data is None:
        raise ConfigError(source, [ConfigIssue("", "the config file is empty", fix="start from config/default.yaml: copy it and edit it")])
    if not isinstance(data, dict):
        raise ConfigError(
            source,
            [ConfigIssue("", "the config must be a YAML mapping of keys to values", value=data, fix="start from config/default.yaml")],
        )
    found = Source(data)
    duplicates: list[ConfigIssue] = []
    _walk(root, (), found, duplicates)
    if duplicates:
        raise ConfigError(source, duplicates)
    return found


def _decode(source: str, raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        column = err.start - (raw.rfind(b"\n", 0, err.start) + 1) + 1
        raise ConfigError(
            source,
            [
                ConfigIssue(
                    "",
                    f"the file is not UTF-8: byte 0x{raw[err.start]:02x} at line {line}, column {column} is not valid UTF-8 (it was "
                    "probably saved as Latin-1 or Windows-1252)",
                    line=line,
                    fix="save the file as UTF-8 (in most editors: Save with Encoding > UTF-8), or retype the character on that line",
                )
            ],
        ) from None


def _impossible_dates(root: yaml.Node) -> list[ConfigIssue]:
    """The unquoted values YAML reads as dates that no calendar has (month 13, an offset of 25 hours)."""
    found = []
    stack: list[tuple[yaml.Node, Loc]] = [(root, ())]
    while stack:
        node, loc = stack.pop()
        if isinstance(node, yaml.MappingNode):
            stack += [(value, (*loc, key.value)) for key, value in reversed(node.value)]
        elif isinstance(node, yaml.SequenceNode):
            stack += [(item, (*loc, index)) for index, item in reversed(list(enumerate(node.value)))]
        elif isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:timestamp" and node.style is None:
            try:
                yaml.SafeLoader(node.value).construct_yaml_timestamp(node)
            except ValueError as err:
                reason = "its UTC offset is a day or more" if "offset" in str(err) else str(err)
                found.append(
                    ConfigIssue(
                        dotted(loc),
                        f"YAML reads the unquoted {node.value} as a date and time, and it is not a real one ({reason})",
                        value=node.value,
                        allowed="an ISO 8601 time such as 2026-12-01T11:30:00Z (month 1-12, an offset under 24 hours)",
                        fix="correct the date, or put the value in quotes if it is meant as text",
                        line=node.start_mark.line + 1,
                    )
                )
    return found or [ConfigIssue("", "YAML could not read a value of the file", fix="check the dates and numbers in the file")]


def _syntax_issue(err: yaml.YAMLError, text: str) -> ConfigIssue:
    mark = getattr(err, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    problem = getattr(err, "problem", None) or str(err)
    source_line = text.splitlines()[mark.line] if mark is not None and mark.line < len(text.splitlines()) else ""
    if "\t" in source_line or "'\\t'" in problem:
        return ConfigIssue(
            "",
            "a tab character indents or separates this line; YAML allows only spaces for indentation",
            line=line,
            fix="replace the tabs on that line with spaces (two per level, as in config/default.yaml)",
        )
    if "found duplicate anchor" in problem or "found undefined alias" in problem:
        return ConfigIssue(
            "", f"not valid YAML: {problem}", line=line, fix="give every &anchor a unique name and define it before its *alias"
        )
    if problem.startswith("mapping values are not allowed"):
        return ConfigIssue(
            "",
            "not valid YAML: a value holds ': ' (colon and space) or a key is indented under a value",
            line=line,
            fix="quote the value in double quotes, or line the key up with its siblings",
        )
    context = getattr(err, "context", None)
    detail = f"{context}, {problem}" if context else problem
    return ConfigIssue(
        "",
        f"not valid YAML: {detail}",
        line=line,
        fix="fix the YAML at that line: indentation by spaces, 'key: value' pairs, quotes around values holding ': ' or '#'",
    )


def _walk(node: yaml.Node, loc: Loc, found: Source, duplicates: list[ConfigIssue]) -> None:
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
            found.lines[path] = key_node.start_mark.line + 1
            _walk(value_node, path, found, duplicates)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            found.lines[(*loc, index)] = item.start_mark.line + 1
            _walk(item, (*loc, index), found, duplicates)
    elif isinstance(node, yaml.ScalarNode) and node.style is None and node.tag in TAGS_YAML_CHANGES:
        found.retyped[loc] = (node.value, TAGS_YAML_CHANGES[node.tag])


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
