"""The programs the blueprints ship inside their objects (ConfigMap files) survive the fill-ins the CloudFormation
path and the delivered files make: no placeholder appears in their code, or a fill-in would rewrite the program."""

from __future__ import annotations

import pytest

from assembly.app import render_workloads
from assembly.examples import load_example
from assembly.kit import KIT
from core.model_sources import ACCOUNT_FIELD
from core.routing import AMP_QUERY_URL

# What is filled in the objects (infra/stacks/workloads.py, assembly/delivery.py); {bucket} is resolved in the config.
PLACEHOLDERS = (ACCOUNT_FIELD, AMP_QUERY_URL)
PROGRAM_SUFFIXES = (".py", ".sh")


def shipped_programs(objects: list[dict]) -> dict[str, str]:
    return {
        f"{obj['metadata']['name']}/{key}": text
        for obj in objects
        if obj["kind"] == "ConfigMap"
        for key, text in obj.get("data", {}).items()
        if key.endswith(PROGRAM_SUFFIXES)
    }


@pytest.mark.parametrize("blueprint", KIT.blueprints, ids=lambda blueprint: blueprint.name)
def test_no_shipped_program_holds_a_placeholder(blueprint, tmp_path):
    objects = render_workloads(load_example(blueprint, tmp_path))[blueprint.example.name]
    programs = shipped_programs(objects)
    found = {where: [p for p in PLACEHOLDERS if p in text] for where, text in programs.items()}
    assert {where: held for where, held in found.items() if held} == {}


def test_the_benchmark_ships_its_runner_and_the_scan_sees_a_placeholder_in_one(tmp_path):
    benchmark = KIT.by_name["benchmark"]
    programs = shipped_programs(render_workloads(load_example(benchmark, tmp_path))[benchmark.example.name])
    [runner] = [text for where, text in programs.items() if where.endswith("/run.py")]
    assert "ACCOUNT_FIELD" in runner and ACCOUNT_FIELD not in runner
    assert ACCOUNT_FIELD in runner.replace('"{" "account}"', '"{account}"')  # the spelling a formatter makes
