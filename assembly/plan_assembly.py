"""A synthesized cloud assembly (cdk.out) read back as templates: every stack, nested stacks included, with the
construct path of each resource and the exports stacks share."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

NESTED_SUFFIX = ".NestedStack"


@dataclass
class Template:
    name: str
    """The stack's name; a nested stack's is its parent's name, a slash and the nested stack's construct id."""
    body: dict[str, Any]
    region: str
    paths: dict[str, str] = field(default_factory=dict)
    """Logical id -> construct path (without the leading slash)."""
    parent: str | None = None

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.body.get("Resources", {})

    def path_of(self, logical_id: str) -> str:
        return self.paths.get(logical_id, f"{self.name}/{logical_id}")


@dataclass
class Assembly:
    folder: Path
    templates: dict[str, Template]

    def exports(self) -> dict[str, tuple[str, Any]]:
        """Export name -> (stack, the output's value expression)."""
        found = {}
        for template in self.templates.values():
            for output in template.body.get("Outputs", {}).values():
                name = output.get("Export", {}).get("Name")
                if isinstance(name, str):
                    found[name] = (template.name, output.get("Value"))
        return found


def left_behind(base: Assembly, new: Assembly) -> set[str]:
    """Stacks (and their nested stacks) that only the base has: `cdk deploy` never deletes a stack the app dropped."""
    gone = {name for name, t in base.templates.items() if t.parent is None and name not in new.templates}
    return {name for name in base.templates if name in gone or name.split("/", 1)[0] in gone}


class NotAnAssembly(ValueError):
    pass


def read_assembly(folder: Path | str) -> Assembly:
    folder = Path(folder)
    manifest_file = folder / "manifest.json"
    if not manifest_file.exists():
        raise NotAnAssembly(f"{folder} holds no manifest.json: not a synthesized cdk.out")
    manifest = json.loads(manifest_file.read_text())
    templates: dict[str, Template] = {}
    for artifact_id, artifact in sorted(manifest.get("artifacts", {}).items()):
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        region = artifact.get("environment", "aws://unknown-account/us-east-1").rsplit("/", 1)[-1]
        name = artifact.get("displayName") or artifact_id
        body = json.loads((folder / artifact["properties"]["templateFile"]).read_text())
        metadata = _logical_ids(folder / artifact["additionalMetadataFile"]) if artifact.get("additionalMetadataFile") else {}
        assets = _nested_sources(folder / f"{artifact_id}.assets.json")
        _add(templates, folder, Template(name, body, region), metadata, assets, prefix=f"/{name}")
    return Assembly(folder, templates)


def _logical_ids(metadata_file: Path) -> dict[str, str]:
    """Construct path -> logical id, for every resource of the stack and its nested stacks."""
    if not metadata_file.exists():
        return {}
    found = {}
    for path, entries in json.loads(metadata_file.read_text()).items():
        for entry in entries:
            if entry.get("type") == "aws:cdk:logicalId":
                found[path] = entry["data"]
    return found


def _nested_sources(assets_file: Path) -> dict[str, str]:
    """Asset hash -> the template file a nested stack's TemplateURL points at."""
    if not assets_file.exists():
        return {}
    files = json.loads(assets_file.read_text()).get("files", {})
    return {
        digest: spec["source"]["path"]
        for digest, spec in files.items()
        if spec.get("source", {}).get("path", "").endswith(".template.json")
    }


def _add(
    templates: dict[str, Template], folder: Path, template: Template, metadata: dict[str, str], assets: dict[str, str], prefix: str
) -> None:
    """Add a template and, recursively, its nested stacks; each takes the construct paths under its own prefix."""
    nested_prefixes = []
    for path, logical_id in metadata.items():
        body = template.resources.get(logical_id)
        if body is None or body.get("Type") != "AWS::CloudFormation::Stack" or not path.startswith(prefix + "/"):
            continue
        nested_id = path[len(prefix) + 1 :].split("/", 1)[0].removesuffix(NESTED_SUFFIX)
        source = _nested_template_file(body, assets)
        if source is None:
            continue
        nested_prefixes.append(f"{prefix}/{nested_id}")
        nested = Template(f"{template.name}/{nested_id}", json.loads((folder / source).read_text()), template.region, parent=template.name)
        _add(templates, folder, nested, metadata, assets, prefix=f"{prefix}/{nested_id}")
    for path, logical_id in metadata.items():
        if not path.startswith(prefix + "/") or any(path.startswith(p + "/") for p in nested_prefixes):
            continue
        if logical_id in template.resources:
            template.paths[logical_id] = path.lstrip("/")
    templates[template.name] = template


def _nested_template_file(body: dict, assets: dict[str, str]) -> str | None:
    url = json.dumps(body.get("Properties", {}).get("TemplateURL", ""))
    for digest, source in assets.items():
        if f"{digest}.json" in url:
            return source
    return None
