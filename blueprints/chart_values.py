"""The values a workload's Helm chart reads, where its templates read them, and the schema Helm checks them against.

A chart's defaults are the config's own settings, so `helm template` with no values gives back the objects in
dist/ exactly; a value changes only the fields it names:

  image.repository, image.tag   the model server's image, in every container that runs it
  replicaCount                  the server's copies (Deployment, LeaderWorkerSet groups, a batch Job's pods at once;
                                Dynamo: one count per component); absent when the workload autoscales
  autoscaling.minReplicas/maxReplicas  the KEDA ScaledObject's bounds, where the workload autoscales
  model.uri                     where the server loads its weights from (an s3:// folder, a Hub repository, a path)
  modelBucket                   the kit's model bucket, wherever the objects name it beside the model (batch files,
                                benchmark results and datasets)
  resources, nodeSelector, tolerations  of the server's pods (Dynamo: per GPU component)
  extraArgs                     appended to the server's command line (vLLM and Dynamo: engine flags; Triton: its
                                server's flags; engine arguments of Triton's vLLM backend: extraEngineArgs)
  labels, annotations           added to every object's metadata; podLabels, podAnnotations to the server's pods

Facts the config cannot know at synth (the account, when the config has no `account:`, in the model bucket's name
and an image registry's; the AMP workspace an autoscaler queries) become values with an empty default that the
templates `required` (accountId, autoscaling.prometheusAddress): Helm then refuses to render until they are given,
instead of starting a server that cannot find its model. A value whose default would hold such a fact (model.uri,
modelBucket, image.repository) is empty then, and derived from those values unless set.

The templates are built from the objects themselves: each place a value goes gets a marker, the objects are written
as YAML, and each marker becomes the template expression. Nothing else in the objects is touched.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

SITE = "KITVALUESITE"
_SITE = re.compile(rf"{SITE}\d{{4}}")
GPU = "nvidia.com/gpu"

# JSON Schema pieces (draft 2020-12, which Helm 4 reads). Kubernetes' own rules where they are short.
_LABEL_KEY = r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
_LABEL_VALUE = r"^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$"
_QUANTITY = {
    "anyOf": [{"type": "string", "pattern": r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+|[KMGTPE]i?|[mun])?$"}, {"type": "number", "minimum": 0}]
}
_TOLERATION = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "key": {"type": "string"},
        "operator": {"enum": ["Exists", "Equal"]},
        "value": {"type": "string"},
        "effect": {"enum": ["NoSchedule", "PreferNoSchedule", "NoExecute"]},
        "tolerationSeconds": {"type": "integer"},
    },
}
_RESOURCES = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "requests": {"type": "object", "additionalProperties": _QUANTITY},
        "limits": {"type": "object", "additionalProperties": _QUANTITY},
    },
}
_STRINGS = {"type": "object", "additionalProperties": {"type": "string"}}
_LABELS = {
    "type": "object",
    "propertyNames": {"pattern": _LABEL_KEY, "maxLength": 317},
    "additionalProperties": {"type": "string", "pattern": _LABEL_VALUE},
}
# One shell-free token, or --flag=value (the form the config's extra_args take).
_ARG = {"type": "string", "pattern": r"^[^\s]+$|^--[\w-]+=.+$"}
_IMAGE_TAG = r"^([\w][\w.-]{0,127}|sha256:[a-f0-9]{64})$"
MODEL_PATTERNS = {
    "s3": r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/[^\s'\"]+$",
    "hf": r"^[A-Za-z0-9][\w.-]{0,95}/[\w.-]{1,96}$",
    "fsx": r"^/[^\s'\"]+$",
}
_BUCKET = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"


@dataclass(frozen=True)
class Unknown:
    """A fact the config cannot know at synth, left in the objects as a token."""

    token: str
    what: str
    """What it stands for, for the chart's `required` message and dist's README."""
    how: str
    """How to find it out."""


@dataclass(frozen=True)
class ChartHints:
    """What only the kit knows about a workload's objects: where its model lives and its bucket's name."""

    model_location: str | None = None
    """The exact string the server is given as its model (after the account is filled in where known)."""
    model_kind: str | None = None
    """s3, hf or fsx."""
    bucket: str | None = None
    """The kit's model bucket as the objects spell it ('{account}' in it when the account is unknown)."""
    unknowns: tuple[Unknown, ...] = ()
    """The tokens of facts not known at synth that these objects hold."""


