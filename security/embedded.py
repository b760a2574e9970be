"""What the cluster and workload stacks apply through aws-eks-v2's kubectl provider, read back out of the templates.

aws-eks-v2 (aws-cdk-lib 2.275) carries each applied object inside a custom resource, not in a file a scanner reads:

- Custom::AWSCDK-EKS-KubernetesResource (KubernetesManifest, cluster.add_manifest): `Manifest`, a JSON array of
  objects as one string, or an Fn::Join of that string with CloudFormation tokens spliced in;
- Custom::AWSCDK-EKS-HelmChart (HelmChart, cluster.add_helm_chart): `Chart`/`Repository`/`Version` or a local
  chart (`ChartAssetURL`), `Namespace`, `Release`, and `Values`, a JSON object as a string (or an Fn::Join);
- Custom::AWSCDK-EKS-KubernetesPatch (KubernetesPatch): `ApplyPatchJson` against `ResourceName`.

Tokens are rendered with placeholders (PSEUDO_PARAMETERS; a resource's logical id for Ref, id.attribute for
Fn::GetAtt, the export's name for Fn::ImportValue), so every object parses and keeps its shape. Standard library only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MANIFEST = "Custom::AWSCDK-EKS-KubernetesResource"
HELM_CHART = "Custom::AWSCDK-EKS-HelmChart"
PATCH = "Custom::AWSCDK-EKS-KubernetesPatch"
# Placeholders for pseudo parameters: values of the right shape, so an ARN or an ECR address still reads as one.
PSEUDO_PARAMETERS = {
    "AWS::AccountId": "111122223333",
    "AWS::Region": "us-east-1",
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "stack",
    "AWS::StackId": "stack-id",
    "AWS::NoValue": "",
}
_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


class Unrenderable(ValueError):
    """A property the extraction cannot turn into text; the scan stops rather than skip what it cannot read."""


@dataclass(frozen=True)
class Origin:
    template: str
    """The template's path inside the output folder, e.g. cdk.out/llm-kit-cluster.template.json."""
    resource: str
    """The custom resource's logical id."""

    def __str__(self) -> str:
        return f"{self.template} {self.resource}"


@dataclass(frozen=True)
class Release:
    """A Helm release the kubectl provider installs: a chart from a repository, or a local chart asset."""

    release: str
    namespace: str
    chart: str
    """The chart's name, or the local asset's path inside the output folder ('' when it is not there)."""
    repository: str
    version: str
    values: dict = field(hash=False, compare=False)
    origin: Origin
    local: bool = False

    @property
    def subject(self) -> str:
        return f"HelmChart/{self.namespace}/{self.release}"


@dataclass(frozen=True)
class Patch:
    resource_name: str
    """kubectl's TYPE/NAME, e.g. nodepools.karpenter.sh/h100-block."""
    namespace: str
    origin: Origin


def render(value: Any) -> str:
    """A CloudFormation string value with its tokens replaced by placeholders."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        [(function, argument)] = value.items()
        if function == "Fn::Join":
            separator, parts = argument
            return render(separator).join(render(part) for part in parts)
        if function == "Ref":
            return PSEUDO_PARAMETERS[argument] if argument in PSEUDO_PARAMETERS else argument
        if function == "Fn::GetAtt":
            return ".".join(argument) if isinstance(argument, list) else str(argument)
        if function == "Fn::ImportValue":
            return render(argument)
        if function == "Fn::Sub":
            text, variables = (argument, {}) if isinstance(argument, str) else argument
            return _SUB_VARIABLE.sub(lambda match: render(variables.get(match.group(1), _sub_reference(match.group(1)))), text)
    raise Unrenderable(f"cannot render {json.dumps(value)[:200]}")


def _sub_reference(name: str) -> dict:
    """${Name} in an Fn::Sub is a Ref, ${Name.Attribute} an Fn::GetAtt."""
    return {"Fn::GetAtt": name.split(".", 1)} if "." in name else {"Ref": name}


def _parse(value: Any, origin: Origin, what: str) -> Any:
    try:
        return json.loads(render(value))
    except (Unrenderable, json.JSONDecodeError) as err:
        raise Unrenderable(f"{origin}: its {what} does not parse once tokens are rendered ({err})") from None


def _resources(template: dict, kind: str) -> Iterator[tuple[str, dict]]:
    for logical_id, resource in (template.get("Resources") or {}).items():
        if resource.get("Type") == kind:
            yield logical_id, resource.get("Properties") or {}


def manifest_objects(template: dict, name: str) -> Iterator[tuple[dict, Origin]]:
    """Every object of every KubernetesManifest in one template (a kind: List is opened into its items)."""
    for logical_id, properties in _resources(template, MANIFEST):
        origin = Origin(name, logical_id)
        objects = _parse(properties.get("Manifest", "[]"), origin, "Manifest")
        for body in objects if isinstance(objects, list) else [objects]:
            for item in body.get("items", []) if body.get("kind") == "List" else [body]:
                yield item, origin


def releases(template: dict, name: str, output: Path) -> Iterator[Release]:
    for logical_id, properties in _resources(template, HELM_CHART):
        origin = Origin(name, logical_id)
        values = _parse(properties["Values"], origin, "Values") if "Values" in properties else {}
        chart, local = render(properties.get("Chart", "")), False
        if "ChartAssetURL" in properties:
            # s3://<assets bucket>/<hash>.zip: the staged chart is cdk.out/asset.<hash> (a folder, or the zip itself).
            digest = render(properties["ChartAssetURL"]).rsplit("/", 1)[-1].removesuffix(".zip")
            found = [path for path in (output / Path(name).parent).glob(f"asset.{digest}*")]
            chart, local = (str(found[0].relative_to(output)) if found else ""), True
        yield Release(
            release=render(properties.get("Release", "")),
            namespace=render(properties.get("Namespace", "default")),
            chart=chart,
            repository=render(properties.get("Repository", "")),
            version=render(properties.get("Version", "")),
            values=values if isinstance(values, dict) else {},
            origin=origin,
            local=local,
        )


def patches(template: dict, name: str) -> Iterator[Patch]:
    for logical_id, properties in _resources(template, PATCH):
        yield Patch(
            render(properties.get("ResourceName", "")), render(properties.get("ResourceNamespace", "default")), Origin(name, logical_id)
        )


def templates(output: Path) -> Iterator[tuple[str, dict]]:
    """Every CloudFormation template under an output folder (nested stacks included), by its path inside it."""
    for path in sorted(output.rglob("*.template.json")):
        yield str(path.relative_to(output)), json.loads(path.read_text())
