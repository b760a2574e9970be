"""Which images the kit must build or copy for one config: the kit's own images its workloads and burn-in run, and
the NGC images anything in the cluster pulls (ECR has no cache rule for NGC, so those are copied)."""

from __future__ import annotations

from config.model import PlatformConfig
from config.platform import capacities
from core.derived_images import DERIVED
from core.instances import known
from core.registry_cache import DERIVED_HOST, images_in, parse
from core.requirements import Requirements
from core.versions import IMAGES
from infra.images.build import BuildPlan, plan
from infra.images.chart_images import chart_upstreams


def build_plan(config: PlatformConfig, workload_objects: dict[str, list[dict]], requirements: Requirements) -> BuildPlan:
    cache = config.images.pull_through_cache
    written = [image for objects in workload_objects.values() for image in images_in(objects)]
    derived = {name for image in written if (name := _derived_name(config, image))}
    ngc = {image for image in (_upstream(config, ref) for ref in written) if parse(image).host == "nvcr.io"}
    burn_in = [pool for pool in config.node_pools if pool.burn_in is not None]
    if any(
        pool.burn_in.all_reduce and any((facts := known(kind)) is not None and facts.gpus > 1 for kind in pool.instance_types)
        for pool in burn_in
    ):
        derived.add("nccl-tests-efa")
    if burn_in:
        ngc.add(IMAGES["dcgm"])
    pools = capacities(config)
    charts = {spec.chart for spec in requirements.controllers}
    if any(capacity.ami_family == "al2023" for capacity in pools.values()):
        charts.add("nvidia-device-plugin")
    if config.observability.runs_dcgm_exporter:
        charts.add("dcgm-exporter")
    ngc |= {ref for chart in charts for ref in chart_upstreams(chart) if parse(ref).host == "nvcr.io"}
    return plan(config.name, config.region, cache.enabled, derived & set(DERIVED), ngc, None)


def _derived_name(config: PlatformConfig, reference: str) -> str | None:
    """The kit's image a reference names, written (kit.invalid/<name>) or resolved (<registry>/<kit>/<name>)."""
    ref = parse(reference)
    if ref.host == DERIVED_HOST:
        return ref.path
    kit, _, name = ref.path.partition("/")
    return name if ".dkr.ecr." in ref.host and kit == config.name and name in DERIVED else None


def _upstream(config: PlatformConfig, reference: str) -> str:
    """The image a rewritten reference stands for: <kit>/ngc/<path> is nvcr.io/<path>."""
    ref = parse(reference)
    marker = f"{config.name}/ngc/"
    if ".dkr.ecr." in ref.host and ref.path.startswith(marker):
        return f"nvcr.io/{ref.path[len(marker) :]}" + (f":{ref.tag}" if ref.tag else "")
    return reference
