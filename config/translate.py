"""Turn pydantic's errors into ConfigIssues that say what is allowed and how to fix it."""

from __future__ import annotations

import difflib
import ipaddress
import re
import types
import typing
import unicodedata
from collections.abc import Set as AbstractSet
from datetime import date
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from pydantic.fields import FieldInfo

from core.issues import ConfigIssue
from core.regions import known_az_ids
from config.yaml_source import Loc, Source, dotted, line_of


_AZ_NAME_END = re.compile(r"^[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d[a-z]$")


def issues_from_validation_error(error: ValidationError, root: type[BaseModel], source: Source) -> list[ConfigIssue]:
    issues = []
    for item in error.errors(include_url=False):
        loc = tuple(part for part in item["loc"] if part != "[key]")
        issues.append(_issue(item, loc, root, source))
    return issues


def _issue(item: ErrorDetails, loc: Loc, root: type[BaseModel], source: Source) -> ConfigIssue:
    kind = item["type"]
    shown = _without_union_tags(root, loc)
    path = dotted(shown)
    line = line_of(source.lines, shown)
    parent = _model_at(root, loc[:-1])
    ctx = item.get("ctx") or {}
    if kind == "extra_forbidden" and parent is not None:
        present = {part[-1] for part in source.lines if len(part) == len(shown) and part[:-1] == shown[:-1] and part != shown}
        return _unknown_key(path, str(loc[-1]), sorted(parent.model_fields), line, present)
    field = _field_at(root, loc)
    about = _describe(field)
    example = _example(field, loc)
    zones = _zones_of_region(loc, source)
    if zones:
        # The key's own example (usw2-az2) belongs to us-west-2: name the zones of the config's region instead.
        about, example = f"an AZ ID of the config's region: {', '.join(zones)}", zones[0]
    if kind == "missing":
        fix = f"add '{loc[-1]}: {example}'" if example is not None else f"add '{loc[-1]}'"
        return ConfigIssue(path, "required key is missing", allowed=about, fix=fix, line=line)
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return _union_tag(path, kind, ctx, item.get("input"), line)
    value = item.get("input")
    written = source.retyped.get(shown)
    wants_text = kind in ("string_type", "string_pattern_mismatch") or (kind == "literal_error" and "'" in str(ctx.get("expected", "")))
    if written is not None and not isinstance(value, str) and wants_text:
        text, became = written
        read = _as_read(value)
        return ConfigIssue(
            path,
            f"YAML read the unquoted {text} as {became}{f' ({read})' if read != text else ''}, but this key takes text",
            value=text,
            allowed=about,
            fix=f'put it in quotes: {loc[-1]}: "{text}"',
            line=line,
        )
    if written is not None and isinstance(value, date):
        value = written[0]  # as the file has it, not as Python's datetime.datetime(...)
    message, fix = _wording(kind, ctx, item["msg"], example)
    fix = _specific_fix(kind, value, loc) or fix
    return ConfigIssue(path, message, value=value, allowed=_allowed(kind, ctx, about), fix=fix, line=line)


def example_at(root: type[BaseModel], loc: Loc) -> Any:
    """The example of the key at loc (a stand-in for a malformed value), or None where it has none."""
    return _example(_field_at(root, loc), loc)


def _zones_of_region(loc: Loc, source: Source) -> tuple[str, ...]:
    """The AZ IDs of the config's region, for an AZ ID key; empty when the region is not one the kit knows."""
    if not loc or loc[-1] not in ("az_id", "control_plane_az_id") or not isinstance(source.data, dict):
        return ()
    region = source.data.get("region")
    return known_az_ids(region) or () if isinstance(region, str) else ()


def _as_read(value: Any) -> str:
    """What YAML made of an unquoted value, in the file's own notation (2026-12-01, not datetime.date(2026, 12, 1))."""
    return value.isoformat() if isinstance(value, date) else repr(value)


def _unknown_key(path: str, key: str, allowed: list[str], line: int | None, present: AbstractSet[str | int] = frozenset()) -> ConfigIssue:
    readable = "".join(c for c in key if c.isprintable() and unicodedata.category(c) not in ("Cf", "Zs") or c == " ").strip()
    hidden = readable != key or not key.isascii()
    close = difflib.get_close_matches(readable if hidden else key, allowed, n=1, cutoff=0.6)
    shown = ascii(key) if hidden else repr(key)
    message = f"unknown key {shown}"
    if hidden:
        message += " (it holds invisible or non-ASCII characters)"
    if close and close[0] in present:
        # Renaming it would give the mapping the same key twice: this is a second, misspelt copy of a key that is set.
        return ConfigIssue(
            path,
            message + f"; it looks like a second '{close[0]}', which this mapping already sets",
            allowed="keys " + ", ".join(allowed),
            fix=f"remove it, or keep its value under the existing '{close[0]}' and remove this line",
            line=line,
        )
    if close:
        message += f"; did you mean '{close[0]}'?"
    fix = (
        (f"retype it as '{close[0]}'" if hidden else f"rename it to '{close[0]}'")
        if close
        else "remove it or move it under the right section"
    )
    return ConfigIssue(path, message, allowed="keys " + ", ".join(allowed), fix=fix, line=line)


