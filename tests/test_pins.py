"""The pins in core/versions.py and the image records' (core/pinned_images.py) are exact, carry their dated 'newest
patch' note, and agree with package.json."""

import json
import re
from pathlib import Path

import pytest

from core import pinned_images, versions
from core.images import IMAGES
from core.pinned_images import PINNED
from core.versions import AMI_VERSIONS, AWS_CDK_CLI, CHECKED_ON, PROGRAMS, HelmPin
from tests.helpers import REPO

SOURCES = {
    "core/versions.py": Path(versions.__file__).read_text().splitlines(),
    "core/pinned_images.py": Path(pinned_images.__file__).read_text().splitlines(),
}
HELM_PINS = {name: pin for name, pin in vars(versions).items() if isinstance(pin, HelmPin)}
# Pins whose notes live with the people who keep them (their comments carry the upstream evidence instead).
SETTLED_ELSEWHERE: set[str] = set()
NOTE = re.compile(
    r"newest patch of (?P<minor>\S+)(?: \([^)]*\))? as of (?P<date>\d{4}-\d{2}-\d{2}): (?P<newest>[^ ;,]+).*?notes read (?P<span>\S+)"
)
SEMVER = re.compile(r"v?\d+\.\d+\.\d+")


def _pin_line(pattern: str, file: str = "core/versions.py") -> tuple[str, int]:
    found = [i for i, line in enumerate(SOURCES[file]) if re.match(pattern, line)]
    assert len(found) == 1, f"{pattern!r} matches lines {found} of {file}"
    return file, found[0]


def _comments_above(pin: tuple[str, int]) -> str:
    """The comment block right above a pin line, joined into one string (a note may wrap over lines)."""
    file, index = pin
    source = SOURCES[file]
    lines = []
    i = index - 1
    while i >= 0 and source[i].strip().startswith("#"):
        lines.insert(0, source[i].strip().lstrip("#").strip())
        i -= 1
    return " ".join(lines)


def _every_pin():
    """(name, pinned version, the pin's line: core/versions.py, or the record's reference in core/pinned_images.py)."""
    yield "AWS_CDK_CLI", AWS_CDK_CLI, _pin_line(r"AWS_CDK_CLI = ")
    yield "INFERENCE_EXTENSION", versions.INFERENCE_EXTENSION, _pin_line(r"INFERENCE_EXTENSION = ")
    yield "PROMTOOL_DEBIAN_PACKAGE", versions.PROMTOOL_DEBIAN_PACKAGE[1], _pin_line(r"PROMTOOL_DEBIAN_PACKAGE = ")
    for name, pin in HELM_PINS.items():
        yield name, pin.version, _pin_line(rf"{name} = HelmPin\(")
    for key, version in AMI_VERSIONS.items():
        yield f"AMI_VERSIONS[{key}]", version, _pin_line(rf'    "{key}": "{re.escape(version)}",')
    for key, record in PINNED.items():
        yield (
            f"IMAGES[{key}]",
            record.reference.rsplit(":", 1)[1],
            _pin_line(rf'\s+reference="{re.escape(record.reference)}",$', "core/pinned_images.py"),
        )
    for key, version in PROGRAMS.items():
        yield f"PROGRAMS[{key}]", version, _pin_line(rf'    "{key}": "{re.escape(version)}",')


PINS = list(_every_pin())


def test_every_helm_chart_is_pinned_to_one_exact_version():
    assert len(HELM_PINS) >= 14
    for name, pin in HELM_PINS.items():
        assert re.fullmatch(r"v?\d+\.\d+\.\d+", pin.version), f"{name}: {pin.version!r} is not one exact release"
        assert pin.repository.startswith(("https://", "oci://")), f"{name}: {pin.repository!r}"


