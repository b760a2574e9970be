"""Property values compared at a path, and the differences between two property trees."""

from __future__ import annotations

from typing import Any

from assembly.plan_tokens import render

MISSING = object()


def at_path(value: Any, path: tuple[str, ...]) -> Any:
    """The value at a schema path; '*' collects every item of a list (a list of what each holds)."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if head == "*":
        if not isinstance(value, list):
            return MISSING
        return [at_path(item, rest) for item in value]
    if isinstance(value, dict) and head in value:
        return at_path(value[head], rest)
    return MISSING


def differences(old: Any, new: Any, prefix: str = "") -> list[str]:
    """Dotted paths (list items as [i]) where two trees differ; a subtree that is new or gone counts once."""
    if isinstance(old, dict) and isinstance(new, dict) and not _intrinsic(old) and not _intrinsic(new):
        found = []
        for key in sorted(set(old) | set(new)):
            path = f"{prefix}.{key}" if prefix else key
            if key not in old or key not in new:
                found.append(path)
            else:
                found += differences(old[key], new[key], path)
        return found
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        found = []
        for index, (a, b) in enumerate(zip(old, new, strict=True)):
            found += differences(a, b, f"{prefix}[{index}]")
        return found
    return [] if old == new else [prefix or "(whole value)"]


def _intrinsic(value: dict) -> bool:
    return len(value) == 1 and (next(iter(value)).startswith("Fn::") or "Ref" in value)


def short(value: Any, limit: int = 60) -> str:
    if value is MISSING:
        return "(unset)"
    text = render(value) if not isinstance(value, list) else "[" + ", ".join(render(item) for item in value) + "]"
    return text if len(text) <= limit else text[: limit - 3] + "..."
