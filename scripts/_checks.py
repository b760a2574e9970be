"""Check results and their report, shared by preflight.py and verify_cluster.py.

A check is a small function that takes the tool's context and returns Check rows. run_checks() calls
them in order and turns an exception the tool knows how to explain (guard) into a row, so one
unavailable API never hides the other results.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, TextIO, TypeVar

PASS, FAIL, WARN, SKIP = "PASS", "FAIL", "WARN", "SKIP"
STATUSES = (PASS, FAIL, WARN, SKIP)

Ctx = TypeVar("Ctx")


@dataclass(frozen=True)
class Check:
    name: str
    status: str
    detail: str
    fix: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def ok(name: str, detail: str) -> Check:
    return Check(name, PASS, detail)


def fail(name: str, detail: str, fix: str) -> Check:
    return Check(name, FAIL, detail, fix)


def warn(name: str, detail: str, fix: str | None = None) -> Check:
    return Check(name, WARN, detail, fix)


def skip(name: str, detail: str) -> Check:
    return Check(name, SKIP, detail)


CheckFn = Callable[[Ctx], Iterable[Check]]
Guard = Callable[[str, Exception], Check | None]


def run_checks(checks: Sequence[tuple[str, CheckFn]], ctx: Any, guard: Guard) -> list[Check]:
    """Run every check; guard(name, exc) returns the row for an exception it explains, or None to re-raise."""
    rows: list[Check] = []
    for name, check in checks:
        try:
            rows.extend(check(ctx))
        except Exception as exc:
            row = guard(name, exc)
            if row is None:
                raise
            rows.append(row)
    return rows


def exit_code(rows: Iterable[Check]) -> int:
    return 1 if any(row.status == FAIL for row in rows) else 0


def summary(rows: Sequence[Check]) -> str:
    counts = {status: sum(row.status == status for row in rows) for status in STATUSES}
    return ", ".join(f"{counts[status]} {status}" for status in STATUSES)


def render_table(rows: Sequence[Check]) -> str:
    width = max([len("CHECK"), *(len(row.name) for row in rows)])
    detail_column = " " * (width + 2 + 6 + 2)
    lines = [f"{'CHECK':<{width}}  STATUS  DETAIL"]
    for row in rows:
        lines.append(f"{row.name:<{width}}  {row.status:<6}  {row.detail}".rstrip())
        if row.fix and row.status in (FAIL, WARN):
            lines.append(f"{detail_column}fix: {row.fix}")
    return "\n".join(lines)


def report(rows: Sequence[Check], *, prog: str, as_json: bool, header: dict[str, Any], out: TextIO | None = None) -> int:
    """Print the table (or JSON) and return the exit code: 1 when any check failed."""
    out = out or sys.stdout
    code = exit_code(rows)
    if as_json:
        body = {
            **header,
            "ok": code == 0,
            "summary": {s: sum(r.status == s for r in rows) for s in STATUSES},
            "checks": [r.as_dict() for r in rows],
        }
        print(json.dumps(body, indent=2, default=str), file=out)
    else:
        context = ", ".join(f"{key} {value}" for key, value in header.items() if value is not None)
        print(f"{prog}: {context}" if context else prog, file=out)
        print(render_table(rows), file=out)
        print(f"{prog}: {summary(rows)}", file=out)
    return code
