"""Assemble the kit's stacks from a validated config."""

from __future__ import annotations

import aws_cdk as cdk

from blueprints.render import render_objects
from infra import nag
from infra.config.model import KitConfig
from infra.stacks.cluster import ClusterStack
from infra.stacks.network import NetworkStack
from infra.stacks.storage import StorageStack
from infra.stacks.workloads import WorkloadsStack
from infra.storage.refs import StorageRefs


def build_app(config: KitConfig, *, outdir: str | None = None, context: dict | None = None, workload_objects: dict[str, list[dict]] | None = None) -> cdk.App:
    """workload_objects: the blueprints' rendered objects, when the caller also writes them to dist/."""
    if workload_objects is None:
        workload_objects = render_objects(config)
    app = cdk.App(outdir=outdir, context=context, analytics_reporting=False)
    nag.enable_checks(app)
    env = cdk.Environment(account=config.account, region=config.region)

    network = None
    if config.network.existing_vpc is None:
        network = NetworkStack(app, f"{config.name}-network", config=config, env=env).refs
    storage = StorageRefs.from_config(config)
    if config.storage.owns_resources:
        storage = StorageStack(app, f"{config.name}-storage", config=config, network=network, env=env).refs
    cluster = ClusterStack(app, f"{config.name}-cluster", config=config, network=network, env=env).cluster
    WorkloadsStack(app, f"{config.name}-workloads", config=config, cluster=cluster, storage=storage, workloads=workload_objects, env=env)

    cdk.Tags.of(app).add("llm-kit/name", config.name)
    for key, value in config.tags.items():
        cdk.Tags.of(app).add(key, value)
    return app
