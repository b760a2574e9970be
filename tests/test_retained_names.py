"""Teardown and re-create stay clean: over the default and every example, no resource is both retained on destroy
and named by a fixed name, unless the manual step a re-deploy then needs is documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from assembly.plan_assembly import read_assembly
from assembly.plan_schema import Schemas
from assembly.retained_names import DOCUMENTED, collisions, named_resources, retained_resources
from tests.helpers import DEFAULT_CONFIG, REPO, synth
from tests.plan_fixtures import resource, write_assembly

CONFIGS = [DEFAULT_CONFIG, *sorted((REPO / "config" / "examples").glob("*.yaml"))]


@pytest.fixture(scope="module")
def schemas():
    return Schemas("us-west-2")


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: Path(p).stem)
def test_no_retained_resource_has_an_undocumented_fixed_name(config, tmp_path, schemas):
    synth(config, tmp_path / "cdk.out")
    assembly = read_assembly(tmp_path / "cdk.out")
    assert retained_resources(assembly), "the kit retains its data stores: the check would be vacuous"
    named = named_resources(assembly, schemas)
    assert any(n.retained for n in named), "some retained resource carries a name (the check reads them)"
    undocumented, documented = collisions(assembly, schemas)
    assert undocumented == [], [f"{n.path} {n.prop}={n.name}" for n in undocumented]
    for item in documented:
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
