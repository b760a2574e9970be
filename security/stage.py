"""Lay out everything one synth output deploys as files the scanners read, one Kubernetes object per file.

An output folder holds CloudFormation templates (cdk.out/), manifests (dist/) and the kit's Helm charts (charts/).
The stage gets:

- cloudformation/: the templates, verbatim (the scanners' CloudFormation checks);
- objects/: every Kubernetes object, one per file: the manifests' documents and the objects the templates carry
  inside their KubernetesManifest resources;
- helm/charts/<chart>/: the kit's charts, and helm/releases/<release>/: local chart assets a HelmChart resource
  installs; trivy renders both with their default values (the kit's charts then give dist/'s objects).

Each staged file is recorded with the subject its findings get (Kind.namespace.name; Kind.name for an object with
no namespace) and where it came from, so a finding names the object whatever path a scanner reports.
Third-party charts' Values and KubernetesPatch resources are kept for the kit's own checks (security/values.py).
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from security import embedded

_RESOURCE_START = re.compile(r'^  "([A-Za-z0-9]+)": \{$')
_RESOURCE_END = re.compile(r"^  \},?$")
# Kinds whose pod templates checkov and trivy read themselves.
SCANNED_WORKLOADS = frozenset(
    {"Pod", "PodTemplate", "Deployment", "DaemonSet", "StatefulSet", "ReplicaSet", "ReplicationController", "Job", "CronJob"}
)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


Context = tuple[tuple[tuple[str, str], ...], tuple[str, ...]]
"""An object's labels and its containers' images, which baseline entries may narrow on."""


@dataclass
class Stage:
    root: Path
    subjects: dict[str, str] = field(default_factory=dict)
    """Staged path (relative to root) -> the subject of its findings."""
    where: dict[str, str] = field(default_factory=dict)
    """Staged path -> where it came from in the output folder."""
    resource_lines: dict[str, list[tuple[int, int, str]]] = field(default_factory=dict)
    """Staged template -> (first line, last line, 'Type.LogicalId') of each resource, to name trivy's findings."""
    releases: list[embedded.Release] = field(default_factory=list)
    patches: list[embedded.Patch] = field(default_factory=list)
    context: dict[str, Context] = field(default_factory=dict)
    """Staged object -> (its labels, its containers' images), which baseline entries may narrow on."""
    objects: Counter = field(default_factory=Counter)
    """Objects staged by origin: manifests, templates (inside the CloudFormation templates), charts (templates of
    the kit's charts named after an object in dist/)."""
    charts: list[str] = field(default_factory=list)
    """Staged Helm charts (helm/charts/<kit chart>, helm/releases/<local chart release>), which trivy renders."""
    unrendered: list[str] = field(default_factory=list)
    """Staged charts trivy rendered no file of (set by the scan)."""

    def add_object(self, body: dict, origin: str, where: str) -> str:
        """Stage one object (and any pod template of a custom resource); the staged path of the object."""
        self.objects[origin.split("/", 1)[0]] += 1
        staged = self._write(body, origin, subject(body), where, (body.get("metadata") or {}).get("labels") or {})
        if body.get("kind") not in SCANNED_WORKLOADS:
            # The scanners know pod templates only inside core workload kinds; a custom resource's (a LeaderWorkerSet's
            # leader and worker templates, a DynamoGraphDeployment component's podTemplate) is staged as a Pod of its own,
            # whose findings name the custom resource.
            for path, template in pod_templates(body):
                metadata = template.get("metadata") or {}
                labels = {**((body.get("metadata") or {}).get("labels") or {}), **(metadata.get("labels") or {})}
                pod = {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {**metadata, "name": (body.get("metadata") or {}).get("name", "pod"), "labels": labels},
                    "spec": template["spec"],
                }
                if (body.get("metadata") or {}).get("namespace"):
                    pod["metadata"]["namespace"] = body["metadata"]["namespace"]
                self._write(pod, origin, subject(body), f"{where}#{path}", labels)
        return staged

    def _write(self, body: dict, origin: str, subject_: str, where: str, labels: dict) -> str:
        path = f"objects/{origin}/{len(self.subjects):04d}.yaml"
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(yaml.dump(body, Dumper=_DUMPER, sort_keys=False))
        self.subjects[path] = subject_
        self.where[path] = where
        self.context[path] = (tuple(sorted((str(k), str(v)) for k, v in labels.items())), tuple(images(body)))
        return path


def subject(body: dict) -> str:
    metadata = body.get("metadata") or {}
    namespace = metadata.get("namespace")
    return "/".join(str(part) for part in (body.get("kind", "?"), namespace, metadata.get("name", "?")) if part)


