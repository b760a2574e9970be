"""The kit's Dockerfiles, parsed as Docker splits them (dockerfile-parse), against the build arguments the build gives
them; and their tags, which move with the Dockerfile and the pins. No Docker daemon runs here: nothing is built."""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from typing import Any

import pytest
from dockerfile_parse import DockerfileParser

from core import derived_images
from core.derived_images import DERIVED, NVCC_GENCODE, build_order
from core.images import IMAGES
from core.versions import EFA_INSTALLER, NCCL_TESTS
from infra.gpu.burn_in import ALL_REDUCE, MPIRUN

# What the base image sets itself (vllm sdist docker/Dockerfile at v0.30.0: ENV CUDA_VERSION, LD_LIBRARY_PATH, PATH).
BASE_ENV = {"CUDA_VERSION", "LD_LIBRARY_PATH", "PATH"}
VARIABLE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")


def _parsed(name: str) -> DockerfileParser:
    return DockerfileParser(path=str(DERIVED[name].dockerfile))


def _stages(parser: DockerfileParser) -> list[list[Mapping[str, Any]]]:
    """Instructions per stage; the first list holds what comes before the first FROM."""
    stages: list[list[Mapping[str, Any]]] = [[]]
    for instruction in parser.structure:
        if instruction["instruction"] == "FROM":
            stages.append([])
        stages[-1].append(instruction)
    return stages


@pytest.mark.parametrize("name", list(DERIVED))
def test_every_build_argument_is_declared_and_every_declared_one_is_given(name):
    image = DERIVED[name]
    declared = {instruction["value"].split("=")[0] for instruction in _parsed(name).structure if instruction["instruction"] == "ARG"}
    given = {"BASE_IMAGE", *(key for key, _ in image.args)}
    assert declared == given, f"{image.dockerfile}: declared {sorted(declared)}, the build gives {sorted(given)}"
    # No pin lives in the Dockerfile: every ARG comes without a default, so the tag's hash covers every version.
    assert not [i["value"] for i in _parsed(name).structure if i["instruction"] == "ARG" and "=" in i["value"]]


@pytest.mark.parametrize("name", list(DERIVED))
def test_each_stage_uses_only_variables_it_declares_or_its_base_sets(name):
    for stage in _stages(_parsed(name))[1:]:
        declared = {i["value"].split("=")[0] for i in stage if i["instruction"] == "ARG"}
        env = {match for i in stage if i["instruction"] == "ENV" for match in re.findall(r"(\w+)=", i["value"])}
        for instruction in stage:
            if instruction["instruction"] in ("RUN", "ENV", "LABEL", "COPY"):
                used = set(VARIABLE.findall(instruction["value"])) - {"i"}
                shell_local = {"CUDA_DASH", "NCCL_WHEEL"}
                unknown = used - declared - BASE_ENV - env - shell_local
                assert not unknown, f"{name}: {instruction['instruction']} at line {instruction['startline'] + 1} uses {sorted(unknown)}"


def test_the_serving_image_starts_from_the_pinned_vllm_image_and_checks_what_it_got():
    image = DERIVED["vllm-efa"]
    parser = _parsed("vllm-efa")
    assert [i["value"] for i in parser.structure if i["instruction"] == "FROM"] == ["${BASE_IMAGE}"]
    assert image.base_reference() == IMAGES["vllm"].reference
    runs = [i["value"] for i in parser.structure if i["instruction"] == "RUN"]
    # The installer is fetched by its pinned version and refused unless its SHA-256 is the pinned one.
    fetch = next(run for run in runs if "efa-installer.amazonaws.com" in run)
    assert (
        "aws-efa-installer-${EFA_INSTALLER_VERSION}.tar.gz" in fetch
        and 'echo "${EFA_INSTALLER_SHA256}  /tmp/aws-efa-installer.tar.gz" | sha256sum -c -' in fetch
    )
    assert fetch.index("sha256sum -c") < fetch.index("efa_installer.sh")
    assert "--skip-kmod" in fetch and "--no-verify" in fetch
    assert dict(image.args)["EFA_INSTALLER_VERSION"] == EFA_INSTALLER[0] and dict(image.args)["EFA_INSTALLER_SHA256"] == EFA_INSTALLER[1]
    # The base is checked against the matrix before anything is added to it.
    first = runs[0]
    assert "m.version('vllm')" in first and "${EXPECT_CUDA}" in first and "${EXPECT_NCCL_WHEEL}" in first
    # NCCL finds the plugin by the name NCCL_NET_PLUGIN=ofi gives, on the loader's path.
    env = " ".join(i["value"] for i in parser.structure if i["instruction"] == "ENV")
    assert "/opt/amazon/ofi-nccl/lib" in env and "${LD_LIBRARY_PATH}" in env
    assert any("/opt/amazon/ofi-nccl/lib/libnccl-net-ofi.so" in run for run in runs)
    # Its own user and entrypoint are the base's (core/images.py relies on it).
    assert not [i for i in parser.structure if i["instruction"] in ("USER", "ENTRYPOINT", "CMD")]