@dataclass
class _Site:
    marker: str
    kind: str
    """scalar | block | optional-block | merge | append | text"""
    expression: str


@dataclass
class ChartTemplate:
    """Objects with markers, the values they read, and the schema of those values."""

    items: list[dict]
    values: dict[str, Any] = field(default_factory=dict)
    schema: dict[str, Any] = field(default_factory=dict)
    sites: dict[str, _Site] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    """Literal text (not a whole scalar) to template expression: the bucket's name and the unknown tokens."""
    unknowns: tuple[Unknown, ...] = ()
    defines: dict[str, str] = field(default_factory=dict)
    taken: dict[str, set] = field(default_factory=dict)
    """Keys the kit's own labels and annotations use, by value: a value may not repeat them (YAML would hold the key
    twice, and the API server would keep one of them)."""
    model_in_engine_file: bool = False
    """The model location is read by an engine-arguments file built from values (Triton's model.json)."""
    """Named templates (templates/_data.tpl): ConfigMap data that holds values, written once, included where used."""

    def site(self, kind: str, expression: str) -> str:
        marker = f"{SITE}{len(self.sites):04d}"
        self.sites[marker] = _Site(marker, kind, expression)
        return marker

    def render(self, text: str) -> str:
        """A template from the objects' YAML: every marker line becomes its expression."""
        out = []
        for line in text.split("\n"):
            found = _SITE.search(line)
            if found is None:
                out.append(line)
                continue
            site = self.sites[found.group()]
            out.append(_expand(line, site))
        text = "\n".join(out)
        leftover = _SITE.search(text)
        if leftover:
            raise ValueError(f"a value marker was not written as a whole line: {leftover.group()}")
        return text

    def render_text(self, text: str) -> str:
        """Text inside a value (a ConfigMap's file): escaped for Go templates, markers and literal texts replaced."""
        text = escape_go_template(text)
        for marker in _SITE.findall(text):
            text = text.replace(marker, self.sites[marker].expression)
        for literal, expression in self.texts.items():
            text = text.replace(literal, expression)
        return text


def escape_go_template(text: str) -> str:
    """Literal braces in the objects (JSON in arguments, say) must not be read as template actions."""
    return re.sub(r"\{\{|\}\}", lambda found: '{{ "' + found.group() + '" }}', text)


def _expand(line: str, site: _Site) -> str:
    indent = len(line) - len(line.lstrip(" "))
    pad = " " * indent
    if site.kind == "scalar":
        return line.replace(site.marker, site.expression)
    if site.kind == "append":
        # `- MARKER` at the end of a list: one item per value, JSON-quoted (a valid YAML string whatever it holds).
        return f"{pad}{{{{- range {site.expression} }}}}\n{pad}- {{{{ toJson . }}}}\n{pad}{{{{- end }}}}"
    if site.kind == "merge":
        # `MARKER: x` inside a mapping: the value's entries beside the kit's own.
        return f"{pad}{{{{- with {site.expression} }}}}{{{{- toYaml . | nindent {indent} }}}}{{{{- end }}}}"
    key = line.strip().split(":", 1)[0]
    if site.kind == "block":
        return f"{pad}{key}: {{{{- toYaml {site.expression} | nindent {indent + 2} }}}}"
    if site.kind == "optional-block":
        return f"{pad}{{{{- with {site.expression} }}}}\n{pad}{key}: {{{{- toYaml . | nindent {indent + 2} }}}}\n{pad}{{{{- end }}}}"
    raise ValueError(f"unknown site kind {site.kind}")


# --- where the server runs -------------------------------------------------------------------------------------