def test_every_image_names_a_release_tag_or_a_digest():
    for key, record in PINNED.items():
        reference = record.reference
        name, _, digest = reference.partition("@")
        if digest:
            assert re.fullmatch(r"sha256:[0-9a-f]{64}", digest), f"{key}: {reference}"
            continue
        path, sep, tag = name.rpartition(":")
        # A colon inside the registry host (a port) is not a tag.
        assert sep and "/" not in tag, f"{key}: {reference} has no tag (it would pull 'latest')"
        assert "latest" not in tag, f"{key}: {reference}"
        # An exact release: a full x.y.z somewhere in the tag, or an NGC monthly container release (YY.MM-...).
        exact = SEMVER.search(tag) or (path.startswith("nvcr.io/") and re.fullmatch(r"\d{2}\.\d{2}-[\w.-]+", tag))
        assert exact, f"{key}: {reference}'s tag {tag!r} floats (no full release version in it)"


def test_programs_and_amis_are_exact():
    for key, version in PROGRAMS.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"PROGRAMS[{key!r}] = {version!r}"
    assert re.fullmatch(r"v\d+\.\d+\.\d+", AMI_VERSIONS["bottlerocket"])
    assert re.fullmatch(r"v\d{8}", AMI_VERSIONS["al2023"])


def test_program_versions_match_the_images_they_stand_for():
    assert IMAGES["vllm"].reference.endswith(f":v{PROGRAMS['vllm']}")
    assert IMAGES["inference-perf"].reference.endswith(f":v{PROGRAMS['inference-perf']}")
    for key in ("dynamo-vllm", "dynamo-vllm-efa", "dynamo-frontend"):
        assert IMAGES[key].reference.rsplit(":", 1)[1].split("-")[0] == PROGRAMS["ai-dynamo"], key
    # The vLLM a record says an image carries is the one the contract checks install.
    assert IMAGES["vllm"].vllm == IMAGES["vllm-efa"].vllm == PROGRAMS["vllm"]
    assert IMAGES["dynamo-vllm"].vllm == IMAGES["dynamo-vllm-efa"].vllm == PROGRAMS["vllm-in-dynamo"]
    assert IMAGES["ray-llm"].vllm == PROGRAMS["vllm-in-ray-llm"]
    assert versions.DYNAMO_PLATFORM.version == PROGRAMS["ai-dynamo"]
    assert versions.AI_GATEWAY.version == versions.AI_GATEWAY_CRDS.version


@pytest.mark.parametrize("name,pinned,line", [pin for pin in PINS if pin[0] not in SETTLED_ELSEWHERE], ids=lambda v: str(v))
def test_every_pin_carries_a_dated_newest_patch_note(name, pinned, line):
    note = NOTE.search(_comments_above(line))
    assert note, f"{name} ({line[0]} line {line[1] + 1}) has no 'newest patch of X.Y as of DATE: V; notes read A..B' line"
    assert note["date"] == CHECKED_ON, f"{name}: note dated {note['date']}, CHECKED_ON is {CHECKED_ON}"
    assert ".." in note["span"], f"{name}: 'notes read' names no range: {note['span']!r}"
    # A newer patch left behind must say so, and why.
    assert re.match(r"v?(\d+\.\d+|\d{8}$)", note["newest"]), f"{name}: {note['newest']!r} is not a version"
    if not pinned.lstrip("v").startswith(note["newest"].lstrip("v")):
        assert "kept" in note.string, f"{name}: pinned {pinned}, the note names {note['newest']} as newest and gives no reason"


def test_the_settled_pins_exist_and_every_other_pin_was_checked():
    names = {name for name, _, _ in PINS}
    assert SETTLED_ELSEWHERE <= names
    assert len(names) == len(PINS), "two pins share a name; the note check would confuse them"


def test_the_cdk_cli_pin_agrees_across_package_json_lock_and_core_versions():
    package = json.loads((REPO / "package.json").read_text())
    assert package["devDependencies"]["aws-cdk"] == AWS_CDK_CLI, "package.json and core.versions.AWS_CDK_CLI differ"
    assert re.fullmatch(r"\d+\.\d+\.\d+", AWS_CDK_CLI), "an npm range (^, ~) would drift"
    lock = json.loads((REPO / "package-lock.json").read_text())
    assert lock["packages"][""]["devDependencies"]["aws-cdk"] == AWS_CDK_CLI
    assert lock["packages"]["node_modules/aws-cdk"]["version"] == AWS_CDK_CLI