def _union_tag(path: str, kind: str, ctx: dict, value: Any, line: int | None) -> ConfigIssue:
    discriminator = str(ctx.get("discriminator", "")).strip("'")
    expected = [tag.strip().strip("'") for tag in str(ctx.get("expected_tags", "")).split(",") if tag.strip()]
    if kind == "union_tag_not_found":
        return ConfigIssue(
            path,
            f"has no '{discriminator}' key, which says what kind of entry it is",
            allowed=", ".join(expected),
            fix=f"add '{discriminator}: <one of the allowed values>'",
            line=line,
        )
    tag = str(ctx.get("tag", ""))
    close = difflib.get_close_matches(tag, expected, n=1, cutoff=0.5)
    message = f"unknown {discriminator} '{tag}'" + (f"; did you mean '{close[0]}'?" if close else "")
    fix = f"set {discriminator}: {close[0]}" if close else f"set {discriminator} to one of the allowed values"
    return ConfigIssue(
        path + f".{discriminator}" if path else discriminator, message, value=tag, allowed=", ".join(expected), fix=fix, line=line
    )


def _wording(kind: str, ctx: dict, raw: str, example: Any) -> tuple[str, str]:
    """A message and a fix in the kit's words for pydantic's error kinds; our own validators' messages stand as they are."""
    like = f"use a value like {example!r}" if example is not None else None
    if kind == "value_error":
        return raw.removeprefix("Value error, "), like or "correct the value"
    if kind == "literal_error":
        return "not one of the allowed values", "pick one of the allowed values"
    if kind == "string_pattern_mismatch":
        return "does not have the form this key takes", like or "correct the value"
    bounds = {
        "greater_than_equal": ("must be at least {ge}", "raise it to {ge} or more"),
        "greater_than": ("must be more than {gt}", "raise it above {gt}"),
        "less_than_equal": ("must be at most {le}", "lower it to {le} or less"),
        "less_than": ("must be less than {lt}", "lower it below {lt}"),
        "too_short": ("needs at least {min_length} {items}", "add items, at least {min_length}"),
        "too_long": ("takes at most {max_length} {items}", "remove items, down to {max_length}"),
        "string_too_short": ("must be at least {min_length} characters long", "lengthen it to {min_length} characters or more"),
        "string_too_long": ("must be at most {max_length} characters long", "shorten it to {max_length} characters or fewer"),
    }
    if kind in bounds:
        message, fix = bounds[kind]
        count = ctx.get("min_length", ctx.get("max_length"))
        return message.format(items="item" if count == 1 else "items", **ctx), fix.format(**ctx)
    types_ = {
        "int_parsing": ("must be a whole number", "write a whole number, e.g. 8"),
        "int_type": ("must be a whole number", "write a whole number, e.g. 8"),
        "int_from_float": ("must be a whole number, without a fraction", "drop the fraction"),
        "float_parsing": ("must be a number", "write a number, e.g. 0.9"),
        "float_type": ("must be a number", "write a number, e.g. 0.9"),
        "bool_parsing": ("must be true or false", "write true or false"),
        "bool_type": ("must be true or false", "write true or false"),
        "string_type": ("must be text", "write text, in quotes if YAML would read it as something else"),
        "list_type": ("must be a list (- item lines, or [a, b])", "write a list"),
        "dict_type": ("must be a mapping of keys to values", "write 'key: value' lines indented under it"),
        "model_type": ("must be a mapping of keys to values", "write 'key: value' lines indented under it"),
        "model_attributes_type": ("must be a mapping of keys to values", "write 'key: value' lines indented under it"),
        "ip_v4_network": (
            "is not an IPv4 network in CIDR form, such as 10.0.0.0/16 (host bits must be zero)",
            "write an IPv4 network such as 10.0.0.0/16",
        ),
        "ip_v4_interface": ("is not an IPv4 network in CIDR form, such as 10.0.0.0/16", "write an IPv4 network such as 10.0.0.0/16"),
        "none_required": ("must be empty", "remove the value"),
        "timezone_aware": (
            "has no UTC offset, so the moment it names depends on the machine that reads it",
            "write it in UTC with a Z, e.g. 2026-12-01T11:30:00Z, or with its offset, e.g. 2026-12-01T12:30:00+01:00",
        ),
        "datetime_type": ("must be a date and time", "write an ISO 8601 time, e.g. 2026-12-01T11:30:00Z"),
        "datetime_parsing": ("is not a date and time in ISO 8601 form", "write an ISO 8601 time, e.g. 2026-12-01T11:30:00Z"),
        "datetime_from_date_parsing": ("is not a date and time in ISO 8601 form", "write an ISO 8601 time, e.g. 2026-12-01T11:30:00Z"),
    }
    if kind in types_:
        message, fix = types_[kind]
        return message, like or fix
    return raw.removeprefix("Value error, "), like or "correct the value"