@dataclass
class _Pod:
    component: str
    holder: dict
    """The mapping that holds `spec` (and `metadata`) of the pod template."""
    replicas: tuple[dict, str] | None
    """(mapping, key) of the count of this pod's copies."""


def _pods(obj: dict) -> list[_Pod]:
    kind, spec = obj.get("kind"), obj.get("spec") or {}
    if kind in ("Deployment", "StatefulSet") and "template" in spec:
        return [_Pod("server", spec["template"], (spec, "replicas") if "replicas" in spec else None)]
    if kind == "Job" and "template" in spec:
        return [_Pod("server", spec["template"], (spec, "parallelism") if "parallelism" in spec else None)]
    if kind == "LeaderWorkerSet":
        template = spec.get("leaderWorkerTemplate") or {}
        count = (spec, "replicas") if "replicas" in spec else None
        return [_Pod("server", template[key], count) for key in ("leaderTemplate", "workerTemplate") if key in template]
    if kind == "DynamoGraphDeployment":
        return [
            _Pod(component["name"], component["podTemplate"], (component, "replicas") if "replicas" in component else None)
            for component in spec.get("components") or []
            if "podTemplate" in component
        ]
    return []


def _containers(pod: _Pod) -> list[dict]:
    return list((pod.holder.get("spec") or {}).get("containers") or [])


def _asks_gpus(container: dict) -> bool:
    resources = container.get("resources") or {}
    if not isinstance(resources, dict):  # already a value's marker: only server containers get one
        return True
    return GPU in (resources.get("limits") or {}) or GPU in (resources.get("requests") or {})


def _server_pods(items: list[dict]) -> list[_Pod]:
    """The pods that run the model server: those asking for GPUs; without any (a benchmark), every pod of a Job."""
    pods = [pod for obj in items for pod in _pods(obj)]
    serving = [pod for pod in pods if any(_asks_gpus(c) for c in _containers(pod))]
    return serving or [pod for obj in items if obj.get("kind") == "Job" for pod in _pods(obj)]


def _server_containers(pod: _Pod) -> list[dict]:
    containers = _containers(pod)
    return [c for c in containers if _asks_gpus(c)] or containers[:1]


# --- building the template ---------------------------------------------------------------------------------------


def chart_template(items: list[dict], hints: ChartHints) -> ChartTemplate:
    """The workload's objects with the value markers in place, its values and their schema."""
    chart = ChartTemplate(copy.deepcopy(items), unknowns=hints.unknowns)
    properties: dict[str, Any] = {}
    pods = _server_pods(chart.items)
    per_component = len({pod.component for pod in pods}) > 1
    _image(chart, pods, properties)
    _replicas(chart, properties)
    _shared(chart, pods, properties, per_component)
    _extra_args(chart, pods, properties)
    _metadata(chart, pods, properties)
    files = {id(obj): dict(obj["data"]) for obj in chart.items if obj.get("kind") == "ConfigMap" and isinstance(obj.get("data"), dict)}
    _engine_args_file(chart, hints, properties)
    _model(chart, hints, properties)
    _unknowns(chart, hints, properties)
    _files_as_defines(chart, files)
    chart.schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Values of a workload chart of the LLM serving kit",
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
    }
    return chart


def _image(chart: ChartTemplate, pods: list[_Pod], properties: dict) -> None:
    images = {c["image"] for pod in pods for c in _server_containers(pod) if "image" in c}
    if len(images) != 1:
        return
    [image] = images
    repository, separator, tag = _split_image(image)
    derived = _holds_unknown(chart, repository)
    chart.values["image"] = {"repository": "" if derived else repository, "tag": tag}
    joiner = '{{ if hasPrefix "sha256:" .Values.image.tag }}@{{ else }}:{{ end }}'
    expression = _or_derived(chart, ".Values.image.repository", repository) + joiner + "{{ .Values.image.tag }}"
    for pod in pods:
        for container in _containers(pod):
            if container.get("image") == image:
                container["image"] = chart.site("scalar", expression)
    properties["image"] = {
        "type": "object",
        "description": "The model server's image.",
        "additionalProperties": False,
        "required": ["repository", "tag"],
        "properties": {
            "repository": _maybe_empty({"type": "string", "pattern": r"^[a-z0-9][a-z0-9._/:-]*[a-z0-9]$"}, derived),
            "tag": {"type": "string", "pattern": _IMAGE_TAG},
        },
    }


