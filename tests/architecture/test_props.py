"""Constructs build from their props alone, in a bare stack: no config file, no other stack."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import json
import sys
from ipaddress import IPv4Network
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_eks_v2 as eks
from aws_cdk.assertions import Template
from aws_cdk.lambda_layer_kubectl_v35 import KubectlV35Layer
from constructs import Construct

from infra.gpu.karpenter import Karpenter, KarpenterProps
from infra.network.vpc import SingleZoneVpc, SingleZoneVpcProps
from infra.storage.bucket import ModelBucket, ModelBucketProps
from tests.helpers import REPO, helm_values, unvalidated_app


def _stack() -> cdk.Stack:
    return cdk.Stack(unvalidated_app(), "Bare", env=cdk.Environment(account="111122223333", region="us-west-2"))


def test_props_are_frozen_with_documented_defaults():
    props = SingleZoneVpcProps(az_id="usw2-az2", control_plane_az_id="usw2-az1")
    assert (props.vpc_cidr, props.node_subnet_prefix, props.nat_gateways, props.flow_logs_retention_days) == (
        IPv4Network("10.0.0.0/16"),
        17,
        1,
        90,
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(props, "nat_gateways", 0)  # noqa: B010 -- a plain assignment is what the type checker rightly refuses


def test_a_vpc_from_props_alone():
    stack = _stack()
    SingleZoneVpc(
        stack,
        "Vpc",
        SingleZoneVpcProps(
            az_id="usw2-az2",
            control_plane_az_id="usw2-az1",
            vpc_cidr=IPv4Network("10.8.0.0/20"),
            node_subnet_prefix=21,
            nat_gateways=0,
            flow_logs_retention_days=None,
        ),
    )
    template = Template.from_stack(stack)
    subnets = template.find_resources("AWS::EC2::Subnet")
    assert sorted(s["Properties"]["AvailabilityZoneId"] for s in subnets.values()) == [
        "usw2-az1",
        "usw2-az1",
        "usw2-az2",
        "usw2-az2",
        "usw2-az2",
    ]
    template.resource_count_is("AWS::EC2::NatGateway", 0)
    template.resource_count_is("AWS::EC2::FlowLog", 0)


def test_a_bucket_from_props_alone():
    stack = _stack()
    ModelBucket(stack, "Models", ModelBucketProps(bucket_name="acme-models", access_logs=False))
    template = Template.from_stack(stack)
    [bucket] = template.find_resources("AWS::S3::Bucket").values()
    assert bucket["Properties"]["BucketName"] == "acme-models" and bucket["DeletionPolicy"] == "Retain"


def test_karpenter_from_props_alone():
    stack = _stack()
    cluster = eks.Cluster(
        stack,
        "Cluster",
        version=eks.KubernetesVersion.V1_35,
        kubectl_provider_options=eks.KubectlProviderOptions(kubectl_layer=KubectlV35Layer(stack, "Layer")),
    )
    Karpenter(stack, "Karpenter", KarpenterProps(cluster=cluster, cluster_name="bare", replicas=1, node_repair=False))
    template = Template.from_stack(stack)
    [chart] = template.find_resources("Custom::AWSCDK-EKS-HelmChart").values()
    values = json.loads(helm_values(chart["Properties"]["Values"]))
    assert values["replicas"] == 1 and values["settings"]["featureGates"]["nodeRepair"] is False
    [queue] = template.find_resources("AWS::SQS::Queue").values()
    assert queue["Properties"]["QueueName"] == "bare-karpenter"


# --- The props rules (docs/architecture.md), checked over every module of infra outside infra/stacks. -------------
# Each construct and each *Props class is its own test case, so `-k infra.gpu` shows one area's failures.

_INFRA = REPO / "infra"
_RUNTIME_IMPORTS = {"aws_cdk", "constructs", "cdk8s", "cdk_nag", "jsii"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _infra_sources(*, with_stacks: bool) -> list[Path]:
    return sorted(p for p in _INFRA.rglob("*.py") if with_stacks or "stacks" not in p.relative_to(_INFRA).parts[:1])


def _constructs() -> list[type[Construct]]:
    found: dict[str, type[Construct]] = {}
    for path in _infra_sources(with_stacks=False):
        module = importlib.import_module(_module_name(path))
        for value in vars(module).values():
            if inspect.isclass(value) and issubclass(value, Construct) and value.__module__ == module.__name__:
                found[f"{module.__name__}.{value.__qualname__}"] = value
    return [found[name] for name in sorted(found)]


def _resolve(annotation: object, owner: type) -> object:
    """An annotation as the object it names; `from __future__ import annotations` leaves it a string."""
    if isinstance(annotation, str):
        return eval(annotation, vars(sys.modules[owner.__module__]))  # noqa: S307 -- the kit's own annotation text
    return annotation


_CONSTRUCTS = _constructs()


@pytest.mark.parametrize("construct", _CONSTRUCTS, ids=lambda c: f"{c.__module__}.{c.__qualname__}")
def test_a_construct_takes_scope_id_and_frozen_keyword_props(construct: type[Construct]):
    parameters = list(inspect.signature(construct.__init__).parameters.values())
    names = [p.name for p in parameters]
    assert names in (["self", "scope", "construct_id"], ["self", "scope", "construct_id", "props"]), (
        f"{construct.__qualname__}.__init__{names[1:]}: want (scope: Construct, construct_id: str[, props: <Name>Props]);"
        " anything else it needs becomes a props field"
    )
    assert _resolve(parameters[1].annotation, construct) is Construct, f"{construct.__qualname__}: annotate scope as Construct"
    assert _resolve(parameters[2].annotation, construct) is str, f"{construct.__qualname__}: annotate construct_id as str"
    if len(parameters) == 3:
        return
    props = _resolve(parameters[3].annotation, construct)
    assert inspect.isclass(props) and props.__name__.endswith("Props"), f"{construct.__qualname__}: props is {props!r}, want a *Props class"
    assert dataclasses.is_dataclass(props), f"{props.__name__}: make it @dataclass(frozen=True, kw_only=True)"
    assert props.__dataclass_params__.frozen, f"{props.__name__}: make it @dataclass(frozen=True, kw_only=True)"  # type: ignore[attr-defined]
    assert all(field.kw_only for field in dataclasses.fields(props)), f"{props.__name__}: make it @dataclass(frozen=True, kw_only=True)"


def _is_dataclass_decorator(node: ast.expr) -> bool:
    target = node.func if isinstance(node, ast.Call) else node
    return (isinstance(target, ast.Name) and target.id == "dataclass") or (isinstance(target, ast.Attribute) and target.attr == "dataclass")


def _props_classes() -> list[tuple[str, ast.ClassDef]]:
    found = []
    for path in _infra_sources(with_stacks=True):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and node.name.endswith("Props") and any(map(_is_dataclass_decorator, node.decorator_list)):
                found.append((f"{_module_name(path)}.{node.name}", node))
    return found


_PROPS = _props_classes()


def _has_default(value: ast.expr | None) -> bool:
    """A field assigned anything has a default, except a bare `field(...)` with neither default nor default_factory."""
    if value is None:
        return False
    if isinstance(value, ast.Call) and _is_dataclass_field(value.func):
        return any(keyword.arg in ("default", "default_factory") for keyword in value.keywords)
    return True


def _is_dataclass_field(node: ast.expr) -> bool:
    return (isinstance(node, ast.Name) and node.id == "field") or (isinstance(node, ast.Attribute) and node.attr == "field")


def _is_class_var(annotation: ast.expr) -> bool:
    return "ClassVar" in ast.unparse(annotation)


@pytest.mark.parametrize(("name", "node"), _PROPS, ids=[name for name, _ in _PROPS])
def test_props_are_frozen_keyword_only(name: str, node: ast.ClassDef):
    [decorator] = [d for d in node.decorator_list if _is_dataclass_decorator(d)]
    keywords = {k.arg: k.value for k in decorator.keywords} if isinstance(decorator, ast.Call) else {}
    flags = {flag: isinstance(value := keywords.get(flag), ast.Constant) and value.value is True for flag in ("frozen", "kw_only")}
    assert all(flags.values()), f"{name}: @{ast.unparse(decorator)}; want @dataclass(frozen=True, kw_only=True)"


@pytest.mark.parametrize(("name", "node"), _PROPS, ids=[name for name, _ in _PROPS])
def test_props_document_the_class_every_field_and_each_default(name: str, node: ast.ClassDef):
    problems = [] if ast.get_docstring(node) else [f"{name}: no class docstring saying what it configures"]
    body = node.body
    for index, statement in enumerate(body):
        if not isinstance(statement, ast.AnnAssign) or not isinstance(statement.target, ast.Name) or _is_class_var(statement.annotation):
            continue
        after = body[index + 1] if index + 1 < len(body) else None
        doc = after.value.value if isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant) else None
        field = f"{name}.{statement.target.id}"
        if not isinstance(doc, str) or not doc.strip():
            problems.append(f"{field}: no attribute docstring (a string literal on the line after the field)")
        elif _has_default(statement.value) and "Default" not in doc:
            problems.append(f"{field}: has a default but its docstring does not say `Default: <value>` and why")
    assert not problems, "\n".join(problems)


def _reads_of_the_environment(tree: ast.Module) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "try_get_context":
            found.append((node.lineno, "node.try_get_context"))
        elif isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "environb") and ast.unparse(node.value) == "os":
            found.append((node.lineno, f"os.{node.attr}"))
        elif isinstance(node, ast.ImportFrom) and node.module == "os" and {a.name for a in node.names} & {"environ", "getenv", "environb"}:
            found.append((node.lineno, "from os import environ/getenv"))
    return found


def _imports_a_construct_library(tree: ast.Module) -> bool:
    for node in ast.walk(tree):
        names = (
            [a.name for a in node.names]
            if isinstance(node, ast.Import)
            else [node.module or ""]
            if isinstance(node, ast.ImportFrom)
            else []
        )
        if any(name.split(".")[0] in _RUNTIME_IMPORTS for name in names):
            return True
    return False


_SYNTH_MODULES = [path for path in _infra_sources(with_stacks=False)]


@pytest.mark.parametrize("path", _SYNTH_MODULES, ids=_module_name)
def test_infra_reads_no_context_and_no_environment_outside_the_stacks(path: Path):
    """Constructs get everything from props; the stacks map the config. The programs that run in the cluster
    (crd_fetch.py, burn_in_verdict.py ...: standard library only, shipped with inspect.getsource) read their
    environment at run time in a pod, so a module that imports no construct library may read os.environ."""
    tree = ast.parse(path.read_text())
    found = _reads_of_the_environment(tree)
    if not _imports_a_construct_library(tree):
        found = [(line, what) for line, what in found if what == "node.try_get_context"]
    assert not found, [f"{path.relative_to(REPO)}:{line} {what}" for line, what in found]


def test_the_environment_check_sees_context_and_environment_reads():
    source = "import os\nfrom aws_cdk import Stack\nx = self.node.try_get_context('k')\ny = os.environ['A'] + os.getenv('B')\n"
    tree = ast.parse(source)
    assert [what for _, what in _reads_of_the_environment(tree)] == ["node.try_get_context", "os.environ", "os.getenv"]
    assert _imports_a_construct_library(tree) and not _imports_a_construct_library(ast.parse("import os, json"))
