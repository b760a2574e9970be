"""Which images the kit must build or copy for one config: the kit's own images its workloads and burn-in run, and
the NGC images anything in the cluster pulls (ECR has no cache rule for NGC, so those are copied)."""

from __future__ import annotations

from dataclasses import dataclass

from core.derived_images import DERIVED
from core.registry_cache import DERIVED_HOST, images_in, parse
from core.requirements import Requirements
from core.images import IMAGES
from infra.images.build import BuildPlan, plan
from infra.images.chart_images import chart_upstreams


@dataclass(frozen=True, kw_only=True)
class ImageNeeds:
    """What of a config decides the images the kit builds or copies, beyond the images its workloads name
    (infra/stacks/images_props.py maps it)."""

    kit_name: str
    """The kit's name: its repositories are <kit_name>/<image>, its NGC copies <kit_name>/ngc/<path>."""
    region: str
    """The region of the kit's registry."""
    pull_through_cache: bool
    """images.pull_through_cache.enabled: NGC images are copied only while the cache is on."""
    burn_in: bool
    """Some node pool runs the burn-in, whose DCGM diagnostics pull NVIDIA's DCGM image."""
    multi_gpu_all_reduce: bool
    """Some burn-in runs the NCCL all-reduce on an instance with more than one GPU: nccl-tests-efa is built."""
    al2023_gpu_nodes: bool
    """Some GPU capacity runs the AL2023 NVIDIA AMI, which needs the NVIDIA device plugin chart's images."""
    dcgm_exporter: bool
    """observability.runs_dcgm_exporter: the DCGM exporter chart's images."""


def build_plan(needs: ImageNeeds, workload_objects: dict[str, list[dict]], requirements: Requirements) -> BuildPlan:
    written = [image for objects in workload_objects.values() for image in images_in(objects)]
    derived = {name for image in written if (name := _derived_name(needs.kit_name, image))}
    ngc = {image for image in (_upstream(needs.kit_name, ref) for ref in written) if parse(image).host == "nvcr.io"}
    if needs.multi_gpu_all_reduce:
        derived.add("nccl-tests-efa")
    if needs.burn_in:
        ngc.add(IMAGES["dcgm"].reference)
    charts = {spec.chart for spec in requirements.controllers}
    if needs.al2023_gpu_nodes:
        charts.add("nvidia-device-plugin")
    if needs.dcgm_exporter:
        charts.add("dcgm-exporter")
    ngc |= {ref for chart in charts for ref in chart_upstreams(chart) if parse(ref).host == "nvcr.io"}
    return plan(needs.kit_name, needs.region, needs.pull_through_cache, derived & set(DERIVED), ngc, None)


def _derived_name(kit_name: str, reference: str) -> str | None:
    """The kit's image a reference names, written (kit.invalid/<name>) or resolved (<registry>/<kit>/<name>)."""
    ref = parse(reference)
    if ref.host == DERIVED_HOST:
        return ref.path
    kit, _, name = ref.path.partition("/")
    return name if ".dkr.ecr." in ref.host and kit == kit_name and name in DERIVED else None


def _upstream(kit_name: str, reference: str) -> str:
    """The image a rewritten reference stands for: <kit>/ngc/<path> is nvcr.io/<path>."""
    ref = parse(reference)
    marker = f"{kit_name}/ngc/"
    if ".dkr.ecr." in ref.host and ref.path.startswith(marker):
        return f"nvcr.io/{ref.path[len(marker) :]}" + (f":{ref.tag}" if ref.tag else "")
    return reference
