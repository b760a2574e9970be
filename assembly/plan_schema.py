"""What CloudFormation's resource schemas say about replacement and names, read from the copy cfn-lint ships.

cfn-lint 1.58 keeps one file per region, `data/schemas/providers/<region>.json`, mapping each resource type to
a schema's hash, and the schemas themselves under `data/schemas/resources/<hash>.json` (the registry's resource
provider schemas with cfn-lint's patches). A property listed in `createOnlyProperties` cannot change without a
new physical resource; `primaryIdentifier` names the property that identifies it. cfn-lint is read as data
only: importing it would cost seconds.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path


class SchemasMissing(RuntimeError):
    pass


@dataclass(frozen=True)
class ResourceSchema:
    type_name: str
    create_only: tuple[tuple[str, ...], ...]
    """Property paths without the leading /properties: ('VpcConfig', 'SubnetIds'); '*' stands for every list item."""
    conditional_create_only: tuple[tuple[str, ...], ...]
    primary_identifier: tuple[tuple[str, ...], ...]
    read_only: tuple[tuple[str, ...], ...]
    source: str
    """The schema file it came from, relative to cfn-lint's package."""

    @property
    def name_properties(self) -> tuple[str, ...]:
        """Top-level properties that set the resource's physical name: a primary identifier the template may set
        whose name says it is a name (BucketName, not a route's RouteTableId), or a create-only property called Name
        or <Type>Name (AWS::EKS::Nodegroup's NodegroupName)."""
        read_only = {path[0] for path in self.read_only if len(path) == 1}
        own = self.type_name.rsplit("::", 1)[-1]
        names = [path[0] for path in self.primary_identifier if len(path) == 1 and path[0] not in read_only and path[0].endswith("Name")]
        names += [path[0] for path in self.create_only if len(path) == 1 and path[0] in ("Name", f"{own}Name")]
        return tuple(dict.fromkeys(names))


def _paths(pointers: list[str] | None) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(pointer.split("/")[2:]) for pointer in pointers or () if pointer.startswith("/properties/"))


def schemas_root() -> Path:
    spec = importlib.util.find_spec("cfnlint")
    if spec is None or not spec.submodule_search_locations:
        raise SchemasMissing(
            "cfn-lint is not installed: the plan reads CloudFormation's resource "
            "schemas from its package (./kit plan installs the dev requirements)"
        )
    root = Path(next(iter(spec.submodule_search_locations))) / "data" / "schemas"
    if not (root / "providers" / "us-east-1.json").exists():
        raise SchemasMissing(f"no resource schemas under {root}")
    return root


def cfn_lint_version() -> str:
    from importlib.metadata import version

    return version("cfn-lint")


class Schemas:
    """Resource schemas of one region (a type the region lacks falls back to us-east-1, as cfn-lint does)."""

    def __init__(self, region: str = "us-east-1", root: Path | None = None):
        self.root = root or schemas_root()
        providers = self.root / "providers"
        self.region = region if (providers / f"{region}.json").exists() else "us-east-1"
        self._hashes: dict[str, str] = json.loads((providers / "us-east-1.json").read_text())
        if self.region != "us-east-1":
            self._hashes = {**self._hashes, **json.loads((providers / f"{self.region}.json").read_text())}
        version_file = self.root / "version.json"
        self.schema_date = json.loads(version_file.read_text()).get("schema_date", "") if version_file.exists() else ""

    def get(self, type_name: str) -> ResourceSchema | None:
        digest = self._hashes.get(type_name)
        if digest is None:
            return None
        return _load(self.root / "resources" / f"{digest}.json", type_name)


@cache
def _load(path: Path, type_name: str) -> ResourceSchema:
    raw = json.loads(path.read_text())
    return ResourceSchema(
        type_name=type_name,
        create_only=_paths(raw.get("createOnlyProperties")),
        conditional_create_only=_paths(raw.get("conditionalCreateOnlyProperties")),
        primary_identifier=_paths(raw.get("primaryIdentifier")),
        read_only=_paths(raw.get("readOnlyProperties")),
        source=f"data/schemas/resources/{path.name}",
    )


@cache
def schemas_for(region: str) -> Schemas:
    return Schemas(region)
