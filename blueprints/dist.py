"""dist/<workload>/: the workload's objects for kubectl, kustomize and GitOps tools.

manifest.yaml holds the objects `cdk deploy` applies; kustomization.yaml lists it, so the folder is a kustomize base
an overlay or an Argo CD / Flux application can point at. Where the objects still need a fact the synth could not
know (assembly/delivery.py), both files start with a line saying the folder is not ready to apply, and a README.md
beside them says what is missing and how to find it out.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from blueprints.chart_values import Unknown
from blueprints.common import objects

NOT_READY = "# NOT READY TO APPLY"
KUSTOMIZATION = """\
# kustomize build dist/{name} (or kubectl apply -k dist/{name}); point a GitOps tool (Argo CD, Flux) at this folder.
# Change the workload here with kustomize's own fields (images:, replicas:, labels:, patches:) in an overlay that
# lists this folder under resources, or change the config and run ./kit synth again.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - manifest.yaml
"""


def write_dist(rendered: dict[str, list[dict]], dist: Path, unknowns: Mapping[str, tuple[Unknown, ...]] | None = None) -> list[Path]:
    """dist/<workload>/: manifest.yaml and kustomization.yaml; where the objects still need a fact the synth could
    not know, a first line in both and a README.md that say so, and how to find it out."""
    written = []
    for name, items in rendered.items():
        folder = dist / name
        folder.mkdir(parents=True, exist_ok=True)
        missing = tuple((unknowns or {}).get(name, ()))
        banner = not_ready_banner(name, missing) if missing else ""
        path = folder / "manifest.yaml"
        path.write_text(banner + objects.to_yaml(items))
        (folder / "kustomization.yaml").write_text(banner + KUSTOMIZATION.format(name=name))
        if missing:
            (folder / "README.md").write_text(not_ready_readme(name, missing))
        written.append(path)
    return written


def not_ready_banner(name: str, missing: tuple[Unknown, ...]) -> str:
    tokens = ", ".join(fact.token for fact in missing)
    return f"{NOT_READY}: these objects still hold {tokens}, which the synth could not know; see dist/{name}/README.md\n"


def not_ready_readme(name: str, missing: tuple[Unknown, ...]) -> str:
    rows = "\n".join(f"- `{fact.token}`: {fact.what}.\n  {fact.how[0].upper()}{fact.how[1:]}" for fact in missing)
    return f"""# {name}: not ready to apply as is

`manifest.yaml` holds placeholders for facts the synth could not know. Applied as it is, with kubectl, kustomize or
a GitOps tool, the workload would start and fail (a server that cannot find its model, an autoscaler that cannot
query its metrics).

{rows}

Then synthesize again: `./kit synth` writes this folder without the placeholders and without this file. The chart
in charts/{name}/ takes the same facts as values and refuses to render without them. `./kit deploy` needs none of
this: CloudFormation fills them in at deploy.
"""
