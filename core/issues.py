"""Config errors that tell the user where, what, what is allowed and how to fix it."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any

_MISSING = object()


def _hides_characters(value: Any) -> bool:
    """Text whose look on screen could hide what it holds: invisible characters, or letters that only look Latin."""
    if isinstance(value, str):
        return any(not c.isprintable() or unicodedata.category(c) in ("Cf", "Zs", "Zl", "Zp") and c != " " for c in value) or (
            not value.isascii() and any(c.isascii() and c.isalpha() for c in value)
        )
    if isinstance(value, list | tuple):
        return any(_hides_characters(item) for item in value)
    return False


def visible(text: str) -> str:
    """The text with anything invisible or look-alike written as an escape (\u200b), so what is shown is what is there."""
    return ascii(text)[1:-1] if _hides_characters(text) else text


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
        where = visible(self.path) if self.path else "<top level>"
        if self.line is not None:
            where = f"{where} (line {self.line})"
        parts = [f"{where}: {self.message}"]
        if self.value is not _MISSING:
            value = self.value.isoformat() if isinstance(self.value, date) else self.value  # as a config file writes it
            parts.append(f"    got: {ascii(value) if _hides_characters(value) else repr(value)}")
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
