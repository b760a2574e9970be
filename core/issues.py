"""Config errors that tell the user where, what, what is allowed and how to fix it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

_MISSING = object()


@dataclass(frozen=True)
class ConfigIssue:
    """One problem in the config file."""

    path: str
    message: str
    value: Any = _MISSING
    allowed: str | None = None
    fix: str | None = None
    line: int | None = None

    def render(self) -> str:
        where = self.path or "<top level>"
        if self.line is not None:
            where = f"{where} (line {self.line})"
        parts = [f"{where}: {self.message}"]
        if self.value is not _MISSING:
            parts.append(f"    got: {self.value!r}")
        if self.allowed:
            parts.append(f"    allowed: {self.allowed}")
        if self.fix:
            parts.append(f"    fix: {self.fix}")
        return "\n".join(parts)


class ConfigError(Exception):
    """Raised with every problem found in a config file, never just the first."""

    def __init__(self, source: str, issues: list[ConfigIssue]):
        self.source = source
        self.issues = issues
        super().__init__(self.render())

    def render(self) -> str:
        count = len(self.issues)
        noun = "problem" if count == 1 else "problems"
        body = "\n".join(f"  - {issue.render()}".replace("\n", "\n  ") for issue in self.issues)
        return f"{self.source}: {count} config {noun}; nothing was synthesized.\n{body}"
