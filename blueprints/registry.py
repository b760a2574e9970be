"""Every blueprint the kit knows: one import line each.

Adding a blueprint: a new folder whose package exports BLUEPRINT (an instance of a blueprints.contract.Blueprint
subclass), and one line below. Their order here is the order of the config reference and of `./kit blueprints`.
Registration refuses a blueprint that names an image without a record (core/images.py), so the mistake surfaces
here, naming the blueprint, the key and the records there are, and not as a KeyError in a check.
"""

from __future__ import annotations

from blueprints.contract import Blueprint, GpuBlueprint
from core.images import image

from blueprints.vllm import BLUEPRINT as VLLM
from blueprints.triton import BLUEPRINT as TRITON
from blueprints.vllm_multinode import BLUEPRINT as VLLM_MULTINODE
from blueprints.dynamo import BLUEPRINT as DYNAMO
from blueprints.ray_serve import BLUEPRINT as RAY_SERVE
from blueprints.vllm_batch import BLUEPRINT as VLLM_BATCH
from blueprints.benchmark import BLUEPRINT as BENCHMARK


class BlueprintImageError(ValueError):
    """A blueprint whose declared images do not hold what the kit needs of them."""


def check_images(blueprint: Blueprint) -> None:
    """Every key in `images` has a record; a GPU blueprint's image_key is one of them, and each has a size for the
    cold-start model. Raises UnknownImageError or BlueprintImageError with a sentence that names the blueprint."""
    who = f"blueprint {blueprint.name!r} ({type(blueprint).__module__}.{type(blueprint).__qualname__}) in `images`"
    records = [image(key, who) for key in blueprint.images]
    if not isinstance(blueprint, GpuBlueprint):
        return
    if blueprint.image_key not in blueprint.images:
        raise BlueprintImageError(
            f"blueprint {blueprint.name!r}: image_key {blueprint.image_key!r} is not among its images {blueprint.images}; "
            "declare every image its workloads may run in `images`"
        )
    unsized = [record.key for record in records if record.size_gb is None]
    if unsized:
        raise BlueprintImageError(
            f"blueprint {blueprint.name!r}: the records of {', '.join(unsized)} have no size_gb, which its cold-start "
            "estimate needs; record each image's compressed size (core/pinned_images.py)"
        )


def registered(*blueprints: Blueprint) -> tuple[Blueprint, ...]:
    """The blueprints, once each has passed check_images."""
    for blueprint in blueprints:
        check_images(blueprint)
    return blueprints


BLUEPRINTS: tuple[Blueprint, ...] = registered(*(value for value in dict(globals()).values() if isinstance(value, Blueprint)))
