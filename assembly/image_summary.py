"""The summary's account of where every image comes from, read back from what the synth wrote: the manifests and
Helm charts in the CloudFormation templates and the workloads in dist/."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

from config.model import PlatformConfig
from core.cfn_text import flatten
from core.derived_images import DERIVED
from core.registry_cache import UPSTREAMS, images_in, parse
from infra.images.chart_images import CHART_IMAGES, efa_device_plugin_image

_TOKEN = "<account>"


def written_images(outdir: Path, dist: Path) -> list[str]:
    """Every image reference the synth wrote: manifests in the templates, images the charts are told to pull, dist/."""
    found: list[str] = []
    for path in sorted(outdir.glob("*.template.json")):
        template = json.loads(path.read_text())
        for body in template.get("Resources", {}).values():
            if body["Type"] == "Custom::AWSCDK-EKS-KubernetesResource":
                found += images_in(json.loads(flatten(body["Properties"]["Manifest"], _TOKEN)))
            elif body["Type"] == "Custom::AWSCDK-EKS-HelmChart":
                found += chart_images(
                    body["Properties"].get("Chart", ""), json.loads(flatten(body["Properties"].get("Values", "{}"), _TOKEN) or "{}")
                )
    for manifest in sorted(dist.glob("*/manifest.yaml")):
        found += images_in(list(yaml.safe_load_all(manifest.read_text())))
    return found


def chart_images(chart: str, values: dict) -> list[str]:
    """The images a chart's values name, as the chart will pull them ('<chart's tag>' where the values leave it)."""
    out = []
    for image in CHART_IMAGES.get(chart, ()):
        node: Any = values
        for key in image.path:
            node = node.get(key, {}) if isinstance(node, dict) else {}
        upstream = parse(image.upstream)
        if image.style == "image":
            out.append(node if isinstance(node, str) and node else image.upstream)
        elif image.style == "registry":
            registry = node.get("registry") if isinstance(node, dict) else None
            out.append(f"{registry}/{upstream.path}" if registry else image.upstream)
        else:
            repository = node.get("repository") if isinstance(node, dict) else None
            tag = (node.get("tag") if isinstance(node, dict) else None) or upstream.tag
            out.append(f"{repository}:{tag}" if repository else image.upstream)
    if chart == "aws-efa-k8s-device-plugin":
        image = values.get("image", {})
        out.append(f"{image.get('repository')}:{image.get('tag')}" if image.get("repository") else efa_device_plugin_image("us-west-2"))
    return out


def classify(reference: str, kit: str) -> tuple[str, str]:
    """(where it comes from, the image as its source names it)."""
    ref = parse(reference)
    tag = f":{ref.tag}" if ref.tag else ""
    if ".dkr.ecr." in ref.host:
        owner, _, rest = ref.path.partition("/")
        first, _, remainder = rest.partition("/")
        if owner == kit and first in DERIVED and not remainder:
            return "built by the kit (CodeBuild)", f"{first}{tag}"
        upstream = next((u for u in UPSTREAMS.values() if u.short == first), None)
        if owner == kit and upstream is not None:
            how = "copied by the image build from" if upstream.via == "mirror" else "pull-through cache of"
            return f"{how} {upstream.host}", f"{remainder}{tag}"
        return "ECR in the region (EKS's own registry)" if ref.path.startswith(
            "eks/"
        ) else "private ECR as written", f"{ref.host}/{ref.path}{tag}"
    return f"{ref.host} directly, through the NAT gateway", f"{ref.path}{tag}"


def image_lines(config: PlatformConfig, outdir: Path, dist: Path) -> list[str]:
    groups: dict[str, set[str]] = defaultdict(set)
    for reference in written_images(outdir, dist):
        source, name = classify(reference, config.name)
        groups[source].add(name)
    cache = config.images.pull_through_cache
    head = (
        f"from ECR in {config.region}; cache rules {config.name}/{{dhub,quay,k8s,ecrp,ghcr}}, credentials "
        f"{cache.docker_hub_secret}, {cache.github_secret}, {cache.ngc_secret} (create them before deploying; docs/images.md)"
        if cache.enabled
        else "pull-through cache off (images.pull_through_cache.enabled): public images come through the NAT gateway"
    )
    lines = [f"  images     {head}"]
    for source in sorted(groups):
        names = sorted(groups[source])
        lines.append(f"             {source}: {', '.join(names)}")
    return lines
