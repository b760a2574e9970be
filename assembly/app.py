"""Assemble the kit's stacks from a validated config and the workloads its blueprints render."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import aws_cdk as cdk
from constructs import Construct

from assembly.kit import KIT, Kit, KitConfig
from blueprints.render import render_objects
from core.labels import KIT_NAME_TAG
from core.requirements import Requirements
from infra import nag
from infra.images.needs import build_plan
from infra.stacks.images import ImagesStack, RegistryStack
from infra.stacks.images_props import image_needs
from infra.observability.rules.showback import LocalModel
from infra.scheduling.kueue import workload_teams
from infra.stacks.cluster import ClusterStack
from infra.stacks.network import NetworkStack
from infra.stacks.pipeline import PipelineStack
from infra.stacks.storage import StorageStack
from infra.stacks.workloads import WorkloadsStack
from infra.stacks.storage_props import storage_refs
from infra.interfaces import cluster_interface

CDK_JSON = Path(__file__).resolve().parents[1] / "cdk.json"


def cdk_json_context() -> dict:
    """The context cdk.json gives `cdk synth`: the main job synthesizes with the same, so both write the same cdk.out."""
    return json.loads(CDK_JSON.read_text()).get("context", {})


def render_workloads(config: KitConfig, kit: Kit = KIT) -> dict[str, list[dict]]:
    """{workload name: its Kubernetes objects} for every enabled workload."""
    return render_objects(config.workloads, kit.platform(config), kit.by_name)


def build_app(
    config: KitConfig,
    *,
    outdir: str | None = None,
    context: dict | None = None,
    workload_objects: dict[str, list[dict]] | None = None,
    kit: Kit = KIT,
    validate: bool = True,
) -> cdk.App:
    """workload_objects: the blueprints' rendered objects, when the caller also writes them to dist/.
    validate: run aws-cdk-lib's built-in CloudFormation validation at synth, as `cdk synth` and `cdk deploy` do. Its
    WebAssembly engine costs several seconds of CPU in every process, about two thirds of a default synth, and by
    default it only warns; `./kit synth` leaves it out unless asked (--validate), and the tests run it over every
    shipped config with its findings as errors (docs/performance.md)."""
    if workload_objects is None:
        workload_objects = render_workloads(config, kit)
    app = cdk.App(
        outdir=outdir,
        context={**cdk_json_context(), **(context or {})},
        analytics_reporting=False,
        builtin_cloud_formation_validation=validate,
    )
    nag.enable_checks(app)
    env = cdk.Environment(account=config.account, region=config.region)
    routed = tuple(LocalModel(model=w.public_model_name, workload=w.name) for w in kit.routed(config))
    add_stacks = partial(
        add_kit_stacks,
        config=config,
        env=env,
        workload_objects=workload_objects,
        requirements=kit.requirements(config),
        routed_models=routed,
    )
    if config.pipeline.enabled:
        PipelineStack(app, f"{config.name}-pipeline", config=config, add_stacks=add_stacks, env=env)
    else:
        add_stacks(app)

    cdk.Tags.of(app).add(KIT_NAME_TAG, config.name)
    for key, value in config.tags.items():
        cdk.Tags.of(app).add(key, value)
    return app


def add_kit_stacks(
    scope: Construct,
    *,
    config: KitConfig,
    env: cdk.Environment,
    workload_objects: dict[str, list[dict]],
    requirements: Requirements,
    routed_models: tuple[LocalModel, ...] = (),
) -> None:
    """Network, storage, cluster and workloads, in the app itself or in a pipeline's Deploy stage (same stack names).
    routed_models: the workloads served through the gateway (the showback rules share their GPUs' cost)."""

    def stack_args(suffix: str) -> dict:
        return {"stack_name": f"{config.name}-{suffix}", "env": env}

    network = None
    if config.network.existing_vpc is None:
        network = NetworkStack(scope, f"{config.name}-network", config=config, **stack_args("network")).refs
    storage = storage_refs(config)
    if config.storage.owns_resources:
        storage = StorageStack(scope, f"{config.name}-storage", config=config, network=network, **stack_args("storage")).refs
    # Images (docs/images.md): the registry's rules and repositories before the cluster pulls anything; the build runs
    # beside the cluster stack, and the workloads wait for it.
    build = build_plan(image_needs(config), workload_objects, requirements)
    registry_stack = images_stack = None
    if config.images.pull_through_cache.enabled or build.derived:
        registry_stack = RegistryStack(scope, f"{config.name}-registry", config=config, build=build, **stack_args("registry"))
    if build.derived or build.copies:
        images_stack = ImagesStack(scope, f"{config.name}-images", config=config, build=build, **stack_args("images"))
        images_stack.node.add_dependency(registry_stack)
    # The teams whose queues the kit's own workloads name: the cluster stack's ClusterQueues admit the workloads
    # namespace for them, and the workloads stack writes their LocalQueues.
    queued_teams = workload_teams(config.workloads)
    cluster_stack = ClusterStack(
        scope,
        f"{config.name}-cluster",
        config=config,
        network=network,
        requirements=requirements,
        routed_models=routed_models,
        queued_teams=queued_teams,
        **stack_args("cluster"),
    )
    if registry_stack is not None:
        cluster_stack.node.add_dependency(registry_stack)
    workloads_stack = WorkloadsStack(
        scope,
        f"{config.name}-workloads",
        config=config,
        cluster=cluster_interface(cluster_stack.cluster),
        storage=storage,
        workloads=workload_objects,
        pod_security=requirements.pod_security,
        gateway=requirements.gateway,
        metrics_query_url=cluster_stack.metrics_query_url,
        queued_teams=queued_teams,
        **stack_args("workloads"),
    )
    if images_stack is not None:
        workloads_stack.node.add_dependency(images_stack)
