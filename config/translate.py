"""Turn pydantic's errors into ConfigIssues that say what is allowed and how to fix it."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from core.issues import ConfigIssue
from config.yaml_source import Loc, dotted, line_of


def issues_from_validation_error(error: ValidationError, root: type[BaseModel], lines: dict[Loc, int]) -> list[ConfigIssue]:
    issues = []
    for item in error.errors(include_url=False):
        issues.append(_issue(item, tuple(item["loc"]), root, lines))
    return issues


def _issue(item: dict[str, Any], loc: Loc, root: type[BaseModel], lines: dict[Loc, int]) -> ConfigIssue:
    kind = item["type"]
    shown = _without_union_tags(root, loc)
    path = dotted(shown)
    line = line_of(lines, shown)
    parent = _model_at(root, loc[:-1])
    if kind == "extra_forbidden" and parent is not None:
        allowed = sorted(parent.model_fields)
        key = str(loc[-1])
        close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
        message = f"unknown key '{key}'" + (f"; did you mean '{close[0]}'?" if close else "")
        fix = f"rename it to '{close[0]}'" if close else "remove it or move it under the right section"
        return ConfigIssue(path, message, allowed="keys " + ", ".join(allowed), fix=fix, line=line)
    field = _field_at(root, loc)
    about = _describe(field)
    if kind == "missing":
        example = _example(field)
        fix = f"add '{loc[-1]}: {example}'" if example is not None else f"add '{loc[-1]}'"
        return ConfigIssue(path, "required key is missing", allowed=about, fix=fix, line=line)
    message = item["msg"].removeprefix("Value error, ")
    if kind == "literal_error":
        expected = item.get("ctx", {}).get("expected", "")
        return ConfigIssue(path, "not one of the allowed values", value=item.get("input"), allowed=expected, fix="pick one of the allowed values", line=line)
    example = _example(field)
    fix = f"use a value like {example!r}" if example is not None else "correct the value"
    return ConfigIssue(path, message, value=item.get("input"), allowed=about, fix=fix, line=line)


def _describe(field: FieldInfo | None) -> str | None:
    if field is None or not field.description:
        return None
    return field.description.strip().split("\n")[0]


def _example(field: FieldInfo | None) -> Any:
    if field is None:
        return None
    if field.examples:
        return field.examples[0]
    for meta in _annotated_metadata(field.annotation):
        if isinstance(meta, FieldInfo) and meta.examples:
            return meta.examples[0]
    return None


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
        if not isinstance(loc[end - 1], str):
            continue
        model = _model_at(root, loc[: end - 1])
        if model is not None and loc[end - 1] in model.model_fields:
            return model.model_fields[loc[end - 1]]
    return None


def _without_union_tags(root: type[BaseModel], loc: Loc) -> Loc:
    """Drop the discriminator values pydantic puts in a location ('workloads', 0, 'vllm', 'model', 's3', 'uri'): the file has no such keys."""
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