def test_the_burn_in_image_is_the_serving_image_with_nccl_tests_where_the_burn_in_runs_them():
    image = DERIVED["nccl-tests-efa"]
    parser = _parsed("nccl-tests-efa")
    assert parser.is_multistage
    assert [i["value"] for i in parser.structure if i["instruction"] == "FROM"] == ["${BASE_IMAGE} AS build", "${BASE_IMAGE}"]
    assert image.base == "vllm-efa" and image.base_reference() == DERIVED["vllm-efa"].reference()
    build = next(i["value"] for i in parser.structure if i["instruction"] == "RUN" and "make -C /opt/nccl-tests" in i["value"])
    assert 'test "$(git -C /opt/nccl-tests rev-parse HEAD)" = "${NCCL_TESTS_COMMIT}"' in build
    assert "MPI=1 MPI_HOME=/opt/amazon/openmpi" in build and "NCCL_HOME=/tmp/nccl" in build
    assert dict(image.args) == {"NCCL_TESTS_VERSION": NCCL_TESTS[0], "NCCL_TESTS_COMMIT": NCCL_TESTS[1], "NVCC_GENCODE": NVCC_GENCODE}
    # The paths the burn-in calls (infra/gpu/burn_in.py).
    assert MPIRUN.split()[0] == "/opt/amazon/openmpi/bin/mpirun"
    copied = next(i["value"] for i in parser.structure if i["instruction"] == "COPY")
    assert copied == "--from=build /opt/nccl-tests/build /opt/nccl-tests/build" and ALL_REDUCE.startswith(
        "/opt/nccl-tests/build/all_reduce_perf"
    )


def test_bases_are_built_before_the_images_on_them():
    order = [image.name for image in build_order()]
    assert order.index("vllm-efa") < order.index("nccl-tests-efa")


def test_a_tag_moves_with_the_dockerfile_and_with_a_pin(tmp_path, monkeypatch):
    before = {name: image.tag() for name, image in DERIVED.items()}
    assert all(re.fullmatch(r"[\w.-]+-[0-9a-f]{12}", tag) for tag in before.values())
    copy = tmp_path / "images"
    shutil.copytree(derived_images.IMAGES_DIR, copy)
    monkeypatch.setattr(derived_images, "IMAGES_DIR", copy)
    derived_images._digest.cache_clear()
    try:
        assert {name: image.tag() for name, image in DERIVED.items()} == before, "the same bytes give the same tags"
        with (copy / "vllm-efa" / "Dockerfile").open("a") as dockerfile:
            dockerfile.write("\n# changed\n")
        derived_images._digest.cache_clear()
        after = {name: image.tag() for name, image in DERIVED.items()}
        # The serving image changes, and so does the burn-in image built on it.
        assert after["vllm-efa"] != before["vllm-efa"] and after["nccl-tests-efa"] != before["nccl-tests-efa"]
        derived_images._digest.cache_clear()
        monkeypatch.setitem(
            DERIVED,
            "nccl-tests-efa",
            derived_images.DerivedImage(**{**DERIVED["nccl-tests-efa"].__dict__, "args": (("NCCL_TESTS_VERSION", "v2.19.6"),)}),
        )
        assert DERIVED["nccl-tests-efa"].tag() != after["nccl-tests-efa"]
    finally:
        derived_images._digest.cache_clear()