def _split_image(image: str) -> tuple[str, str, str]:
    if "@" in image:
        repository, _, digest = image.partition("@")
        return repository, "@", digest
    name, _, tag = image.rpartition(":")
    if name and "/" not in tag:
        return name, ":", tag
    return image, ":", "latest"


def _replicas(chart: ChartTemplate, properties: dict) -> None:
    autoscaled = [obj for obj in chart.items if obj.get("kind") == "ScaledObject"]
    for obj in autoscaled:
        spec = obj["spec"]
        bounds = {"minReplicas": "minReplicaCount", "maxReplicas": "maxReplicaCount"}
        present = {value: key for value, key in bounds.items() if key in spec}
        if not present:
            continue
        chart.values["autoscaling"] = {value: spec[key] for value, key in present.items()}
        for value, key in present.items():
            spec[key] = chart.site("scalar", f"{{{{ .Values.autoscaling.{value} }}}}")
        properties["autoscaling"] = {
            "type": "object",
            "description": "Bounds of the KEDA ScaledObject that scales the server.",
            "additionalProperties": False,
            "properties": {value: {"type": "integer", "minimum": 0 if value == "minReplicas" else 1} for value in present},
        }
        break
    # The counts of the objects that run the server (a Dynamo graph's frontend with them), not of helpers beside it
    # (an endpoint picker's Deployment).
    server = {id(pod.holder) for pod in _server_pods(chart.items)}
    serving = [obj for obj in chart.items if any(id(pod.holder) in server for pod in _pods(obj))]
    counted = [(pod.component, pod.replicas) for obj in serving for pod in _pods(obj) if pod.replicas is not None]
    if not counted:
        return
    # A Dynamo graph counts each component; anything else has one count (an LWS's leader and workers share it).
    by_component: dict[str, tuple[dict, str]] = {}
    for component, count in counted:
        by_component.setdefault(component, count)
    if len(by_component) == 1:
        [(holder, key)] = by_component.values()
        chart.values["replicaCount"] = holder[key]
        holder[key] = chart.site("scalar", "{{ .Values.replicaCount }}")
        properties["replicaCount"] = {"type": "integer", "minimum": 0, "description": "Copies of the server."}
        return
    chart.values["replicaCount"] = {}
    for component, (holder, key) in by_component.items():
        chart.values["replicaCount"][component] = holder[key]
        holder[key] = chart.site("scalar", f"{{{{ index .Values.replicaCount {_quote(component)} }}}}")
    properties["replicaCount"] = {
        "type": "object",
        "description": "Copies of each component.",
        "additionalProperties": False,
        "required": sorted(by_component),
        "properties": {component: {"type": "integer", "minimum": 0} for component in by_component},
    }


def _shared(chart: ChartTemplate, pods: list[_Pod], properties: dict, per_component: bool) -> None:
    """resources of the server containers, nodeSelector and tolerations of their pods: one value, or one per component."""
    gpu_pods = [pod for pod in pods if any(_asks_gpus(c) for c in _containers(pod))] or pods
    fields = (
        ("resources", _RESOURCES, lambda pod: _server_containers(pod), "block"),
        (
            "nodeSelector",
            {"type": "object", "additionalProperties": {"type": "string"}},
            lambda pod: [pod.holder.setdefault("spec", {})],
            "optional-block",
        ),
        ("tolerations", {"type": "array", "items": _TOLERATION}, lambda pod: [pod.holder.setdefault("spec", {})], "optional-block"),
    )
    for name, schema, holders_of, kind in fields:
        holders = [(pod.component, holder) for pod in gpu_pods for holder in holders_of(pod)]
        if kind == "block" and not all(name in holder for _, holder in holders):
            continue
        empty: Any = [] if name == "tolerations" else {}
        if not per_component:
            defaults = [holder.get(name, empty) for _, holder in holders]
            if any(default != defaults[0] for default in defaults):
                continue
            chart.values[name] = copy.deepcopy(defaults[0]) if defaults else empty
            for _, holder in holders:
                holder[name] = chart.site(kind, f".Values.{name}")
            properties[name] = {
                **schema,
                "description": f"{name} of the server's pods." if name != "resources" else "Resources of the server's containers.",
            }
            continue
        chart.values[name] = {}
        for component, holder in holders:
            default = holder.get(name, empty)
            if chart.values[name].setdefault(component, copy.deepcopy(default)) != default:
                raise ValueError(f"component {component} has two different {name}")
            holder[name] = chart.site(kind, f"(index .Values.{name} {_quote(component)})")
        properties[name] = {
            "type": "object",
            "description": f"{name} of each GPU component's pods.",
            "additionalProperties": False,
            "required": sorted(chart.values[name]),
            "properties": {component: schema for component in chart.values[name]},
        }


