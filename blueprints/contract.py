"""The blueprint contract: what every blueprint declares, and the only way the rest of the kit sees one.

A blueprint is one folder holding its parameters (a pydantic model with `blueprint: Literal["<name>"]`), its
cdk8s chart, and a `BLUEPRINT` object of a Blueprint subclass; blueprints/registry.py lists it in one line.
The assembly types the config's `workloads:` with the registered parameters, runs each blueprint's checks,
gathers its requirements (which the cluster stack installs generically) and renders its chart.
"""

from __future__ import annotations

import math
import typing
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, ClassVar, Generic, Literal, TypeVar

from blueprints.common import checks, kv_offload, model_fit, queueing, vllm_flags
from blueprints.common.params import Autoscalable, GpuWorkloadParams, KvOffloadable, OwnPort, Routable, WorkloadParams
from blueprints.common.placement import Placement, Transport, placement_for
from blueprints.common.image_checks import driver_issues
from blueprints.common.routing import serving_clients
from blueprints.common.vllm_args import VllmEngine, VllmEngineKeys
from core.cold_start import Budget, WeightSource, budget, image_gb, weights_gb_from_name
from core.images import provided_by
from core.instances import known
from core.isolation import PodSecurityLevel, WorkloadTraffic
from core.issues import ConfigIssue
from core.model_sources import HfSource, S3Source
from core.platform import Endpoint, Platform
from core.requirements import Requirements

if TYPE_CHECKING:
    import cdk8s
    from constructs import Construct

P = TypeVar("P", bound=WorkloadParams)
G = TypeVar("G", bound=GpuWorkloadParams)


def tag_of(params: type[WorkloadParams]) -> str:
    """The blueprint's name: the one value of its parameters' `blueprint` Literal."""
    annotation = params.model_fields["blueprint"].annotation
    (name,) = typing.get_args(annotation)
    return name


@dataclass(frozen=True)
class EngineCommand:
    """How a blueprint's server containers start vLLM: a container whose `command` is `container_command` runs
    `vllm <subcommand> <leading_args> <its args>`. contracts/collect.py hands those arguments, from the rendered
    example, to that subcommand's own parser (`./kit contracts`), so a blueprint that declares this is checked there
    without a line in contracts/."""

    subcommand: Literal["serve", "run-batch"]
    """The vLLM command whose argument parser reads the arguments."""
    container_command: tuple[str, ...] = ()
    """The container `command` that leads to it. Default: none, so the image's own entrypoint runs: `vllm serve` in
    the pinned vLLM images (core/pinned_images.py; vllm 0.30.0 docker/Dockerfile), the container giving arguments."""
    leading_args: tuple[str, ...] = ()
    """What the container's command passes before the container's args. Default: nothing."""


VLLM_SERVE = EngineCommand("serve")
"""Containers that give `vllm serve`, the pinned vLLM images' entrypoint, its arguments and set no command."""


class Blueprint(ABC, Generic[P]):
    params: ClassVar[type[WorkloadParams]]
    """The typed `workloads:` entry of this blueprint."""
    serves_openai: ClassVar[bool] = False
    """Whether its Service speaks the OpenAI API (what a benchmark or a gateway can call)."""
    pod_security: ClassVar[PodSecurityLevel] = "restricted"
    """The strictest Pod Security Standard its pods meet; the workloads namespace enforces the least strict level
    among the enabled workloads."""
    images: ClassVar[tuple[str, ...]] = ()
    """Every image (a core.images.IMAGES key) its workloads may run when they set no `image`: registration
    (blueprints/registry.py) refuses a key without a record. Default: none, for a blueprint that runs no image of
    the kit's."""
    engine_command: ClassVar[EngineCommand | None] = None
    """How its server containers start vLLM (EngineCommand), so that the engine's own parser reads its example's
    arguments. Default: none, for a blueprint whose containers run another program (Triton and Ray Serve start vLLM
    from their own files, which the contracts read as files; Dynamo's workers are found by their command)."""

    @property
    def name(self) -> str:
        return tag_of(self.params)

    example_platform: ClassVar[Mapping[str, object]] = {}
    """Top-level config keys its example needs that config/default.yaml lacks (a team of scheduling.teams for a
    workload that must queue); they replace the default's keys of the same name."""

    @property
    @abstractmethod
    def example(self) -> P:
        """The smallest realistic workload of this blueprint (an 8B model on one g6e GPU where one GPU is enough).
        It runs in config/default.yaml beside that file's own workload: it names one of its node pools (gpu-l40s:
        g6e; gpu-h100-efa: p5 with EFA) and, where it needs another workload, the default's llama-8b.
        tests/blueprints/test_examples.py renders it through the kit and validates what it writes; `./kit contracts`
        hands its command lines to the programs that read them (contracts/collect.py)."""

    def checks(self, workload: P, platform: Platform) -> list[ConfigIssue]:
        """Problems that need the platform (pools, storage, other workloads); paths relative to the workload."""
        return []

    def requirements(self, workload: P, platform: Platform) -> Requirements:
        """What the cluster must run or grant while this workload is enabled."""
        return Requirements()

    def endpoint(self, workload: P, platform: Platform) -> Endpoint | None:
        """How other workloads reach this one; None when it serves nothing."""
        return None

    def traffic(self, workload: P, platform: Platform) -> WorkloadTraffic:
        """What its pods send and accept: the kit admits exactly this in the workload's NetworkPolicies."""
        return WorkloadTraffic()

    @abstractmethod
    def render(self, scope: Construct, workload: P, platform: Platform) -> cdk8s.Chart:
        """The workload's Kubernetes objects as a cdk8s chart named after the workload."""

    def summary(self, workload: P) -> str:
        return self.name


