"""List the blueprints the kit knows, with their keys: python -m assembly.blueprints [NAME]"""

from __future__ import annotations

import sys

from assembly.kit import KIT
from blueprints.contract import Blueprint


def describe(blueprint: Blueprint) -> str:
    params = blueprint.params
    module = sys.modules[type(blueprint).__module__]
    headline = (module.__doc__ or "").strip().split("\n")[0]
    lines = [f"{blueprint.name}: {headline}"]
    if blueprint.serves_openai:
        lines.append("  serves the OpenAI API (a benchmark can target it)")
    for name, field in params.model_fields.items():
        if name == "blueprint":
            continue
        default = "required" if field.is_required() else f"default {field.default!r}"
        doc = (field.description or "").strip().split("\n")[0]
        lines.append(f"  {name:<32} {default:<28} {doc}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    chosen = [b for b in KIT.blueprints if not argv or b.name in argv]
    if argv and not chosen:
        print(f"no blueprint named {', '.join(argv)}; the blueprints are {', '.join(KIT.by_name)}", file=sys.stderr)
        return 2
    print("\n\n".join(describe(blueprint) for blueprint in chosen))
    return 0


if __name__ == "__main__":
    sys.exit(main())
