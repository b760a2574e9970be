"""Package each workload's rendered objects as a Helm chart, for teams that deploy with Helm, Argo CD or Flux.

The templates are the objects `cdk deploy` applies, with the release namespace and the values of
blueprints/chart_values.py (image, replicas or autoscaling bounds, model location, resources, node selector and
tolerations, extra arguments, labels and annotations) in place. Their defaults are the config's settings, so a
chart installed without values gives the objects in dist/; values.schema.json makes Helm refuse a wrong value.

Chart version: the kit's version (pyproject.toml) as SemVer, plus build metadata naming the templates:
`0.1.0+3f2a9c1b7e`. The same config gives the same version byte for byte; any change to a workload's objects
gives a new version string, so tools that rebuild a chart only when its version changes (Flux's default) see it.
appVersion: the tag of the workload's server image (the first container that asks for GPUs).
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from pathlib import Path

import yaml

from blueprints.chart_values import ChartHints, ChartTemplate, chart_template, escape_go_template
from core.labels import BLUEPRINT_LABEL, PART_OF

NAMESPACE_TEMPLATE = "{{ .Release.Namespace }}"
_NAMESPACE_MARK = "__release_namespace__"
_PEP440 = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?(?:\.?(a|b|rc|dev)\.?(\d+))?$")
_PRE_RELEASE = {"a": "alpha", "b": "beta", "rc": "rc", "dev": "dev"}
# libyaml's emitter where PyYAML was built with it: the same YAML, an order of magnitude faster for hundreds of charts.
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
VALUES_HEADER = """\
# Values of the {name} chart. The defaults are the kit config's settings: installed without values, the chart gives
# the objects of dist/{name}/manifest.yaml. values.schema.json says what each value takes; Helm refuses the rest.
# A value left empty ("") is a fact the config could not know at synth; the chart says how to find it.
"""


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
    return escape_go_template(text)


def template_text(obj: dict, chart: ChartTemplate | None = None) -> str:
    obj = copy.deepcopy(obj)
    metadata = obj.setdefault("metadata", {})
    if "namespace" in metadata:
        metadata["namespace"] = _NAMESPACE_MARK
    text = _escape_go_template(yaml.dump(obj, Dumper=_DUMPER, sort_keys=False, width=1_000_000, allow_unicode=True))
    if chart is not None:
        text = chart.render(text)
        for literal, expression in chart.texts.items():
            text = text.replace(literal, expression)
    return text.replace(f"namespace: {_NAMESPACE_MARK}\n", f"namespace: {NAMESPACE_TEMPLATE}\n")


def values_yaml(name: str, chart: ChartTemplate) -> str:
    """values.yaml: each value under a comment saying what it sets."""
    parts = [VALUES_HEADER.format(name=name)]
    described = chart.schema.get("properties", {})
    for key, value in chart.values.items():
        about = described.get(key, {}).get("description")
        parts.append(("" if not about else f"\n# {about}\n") + yaml.safe_dump({key: value}, sort_keys=False, width=1_000))
    return "".join(parts)


def template_name(obj: dict) -> str:
    return f"{obj['kind'].lower()}-{obj['metadata']['name']}.yaml"


def chart_files(
    name: str, items: list[dict], *, version: str, app_version: str | None = None, hints: ChartHints | None = None
) -> dict[str, str]:
    """{path inside the chart: text} for one workload."""
    built = chart_template(items, hints or ChartHints())
    templates = {f"templates/{template_name(obj)}": template_text(obj, built) for obj in built.items}
    if len(templates) != len(items):
        raise ValueError(f"workload '{name}' has two objects of one kind and name; their templates would collide")
    if built.defines:
        # Each file exactly as the object had it (no trimming), with the values' expressions in place.
        templates["templates/_data.tpl"] = "".join(
            f'{{{{- define "{define}" }}}}{text}{{{{ end }}}}\n' for define, text in built.defines.items()
        )
    templates["values.yaml"] = values_yaml(name, built)
    templates["values.schema.json"] = json.dumps(built.schema, indent=2) + "\n"
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
    files = {"Chart.yaml": yaml.safe_dump(chart, sort_keys=False, width=1_000), **templates}
    files["README.md"] = chart_readme(name, items, chart, built)
    return files


def chart_readme(name: str, items: list[dict], chart: dict, built: ChartTemplate) -> str:
    metadata = items[0]["metadata"] if items else {}
    blueprint = (metadata.get("labels") or {}).get(BLUEPRINT_LABEL, "?")
    namespace = metadata.get("namespace", "<the kit's workloads namespace>")
    rows = "\n".join(f"| {obj['kind']} | {obj['metadata']['name']} | templates/{template_name(obj)} |" for obj in items)
    described = built.schema.get("properties", {})
    values = "\n".join(f"| `{key}` | {described.get(key, {}).get('description', '')} |" for key in built.values)
    required = [key for key, value in _flat(built.values) if value == ""]
    needed = (
        "\nThe config could not give these values at synth; Helm refuses to render until they are set: "
        + ", ".join(f"`{key}`" for key in required)
        + f" (e.g. `--set {required[0]}=...`; `helm template` says what each is).\n"
        if required
        else ""
    )
    return f"""# {name}

The `{name}` workload ({blueprint} blueprint) as a Helm chart. `./kit synth` generates it from the kit's config,
from the same objects `cdk deploy` applies and dist/{name}/ holds. Change it with values, or change the config and
synthesize again; do not edit the templates.

- chart version `{chart["version"]}`: the kit's version; the part after `+` names these templates and values
- app version `{chart["appVersion"]}`: the server image tag

| value | sets |
|---|---|
{values}

The defaults are the config's settings: without values the chart renders the objects of dist/{name}/ exactly.
values.schema.json holds what each value takes; Helm refuses anything else (a misspelt key included).
{needed}
| kind | name | template |
|---|---|---|
{rows}

## Install

```bash
helm install {name} charts/{name} --namespace {namespace}
helm install {name} charts/{name} --namespace {namespace} --set replicaCount=2 --set-json 'nodeSelector={{"llm-kit/pool":"other-pool"}}'
```

Argo CD and Flux can point at this folder in Git and pass values the same way. Install into `{namespace}` (the
config's storage.workloads_namespace): the objects expect what the kit's cluster stack provides there, the
`model-reader` service account and the model volume claims, plus the GPU node pools they select and any
controller the blueprint needs. The kit's config checks (a node pool that can hold the GPUs asked for, flags the
kit already writes) do not run on values: check a changed value against docs/blueprints.md.
"""


def _flat(values: dict, prefix: str = "") -> list[tuple[str, object]]:
    found = []
    for key, value in values.items():
        path = f"{prefix}{key}"
        found += _flat(value, path + ".") if isinstance(value, dict) and value else [(path, value)]
    return found


def write_charts(
    objects: dict[str, list[dict]],
    charts_dir: Path,
    *,
    version: str,
    app_version: str | None = None,
    hints: dict[str, ChartHints] | None = None,
) -> list[Path]:
    """One chart folder per workload under charts_dir; returns the folders. app_version overrides every chart's appVersion."""
    written = []
    for name, items in objects.items():
        folder = charts_dir / name
        for relative, text in chart_files(name, items, version=version, app_version=app_version, hints=(hints or {}).get(name)).items():
            path = folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        written.append(folder)
    return written
