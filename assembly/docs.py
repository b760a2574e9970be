"""Write the config's JSON Schema and a Markdown reference generated from it.

Run `./kit docs` after changing the model; a test fails while the committed files are stale.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from assembly.kit import KIT

DOCS = Path(__file__).resolve().parents[1] / "docs"
SCHEMA_FILE = DOCS / "config.schema.json"
REFERENCE_FILE = DOCS / "config-reference.md"


def json_schema() -> dict[str, Any]:
    schema = _one_line_descriptions(KIT.config_model.model_json_schema(mode="validation"))
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "LLM serving kit config"
    return schema


def _one_line_descriptions(node: Any) -> Any:
    """Descriptions as editors show them: a docstring's line breaks (where the source wraps) become spaces."""
    if isinstance(node, dict):
        return {
            key: " ".join(value.split()) if key == "description" and isinstance(value, str) else _one_line_descriptions(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_one_line_descriptions(item) for item in node]
    return node


def render_schema() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"


def render_reference() -> str:
    schema = json_schema()
    rows: list[tuple[str, str, str, str]] = []
    _collect(schema, schema, "", rows)
    out = [
        "# Config reference",
        "",
        "Generated from the config model by `./kit docs`; do not edit by hand.",
        "Editors that read JSON Schema can complete and check a config file with `docs/config.schema.json`",
        "(for VS Code's YAML extension: `# yaml-language-server: $schema=../docs/config.schema.json` on the first line).",
        "",
        "| key | type | default | description |",
        "| --- | --- | --- | --- |",
    ]
    for key, kind, default, description in rows:
        out.append(f"| `{key}` | {kind} | {default} | {description} |")
    return "\n".join(out) + "\n"


def _resolve(root: dict, node: dict) -> dict:
    while "$ref" in node:
        node = root["$defs"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _collect(root: dict, node: dict, prefix: str, rows: list) -> None:
    node = _resolve(root, node)
    required = set(node.get("required", []))
    for name, prop in node.get("properties", {}).items():
        key = f"{prefix}{name}"
        target = _object_of(root, prop)
        description = (prop.get("description") or _resolve(root, prop).get("description") or "").replace("\n", " ").replace("|", "\\|")
        if name in required:
            default = "required"
        elif target is not None or "default" not in prop:
            default = ""
        else:
            default = f"`{json.dumps(prop['default'])}`"
        rows.append((key, _type_of(root, prop), default, description))
        variants = _variants_of(root, prop)
        if variants:
            for tag, variant in variants:
                _collect(root, variant, f"{key}[{tag}].", rows)
        elif target is not None:
            _collect(root, target, f"{key}.", rows)


def _variants_of(root: dict, prop: dict) -> list[tuple[str, dict]]:
    """The members of a discriminated union of list items, each named by its tag, e.g. blueprint=vllm."""
    items = prop.get("items", {})
    mapping = items.get("discriminator", {}).get("mapping", {})
    field = items.get("discriminator", {}).get("propertyName")
    tag_of_ref = {ref: tag for tag, ref in mapping.items()}
    ordered = [option["$ref"] for option in items.get("oneOf", []) if "$ref" in option]
    return [(f"{field}={tag_of_ref[ref]}", _resolve(root, {"$ref": ref})) for ref in ordered if ref in tag_of_ref]


def _object_of(root: dict, prop: dict) -> dict | None:
    for option in [prop, *prop.get("anyOf", [])]:
        option = _resolve(root, option)
        if option.get("type") == "object" and "properties" in option:
            return option
        items = option.get("items")
        if items is not None:
            resolved = _resolve(root, items)
            if "properties" in resolved:
                return resolved
    return None


def _type_of(root: dict, prop: dict) -> str:
    options = prop.get("anyOf") or [prop]
    kinds = []
    for option in options:
        option = _resolve(root, option)
        if "discriminator" in option:
            kinds.append(f"mapping, one per `{option['discriminator']['propertyName']}`")
        elif "enum" in option:
            kinds.append(" \\| ".join(f"`{v}`" for v in option["enum"]))
        elif "const" in option:
            kinds.append(f"`{option['const']}`")
        elif option.get("type") == "array":
            kinds.append(f"list of {_type_of(root, option.get('items', {}))}")
        elif "properties" in option:
            kinds.append("mapping")
        else:
            kinds.append(str(option.get("type", "any")))
    return " or ".join(kinds)


def main(argv: list[str] | None = None) -> int:
    """Write the schema and the reference; --changed-only names only the files whose text changed (./kit test)."""
    changed_only = "--changed-only" in (sys.argv[1:] if argv is None else argv)
    DOCS.mkdir(exist_ok=True)
    written = []
    for path, text in ((SCHEMA_FILE, render_schema()), (REFERENCE_FILE, render_reference())):
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            written.append(str(path.relative_to(DOCS.parent)))
    if changed_only:
        if written:
            print(f"kit: regenerated {' and '.join(written)} from the config model and the blueprints; commit them")
    else:
        print(f"wrote {SCHEMA_FILE.relative_to(DOCS.parent)} and {REFERENCE_FILE.relative_to(DOCS.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