def _extra_args(chart: ChartTemplate, pods: list[_Pod], properties: dict) -> None:
    containers = [c for pod in pods for c in _containers(pod) if _asks_gpus(c) and isinstance(c.get("args"), list)]
    if not containers:
        return
    for container in containers:
        container["args"].append(chart.site("append", ".Values.extraArgs"))
    chart.values["extraArgs"] = []
    properties["extraArgs"] = {"type": "array", "items": _ARG, "description": "Appended to the server's arguments."}


def _metadata(chart: ChartTemplate, pods: list[_Pod], properties: dict) -> None:
    for obj in chart.items:
        metadata = obj.setdefault("metadata", {})
        _merge_or_add(chart, metadata, "labels", ".Values.labels")
        _merge_or_add(chart, metadata, "annotations", ".Values.annotations")
    for pod in pods:
        metadata = pod.holder.setdefault("metadata", {})
        _merge_or_add(chart, metadata, "labels", ".Values.podLabels")
        _merge_or_add(chart, metadata, "annotations", ".Values.podAnnotations")
    chart.values.update({"labels": {}, "annotations": {}, "podLabels": {}, "podAnnotations": {}})
    described = {
        "labels": (_LABELS, "Added to every object's labels."),
        "annotations": (_STRINGS, "Added to every object's annotations."),
        "podLabels": (_LABELS, "Added to the server's pods' labels."),
        "podAnnotations": (_STRINGS, "Added to the server's pods' annotations."),
    }
    for value, (schema, about) in described.items():
        names = dict(schema.get("propertyNames", {}))
        taken = sorted(chart.taken.get(f".Values.{value}", ()))
        if taken:
            names["not"] = {"enum": taken}
        properties[value] = {
            **schema,
            **({"propertyNames": names} if names else {}),
            "description": about + (" Not the kit's own keys." if taken else ""),
        }


def _merge_or_add(chart: ChartTemplate, metadata: dict, key: str, expression: str) -> None:
    chart.taken.setdefault(expression, set()).update(metadata.get(key) or {})
    if metadata.get(key):
        metadata[key][chart.site("merge", expression)] = "x"
    else:
        metadata[key] = chart.site("optional-block", expression)


def _model(chart: ChartTemplate, hints: ChartHints, properties: dict) -> None:
    location, kind = hints.model_location, hints.model_kind
    if not location or kind not in MODEL_PATTERNS:
        return
    derived = _holds_unknown(chart, location)
    expression = _or_derived(chart, ".Values.model.uri", location)
    found = _replace_scalars(chart.items, location, lambda: chart.site("scalar", expression))
    # A file that names the model as a JSON string (Triton's model.json).
    found += _replace_in_files(chart.items, f'"{location}"', lambda: f'"{chart.site("scalar", expression)}"')
    if not found and not chart.model_in_engine_file:
        return
    chart.values["model"] = {"uri": "" if derived else location}
    about = f"The model ({kind}: {_MODEL_FORMS[kind]})" + (f"; empty: {_readable(location)}" if derived else "")
    properties["model"] = {
        "type": "object",
        "description": "Where the server loads its weights from.",
        "additionalProperties": False,
        "properties": {"uri": {**_maybe_empty({"type": "string", "pattern": MODEL_PATTERNS[kind]}, derived), "description": about}},
    }


