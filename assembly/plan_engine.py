"""A plan of two synthesized sides: what CloudFormation and the cluster will do, what must be acknowledged, and what
will fail whatever is acknowledged. Pure: reads two cloud assemblies, imports no CDK."""

from __future__ import annotations

from dataclasses import dataclass, field

from assembly import plan_diff, plan_kubernetes, plan_upgrades
from assembly.plan_assembly import Assembly
from assembly.plan_diff import Change
from assembly.plan_kubernetes import ObjectChange
from assembly.plan_schema import Schemas, schemas_for
from assembly.retained_names import NamedResource, collisions


@dataclass
class Gate:
    """A replacement or deletion of something stateful: the plan fails unless one of `keys` is acknowledged."""

    keys: tuple[str, ...]
    message: str


@dataclass
class DeployPlan:
    """What a deploy of `new` over `base` would do: CloudFormation and Kubernetes changes, version moves, and the gates."""

    cfn: plan_diff.CfnPlan
    kube: plan_kubernetes.KubePlan
    versions: list[plan_upgrades.VersionPlan]
    gates: list[Gate]
    acknowledged: list[Gate]
    unused_acks: list[str]
    teardown: list[NamedResource]
    teardown_documented: list[NamedResource]
    schemas: Schemas
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def refusals(self) -> list[str]:
        """Everything that makes the plan fail: unacknowledged gates, refused version changes, updates CloudFormation
        or the API server will refuse, and retained fixed names nobody documented."""
        out = [gate.message for gate in self.gates]
        out += [reason for version in self.versions for reason in version.refused]
        out += self.cfn.blocked
        out += [f"{o.owner}: {o.ident}: {o.refused}" for o in self.kube.objects if o.refused]
        out += [f"{n.stack}: {n.path} is retained with the fixed {n.prop} {n.name}" for n in self.teardown]
        return out

    @property
    def exit_code(self) -> int:
        return 1 if self.refusals else 0


def build(
    base: Assembly, new: Assembly, acks: list[str] | tuple[str, ...] = (), schemas: Schemas | None = None, upgrades=None
) -> DeployPlan:
    schemas = schemas or schemas_for(_region(new))
    cfn = plan_diff.diff(base, new, schemas)
    kube = plan_kubernetes.diff(base, new)
    versions = plan_upgrades.check(base, new, upgrades)
    gates = [_cfn_gate(c) for c in cfn.changes if c.stateful and c.destroys and not (c.action == "remove" and c.retained)]
    gates += [_kube_gate(o) for o in kube.objects if o.stateful and o.action in ("remove", "recreate")]
    open_gates, done, used = [], [], set()
    for gate in gates:
        hit = [ack for ack in acks if any(_matches(ack, key) for key in gate.keys)]
        used.update(hit)
        (done if hit else open_gates).append(gate)
    undocumented, documented = collisions(new, schemas)
    return DeployPlan(cfn, kube, versions, open_gates, done, [a for a in acks if a not in used], undocumented, documented, schemas)


def _region(assembly: Assembly) -> str:
    regions = {t.region for t in assembly.templates.values() if t.region and t.region != "unknown-region"}
    return sorted(regions)[0] if regions else "us-east-1"


def _short_path(change: Change) -> str:
    path = change.path
    for suffix in ("/Resource/Default", "/Resource"):
        path = path.removesuffix(suffix)
    return path


def _cfn_gate(change: Change) -> Gate:
    what = {"remove": "is deleted", "add": "is created"}.get(
        change.action, "is replaced" if change.replacement == plan_diff.REPLACE else "may be replaced"
    )
    why = "; ".join(change.reasons) or ("it is no longer in the template" if change.action == "remove" else "")
    if change.notes and change.action == "remove":
        why = "; ".join([why, *change.notes])
    short = _short_path(change)
    return Gate(
        (change.logical_id, change.path, short, f"{change.stack}/{change.logical_id}"),
        f"{change.stack}: {short} ({change.type}) {what}: {why}. That is {change.stateful}. "
        f"If this is intended, acknowledge it: --ack {short} (or --ack {change.logical_id})",
    )


def _kube_gate(obj: ObjectChange) -> Gate:
    what = "is deleted" if obj.action == "remove" else "is deleted and created again"
    return Gate(
        (obj.ident, f"{obj.kind}/{obj.name}"),
        f"{obj.owner}: {obj.ident} {what} ({'; '.join(obj.notes)}); that removes "
        f"{obj.stateful}. If this is intended, acknowledge it: --ack {obj.ident}",
    )


def _matches(ack: str, key: str) -> bool:
    """An acknowledgement names a logical id, a construct path, or a trailing part of one (Models/Bucket); never a
    whole stack or folder of resources."""
    ack, key = ack.strip("/"), key.strip("/")
    return key == ack or key.endswith("/" + ack)
