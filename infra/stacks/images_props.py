"""The config mapped to what the image stacks and the node roles' image access need."""

from __future__ import annotations

from config.model import PlatformConfig
from config.platform import capacities
from core.instances import known
from infra.images.needs import ImageNeeds


def image_needs(config: PlatformConfig) -> ImageNeeds:
    burn_in = [pool for pool in config.node_pools if pool.burn_in is not None]
    return ImageNeeds(
        kit_name=config.name,
        region=config.region,
        pull_through_cache=config.images.pull_through_cache.enabled,
        burn_in=bool(burn_in),
        multi_gpu_all_reduce=any(
            pool.burn_in is not None
            and pool.burn_in.all_reduce
            and any((facts := known(kind)) is not None and facts.gpus > 1 for kind in pool.instance_types)
            for pool in burn_in
        ),
        al2023_gpu_nodes=any(capacity.ami_family == "al2023" for capacity in capacities(config).values()),
        dcgm_exporter=config.observability.runs_dcgm_exporter,
    )