_MODEL_FORMS = {
    "s3": "s3://bucket/prefix/, streamed by the Run:ai loader",
    "hf": "a Hugging Face Hub repository id",
    "fsx": "a path inside the FSx volume's mount",
}


def _readable(text: str) -> str:
    return text.replace("{account}", "<account>").replace("{amp-query-url}", "<AMP workspace address>")


def _holds_unknown(chart: ChartTemplate, text: str) -> bool:
    return any(unknown.token in text for unknown in chart.unknowns)


def _maybe_empty(schema: dict, empty: bool) -> dict:
    return {"anyOf": [schema, {"const": ""}]} if empty else schema


def _or_derived(chart: ChartTemplate, value: str, default: str) -> str:
    """The value; where its default holds a fact unknown at synth, the default with that fact's own value filled in
    unless the value is set."""
    if not _holds_unknown(chart, default):
        return f"{{{{ {value} }}}}"
    return f"{{{{ if {value} }}}}{{{{ {value} }}}}{{{{ else }}}}{_with_unknowns(chart, default)}{{{{ end }}}}"


def _with_unknowns(chart: ChartTemplate, text: str) -> str:
    for unknown in chart.unknowns:
        if unknown.token in text:
            value = UNKNOWN_VALUES[unknown.token]
            message = f"set {value}: {unknown.what}, which the kit could not know at synth; {_readable(unknown.how)}"
            text = text.replace(unknown.token, f"{{{{ required {_quote(message)} .Values.{value} }}}}")
    return text


def _unknowns(chart: ChartTemplate, hints: ChartHints, properties: dict) -> None:
    """modelBucket wherever the objects name the kit's bucket beside the model; a required value for every fact unknown
    at synth that they still hold."""
    bucket = hints.bucket
    if bucket and _mentions(chart.items, bucket):
        derived = _holds_unknown(chart, bucket)
        chart.values["modelBucket"] = "" if derived else bucket
        chart.texts[bucket] = _or_derived(chart, ".Values.modelBucket", bucket)
        properties["modelBucket"] = {
            **_maybe_empty({"type": "string", "pattern": _BUCKET}, derived),
            "description": "The kit's model bucket where the objects name it beside the model (batch files, benchmark results and datasets)"
            + (f"; empty: {_readable(bucket)}" if derived else ""),
        }
    for unknown in chart.unknowns:
        value = UNKNOWN_VALUES[unknown.token]
        _set_path(chart.values, value, "")
        chart.texts[unknown.token] = _with_unknowns(chart, unknown.token)
        _set_path(
            properties,
            value,
            {
                **_maybe_empty({"type": "string", "pattern": UNKNOWN_PATTERNS[unknown.token]}, True),
                "description": f"{unknown.what[0].upper()}{unknown.what[1:]}; {_readable(unknown.how)}",
            },
            schema=True,
        )


# The value a fact unknown at synth is given as, and the form it takes.
UNKNOWN_VALUES = {"{account}": "accountId", "{amp-query-url}": "autoscaling.prometheusAddress"}
UNKNOWN_PATTERNS = {"{account}": r"^\d{12}$", "{amp-query-url}": r"^https://\S+[^/]$"}


