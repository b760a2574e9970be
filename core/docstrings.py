"""A command's description, read from its module's docstring. The docstring is None under `python -OO`, which
strips docstrings; a description is then empty rather than an AttributeError before the command parses its flags."""

from __future__ import annotations


def first_line(doc: str | None) -> str:
    """The docstring's first line (its one-line summary), or "" without one."""
    return (doc or "").strip().partition("\n")[0]


def first_paragraph(doc: str | None) -> str:
    """The docstring up to its first blank line, or "" without one."""
    return (doc or "").strip().partition("\n\n")[0]
