"""The images the kit builds in the account (images/<name>/Dockerfile, built by infra/images/), and their tags.

A tag is `<readable versions>-<hash>`, the hash over the Dockerfile's bytes, its build arguments and the image it
builds FROM: change any of them and the tag changes, the repository (immutable tags) gets a new image, and the
build runs again (the trigger's parameters carry the tag). The same inputs give the same tag on every machine, so
a synth writes the reference the build will push.

Sizes are recorded per layer, dated, from the base's published size and what each Dockerfile adds (LAYERS): the
cold-start model reads them (core/cold_start.py). The build prints each pushed image's size (post_build), the number
to record here after a first build.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from core.registry_cache import derived
from core.versions import EFA_INSTALLER, IMAGES, NCCL_TESTS, PROGRAMS

IMAGES_DIR = Path(__file__).resolve().parents[1] / "images"
CHECKED_ON = "2026-12-05"

# What vLLM 0.30.0's image is built on (vllm sdist docker/Dockerfile at v0.30.0: ARG CUDA_VERSION=13.0.3, FINAL_BASE_IMAGE
# nvidia/cuda:13.0.3-base-ubuntu24.04, ARG NCCL_VERSION=2.30.7 written to UV_OVERRIDE as nvidia-nccl-cu13==2.30.7).
VLLM_BASE_CUDA = "13.0.3"
VLLM_BASE_NCCL = "2.30.7"
VLLM_BASE_NCCL_WHEEL = "nvidia-nccl-cu13"
# The aws-ofi-nccl that EFA installer 1.50.0 installs (AWS EFA release notes: "Upgrade to Amazon OFI NCCL Plugin 1.21.1").
AWS_OFI_NCCL = "1.21.1"
LIBFABRIC = "2.6.0amzn1.0"
# The GPU architectures of every instance family the kit knows (core/instances.py): A100 sm_80, A10G sm_86, L4 and
# L40S sm_89, H100/H200 sm_90, B200 sm_100, B300 sm_103 -- the list AWS's CUDA 13 nccl-tests image builds.
NVCC_GENCODE = " ".join(f"-gencode=arch=compute_{sm},code=sm_{sm}" for sm in (80, 86, 89, 90, 100, 103))


@dataclass(frozen=True)
class Layer:
    what: str
    compressed_mb: float
    how_known: str
    """measured (with its source) or an estimate (with its basis), dated by CHECKED_ON."""


@dataclass(frozen=True)
class DerivedImage:
    name: str
    """Its folder under images/ and its repository under the kit's name."""
    base: str
    """An IMAGES key (a public image) or another derived image's name."""
    readable: str
    """The versions at the front of the tag."""
    args: tuple[tuple[str, str], ...]
    """Build arguments besides BASE_IMAGE."""
    layers: tuple[Layer, ...]
    """What it adds to its base."""

    @property
    def dockerfile(self) -> Path:
        return IMAGES_DIR / self.name / "Dockerfile"

    def base_reference(self) -> str:
        return DERIVED[self.base].reference() if self.base in DERIVED else IMAGES[self.base]

    def tag(self) -> str:
        return f"{self.readable}-{_digest(self.name)}"

    def reference(self) -> str:
        """As blueprints and infra write it: core.registry_cache resolves it to the kit's repository."""
        return derived(self.name, self.tag())

    def size_gb(self) -> float:
        base = DERIVED[self.base].size_gb() if self.base in DERIVED else BASE_LAYERS[self.base].compressed_mb / 1000
        return round(base + sum(layer.compressed_mb for layer in self.layers) / 1000, 2)


@cache
def _digest(name: str) -> str:
    image = DERIVED[name]
    inputs = {"dockerfile": image.dockerfile.read_bytes().hex(), "args": list(image.args), "base": image.base_reference()}
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:12]


# Compressed sizes of the public images the derived ones start from.
BASE_LAYERS = {
    "vllm": Layer(
        "vllm/vllm-openai:v0.30.0, every layer",
        10500,
        "estimate: core/cold_start.py's figure for the pinned tag, from the sizes Docker Hub publishes for nearby tags "
        "(no registry is reachable where the kit is built)",
    ),
}

DERIVED: dict[str, DerivedImage] = {
    "vllm-efa": DerivedImage(
        name="vllm-efa",
        base="vllm",
        readable=f"v{PROGRAMS['vllm']}-efa{EFA_INSTALLER[0]}",
        args=(
            ("EFA_INSTALLER_VERSION", EFA_INSTALLER[0]),
            ("EFA_INSTALLER_SHA256", EFA_INSTALLER[1]),
            ("EXPECT_VLLM", PROGRAMS["vllm"]),
            ("EXPECT_CUDA", VLLM_BASE_CUDA),
            ("EXPECT_NCCL", VLLM_BASE_NCCL),
            ("EXPECT_NCCL_WHEEL", VLLM_BASE_NCCL_WHEEL),
        ),
        layers=(
            Layer(
                f"EFA installer {EFA_INSTALLER[0]} for Ubuntu 24.04: rdma-core, libfabric, the EFA provider, aws-ofi-nccl, Open MPI 4 and 5",
                300,
                "estimate: the installer unpacks one distribution's packages out of a 627 MB tarball that holds every "
                "distribution's; a fifth of it, after compression, rounded up",
            ),
        ),
    ),
    "nccl-tests-efa": DerivedImage(
        name="nccl-tests-efa",
        base="vllm-efa",
        readable=f"{NCCL_TESTS[0]}-efa{EFA_INSTALLER[0]}",
        args=(("NCCL_TESTS_VERSION", NCCL_TESTS[0]), ("NCCL_TESTS_COMMIT", NCCL_TESTS[1]), ("NVCC_GENCODE", NVCC_GENCODE)),
        layers=(
            Layer(
                "nccl-tests build/ (11 benchmarks for six GPU architectures), openssh-client",
                120,
                "estimate: eleven statically linked CUDA binaries of roughly 15-25 MB for six architectures, compressed by half",
            ),
        ),
    ),
}


def build_order() -> list[DerivedImage]:
    """Bases before the images built on them."""
    ordered: list[DerivedImage] = []
    while len(ordered) < len(DERIVED):
        for image in DERIVED.values():
            if image not in ordered and (image.base not in DERIVED or DERIVED[image.base] in ordered):
                ordered.append(image)
    return ordered


def image_gb() -> dict[str, float]:
    """Compressed size of each derived image, for the cold-start model."""
    return {name: image.size_gb() for name, image in DERIVED.items()}
