"""Which parser reads a container's arguments is the blueprint's declaration (Blueprint.engine_command), not a list
of blueprint names in contracts/: a new blueprint that declares the vLLM engine has its example checked by vLLM."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from assembly.app import render_workloads
from assembly.examples import load_example
from assembly.kit import KIT
from blueprints.contract import VLLM_SERVE, EngineCommand
from contracts.collect import VLLM_PARSERS, _entries, engine_commands
from core.images import IMAGES
from core.labels import BLUEPRINT_LABEL

KINDS = (
    "vllm_serve",
    "vllm_run_batch",
    "dynamo_worker",
    "dynamo_frontend",
    "triton",
    "inference_perf",
    "promql",
    "scaler_tests",
    "ray_serve",
)


# A blueprint name no registered blueprint has (a blueprint added under any name leaves these tests meaningful).
UNREGISTERED = next(f"unregistered-{n}" for n in range(100) if f"unregistered-{n}" not in KIT.by_name)


def _collected(objects: list[dict], engines: dict[str, EngineCommand]) -> dict[str, list]:
    out: dict[str, list] = {kind: [] for kind in KINDS}
    _entries("test", objects, out, engines)
    return out


def _example_objects(name: str, folder: Path) -> list[dict]:
    blueprint = KIT.by_name[name]
    return render_workloads(load_example(blueprint, folder))[blueprint.example.name]


def _relabelled(objects: list[dict], blueprint: str) -> list[dict]:
    """The same objects, as a blueprint of another name would render them."""
    renamed = copy.deepcopy(objects)
    for obj in renamed:
        labels = obj["metadata"].get("labels", {})
        if labels.get(BLUEPRINT_LABEL) == "vllm":
            labels[BLUEPRINT_LABEL] = blueprint
    return renamed


def test_a_new_blueprint_that_declares_vllm_serve_has_its_example_args_collected_for_the_vllm_parser(tmp_path):
    objects = _example_objects("vllm", tmp_path)
    [server] = [c for obj in objects if obj["kind"] == "Deployment" for c in obj["spec"]["template"]["spec"]["containers"]]
    renamed = _relabelled(objects, UNREGISTERED)

    declared = _collected(renamed, {UNREGISTERED: VLLM_SERVE})
    [entry] = declared["vllm_serve"]
    assert entry["args"] == server["args"] and entry["image"] == server["image"]
    assert UNREGISTERED not in engine_commands(KIT.blueprints)  # the routing came from the declaration alone

    undeclared = _collected(renamed, {})
    assert undeclared["vllm_serve"] == [] and undeclared["vllm_run_batch"] == []


def test_a_declared_command_routes_only_the_containers_that_run_it(tmp_path):
    objects = _relabelled(_example_objects("vllm", tmp_path), UNREGISTERED)
    # The server sets no command (the image's entrypoint): a declaration naming a command of its own does not match it.
    other = EngineCommand("run-batch", container_command=("bash", "/program/run.sh"), leading_args=("-i", "in.jsonl"))
    assert _collected(objects, {UNREGISTERED: other})["vllm_run_batch"] == []


@pytest.mark.parametrize("blueprint", KIT.blueprints, ids=lambda b: b.name)
def test_each_registered_blueprint_example_reaches_the_parser_it_declares(blueprint, tmp_path):
    objects = render_workloads(load_example(blueprint, tmp_path))[blueprint.example.name]
    out = _collected(objects, engine_commands(KIT.blueprints))
    engine = blueprint.engine_command
    for subcommand, kind in VLLM_PARSERS.items():
        expected = engine is not None and engine.subcommand == subcommand
        assert bool(out[kind]) == expected, f"{blueprint.name}: {kind}"
    if engine is not None:
        for entry in out[VLLM_PARSERS[engine.subcommand]]:
            assert entry["args"][: len(engine.leading_args)] == list(engine.leading_args)


ENTRYPOINT_RUN = [b for b in KIT.blueprints if b.engine_command is not None and not b.engine_command.container_command]


def test_some_blueprint_runs_vllm_by_the_image_entrypoint():
    assert {b.name for b in ENTRYPOINT_RUN} >= {"vllm", "vllm-multinode"}


@pytest.mark.parametrize("blueprint", ENTRYPOINT_RUN, ids=lambda b: b.name)
def test_a_blueprint_whose_containers_set_no_command_runs_images_whose_entrypoint_is_that_vllm_command(blueprint):
    engine = blueprint.engine_command
    assert engine is not None
    for key in blueprint.images:
        assert IMAGES[key].entrypoint == ("vllm", engine.subcommand), f"{blueprint.name}: image {key}"
