"""A resolved CloudFormation value read as text: literal strings kept, Fn::Join joined, and every other intrinsic
(Ref, Fn::GetAtt, Fn::Sub ...) written as a placeholder the caller chooses. The synth's read-back (image summary,
tests) and the cdk-nag finding ids all read values this one way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def flatten(value: Any, token: str | Callable[[Any], str]) -> str:
    """`value` as text. token: the text for an intrinsic other than Fn::Join, or a function from that intrinsic (the
    one-key dict, e.g. {"Ref": "Bucket"}) to its text."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(flatten(part, token) for part in parts)
    return token(value) if callable(token) else token