def _specific_fix(kind: str, value: Any, loc: Loc) -> str | None:
    """Fixes that the wrong value itself suggests."""
    if kind in ("ip_v4_network", "ip_v4_interface") and isinstance(value, str):
        try:
            network = ipaddress.IPv4Network(value, strict=False)
        except ValueError:
            return "write an IPv4 network in CIDR form, such as 10.0.0.0/16"
        return f"use the network's own address: {network}"
    if (
        kind == "value_error"
        and loc
        and loc[-1] in ("az_id", "control_plane_az_id")
        and isinstance(value, str)
        and _AZ_NAME_END.match(value)
    ):
        # An AZ name (us-east-2b): the example of the key (usw2-az2) belongs to another region; the ID is the account's.
        return f"replace it with the AZ ID the command above prints for {value} in your account"
    if kind == "list_type" and isinstance(value, str | int | float):
        return f"write it as a list: {loc[-1]}: [{value}]"
    if kind in ("int_parsing", "int_type") and isinstance(value, str) and value.strip().replace("_", "").isdigit():
        return f"write the number without quotes or separators: {loc[-1]}: {int(value.strip().replace('_', ''))}"
    return None


def _allowed(kind: str, ctx: dict, about: str | None) -> str | None:
    if kind == "literal_error":
        return str(ctx.get("expected", "")) or about
    return about


def _describe(field: FieldInfo | None) -> str | None:
    if field is None or not field.description:
        return None
    return field.description.strip().split("\n")[0]


def _example(field: FieldInfo | None, loc: Loc = ()) -> Any:
    """The field's first example; for an item of a list (the loc ends in an index), the example's first item."""
    if field is None:
        return None
    examples = field.examples or next(
        (m.examples for m in _annotated_metadata(field.annotation) if isinstance(m, FieldInfo) and m.examples), None
    )
    if not examples:
        return None
    example = examples[0]
    if loc and isinstance(loc[-1], int) and isinstance(example, list) and example:
        return example[0]
    return example


def _annotated_metadata(annotation: Any) -> list[Any]:
    found: list[Any] = []
    if typing.get_origin(annotation) is typing.Annotated:
        found.extend(annotation.__metadata__)
    for arg in typing.get_args(annotation):
        found.extend(_annotated_metadata(arg))
    return found


def _field_at(root: type[BaseModel], loc: Loc) -> FieldInfo | None:
    """The model field that owns the value at loc (list indices and dict keys belong to their field)."""
    for end in range(len(loc), 0, -1):
        key = loc[end - 1]
        if not isinstance(key, str):
            continue
        model = _model_at(root, loc[: end - 1])
        if model is not None and key in model.model_fields:
            return model.model_fields[key]
    return None


def _without_union_tags(root: type[BaseModel], loc: Loc) -> Loc:
    """Drop the discriminator values pydantic puts in a location ('workloads', 0, 'vllm', 'model', 's3', 'uri'): the file
    has no such keys."""
    shown: list[str | int] = []
    for index, part in enumerate(loc):
        parent_models = _models_in(_annotation_at(root, loc[:index]))
        is_key = any(part in model.model_fields for model in parent_models)
        if isinstance(part, str) and len(parent_models) > 1 and not is_key and any(part in _tags_of(model) for model in parent_models):
            continue
        shown.append(part)
    return tuple(shown)


def _annotation_at(root: type[BaseModel], loc: Loc) -> Any:
    """Follow a key path through the model classes to the annotation there; None where it leaves them.
    A list index keeps a union of list items whole, so the next part (a union tag) can pick the member."""
    current: Any = root
    for part in loc:
        models = _models_in(current)
        if not models:
            return None
        if isinstance(part, int):
            current = models[0] if len(models) == 1 else current
            continue
        field = next((m.model_fields[part] for m in models if part in m.model_fields), None)
        current = field.annotation if field is not None else next((m for m in models if part in _tags_of(m)), None)
    return current


def _model_at(root: type[BaseModel], loc: Loc) -> type[BaseModel] | None:
    """The one model class at a key path, or None."""
    models = _models_in(_annotation_at(root, loc))
    return models[0] if len(models) == 1 else None


def _tags_of(model: type[BaseModel]) -> set[str]:
    """The values of a model's single-value Literal fields: what can tag it in a discriminated union
    (a workload's blueprint, a model source's type)."""
    tags = set()
    for field in model.model_fields.values():
        args = typing.get_args(field.annotation)
        if typing.get_origin(field.annotation) is typing.Literal and len(args) == 1 and isinstance(args[0], str):
            tags.add(args[0])
    return tags


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """Model classes reachable through Optional, Union, Annotated, list and dict values."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _models_in(args[0])
    if origin in (list, tuple, set, frozenset):
        return _models_in(args[0]) if args else []
    if origin is dict:
        return _models_in(args[1]) if len(args) == 2 else []
    if origin in (typing.Union, types.UnionType):
        found: list[type[BaseModel]] = []
        for arg in args:
            found.extend(_models_in(arg))
        return found
    return []
