"""CloudFormation intrinsic functions as the plan sees them: what a value refers to, and the value as text with each
unresolved part written as a placeholder (so two sides compare, and a manifest joined from parts parses)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, order=True)
class CfnReference:
    """What a CloudFormation intrinsic (Ref, Fn::GetAtt, Fn::ImportValue) points at."""

    kind: str
    """Ref, GetAtt or Import."""
    target: str
    """A logical id, a pseudo parameter (AWS::Region) or an export name."""
    attribute: str = ""

    def __str__(self) -> str:
        if self.kind == "GetAtt":
            return f"{self.target}.{self.attribute}"
        if self.kind == "Import":
            return f"import {self.target}"
        return self.target

    @property
    def pseudo(self) -> bool:
        return self.kind == "Ref" and self.target.startswith("AWS::")


def references(value: Any) -> set[CfnReference]:
    found: set[CfnReference] = set()
    _collect(value, found)
    return found


def _collect(value: Any, found: set[CfnReference]) -> None:
    if isinstance(value, list):
        for item in value:
            _collect(item, found)
        return
    if not isinstance(value, dict):
        return
    if len(value) == 1:
        ((key, arg),) = value.items()
        if key == "Ref" and isinstance(arg, str):
            found.add(CfnReference("Ref", arg))
            return
        if key == "Fn::GetAtt":
            target, attribute = arg.split(".", 1) if isinstance(arg, str) else (arg[0], ".".join(map(str, arg[1:])))
            found.add(CfnReference("GetAtt", target, attribute))
            return
        if key == "Fn::ImportValue" and isinstance(arg, str):
            found.add(CfnReference("Import", arg))
            return
        if key == "Fn::Sub":
            text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
            for name in _sub_names(text):
                if name not in variables:
                    target, _, attribute = name.partition(".")
                    found.add(CfnReference("GetAtt", target, attribute) if attribute else CfnReference("Ref", target))
            _collect(variables, found)
            return
    for item in value.values():
        _collect(item, found)


def _sub_names(text: str) -> list[str]:
    names, start = [], 0
    while (open_at := text.find("${", start)) >= 0:
        close_at = text.find("}", open_at)
        if close_at < 0:
            break
        name = text[open_at + 2 : close_at]
        if not name.startswith("!"):
            names.append(name)
        start = close_at + 1
    return names


def render(value: Any) -> str:
    """A value as text: strings as they are, Fn::Join joined, every other intrinsic as a ${...} placeholder."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((key, arg),) = value.items()
        if key == "Fn::Join" and isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], list):
            return str(arg[0]).join(render(part) for part in arg[1])
        if key == "Fn::Sub" and isinstance(arg, str):
            return arg
        if key == "Ref" and isinstance(arg, str):
            return "${Ref:" + arg + "}"
        if key == "Fn::ImportValue" and isinstance(arg, str):
            return "${Import:" + arg + "}"
        if key == "Fn::GetAtt":
            return "${GetAtt:" + (arg if isinstance(arg, str) else ".".join(map(str, arg))) + "}"
        if key.startswith("Fn::"):
            # No quotes or backslashes: the placeholder may sit inside a JSON string (a joined manifest).
            digest = hashlib.sha256(json.dumps(arg, sort_keys=True).encode()).hexdigest()[:12]
            return "${" + key + ":" + digest + "}"
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def is_literal(value: Any) -> bool:
    """No intrinsic function (and no pseudo parameter) anywhere inside."""
    if isinstance(value, list):
        return all(is_literal(item) for item in value)
    if isinstance(value, dict):
        if len(value) == 1 and (next(iter(value)).startswith("Fn::") or "Ref" in value):
            return False
        return all(is_literal(item) for item in value.values())
    return True


def deployment_unique(value: Any) -> bool:
    """A name built from the stack's id (or from another resource's generated id) differs on every creation of the
    stack; one built from literals, the account, the region or the stack's name does not."""
    for ref in references(value):
        if ref.kind == "Ref" and ref.target == "AWS::StackId":
            return True
        if not ref.pseudo and ref.kind in ("Ref", "GetAtt"):
            return True
    return False


def parse_manifest(value: Any) -> list[dict]:
    """The kubectl provider's Manifest property (a JSON list, joined from parts around tokens) as objects."""
    parsed = json.loads(render(value))
    return parsed if isinstance(parsed, list) else [parsed]
