"""Over the default and every example, synthesized once each: aws-cdk-lib's CloudFormation validation finds nothing,
and teardown and re-create stay clean: no resource is both retained on destroy and named by a fixed name, unless the
manual step a re-deploy then needs is documented."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3

from assembly.app import build_app
from assembly.kit import KIT
from assembly.plan_assembly import read_assembly
from assembly.plan_schema import Schemas
from assembly.retained_names import DOCUMENTED, collisions, named_resources, retained_resources
from tests.helpers import DEFAULT_CONFIG, REPO, VALIDATION_AS_ERRORS, synth
from tests.plan_fixtures import resource, write_assembly

CONFIGS = [DEFAULT_CONFIG, *sorted((REPO / "config" / "examples").glob("*.yaml"))]


@pytest.fixture(scope="module")
def schemas():
    return Schemas("us-west-2")


@pytest.fixture(scope="module", params=CONFIGS, ids=lambda p: Path(p).stem)
def shipped(request, tmp_path_factory) -> Path:
    """The cloud assembly of the default config or an example, synthesized once with aws-cdk-lib's CloudFormation
    validation on and its findings as errors: ./kit synth leaves that validation out (assembly/app.py), so this is
    where every shipped config meets it."""
    out = tmp_path_factory.mktemp(Path(request.param).stem) / "cdk.out"
    synth(request.param, out, validate=True)
    return out


@pytest.mark.e2e
def test_cloudformation_validation_finds_nothing_in_a_shipped_config(shipped):
    report = json.loads((shipped / "validation-report.json").read_text())
    findings = [
        f"{violation['ruleName']}: {violation['description']}"
        for plugin in report["pluginReports"]
        if plugin["pluginName"] == "CloudFormation Validate"
        for violation in plugin.get("violations", [])
    ]
    # An error would have failed the synth already; warnings stay warnings even as errors fail, so read the report.
    assert findings == []


@pytest.mark.e2e
def test_the_validation_the_shipped_configs_pass_does_refuse_a_template_cloudformation_would(tmp_path):
    """Not vacuous: the same validation, on the default config with one property CloudFormation has never heard of."""
    app = build_app(KIT.load(DEFAULT_CONFIG), outdir=str(tmp_path), validate=True, context=VALIDATION_AS_ERRORS)
    stack = app.node.children[0]
    assert isinstance(stack, cdk.Stack)
    s3.CfnBucket(stack, "Misspelt").add_property_override("VersioningConfigurations", {"Status": "Enabled"})
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    [plugin] = [plugin for plugin in report["pluginReports"] if plugin["pluginName"] == "CloudFormation Validate"]
    [violation] = plugin["violations"]
    assert violation["severity"] == "error" and "'VersioningConfigurations' was unexpected" in violation["description"]


@pytest.mark.e2e
def test_no_retained_resource_has_an_undocumented_fixed_name(shipped, schemas):
    assembly = read_assembly(shipped)
    assert retained_resources(assembly), "the kit retains its data stores: the check would be vacuous"
    named = named_resources(assembly, schemas)
    assert any(n.retained for n in named), "some retained resource carries a name (the check reads them)"
    undocumented, documented = collisions(assembly, schemas)
    assert undocumented == [], [f"{n.path} {n.prop}={n.name}" for n in undocumented]
    for item in documented:
        assert item.documented is not None
        doc, phrase = item.documented
        assert phrase in (REPO / doc).read_text(), f"{doc} must say how to re-create {item.path}: {phrase}"


def test_the_documented_steps_are_in_their_docs():
    for doc, phrase in DOCUMENTED.values():
        assert phrase in (REPO / doc).read_text()


def test_a_retained_fixed_name_is_caught_and_a_stack_unique_one_is_not(tmp_path, schemas):
    unique = {"Fn::Join": ["", ["/logs/", {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]}]]}
    fixed = {"Fn::Join": ["", ["repo-", {"Ref": "AWS::AccountId"}]]}
    assembly = write_assembly(
        tmp_path,
        {
            "s": {
                "Resources": {
                    "Unique": resource("AWS::Logs::LogGroup", {"LogGroupName": unique}, DeletionPolicy="Retain"),
                    "Fixed": resource("AWS::ECR::Repository", {"RepositoryName": fixed}, DeletionPolicy="Retain"),
                    "Deleted": resource("AWS::Logs::LogGroup", {"LogGroupName": "/fixed/but/deleted"}),
                }
            }
        },
    )
    undocumented, documented = collisions(assembly, schemas)
    assert [(n.logical_id, n.prop) for n in undocumented] == [("Fixed", "RepositoryName")]
    assert documented == []
