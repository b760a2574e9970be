"""What the kit knows of one image: where it is pulled from, what it carries (and where that was read), its size
for the cold-start model, and the user the kit runs it as. The kit's records are core.images.IMAGES."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Capability = Literal["ray", "aws-ofi-nccl", "efa-libfabric", "runai-model-streamer"]
"""What a workload may rely on an image to carry (a custom image declares its own with `image_provides`)."""
CAPABILITIES: tuple[Capability, ...] = ("ray", "aws-ofi-nccl", "efa-libfabric", "runai-model-streamer")


@dataclass(frozen=True, kw_only=True)
class ImageRecord:
    """One image the kit runs. Nothing is assumed of an image beyond its record."""

    key: str
    """Its name in core.images.IMAGES (what a blueprint's `images` and `image_key_for` name)."""
    reference: str
    """As pods name it before core/registry_cache.py resolves it: registry/repository:tag (or @digest) for a public
    image, kit.invalid/<name>:<tag> for one the kit builds (core/derived_images.py)."""
    user: str
    """The user the image itself runs as, and the non-root user it offers, if any."""
    run_as: int
    """The UID the kit runs it as (the workloads namespace admits no root; the platform's few root containers drop
    every capability)."""
    evidence: tuple[str, ...]
    """Where what the record says was read (the image's build files, the packages at the pinned versions); no image
    was pulled."""
    provides: frozenset[Capability] = frozenset()
    """What a workload may rely on it to carry. Default: nothing, so a check that needs a capability refuses it."""
    entrypoint: tuple[str, ...] = ()
    """The image's own entrypoint, kept where it prepares the environment (containers set `args`, never `command`).
    Default: none the kit relies on."""
    home: str | None = None
    """A HOME the kit mounts writable (an emptyDir) for caches, where the image's own is missing or root's.
    Default: None, the image's HOME already belongs to run_as (or the kit writes no caches there)."""
    vllm: str | None = None
    """The vLLM version inside. Default: None, no vLLM."""
    size_gb: float | None = None
    """Compressed size, GB, for the cold-start model (core/cold_start.py). Default: None, no workload's cold start
    pulls it (registration requires one of a GPU blueprint's images)."""
    size_basis: str = ""
    """How size_gb is known: measured (with its source) or an estimate (with its basis)."""

    def __post_init__(self) -> None:
        if not self.key or not self.reference:
            raise ValueError(
                f"ImageRecord.key/reference: got {self.key!r}/{self.reference!r}; both are required; name the image and its reference"
            )
        if not self.evidence:
            raise ValueError(
                f"ImageRecord.evidence: got none for {self.key!r}; at least one source is required; say where the facts were read"
            )
        if self.size_gb is not None and (self.size_gb <= 0 or not self.size_basis):
            raise ValueError(
                f"ImageRecord.size_gb: got {self.size_gb!r} for {self.key!r} with basis {self.size_basis!r}; "
                "a positive size with its basis is allowed; give both, or neither"
            )
