"""Assemble the kit's stacks from a validated config."""

from __future__ import annotations

import aws_cdk as cdk

from infra import nag
from infra.config.model import KitConfig
from infra.stacks.cluster import ClusterStack
from infra.stacks.network import NetworkStack
from infra.stacks.storage import StorageStack


def build_app(config: KitConfig, *, outdir: str | None = None, context: dict | None = None) -> cdk.App:
    app = cdk.App(outdir=outdir, context=context, analytics_reporting=False)
    nag.enable_checks(app)
    env = cdk.Environment(account=config.account, region=config.region)

    network = None
    if config.network.existing_vpc is None:
        network = NetworkStack(app, f"{config.name}-network", config=config, env=env).refs
    if config.storage.owns_resources:
        StorageStack(app, f"{config.name}-storage", config=config, network=network, env=env)
    ClusterStack(app, f"{config.name}-cluster", config=config, network=network, env=env)

    cdk.Tags.of(app).add("llm-kit/name", config.name)
    for key, value in config.tags.items():
        cdk.Tags.of(app).add(key, value)
    return app
