"""The Kubernetes side of a plan: objects the kubectl provider's manifests add, remove and change, per owner (a
workload, a node pool, a controller), and Helm releases whose chart version moves.

What an update does is the aws-eks-v2 kubectl handler's (aws-cdk-lib 2.275, kubectl-handler/apply/__init__.py):
Create runs `kubectl create` (`apply` when Overwrite is set), Update runs `kubectl apply` of the whole new manifest
with `--prune -l <PruneLabel>` when the resource has a prune label, Delete runs `kubectl delete`. So an object whose
kind, name or namespace changes is a new object: apply creates it and the prune deletes the old one (without a
prune label the old one stays behind). helm/__init__.py runs `helm upgrade --install` on Create and Update and
`helm uninstall` only on Delete: a release renamed in place leaves the old release installed.

CRDs in a chart's crds/ are created on install and skipped when they exist; an upgrade never touches them (helm
v4.2.4 pkg/action/install.go installCRDs, and upgrade.go has no CRD step; Helm 3 documents the same in
chart_best_practices/custom_resource_definitions.md). CHART_CRDS in core/versions.py says which charts ship them so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from assembly.plan_assembly import Assembly, left_behind
from assembly.plan_facts import KUBECTL_HELM, KUBECTL_MANIFEST
from assembly.plan_tokens import parse_manifest, render
from assembly.plan_values import differences
from core.versions import CHART_CRDS

# Deleting one of these loses what it holds or runs: the plan stops unless acknowledged.
STATEFUL_KINDS = {
    "Namespace": "every object in the namespace",
    "PersistentVolumeClaim": "the volume's data (by its reclaim policy)",
    "PersistentVolume": "the volume (by its reclaim policy)",
    "CustomResourceDefinition": "every custom resource of the kind",
    "NodePool": "every node Karpenter launched for it: drained and terminated",
}

# Fields the API server refuses to change (kubernetes pkg/apis/apps/validation/validation.go:
# ValidateStatefulSetUpdate allows only replicas, ordinals, template, updateStrategy,
# persistentVolumeClaimRetentionPolicy and minReadySeconds; apps/v1 selectors and a Job's selector and pod
# template are immutable). kubectl apply then fails, and CloudFormation rolls the stack update back.
IMMUTABLE = {
    "Deployment": ("spec.selector",),
    "DaemonSet": ("spec.selector",),
    "ReplicaSet": ("spec.selector",),
    "Job": ("spec.selector", "spec.template"),
}
STATEFULSET_MUTABLE = (
    "spec.replicas",
    "spec.ordinals",
    "spec.template",
    "spec.updateStrategy",
    "spec.persistentVolumeClaimRetentionPolicy",
    "spec.minReadySeconds",
)
POD_OWNERS = {"Deployment", "StatefulSet", "DaemonSet", "LeaderWorkerSet", "Job"}


@dataclass
class ObjectChange:
    owner: str
    kind: str
    namespace: str
    name: str
    action: str
    """add, remove, modify or recreate (its kind, name or namespace changed: deleted and created)."""
    changed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    refused: str | None = None
    stateful: str | None = None

    @property
    def ident(self) -> str:
        return f"{self.kind}/{self.namespace + '/' if self.namespace else ''}{self.name}"


@dataclass
class ChartChange:
    owner: str
    release: str
    chart: str
    action: str
    old_version: str | None
    new_version: str | None
    notes: list[str] = field(default_factory=list)


@dataclass
class KubePlan:
    objects: list[ObjectChange]
    charts: list[ChartChange]


def diff(base: Assembly, new: Assembly) -> KubePlan:
    objects: list[ObjectChange] = []
    charts: list[ChartChange] = []
    left = left_behind(base, new)
    for name in sorted(set(base.templates) | set(new.templates)):
        old_t, new_t = base.templates.get(name), new.templates.get(name)
        if name in left:
            continue
        old_r = old_t.resources if old_t else {}
        new_r = new_t.resources if new_t else {}
        for logical_id in sorted(set(old_r) | set(new_r)):
            before, after = old_r.get(logical_id), new_r.get(logical_id)
            body, template = (after, new_t) if after else (before, old_t)
            assert body is not None and template is not None, "the logical id comes from one side's resources"
            kind = body["Type"]
            owner = _owner(template.path_of(logical_id))
            if kind == KUBECTL_MANIFEST:
                objects += _manifest_changes(owner, before, after)
            elif kind == KUBECTL_HELM:
                change = _chart_change(owner, before, after)
                if change is not None:
                    charts.append(change)
    _note_drift(objects, new)
    return KubePlan(objects, charts)


def _owner(path: str) -> str:
    for suffix in ("/Resource/Default", "/Resource"):
        path = path.removesuffix(suffix)
    return path


def _objects(body: dict | None) -> dict[tuple[str, str, str], dict]:
    if body is None:
        return {}
    found = {}
    for obj in parse_manifest(body["Properties"]["Manifest"]):
        meta = obj.get("metadata", {})
        found[(obj.get("kind", "?"), meta.get("namespace", ""), meta.get("name", "?"))] = obj
    return found


def _manifest_changes(owner: str, before: dict | None, after: dict | None) -> list[ObjectChange]:
    old, new = _objects(before), _objects(after)
    prune = after is not None and "PruneLabel" in after["Properties"]
    out = []
    removed = [key for key in old if key not in new]
    added = [key for key in new if key not in old]
    for key in removed:
        partner = next((a for a in added if a[0] == key[0]), None)
        if partner is not None and after is not None:
            added.remove(partner)
            change = ObjectChange(owner, partner[0], partner[1], partner[2], "recreate", stateful=STATEFUL_KINDS.get(key[0]))
            was = f"{key[0]}/{key[1] + '/' if key[1] else ''}{key[2]}"
            if prune:
                change.notes.append(
                    f"was {was}: kubectl apply creates the new object and --prune "
                    "deletes the old one (a delete and a create, not an update)"
                )
            else:
                change.notes.append(
                    f"was {was}: kubectl apply creates the new object; without a prune label the old one stays in the cluster"
                )
            out.append(change)
            continue
        change = ObjectChange(owner, *key, "remove", stateful=STATEFUL_KINDS.get(key[0]))
        if after is None:
            change.notes.append("the manifest resource is deleted: the handler runs kubectl delete")
        elif prune:
            change.notes.append("kubectl apply --prune deletes it (it carries the resource's prune label)")
        else:
            change.notes.append("left in the cluster: the resource has no prune label, so apply never deletes it")
            change.stateful = None
        out.append(change)
    for key in added:
        out.append(ObjectChange(owner, *key, "add", notes=["created" if before is None else "kubectl apply creates it"]))
    for key in sorted(set(old) & set(new)):
        if old[key] == new[key]:
            continue
        change = ObjectChange(owner, *key, "modify", changed=differences(old[key], new[key]))
        _judge(change, old[key], new[key])
        out.append(change)
    return out


def _judge(change: ObjectChange, old: dict, new: dict) -> None:
    kind = change.kind
    touched = change.changed
    if kind == "StatefulSet":
        bad = [p for p in touched if p.startswith("spec.") and not p.startswith(STATEFULSET_MUTABLE)]
        if bad:
            change.refused = f"{', '.join(bad)}: a StatefulSet allows changes only to {', '.join(STATEFULSET_MUTABLE)}"
    for path in IMMUTABLE.get(kind, ()):
        if any(p == path or p.startswith(path + ".") or p.startswith(path + "[") for p in touched):
            change.refused = (
                f"{path} is immutable on a {kind}: kubectl apply fails and CloudFormation rolls the update back; "
                "delete the object first or give it a new name"
            )
    if kind in POD_OWNERS and any("template" in p for p in touched):
        added = {image for c in _containers(new) if (image := c.get("image")) is not None} - {c.get("image") for c in _containers(old)}
        images = sorted(added)
        change.notes.append("its pods are replaced by the controller's rollout" + (f" (new image {', '.join(images)})" if images else ""))
    if kind == "DynamoGraphDeployment" and any(p.startswith("spec") for p in touched):
        change.notes.append("the Dynamo operator rolls the graph's pods")


def _containers(obj: dict) -> list[dict]:
    found: list[dict] = []

    def walk(value):
        if isinstance(value, dict):
            for key, item in value.items():
                if key in ("containers", "initContainers") and isinstance(item, list):
                    found.extend(c for c in item if isinstance(c, dict))
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(obj.get("spec", {}))
    return found


def _note_drift(objects: list[ObjectChange], new: Assembly) -> None:
    """Karpenter replaces a NodePool's nodes when its EC2NodeClass or its node template changes (drift:
    karpenter-provider-aws v1.14.1 pkg/cloudprovider/drift.go, static fields and AMIDrift), as the pool's disruption
    budgets allow; a NodePool's budgets themselves change nothing on the nodes."""
    budgets = _budgets(new)
    for change in objects:
        if change.action != "modify":
            continue
        if change.kind == "EC2NodeClass" and any(p.startswith("spec") for p in change.changed):
            pools = [pool for pool, ref in budgets.items() if ref[0] == change.name]
            change.notes.append(
                "Karpenter drifts every node of this class: " + "; ".join(f"NodePool {p}: {budgets[p][1]}" for p in pools)
                if pools
                else "Karpenter drifts every node of this class"
            )
        if change.kind == "NodePool" and any(p.startswith("spec.template") for p in change.changed):
            change.notes.append(f"Karpenter drifts this pool's nodes: {budgets.get(change.name, ('', 'its budgets'))[1]}")


