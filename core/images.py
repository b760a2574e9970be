"""The kit's image records: every image it runs, one record each (core/image_record.py says what a record holds).

The public images' records, with their pins, are core/pinned_images.py's; the images the kit builds get theirs from
their base's record and what the build adds (core/derived_images.py). Everything that names, sizes or relies on an
image reads it here: the blueprints and their checks, the cold-start model, the image build, the docs.

A record is all that is assumed of an image: NCCL is pointed at EFA (NCCL_NET=ofi) only in an image that carries the
aws-ofi-nccl plugin (NCCL fails to initialise when the named network is missing); an S3 model is streamed only by an
image with the Run:ai streamer; an image's own entrypoint is kept (containers set `args`, never `command`, where the
entrypoint prepares the environment). A custom `image` declares what it carries with `image_provides`; nothing else
is assumed of it.
"""

from __future__ import annotations

from collections.abc import Iterable

from core.derived_images import DERIVED
from core.image_record import CAPABILITIES, Capability, ImageRecord
from core.pinned_images import PINNED

__all__ = ["CAPABILITIES", "IMAGES", "Capability", "ImageRecord", "UnknownImageError", "image", "provided_by"]

IMAGES: dict[str, ImageRecord] = PINNED | {name: built.record() for name, built in DERIVED.items()}
"""Every image the kit runs, by key: the public ones first, then the ones it builds."""


class UnknownImageError(LookupError):
    """An image key without a record: a sentence naming the key and the records there are, not a bare KeyError."""

    def __init__(self, key: str, who: str = "") -> None:
        self.key = key
        super().__init__(
            f"{who + ' names' if who else 'no record for'} image {key!r}"
            + (", which has no record" if who else "")
            + f"; the records are: {', '.join(IMAGES)}. Add a record to core/pinned_images.py (a public image) or "
            "core/derived_images.py (one the kit builds), or name one of these"
        )


def image(key: str, who: str = "") -> ImageRecord:
    """The record of one image; who: what names it, for the error."""
    try:
        return IMAGES[key]
    except KeyError:
        raise UnknownImageError(key, who) from None


def provided_by(image_key: str, custom_image: str | None, declared: Iterable[str] | None) -> frozenset[str]:
    """What the image a workload runs carries: the pinned image's record, or what a custom image declares."""
    if custom_image is not None:
        return frozenset(declared or ())
    return image(image_key).provides
