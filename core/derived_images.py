"""The images the kit builds in the account (images/<name>/Dockerfile, built by infra/images/), and their tags.

A tag is `<readable versions>-<hash>`, the hash over the Dockerfile's bytes, its build arguments and the image it
builds FROM: change any of them and the tag changes, the repository (immutable tags) gets a new image, and the
build runs again (the trigger's parameters carry the tag). The same inputs give the same tag on every machine, so
a synth writes the reference the build will push.

Sizes are recorded per layer, dated, on top of the base's record (core/pinned_images.py) for what each Dockerfile
adds: the cold-start model reads them from each image's record (core/images.py). The build prints each pushed
image's size (post_build), the number to record here after a first build.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

from core.image_record import Capability, ImageRecord
from core.pinned_images import PINNED
from core.registry_cache import derived
from core.versions import EFA_INSTALLER, NCCL_TESTS, PROGRAMS

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


@dataclass(frozen=True, kw_only=True)
class DerivedImage:
    """How the kit builds one image on another, and what the build adds to the base's record."""

    name: str
    """Its folder under images/, its repository under the kit's name, and its key in core.images.IMAGES."""
    base: str
    """A core.pinned_images.PINNED key (a public image) or another derived image's name."""
    readable: str
    """The versions at the front of the tag."""
    args: tuple[tuple[str, str], ...]
    """Build arguments besides BASE_IMAGE."""
    layers: tuple[Layer, ...]
    """What it adds to its base, for its size."""
    adds: frozenset[Capability] = frozenset()
    """What it carries besides what its base does. Default: nothing."""
    evidence: tuple[str, ...]
    """Where what it adds was read (its Dockerfile, the installer's release notes)."""
    entrypoint: tuple[str, ...] | None = None
    """Its own ENTRYPOINT. Default: None, the base's stays."""
    run_as: int | None = None
    """The UID the kit runs it as. Default: None, the base's record's (no USER of its own)."""

    @property
    def dockerfile(self) -> Path:
        return IMAGES_DIR / self.name / "Dockerfile"

    def base_record(self) -> ImageRecord:
        return DERIVED[self.base].record() if self.base in DERIVED else PINNED[self.base]

    def base_reference(self) -> str:
        return self.base_record().reference

    def tag(self) -> str:
        return f"{self.readable}-{_digest(self.name)}"

    def reference(self) -> str:
        """As blueprints and infra write it: core.registry_cache resolves it to the kit's repository."""
        return derived(self.name, self.tag())

    def size_gb(self) -> float:
        base = self.base_record().size_gb
        if base is None:
            raise ValueError(f"DerivedImage.base: {self.base!r} has no size_gb; a base with a size is required; record the base's size")
        return round(base + sum(layer.compressed_mb for layer in self.layers) / 1000, 2)

    def record(self) -> ImageRecord:
        """The base's record with what the build adds: its reference, capabilities, evidence and size."""
        base = self.base_record()
        return replace(
            base,
            key=self.name,
            reference=self.reference(),
            provides=base.provides | self.adds,
            entrypoint=base.entrypoint if self.entrypoint is None else self.entrypoint,
            run_as=base.run_as if self.run_as is None else self.run_as,
            evidence=self.evidence,
            size_gb=self.size_gb(),
            size_basis=f"{base.key}'s record plus its layers: " + "; ".join(layer.how_known for layer in self.layers),
        )


@cache
def _digest(name: str) -> str:
    image = DERIVED[name]
    inputs = {"dockerfile": image.dockerfile.read_bytes().hex(), "args": list(image.args), "base": image.base_reference()}
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:12]


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
                f"EFA installer {EFA_INSTALLER[0]} for Ubuntu 24.04: rdma-core, libfabric, the EFA provider, aws-ofi-nccl, "
                "Open MPI 4 and 5",
                300,
                "estimate: the installer unpacks one distribution's packages out of a 627 MB tarball that holds every "
                "distribution's; a fifth of it, after compression, rounded up",
            ),
        ),
        adds=frozenset({"efa-libfabric", "aws-ofi-nccl"}),
        evidence=(
            "images/vllm-efa/Dockerfile: FROM the pinned vllm/vllm-openai (checked at build: vllm 0.30.0, CUDA 13.0.3, "
            "nvidia-nccl-cu13 2.30.7); the EFA installer 1.50.0 (SHA256-pinned) installs /opt/amazon/efa (libfabric "
            "2.6.0amzn1.0 with the efa provider), /opt/amazon/ofi-nccl/lib/libnccl-net-ofi.so (aws-ofi-nccl 1.21.1) and "
            "/opt/amazon/openmpi, all on LD_LIBRARY_PATH; no USER or ENTRYPOINT of its own, so the base's stay",
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
        evidence=(
            "images/nccl-tests-efa/Dockerfile: FROM vllm-efa, nccl-tests built against the image's own NCCL wheel; "
            "ENTRYPOINT [] and CMD bash",
        ),
        entrypoint=(),
        # Root without capabilities: mpirun's ranks run as the burn-in's one user (infra/gpu/burn_in.py).
        run_as=0,
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