DEFAULT_STARTUP_MINUTES = 30
"""The startup window when the weights' size is unknown (no size in the model's name, no model_size_gib)."""

# What an image must carry for each way of moving data between nodes over EFA.
TRANSPORT_NEEDS = {"nccl": "aws-ofi-nccl", "nixl": "efa-libfabric"}
TRANSPORT_NAMES = {"nccl": "NCCL", "nixl": "NIXL"}


class GpuBlueprint(Blueprint[G]):
    """A model server on a GPU capacity: the shared checks (pool, GPUs per pod, EFA, image, model source) run first."""

    port: ClassVar[int] = 8000
    image_key: ClassVar[str]
    """The image (a core.images.IMAGES key, one of `images`) a workload runs without `image`."""

    def transport(self, workload: G) -> Transport | None:
        """What the workload sends between nodes; EFA is attached only for that. None: every pod is self-contained."""
        return None

    def port_of(self, workload: G) -> int:
        """The serving port: the workload's own where its blueprint lets the config set one, else the class's."""
        return workload.port if isinstance(workload, OwnPort) else self.port

    def image_key_for(self, workload: G, efa: bool) -> str:
        return self.image_key

    def placement(self, workload: G, platform: Platform) -> Placement:
        placement = placement_for(platform, workload, self.transport(workload))
        probe = self.cold_start(workload, platform, placement).probe_minutes()
        return replace(placement, startup_minutes=workload.startup_timeout_minutes or probe or DEFAULT_STARTUP_MINUTES)

    def cold_start(self, workload: G, platform: Platform, placement: Placement | None = None) -> Budget:
        """From an empty node to serving: node launch, image pull, weights, warm-up (core/cold_start.py)."""
        placement = placement or placement_for(platform, workload, self.transport(workload))
        model = workload.model
        name = {S3Source: lambda m: m.uri, HfSource: lambda m: m.repo_id}.get(type(model), lambda m: m.sub_path)(model)
        quantization = workload.quantization if isinstance(workload, VllmEngineKeys) else None
        weights = workload.model_size_gib or weights_gb_from_name(name, quantization)
        if isinstance(model, S3Source):
            source = WeightSource("s3", streams=model.streamer_concurrency, label="S3 (Run:ai streamer)")
        elif isinstance(model, HfSource):
            source = WeightSource("hf", label="the Hub (a first try: stage it with scripts/stage_model.py)")
        else:
            source = WeightSource("fsx", fsx_mb_s=platform.storage.fsx_throughput_mb_s, label="FSx for Lustre")
        image_key = self.image_key_for(workload, placement.efa)
        return budget(
            image_gb=image_gb(image_key),
            parallel_pull=placement.capacity.parallel_pull,
            weights_gb=weights,
            source=source,
            node_launch=not placement.capacity.standing_nodes,
            gpus=workload.gpus_per_pod(),
            nodes=self.weight_shards(workload),
            efa=placement.efa,
        )

    def weight_shards(self, workload: G) -> int:
        """Pods (one per node) of one model server, whose GPUs split one copy of the weights between them (pipeline
        stages); 1 where a pod is a whole server. Each of them still reads every file of the checkpoint."""
        return 1

    def checks(self, workload: G, platform: Platform) -> list[ConfigIssue]:
        issues = checks.gpu_workload_issues(workload, platform)
        capacity = platform.capacities.get(workload.node_pool)
        if capacity is None or (workload.instance_type and workload.instance_type not in capacity.instance_types):
            return issues
        if known(workload.instance_type or capacity.instance_types[0]) is None:
            return issues  # reported on the pool
        placement = self.placement(workload, platform)
        offload = kv_offload.issues(
            workload.kv_offload if isinstance(workload, KvOffloadable) else None,
            placement.capacity,
            placement.instance,
            workload.gpus_per_pod(),
            platform,
            workload.name,
        )
        queued = self.queue_checks(workload, placement, platform)
        fit = checks.capacity_fit_issues(
            workload, placement, platform, gang=(*self.gang_key(workload), self.gang_gpus(workload)), standing=self.standing(workload)
        )
        memory = model_fit.issues(self.model_fits(workload, placement), placement, workload)
        drivers = driver_issues(self.image_key_for(workload, placement.efa), workload.image, placement.capacity, platform)
        return (
            issues
            + self.image_checks(workload, placement)
            + drivers
            + self.startup_checks(workload, placement, platform)
            + offload
            + queued
            + fit
            + memory
            + self.flag_checks(workload, placement)
            + self.placement_checks(workload, placement, platform)
        )

    def serving_shapes(self, workload: G) -> list[model_fit.Shape]:
        """The engines the workload runs, for the GPU memory fit: the key that sizes each, its tensor-parallel size and
        pipeline stages."""
        return [model_fit.Shape("tensor_parallel_size", workload.gpus_per_pod())]

    def model_fits(self, workload: G, placement: Placement) -> list[model_fit.RoleFit]:
        """Whether the model, as each engine serves it, fits one replica's GPUs (blueprints/common/model_fit.py)."""
        return model_fit.role_fits(workload, placement, self.serving_shapes(workload))

    def engine_command_lines(self, workload: G, placement: Placement) -> list[list[str]]:
        """The argument lists the kit writes for the workload's vLLM processes (every role); [] where it writes none."""
        return []

    def flag_checks(self, workload: G, placement: Placement) -> list[ConfigIssue]:
        """extra_args must not repeat a flag of the kit's own argument lists, built here without them."""
        # Command-line flags only: Triton's extra_args are engine argument names (a mapping), checked by name instead.
        extra = workload.extra_args if isinstance(workload, VllmEngine) else []
        if not extra:
            return []
        lines = self.engine_command_lines(workload.model_copy(update={"extra_args": []}), placement)
        return vllm_flags.repeated_flag_issues(lines, extra, type(workload).model_fields)

    def gang_gpus(self, workload: G) -> int:
        """GPUs Kueue must admit at once: one pod's, or a whole multi-node group's."""
        return workload.gpus_per_pod()

    def queue_checks(self, workload: G, placement: Placement, platform: Platform) -> list[ConfigIssue]:
        """From admission to Ready: a node (unless fixed), the image, the weights and warm-up, with the probe's margin."""
        budget = self.cold_start(workload, platform, placement)
        startup = math.ceil((budget.node_seconds + budget.image_seconds) / 60) + placement.startup_minutes
        return queueing.issues(workload, platform, startup_minutes=startup)

    def standing(self, workload: G) -> checks.Standing:
        """What must run at all times: the copies the workload keeps (KEDA's floor when it scales them), each a gang."""
        autoscaling = workload.autoscaling if isinstance(workload, Autoscalable) else None
        key, copies = ("autoscaling.min_replicas", autoscaling.min_replicas) if autoscaling is not None else ("replicas", workload.replicas)
        gang = self.gang_gpus(workload)
        return checks.Standing(key, copies, f"{copies} copies of {gang} GPU{'s' if gang > 1 else ''}", copies * gang, gpus_per_copy=gang)

    def gang_key(self, workload: G) -> tuple[str, int]:
        """The key that sizes one gang, where a gang too large for its capacity is reported, and its value."""
        return "", workload.gpus_per_pod()

    def startup_checks(self, workload: G, placement: Placement, platform: Platform) -> list[ConfigIssue]:
        """A startup window shorter than the weights and warm-up would restart the server forever while it loads."""
        budget = self.cold_start(workload, platform, placement)
        inside, given = budget.in_container_seconds, workload.startup_timeout_minutes
        if given is None or inside is None or given * 60 >= inside:
            return []
        needed = budget.probe_minutes()
        waits = (
            "the group's last node arriving, loading the weights and warming up"
            if budget.join_seconds
            else "loading the weights and warming up"
        )
        return [
            ConfigIssue(
                "startup_timeout_minutes",
                f"is shorter than {waits} is estimated to take ({inside // 60}m{inside % 60:02d}s, {budget.pod_read_gb:g} GB read by each "
                "pod): Kubernetes would restart the server while it loads, again and again",
                value=given,
                fix=f"remove it (the kit then allows {needed} minutes), or raise it; if the model is smaller than its name says, set "
                "model_size_gib",
            )
        ]

    def image_checks(self, workload: G, placement: Placement) -> list[ConfigIssue]:
        """EFA only where something crosses nodes, and only with an image that can use it; S3 only with the streamer."""
        issues = []
        if workload.image_provides is not None and workload.image is None:
            issues.append(
                ConfigIssue(
                    "image_provides",
                    "describes a custom image, but no image is set: the pinned image's record applies",
                    value=list(workload.image_provides),
                    fix="set image, or remove image_provides",
                )
            )
        transport = self.transport(workload)
        if workload.efa and transport is None:
            issues.append(
                ConfigIssue(
                    "efa",
                    f"this {self.name} workload sends nothing between nodes: its GPUs talk over NVLink inside one node, and EFA would "
                    "carry nothing",
                    value=True,
                    fix="remove efa",
                )
            )
        image_key = self.image_key_for(workload, placement.efa)
        provided = provided_by(image_key, workload.image, workload.image_provides)
        shown = workload.image or f"the pinned {image_key} image"
        # placement_for attaches EFA only for a transport, so efa implies one here.
        if placement.efa and transport is not None and TRANSPORT_NEEDS[transport] not in provided:
            need, program = TRANSPORT_NEEDS[transport], TRANSPORT_NAMES[transport]
            where = "efa" if workload.efa else ""
            issues.append(
                ConfigIssue(
                    where,
                    f"{program} would cross nodes over EFA on pool '{workload.node_pool}', but {shown} carries no {need}"
                    + (" (and NCCL refuses to start when told to use a network it does not have)" if transport == "nccl" else ""),
                    value=workload.image or image_key,
                    allowed=f"an image that carries {need}",
                    fix=f"set efa: false to let {program} use TCP, or set image to one with {need} and declare image_provides: [{need}]",
                )
            )
        if isinstance(workload.model, S3Source) and "runai-model-streamer" not in provided:
            issues.append(
                ConfigIssue(
                    "model",
                    f"an s3 model is streamed by the Run:ai model streamer, and {shown} is not known to carry it",
                    value=workload.model.uri,
                    allowed="an fsx or hf model source, or an image with runai-model-streamer",
                    fix="stage the model on FSx (model: {type: fsx, ...}), or set image to one with the streamer and declare "
                    "image_provides: [runai-model-streamer]",
                )
            )
        return issues

    def placement_checks(self, workload: G, placement: Placement, platform: Platform) -> list[ConfigIssue]:
        """Blueprint-specific problems, once the workload is known to fit its capacity."""
        return []

    def render(self, scope: Construct, workload: G, platform: Platform) -> cdk8s.Chart:
        if isinstance(workload.model, S3Source):
            workload = workload.model_copy(update={"model": workload.model.in_bucket(platform.storage.bucket_name)})
        return self.chart(scope, workload, self.placement(workload, platform))

    @abstractmethod
    def chart(self, scope: Construct, workload: G, placement: Placement) -> cdk8s.Chart:
        """The workload's chart, given where its pods run."""

    def endpoint(self, workload: G, platform: Platform) -> Endpoint:
        return Endpoint(
            workload=workload.name,
            blueprint=self.name,
            enabled=workload.enabled,
            serves_openai=self.serves_openai,
            service=workload.name,
            port=self.port_of(workload),
            model_name=workload.public_model_name,
            model=workload.model,
            fsx_kv_directory=kv_offload.fsx_directory(workload.kv_offload if isinstance(workload, KvOffloadable) else None),
        )

    def traffic(self, workload: G, platform: Platform) -> WorkloadTraffic:
        """The gateway's proxies and the endpoint picker (when routed) and the scraper on the serving port; HTTPS out
        only to fetch the model (Hub or S3)."""
        port = self.port_of(workload)
        return WorkloadTraffic(
            serving_ports=(port,),
            metrics_ports=(port,),
            https_out=isinstance(workload.model, HfSource | S3Source),
            clients=serving_clients(workload.name, workload.routing if isinstance(workload, Routable) else None, platform.namespace),
        )

    def summary(self, workload: G) -> str:
        return f"{self.name} on {workload.node_pool}, {workload.replicas} x {workload.gpus_per_pod()} GPUs"
