"""One record per image (core/images.py): every reader gets the pin, the contents, the size and the user from it, and
registration refuses a blueprint that names an image without one."""

from __future__ import annotations

from pathlib import Path

import pytest

from assembly.kit import KIT
from blueprints.contract import GpuBlueprint, tag_of
from blueprints.registry import BLUEPRINTS, BlueprintImageError, check_images, registered
from blueprints.vllm import Vllm
from core.cold_start import image_gb
from core.derived_images import DERIVED
from core.image_matrix import _image_stacks
from core.image_record import ImageRecord
from core.images import IMAGES, UnknownImageError, image, provided_by
from core.pinned_images import PINNED

REPO = Path(__file__).resolve().parents[2]
CONFIGS = [REPO / "config" / "default.yaml", *sorted((REPO / "config" / "examples").glob("*.yaml"))]


def test_the_table_holds_every_public_image_and_every_build_once():
    assert list(IMAGES) == [*PINNED, *DERIVED]
    for key, record in IMAGES.items():
        assert record.key == key


def test_a_built_image_is_its_base_record_plus_what_the_build_adds():
    efa, base = IMAGES["vllm-efa"], IMAGES["vllm"]
    assert efa.reference == DERIVED["vllm-efa"].reference() and efa.reference.startswith("kit.invalid/vllm-efa:")
    assert efa.provides == base.provides | {"efa-libfabric", "aws-ofi-nccl"}
    assert (efa.run_as, efa.home, efa.entrypoint, efa.vllm) == (base.run_as, base.home, base.entrypoint, base.vllm)
    assert image_gb("vllm-efa") == pytest.approx(image_gb("vllm") + 0.3)
    # nccl-tests-efa clears the entrypoint and runs as the burn-in's root without capabilities.
    tests = IMAGES["nccl-tests-efa"]
    assert tests.entrypoint == () and tests.run_as == 0 and tests.provides == efa.provides
    assert image_gb("nccl-tests-efa") == pytest.approx(image_gb("vllm-efa") + 0.12)


def test_the_cold_start_model_reads_the_size_from_the_record():
    assert image_gb("triton") == IMAGES["triton"].size_gb == 13.0
    with pytest.raises(ValueError, match="'redis': its record has no size_gb"):
        image_gb("redis")


def test_an_unknown_key_is_a_sentence_naming_the_records():
    with pytest.raises(UnknownImageError) as raised:
        image("vllm-nightly")
    message = str(raised.value)
    assert "'vllm-nightly'" in message and "vllm, triton" in message and "core/pinned_images.py" in message
    with pytest.raises(UnknownImageError):
        provided_by("vllm-nightly", None, None)
    # A custom image is judged by what it declares, not by any record.
    assert provided_by("vllm-nightly", "example.com/mine:1", ["ray"]) == {"ray"}


def test_every_image_stack_of_the_version_matrix_has_a_record():
    assert set(_image_stacks()) <= set(IMAGES)


@pytest.mark.parametrize(
    "fields,message",
    [
        ({"evidence": ()}, "ImageRecord.evidence: got none"),
        ({"size_gb": 1.0}, "ImageRecord.size_gb: got 1.0"),
        ({"size_gb": 0.0, "size_basis": "measured"}, "ImageRecord.size_gb: got 0.0"),
        ({"reference": ""}, "ImageRecord.key/reference"),
    ],
)
def test_a_record_refuses_what_it_cannot_hold(fields, message):
    base = {"key": "x", "reference": "example.com/x:1.0.0", "user": "root", "run_as": 0, "evidence": ("read here",)}
    with pytest.raises(ValueError, match=message):
        ImageRecord(**{**base, **fields})


class _NamesAnUnknownImage(Vllm):
    images = ("vllm", "vllm-nightly")


class _ForgetsItsImageKey(Vllm):
    images = ("vllm-efa",)


class _NamesAnUnsizedImage(Vllm):
    images = ("vllm", "redis")


def test_registration_refuses_a_blueprint_that_names_an_image_without_a_record():
    with pytest.raises(UnknownImageError) as raised:
        registered(*BLUEPRINTS, _NamesAnUnknownImage())
    message = str(raised.value)
    assert "blueprint 'vllm' (tests.images.test_image_records._NamesAnUnknownImage)" in message
    assert "image 'vllm-nightly', which has no record" in message
    assert "the records are: inference-perf, vllm, triton" in message


def test_registration_refuses_a_gpu_blueprint_whose_image_key_or_sizes_are_missing():
    with pytest.raises(BlueprintImageError, match="image_key 'vllm' is not among its images"):
        check_images(_ForgetsItsImageKey())
    with pytest.raises(BlueprintImageError, match="the records of redis have no size_gb"):
        check_images(_NamesAnUnsizedImage())


def _workloads_by_blueprint() -> dict[str, list]:
    found: dict[str, list] = {}
    for path in CONFIGS:
        for workload in KIT.load(Path(path)).workloads:
            found.setdefault(tag_of(type(workload)), []).append(workload)
    return found


def test_every_gpu_blueprint_runs_only_declared_images_with_and_without_efa():
    workloads = _workloads_by_blueprint()
    gpu = [blueprint for blueprint in BLUEPRINTS if isinstance(blueprint, GpuBlueprint)]
    assert len(gpu) >= 6
    for blueprint in gpu:
        # Its declared example always; the shipped configs' workloads of it too, where there are any.
        for workload in [blueprint.example, *workloads.get(blueprint.name, [])]:
            for efa in (False, True):
                key = blueprint.image_key_for(workload, efa)
                assert key in blueprint.images, f"{blueprint.name}: image_key_for(..., efa={efa}) = {key!r}, not in {blueprint.images}"


def test_every_registered_blueprint_passes_the_registration_check():
    for blueprint in BLUEPRINTS:
        check_images(blueprint)
        assert all(key in IMAGES for key in blueprint.images)