def pod_templates(node, path: str = "") -> list[tuple[str, dict]]:
    """(key path, template) of every pod template nested in an object: a mapping whose spec lists containers."""
    found = []
    if isinstance(node, dict):
        if path and isinstance(node.get("spec"), dict) and isinstance(node["spec"].get("containers"), list):
            return [(path, node)]
        for key, value in node.items():
            found += pod_templates(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            found += pod_templates(item, f"{path}[{index}]")
    return found


def images(node) -> list[str]:
    """Every container image in an object, however deeply its kind nests pod templates."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("containers", "initContainers", "ephemeralContainers") and isinstance(value, list):
                found += [str(container["image"]) for container in value if isinstance(container, dict) and "image" in container]
            else:
                found += images(value)
    elif isinstance(node, list):
        for item in node:
            found += images(item)
    return found


def _is_object(document) -> bool:
    return isinstance(document, dict) and "kind" in document and "apiVersion" in document


def _chart_root(path: Path, output: Path) -> Path | None:
    for parent in path.parents:
        if (parent / "Chart.yaml").exists():
            return parent
        if parent == output:
            break
    return None


def _spans(text: str) -> list[tuple[int, int, str]]:
    """(first line, last line, key) of each object two spaces deep in CDK's JSON (indent 1): Resources' entries,
    and Outputs', Parameters' and the like, which the caller drops by logical id."""
    spans, opened = [], None
    for number, line in enumerate(text.splitlines(), 1):
        if opened is None and (found := _RESOURCE_START.match(line)):
            opened = (number, found.group(1))
        elif opened is not None and _RESOURCE_END.match(line):
            spans.append((opened[0], number, opened[1]))
            opened = None
    return spans


def _stage_templates(stage: Stage, output: Path) -> None:
    for name, template in embedded.templates(output):
        staged = f"cloudformation/{name.replace('/', '__')}"
        (stage.root / "cloudformation").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(output / name, stage.root / staged)
        stage.where[staged] = name
        types = {logical_id: resource.get("Type", "?") for logical_id, resource in (template.get("Resources") or {}).items()}
        stage.resource_lines[staged] = [
            (first, last, f"{types[logical_id]}.{logical_id}")
            for first, last, logical_id in _spans((output / name).read_text())
            if logical_id in types
        ]
        for body, origin in embedded.manifest_objects(template, name):
            stage.add_object(body, f"templates/{Path(name).name.removesuffix('.json')}/{origin.resource}", str(origin))
        stage.releases += embedded.releases(template, name, output)
        stage.patches += embedded.patches(template, name)


def _manifest_files(output: Path) -> tuple[list[Path], list[Path]]:
    """Plain manifests, and the kit's chart folders; cdk.out's assets are read through the resources naming them."""
    manifests, charts = [], []
    for path in sorted([*output.rglob("*.yaml"), *output.rglob("*.yml")]):
        if any(part.startswith("asset.") for part in path.relative_to(output).parts):
            continue
        chart = _chart_root(path, output)
        if chart is None:
            manifests.append(path)
        elif path.name == "Chart.yaml":
            charts.append(chart)
    return manifests, charts


def build(output: Path, root: Path) -> Stage:
    """Stage one output folder under root (which must not exist yet)."""
    root.mkdir(parents=True)
    stage = Stage(root)
    _stage_templates(stage, output)
    manifests, charts = _manifest_files(output)
    # blueprints/helm.py names each chart template <kind>-<name>.yaml after the object it renders to without values,
    # which is the object in dist/.
    by_template: dict[str, tuple[str, Context]] = {}
    for path in manifests:
        where = str(path.relative_to(output))
        for document in yaml.load_all(path.read_text(), Loader=_LOADER):
            if _is_object(document):
                staged = stage.add_object(document, f"manifests/{where}", where)
                by_template[f"{document['kind'].lower()}-{(document.get('metadata') or {}).get('name')}.yaml"] = (
                    stage.subjects[staged],
                    stage.context[staged],
                )
    for chart in charts:
        folder = f"helm/charts/{chart.name}"
        shutil.copytree(chart, root / folder)
        stage.charts.append(folder)
        for template in sorted((chart / "templates").glob("*.y*ml")):
            staged = f"{folder}/templates/{template.name}"
            stage.where[staged] = str(template.relative_to(output))
            if template.name in by_template:
                stage.subjects[staged], stage.context[staged] = by_template[template.name]
                stage.objects["charts"] += 1
    for release in stage.releases:
        if release.local and release.chart:
            folder = f"helm/releases/{release.release}"
            shutil.copytree(output / release.chart, root / folder)
            stage.charts.append(folder)
            stage.subjects[folder] = release.subject
            stage.where[folder] = str(release.origin)
    return stage


def locate(stage: Stage, path: str) -> str:
    """A scanner's path for a staged file, whatever form it reports (absolute, '/'-rooted at the scanned folder,
    relative), as the stage's own relative path; '' when it is not inside the stage."""
    candidate = Path(path)
    if candidate.is_absolute():
        try:
            return str(candidate.resolve().relative_to(stage.root.resolve()))
        except ValueError:
            # checkov reports files as '/<path inside the folder it was given>'.
            return path.lstrip("/") if (stage.root / path.lstrip("/")).exists() else ""
    return str(Path(path))


def owner(stage: Stage, path: str) -> tuple[str, str]:
    """(subject, where) of a staged path; a file inside a local chart a HelmChart resource installs belongs to its
    release. A chart template with no object of its name in dist/ has no subject."""
    if path in stage.subjects:
        return stage.subjects[path], stage.where[path]
    parts = Path(path).parts
    if len(parts) > 3 and parts[:2] == ("helm", "releases"):
        key = "/".join(parts[:3])
        return stage.subjects[key], f"{stage.where[key]} {'/'.join(parts[3:])}"
    return "", stage.where.get(path, path)


def cfn_resource(stage: Stage, path: str, line: int) -> str:
    """'Type.LogicalId' of the resource a template line falls in ('' outside the Resources section)."""
    return next((resource for first, last, resource in stage.resource_lines.get(path, []) if first <= line <= last), "")
