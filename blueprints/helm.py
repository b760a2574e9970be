"""Package each workload's rendered objects as a Helm chart, for teams that deploy with Helm, Argo CD or Flux.

The templates are the objects `cdk deploy` applies, written verbatim except for the namespace, which becomes
the release namespace. They read no values: the kit's config stays the one place a workload is changed.

Chart version: the kit's version (pyproject.toml) as SemVer, plus build metadata naming the templates:
`0.1.0+3f2a9c1b7e`. The same config gives the same version byte for byte; any change to a workload's objects
gives a new version string, so tools that rebuild a chart only when its version changes (Flux's default) see it.
appVersion: the tag of the workload's server image (the first container that asks for GPUs).
"""

from __future__ import annotations

import copy
import hashlib
import re
from pathlib import Path

import yaml

from core.labels import BLUEPRINT_LABEL, PART_OF
NAMESPACE_TEMPLATE = "{{ .Release.Namespace }}"
_NAMESPACE_MARK = "__release_namespace__"
_PEP440 = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?(?:\.?(a|b|rc|dev)\.?(\d+))?$")
_PRE_RELEASE = {"a": "alpha", "b": "beta", "rc": "rc", "dev": "dev"}
# libyaml's emitter where PyYAML was built with it: the same YAML, an order of magnitude faster for hundreds of charts.
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
VALUES_YAML = (
    "# The templates are the kit's rendered objects with the release namespace filled in; they read no values.\n"
    "# Change the workload in the kit's config and run ./kit synth to regenerate this chart.\n"
    "{}\n"
)


def semver(version: str) -> str:
    """A PEP 440 release (1.2, 1.2.3, 1.2.3rc1, 1.2.3.dev4) as SemVer 2 (1.2.0, 1.2.3, 1.2.3-rc.1, 1.2.3-dev.4)."""
    found = _PEP440.match(version)
    if not found:
        raise ValueError(f"kit version '{version}' has no SemVer form; use MAJOR.MINOR.PATCH with an optional a/b/rc/dev suffix")
    major, minor, patch, pre, number = found.groups()
    core = f"{major}.{minor}.{patch or 0}"
    return f"{core}-{_PRE_RELEASE[pre]}.{number}" if pre else core


def image_tag(image: str) -> str:
    if "@" in image:
        return image.rpartition("@")[2]
    name, _, tag = image.rpartition(":")
    return tag if name and "/" not in tag else "latest"


def _containers(node) -> list[dict]:
    """Every container spec in an object, in document order, however deeply its kind nests pod templates."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("containers", "initContainers") and isinstance(value, list):
                found += [c for c in value if isinstance(c, dict) and "image" in c]
            else:
                found += _containers(value)
    elif isinstance(node, list):
        for item in node:
            found += _containers(item)
    return found


def server_image_tag(items: list[dict]) -> str:
    containers = _containers(items)
    gpu = [c for c in containers if "nvidia.com/gpu" in (c.get("resources", {}).get("limits") or {})]
    chosen = gpu or containers
    return image_tag(chosen[0]["image"]) if chosen else "unknown"


def _escape_go_template(text: str) -> str:
    """Literal braces in the objects (JSON in arguments, say) must not be read as template actions."""
    return re.sub(r"\{\{|\}\}", lambda found: '{{ "' + found.group() + '" }}', text)


def template_text(obj: dict) -> str:
    obj = copy.deepcopy(obj)
    metadata = obj.setdefault("metadata", {})
    if "namespace" in metadata:
        metadata["namespace"] = _NAMESPACE_MARK
    text = yaml.dump(obj, Dumper=_DUMPER, sort_keys=False, width=1_000_000, allow_unicode=True)
    return _escape_go_template(text).replace(f"namespace: {_NAMESPACE_MARK}\n", f"namespace: {NAMESPACE_TEMPLATE}\n")


def template_name(obj: dict) -> str:
    return f"{obj['kind'].lower()}-{obj['metadata']['name']}.yaml"


def chart_files(name: str, items: list[dict], *, version: str, app_version: str | None = None) -> dict[str, str]:
    """{path inside the chart: text} for one workload."""
    templates = {f"templates/{template_name(obj)}": template_text(obj) for obj in items}
    if len(templates) != len(items):
        raise ValueError(f"workload '{name}' has two objects of one kind and name; their templates would collide")
    digest = hashlib.sha256("".join(f"{path}\n{text}" for path, text in sorted(templates.items())).encode()).hexdigest()[:10]
    chart = {
        "apiVersion": "v2",
        "name": name,
        "description": f"The {name} inference workload of the LLM serving kit, generated from the kit's config.",
        "type": "application",
        "version": f"{version}+{digest}",
        "appVersion": app_version or server_image_tag(items),
        "keywords": ["llm", "inference", "gpu"],
        "annotations": {"app.kubernetes.io/part-of": PART_OF},
    }
    files = {"Chart.yaml": yaml.safe_dump(chart, sort_keys=False, width=1_000), "values.yaml": VALUES_YAML, **templates}
    files["README.md"] = chart_readme(name, items, chart)
    return files


def chart_readme(name: str, items: list[dict], chart: dict) -> str:
    metadata = items[0]["metadata"] if items else {}
    blueprint = (metadata.get("labels") or {}).get(BLUEPRINT_LABEL, "?")
    namespace = metadata.get("namespace", "<the kit's workloads namespace>")
    rows = "\n".join(f"| {obj['kind']} | {obj['metadata']['name']} | templates/{template_name(obj)} |" for obj in items)
    return f"""# {name}

The `{name}` workload ({blueprint} blueprint) as a Helm chart. `./kit synth` generates it from the kit's config,
from the same objects `cdk deploy` applies; do not edit it here: change the config and synthesize again.

- chart version `{chart['version']}`: the kit's version; the part after `+` names these templates
- app version `{chart['appVersion']}`: the server image tag

| kind | name | template |
|---|---|---|
{rows}

## Install

```bash
helm install {name} charts/{name} --namespace {namespace}
```

Argo CD and Flux can point at this folder in Git. The objects read no values; the only thing Helm fills in is
the namespace. Install into `{namespace}` (the config's storage.workloads_namespace): the objects expect what
the kit's cluster stack provides there, the `model-reader` service account and the model volume claims, plus
the GPU node pools they select and any controller the blueprint needs.
"""


def write_charts(objects: dict[str, list[dict]], charts_dir: Path, *, version: str, app_version: str | None = None) -> list[Path]:
    """One chart folder per workload under charts_dir; returns the folders. app_version overrides every chart's appVersion."""
    written = []
    for name, items in objects.items():
        folder = charts_dir / name
        for relative, text in chart_files(name, items, version=version, app_version=app_version).items():
            path = folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        written.append(folder)
    return written