def _budgets(assembly: Assembly) -> dict[str, tuple[str, str]]:
    """NodePool name -> (its EC2NodeClass, its disruption budgets in words)."""
    found = {}
    for template in assembly.templates.values():
        for body in template.resources.values():
            if body.get("Type") != KUBECTL_MANIFEST:
                continue
            for obj in parse_manifest(body["Properties"]["Manifest"]):
                if obj.get("kind") != "NodePool":
                    continue
                spec = obj.get("spec", {})
                ref = spec.get("template", {}).get("spec", {}).get("nodeClassRef", {}).get("name", "")
                found[obj["metadata"]["name"]] = (ref, describe_budgets(spec.get("disruption", {}).get("budgets", [])))
    return found


def describe_budgets(budgets: list[dict]) -> str:
    if not budgets:
        return "Karpenter's default budget (10% of nodes at a time)"
    parts = []
    for budget in budgets:
        reasons = f" for {'/'.join(budget['reasons'])}" if "reasons" in budget else ""
        when = f" during '{budget['schedule']}' for {budget['duration']}" if "schedule" in budget else ""
        parts.append(f"at most {budget['nodes']} node(s) at a time{reasons}{when}")
    if any(b.get("nodes") == "0" and "schedule" not in b for b in budgets):
        parts.append("so drift never replaces a node: it waits until the node leaves on its own")
    return ", ".join(parts)