def _engine_args_file(chart: ChartTemplate, hints: ChartHints, properties: dict) -> None:
    """A ConfigMap file of engine arguments as JSON (Triton's model.json, which its vLLM backend hands to
    AsyncEngineArgs): rendered by Helm from engineArgs plus the model, so any argument can be changed or added.
    Helm's toPrettyJson (Go's MarshalIndent: sorted keys, two-space indent) writes what the kit's json.dumps wrote."""
    location = hints.model_location
    if not location or _holds_unknown(chart, location):
        return
    for obj in chart.items:
        if obj.get("kind") != "ConfigMap" or not isinstance(obj.get("data"), dict):
            continue
        for key, value in obj["data"].items():
            if not key.endswith(".json") or not isinstance(value, str):
                continue
            try:
                parsed = json.loads(value)
            except ValueError:
                continue
            if (
                not isinstance(parsed, dict)
                or parsed.get("model") != location
                or value != json.dumps(parsed, indent=2, sort_keys=True) + "\n"
            ):
                continue
            chart.values["engineArgs"] = {name: setting for name, setting in parsed.items() if name != "model"}
            obj["data"][key] = (
                chart.site("scalar", '{{ toPrettyJson (set (deepCopy .Values.engineArgs) "model" .Values.model.uri) }}') + "\n"
            )
            chart.model_in_engine_file = True
            properties["engineArgs"] = {
                "type": "object",
                "description": f"The engine arguments of {key} (vLLM's AsyncEngineArgs names); the model is model.uri.",
                "propertyNames": {"pattern": r"^[a-z][a-z0-9_]*$", "not": {"const": "model"}},
            }
            return


def _replace_in_files(items: list[dict], text: str, marker) -> int:
    """Replace `text` inside the data of ConfigMaps with a new marker each time; returns how many."""
    found = 0
    for obj in items:
        if obj.get("kind") != "ConfigMap" or not isinstance(obj.get("data"), dict):
            continue
        for key, value in obj["data"].items():
            if isinstance(value, str) and text in value:
                parts = value.split(text)
                obj["data"][key] = parts[0] + "".join(marker() + part for part in parts[1:])
                found += len(parts) - 1
    return found


def _files_as_defines(chart: ChartTemplate, originals: dict[int, dict]) -> None:
    """A ConfigMap whose files hold values becomes named templates the ConfigMap includes, and a digest of its files
    elsewhere in the objects (Triton's model-repository hash, which rolls the pods when a file changes) is computed
    by Helm from what it rendered, so that a value that changes a file also rolls the pods."""
    for obj in chart.items:
        before = originals.get(id(obj))
        data = obj.get("data")
        if (
            before is None
            or not isinstance(data, dict)
            or not any(_SITE.search(v) or any(t in v for t in chart.texts) for v in data.values() if isinstance(v, str))
        ):
            continue
        names = {}
        for key, value in data.items():
            name = f"kit.{obj['metadata']['name']}.{key}"
            chart.defines[name] = chart.render_text(value)
            names[key] = name
            data[key] = chart.site("scalar", f'{{{{ include "{name}" . | toJson }}}}')
        digest = hashlib.sha256("".join(before.values()).encode()).hexdigest()[:16]
        joined = " ".join(f'(include "{names[key]}" .)' for key in data)
        _replace_scalars(
            chart.items,
            digest,
            lambda joined=joined: chart.site("scalar", f'{{{{ list {joined} | join "" | sha256sum | trunc 16 | quote }}}}'),
        )


def _set_path(tree: dict, dotted: str, value: Any, schema: bool = False) -> None:
    parts = dotted.split(".")
    node = tree
    for part in parts[:-1]:
        node = node.setdefault(part, {"type": "object", "additionalProperties": False, "properties": {}} if schema else {})
        if schema:
            node = node.setdefault("properties", {})
    node[parts[-1]] = value


def _mentions(value: Any, text: str) -> bool:
    if isinstance(value, str):
        return text in value
    if isinstance(value, dict):
        return any(_mentions(item, text) for item in value.values())
    if isinstance(value, list):
        return any(_mentions(item, text) for item in value)
    return False


def _replace_scalars(value: Any, exact: str, marker) -> int:
    """Replace every string equal to `exact` with a new marker; returns how many."""
    found = 0
    if isinstance(value, dict):
        for key, item in value.items():
            if item == exact:
                value[key] = marker()
                found += 1
            else:
                found += _replace_scalars(item, exact, marker)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if item == exact:
                value[index] = marker()
                found += 1
            else:
                found += _replace_scalars(item, exact, marker)
    return found


def _quote(text: str) -> str:
    """A Go template string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
