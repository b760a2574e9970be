"""The CloudFormation side of a plan: per stack, the resources added, removed and modified, and for each modified
one whether CloudFormation replaces it and which property forces it.

Replacement comes from the resource schema's createOnlyProperties (a changed create-only property means a new
physical resource) and from references: a resource whose create-only property refers to a replaced resource is
replaced too, and one that reads a changing attribute of a resource updated in place may be. A renamed construct
gets a new logical id, which CloudFormation sees as one resource removed and another added.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from assembly.plan_assembly import Assembly, Template, left_behind
from assembly.plan_facts import IN_PLACE_KUBECTL, KUBECTL_TYPES, UNKNOWN_CUSTOM, attribute_is_stable, retained, stateful
from assembly.plan_schema import ResourceSchema, Schemas
from assembly.plan_tokens import CfnReference, is_literal, references, render
from assembly.plan_values import MISSING, at_path, differences, short

IGNORED_TYPES = ("AWS::CDK::Metadata",)
NONE, REPLACE, MAY, UNKNOWN = "in place", "replace", "may replace", "unknown"


@dataclass
class Change:
    stack: str
    logical_id: str
    type: str
    path: str
    action: str
    """add, remove, modify, or follow (the template text is the same but a value it refers to changes)."""
    replacement: str = NONE
    reasons: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    stateful: str | None = None
    retained: bool = False

    @property
    def key(self) -> tuple[str, str]:
        return (self.stack, self.logical_id)

    @property
    def destroys(self) -> bool:
        """A physical resource goes away or is swapped for a new one (or may be)."""
        return self.action == "remove" or self.replacement in (REPLACE, MAY)


@dataclass
class CfnPlan:
    changes: list[Change]
    blocked: list[str]
    """Updates CloudFormation will refuse or fail, whatever is acknowledged."""
    stacks_left: list[str] = field(default_factory=list)
    """Top-level stacks the new side no longer has: a deploy leaves them as they are (cdk destroy removes them)."""


def diff(base: Assembly, new: Assembly, schemas: Schemas) -> CfnPlan:
    changes: dict[tuple[str, str], Change] = {}
    left = left_behind(base, new)
    for name in sorted(set(base.templates) | set(new.templates)):
        old_t, new_t = base.templates.get(name), new.templates.get(name)
        if name in left:
            continue
        old_r = _resources(old_t)
        new_r = _resources(new_t)
        for logical_id in sorted(set(old_r) | set(new_r)):
            match old_r.get(logical_id), new_r.get(logical_id):
                case dict() as before, dict() as after if before.get("Type") != after.get("Type"):
                    # The same logical id with another type: CloudFormation refuses; show it as a removal and an addition.
                    changes[(name, logical_id + " (old)")] = _whole(name, logical_id, before, old_t, "remove")
                    changes[(name, logical_id)] = _whole(name, logical_id, after, new_t, "add")
                case dict() as before, None:
                    changes[(name, logical_id)] = _whole(name, logical_id, before, old_t, "remove")
                case None, dict() as after:
                    changes[(name, logical_id)] = _whole(name, logical_id, after, new_t, "add")
                case dict() as before, dict() as after if _differs(before, after):
                    changes[(name, logical_id)] = _modified(name, logical_id, before, after, new_t, schemas)
    blocked = _renames(list(changes.values()), base, new, schemas)
    blocked += _propagate(changes, base, new, schemas)
    blocked += _named_replacements(changes, base, new, schemas)
    return CfnPlan(sorted(changes.values(), key=lambda c: (c.stack, c.path)), blocked, sorted(left))


def _resources(template: Template | None) -> dict[str, dict]:
    if template is None:
        return {}
    return {lid: body for lid, body in template.resources.items() if body.get("Type") not in IGNORED_TYPES}


def _policies(body: dict) -> tuple:
    return (body.get("DeletionPolicy"), body.get("UpdateReplacePolicy"))


def _differs(before: dict, after: dict) -> bool:
    return before.get("Properties") != after.get("Properties") or _policies(before) != _policies(after)


def _path(stack: str, logical_id: str, template: Template | None) -> str:
    return template.path_of(logical_id) if template else f"{stack}/{logical_id}"


def _whole(stack: str, logical_id: str, body: dict, template: Template | None, action: str) -> Change:
    path = _path(stack, logical_id, template)
    change = Change(stack, logical_id, body["Type"], path, action, stateful=stateful(body["Type"], body), retained=retained(body))
    if action == "remove" and change.retained:
        change.notes.append(f"DeletionPolicy {body['DeletionPolicy']}: CloudFormation leaves it behind instead of deleting it")
    return change


def _modified(stack: str, logical_id: str, before: dict, after: dict, template: Template | None, schemas: Schemas) -> Change:
    kind = after["Type"]
    path = _path(stack, logical_id, template)
    change = Change(stack, logical_id, kind, path, "modify", stateful=stateful(kind, after), retained=retained(after))
    old_props, new_props = before.get("Properties", {}), after.get("Properties", {})
    change.changed = differences(old_props, new_props)
    for label, a, b in (
        ("DeletionPolicy", *[x.get("DeletionPolicy") for x in (before, after)]),
        ("UpdateReplacePolicy", *[x.get("UpdateReplacePolicy") for x in (before, after)]),
    ):
        if a != b:
            change.notes.append(f"{label} {a or 'Delete'} -> {b or 'Delete'}")
    if kind in KUBECTL_TYPES:
        if old_props.get("ServiceToken") != new_props.get("ServiceToken"):
            change.replacement, change.reasons = UNKNOWN, ["ServiceToken changed: " + UNKNOWN_CUSTOM]
        else:
            change.notes.append(IN_PLACE_KUBECTL[kind])
        return change
    if kind.startswith("Custom::") or kind == "AWS::CloudFormation::CustomResource":
        change.replacement, change.reasons = UNKNOWN, [UNKNOWN_CUSTOM]
        return change
    if kind == "AWS::CloudFormation::Stack":
        change.notes.append("nested stack updated in place (its own changes are listed under it)")
        return change
    schema = schemas.get(kind)
    if schema is None:
        change.replacement, change.reasons = UNKNOWN, [f"no resource schema for {kind} in cfn-lint's data"]
        return change
    _classify(change, schema, old_props, new_props)
    return change


def _classify(change: Change, schema: ResourceSchema, old: dict, new: dict) -> None:
    for path, conditional in [(p, False) for p in schema.create_only] + [(p, True) for p in schema.conditional_create_only]:
        a, b = at_path(old, path), at_path(new, path)
        if a == b:
            continue
        prop = "/".join(path)
        if conditional:
            verdict, why = MAY, f"{prop} changed ({short(a)} -> {short(b)}); the schema marks it conditionally create-only"
        elif (_literal(a) and _literal(b)) or (render(a) != render(b) and _same_references(a, b)):
            verdict, why = REPLACE, f"{prop} changed ({short(a)} -> {short(b)}): create-only"
        else:
            refs = ", ".join(sorted(str(r) for r in references(b) if not r.pseudo)) or "a token"
            verdict, why = MAY, f"{prop} changed ({short(a)} -> {short(b)}): create-only; may replace: depends on {refs}"
        _worse(change, verdict, why)


def _literal(value: Any) -> bool:
    return value is MISSING or is_literal(value)


def _same_references(a: Any, b: Any) -> bool:
    """Both sides refer to the same things, so the literal parts around them differ: the value differs."""
    return a is not MISSING and b is not MISSING and references(a) == references(b)


RANK = {NONE: 0, UNKNOWN: 1, MAY: 2, REPLACE: 3}


def _worse(change: Change, verdict: str, why: str) -> None:
    if RANK[verdict] > RANK[change.replacement]:
        change.replacement = verdict
    change.reasons.append(why)


def _renames(changes: list[Change], base: Assembly, new: Assembly, schemas: Schemas) -> list[str]:
    """A removed and an added resource of one type with the same properties: a construct renamed or moved. And a new
    resource that takes a fixed name a removed one holds: CloudFormation creates before it deletes, so it fails."""
    blocked = []
    removed = [c for c in changes if c.action == "remove"]
    added = [c for c in changes if c.action == "add"]
    for old in removed:
        old_body = base.templates[old.stack].resources[old.logical_id.removesuffix(" (old)")]
        for fresh in added:
            if fresh.type != old.type:
                continue
            new_body = new.templates[fresh.stack].resources[fresh.logical_id]
            if _shape(old_body) == _shape(new_body):
                old.notes.append(f"looks renamed or moved to {fresh.path}: a new physical resource, not the same one")
                fresh.notes.append(f"looks renamed or moved from {old.path}: CloudFormation creates it new and deletes {old.logical_id}")
            schema = schemas.get(fresh.type)
            for prop in schema.name_properties if schema else ():
                name = old_body.get("Properties", {}).get(prop)
                if name is not None and render(name) == render(new_body.get("Properties", {}).get(prop)):
                    blocked.append(
                        f"{fresh.stack}: {fresh.path} ({fresh.type}) takes the {prop} {short(name)} that {old.path} holds; CloudFormation "
                        "creates the new resource before it deletes the old one, so the "
                        "create fails. Give it another name, or deploy the removal first"
                    )
    return blocked


def _shape(body: dict) -> str:
    """Properties as text, with logical ids blanked: two copies of one construct under different ids compare equal."""
    text = render(body.get("Properties", {}))
    for ref in references(body.get("Properties", {})):
        if not ref.pseudo and ref.kind != "Import":
            text = text.replace(ref.target, "*")
    return text


def _propagate(changes: dict[tuple[str, str], Change], base: Assembly, new: Assembly, schemas: Schemas) -> list[str]:
    """Follow references from replaced resources, within a stack and through exports, to a fixed point."""
    blocked: list[str] = []
    exports, base_exports = new.exports(), base.exports()
    base_imports = _imports(base)
    reported_exports: set[str] = set()
    while True:
        replaced = {key for key, c in changes.items() if c.replacement == REPLACE or c.action in ("remove",)}
        in_place = {key for key, c in changes.items() if c.action in ("modify", "follow") and c.replacement != REPLACE}
        grew = False
        for name, template in new.templates.items():
            for logical_id, body in _resources(template).items():
                key = (name, logical_id)
                current = changes.get(key)
                if current is not None and current.action == "add":
                    continue
                schema = schemas.get(body["Type"])
                create_only = schema.create_only if schema else ()
                for prop, value in body.get("Properties", {}).items():
                    forced = any(path[0] == prop for path in create_only)
                    for ref in references(value):
                        origin = _origin(ref, name, exports)
                        if origin is None:
                            continue
                        if origin[:2] in replaced:
                            verdict = REPLACE if forced else NONE
                            why = f"{prop} refers to {origin[1]}, which is replaced"
                        elif origin[:2] in in_place and origin[2] and not attribute_is_stable(origin[2]) and forced:
                            verdict, why = MAY, f"{prop}: may replace: depends on {origin[1]}.{origin[2]}, which changes in place"
                        else:
                            continue
                        if current is None:
                            current = changes[key] = Change(
                                name,
                                logical_id,
                                body["Type"],
                                template.path_of(logical_id),
                                "follow",
                                stateful=stateful(body["Type"], body),
                                retained=retained(body),
                            )
                            grew = True
                        note = f"{why}: its new value is written in place"
                        if why in current.reasons or note in current.notes:
                            continue
                        if verdict == NONE:
                            current.notes.append(note)
                        else:
                            before = current.replacement
                            _worse(current, verdict, why)
                            grew |= current.replacement != before
        for export, (stack, value) in exports.items():
            if export in reported_exports or export not in base_imports:
                continue
            hit = [str(r) for r in references(value) if (stack, r.target) in replaced]
            old_value = base_exports.get(export, (stack, value))[1]
            if hit or render(old_value) != render(value):
                reported_exports.add(export)
                importers = ", ".join(sorted(base_imports[export]))
                cause = f"{', '.join(hit)} is replaced" if hit else "its value changes"
                blocked.append(
                    f"{stack}: the export {export} changes ({cause}) while {importers} "
                    "imports it; CloudFormation refuses to update an export in use"
                )
        if not grew:
            return blocked


def _origin(ref: CfnReference, stack: str, exports: dict[str, tuple[str, Any]]) -> tuple[str, str, str] | None:
    """The (stack, logical id, attribute) a reference reads, following an import to the exporting stack."""
    if ref.pseudo:
        return None
    if ref.kind == "Import":
        if ref.target not in exports:
            return None
        owner, value = exports[ref.target]
        inner = [r for r in references(value) if not r.pseudo]
        if len(inner) != 1:
            return None
        return (owner, inner[0].target, inner[0].attribute)
    return (stack, ref.target, ref.attribute)


def _imports(assembly: Assembly) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for name, template in assembly.templates.items():
        for ref in references(template.body.get("Resources", {})) | references(template.body.get("Outputs", {})):
            if ref.kind == "Import":
                found.setdefault(ref.target, set()).add(name)
    return found


def _named_replacements(changes: dict[tuple[str, str], Change], base: Assembly, new: Assembly, schemas: Schemas) -> list[str]:
    """CloudFormation cannot replace a resource whose name the template fixes: the new one would need the same name
    ("Name type", AWS CloudFormation User Guide: updates that require replacement fail unless the name changes)."""
    blocked = []
    for change in changes.values():
        if change.replacement != REPLACE or change.action not in ("modify", "follow"):
            continue
        schema = schemas.get(change.type)
        old_template = base.templates.get(change.stack)
        old_props = old_template.resources.get(change.logical_id, {}).get("Properties", {}) if old_template is not None else {}
        new_props = new.templates[change.stack].resources[change.logical_id].get("Properties", {})
        for prop in schema.name_properties if schema else ():
            # A name that refers to another resource follows it; only literals and pseudo parameters fix a name.
            if (
                prop in new_props
                and render(old_props.get(prop)) == render(new_props[prop])
                and all(r.pseudo for r in references(new_props[prop]))
            ):
                blocked.append(
                    f"{change.stack}: {change.path} ({change.type}) must be replaced but keeps its {prop} {short(new_props[prop])}; "
                    "CloudFormation cannot replace a resource with a fixed name, so the update fails"
                )
    return blocked
