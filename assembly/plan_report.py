"""A plan as text: per stack the resources added (+), removed (-), modified (~) and following a replaced one (>),
then the Kubernetes objects per owner, Helm releases, the Kubernetes version, teardown, and what stops the plan."""

from __future__ import annotations

from itertools import groupby

from assembly.plan_diff import NONE, Change
from assembly.plan_engine import DeployPlan
from assembly.plan_schema import cfn_lint_version
from assembly.retained_names import describe

MARKS = {"add": "+", "remove": "-", "modify": "~", "follow": ">", "recreate": "!"}


def render(plan: DeployPlan, base_label: str, new_label: str) -> str:
    lines = [f"plan: {base_label} -> {new_label}"]
    if plan.timings:
        lines.append("  " + ", ".join(f"{name} {seconds:.1f}s" for name, seconds in plan.timings.items()))
    lines.append(
        f"  replacement from cfn-lint {cfn_lint_version()} resource schemas ({plan.schemas.region}, schemas of "
        f"{plan.schemas.schema_date[:10] or 'unknown date'})"
    )
    changes = plan.cfn.changes
    if not changes and not plan.kube.objects and not plan.kube.charts:
        lines.append("\nno changes")
    for stack, group in groupby(changes, key=lambda c: c.stack):
        lines.append(f"\n{stack}")
        lines += [_change_line(change) for change in group]
    for stack in plan.cfn.stacks_left:
        lines.append(f"\n{stack}: no longer in the app; a deploy leaves the stack as it is (cdk destroy {stack} removes it)")
    if plan.kube.objects:
        lines.append("\nKubernetes objects")
        for owner, group in groupby(sorted(plan.kube.objects, key=lambda o: (o.owner, o.ident)), key=lambda o: o.owner):
            lines.append(f"  {owner}")
            for obj in group:
                detail = ", ".join(obj.changed[:4]) + (f" and {len(obj.changed) - 4} more" if len(obj.changed) > 4 else "")
                lines.append(f"    {MARKS[obj.action]} {obj.ident}" + (f"  [{detail}]" if detail else ""))
                lines += [f"        {note}" for note in obj.notes]
                if obj.refused:
                    lines.append(f"        REFUSED: {obj.refused}")
    if plan.kube.charts:
        lines.append("\nHelm releases")
        for chart in plan.kube.charts:
            versions = f"{chart.old_version or '-'} -> {chart.new_version or '-'}"
            lines.append(f"  {MARKS[chart.action]} {chart.release} ({chart.chart}) {versions}  in {chart.owner}")
            lines += [f"      {note}" for note in chart.notes]
    for version in plan.versions:
        lines.append(f"\nKubernetes version {version.old} -> {version.new}")
        lines += [f"  REFUSED: {reason}" for reason in version.refused]
        lines += [f"  after the deploy: {note}" for note in version.notes]
    if plan.teardown or plan.teardown_documented:
        lines.append("\nTeardown and re-create (retained resources with fixed names)")
        lines += [f"  {describe(named)}" for named in plan.teardown_documented + plan.teardown]
    if plan.acknowledged:
        lines.append("\nAcknowledged")
        lines += [f"  {gate.message}" for gate in plan.acknowledged]
    if plan.unused_acks:
        lines.append(f"\nacknowledgements that matched nothing: {', '.join(plan.unused_acks)}")
    refusals = plan.refusals
    if refusals:
        lines.append(f"\nThe plan stops here ({len(refusals)}):")
        lines += [f"  - {reason}" for reason in refusals]
    else:
        lines.append("\nnothing stateful is replaced or deleted without acknowledgement")
    return "\n".join(lines)


def _change_line(change: Change) -> str:
    verdict = "" if change.replacement == NONE else f"  {change.replacement.upper()}"
    head = f"  {MARKS[change.action]} {_short(change.path, change.stack)}  {change.type}{verdict}"
    if change.stateful and change.destroys:
        head += "  (stateful)"
    detail = []
    if change.action == "modify" and change.replacement == NONE and change.changed:
        detail.append(
            "changed: " + ", ".join(change.changed[:5]) + (f" and {len(change.changed) - 5} more" if len(change.changed) > 5 else "")
        )
    detail += change.reasons + change.notes
    return "\n".join([head, *[f"      {line}" for line in detail]])


def _short(path: str, stack: str) -> str:
    root = stack.split("/", 1)[0]
    path = path.removeprefix(root + "/")
    for suffix in ("/Resource/Default", "/Resource"):
        path = path.removesuffix(suffix)
    return path