def _chart_change(owner: str, before: dict | None, after: dict | None) -> ChartChange | None:
    old = before["Properties"] if before else {}
    new = after["Properties"] if after else {}
    release = render(new.get("Release") or old.get("Release") or "?")
    # A chart packaged by the kit itself comes as a ChartAssetURL and has no Chart name or Version.
    chart = render(new.get("Chart") or old.get("Chart") or f"{release} (the kit's own chart)")
    crds = CHART_CRDS.get(chart)
    if before is None:
        return ChartChange(owner, release, chart, "add", None, new.get("Version"), ["helm upgrade --install installs it"])
    if after is None:
        notes = ["helm uninstall removes the release"]
        if crds and crds.in_crds_dir:
            notes.append("its CRDs stay: Helm never deletes CRDs it installed from crds/")
        return ChartChange(owner, release, chart, "remove", old.get("Version"), None, notes)
    if old == new:
        return None
    change = ChartChange(owner, release, chart, "modify", old.get("Version"), new.get("Version"))
    if render(old.get("Release")) != render(new.get("Release")) or render(old.get("Namespace")) != render(new.get("Namespace")):
        change.notes.append(
            f"release {render(old.get('Release'))} in {render(old.get('Namespace'))} becomes {release} in "
            f"{render(new.get('Namespace'))}: the handler "
            "installs the new release and never uninstalls the old one on an update; remove it by hand with helm uninstall"
        )
    if old.get("Version") != new.get("Version"):
        change.notes.append(f"chart {chart} {old.get('Version')} -> {new.get('Version')}: helm upgrade")
        if crds is None:
            change.notes.append("how this chart ships its CRDs is not in core/versions.py CHART_CRDS: check before deploying")
        elif crds.in_crds_dir:
            change.notes.append(f"Helm does not upgrade CRDs in crds/: {crds.upgrade}")
        else:
            change.notes.append(crds.upgrade)
    if render(old.get("Values")) != render(new.get("Values")):
        change.notes.append("values change: helm upgrade with the new values")
    return change
