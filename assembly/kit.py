"""The kit as assembled from a set of blueprints: its config model, checks, platform facts and rendered workloads."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Union

from pydantic import Field, create_model

from blueprints.common import rollout
from blueprints.common.lora import served_adapters
from blueprints.common.params import GpuWorkloadParams, WorkloadParams, gateway_routed
from blueprints.common.routing import GATEWAY_REQUIREMENTS
from blueprints.contract import Blueprint, tag_of
from blueprints.registry import BLUEPRINTS
from config.capacity_checks import dated_issues
from config.checks import cross_checks
from config.loader import DEFAULT_CONFIG, load_config
from config.model import PlatformConfig
from config.platform import platform
from core.issues import ConfigIssue
from core.platform import Platform
from core.requirements import Requirements

ENV_VAR = "KIT_CONFIG"
WORKLOADS_DOC = "Inference workloads (and benchmarks), each rendered by its blueprint: {names}."


def resolve_config_path(given: str | Path | None = None) -> Path:
    """`--config`/`-c config=PATH` wins over KIT_CONFIG, which wins over config/default.yaml."""
    chosen = given or os.environ.get(ENV_VAR) or DEFAULT_CONFIG
    return Path(chosen).expanduser()


class KitConfig(PlatformConfig):
    """The whole config file: PlatformConfig and `workloads:`. Kit.config_model narrows each item to the union of its
    blueprints' parameters, told apart by their `blueprint` key; the type here is what every item has."""

    workloads: list[WorkloadParams] = Field(default=[])
    """The workloads, each typed by its blueprint's parameters."""


@dataclass(frozen=True)
class Kit:
    blueprints: tuple[Blueprint, ...] = field(default=BLUEPRINTS)

    @cached_property
    def by_name(self) -> dict[str, Blueprint]:
        found = {blueprint.name: blueprint for blueprint in self.blueprints}
        if len(found) != len(self.blueprints):
            raise ValueError(f"two blueprints share a name: {[b.name for b in self.blueprints]}")
        return found

    @cached_property
    def config_model(self) -> type[KitConfig]:
        """PlatformConfig plus `workloads:`, a list of the blueprints' parameters told apart by their `blueprint` key."""
        params = tuple(blueprint.params for blueprint in self.blueprints)
        item: Any = params[0] if len(params) == 1 else Annotated[Union[params], Field(discriminator="blueprint")]  # noqa: UP007
        # Built at run time from the registered blueprints, so a value here, not an annotation the checker could read.
        workloads: Any = list[item]
        description = WORKLOADS_DOC.format(names=", ".join(self.by_name))
        return create_model("KitConfig", __base__=KitConfig, workloads=(workloads, Field(default=[], description=description)))

    def blueprint_of(self, workload: WorkloadParams) -> Blueprint:
        """The blueprint a workload names with its `blueprint` key (its parameters' class carries the one value)."""
        return self.by_name[tag_of(type(workload))]

    def load(self, path: Path | str, now: datetime | None = None) -> KitConfig:
        """Parse and check a config file; raise core.issues.ConfigError with every problem found. Given `now`, also
        refuse what is over by then (capacity blocks that have ended); without it nothing depends on the clock."""
        if now is None:
            return load_config(path, self.config_model, self.checks)
        return load_config(path, self.config_model, lambda config: self.checks(config) + dated_issues(config, now))

    def checks(self, config: KitConfig) -> list[ConfigIssue]:
        return cross_checks(config) + self.workload_issues(config) + self.team_issues(config) + rollout.issues(list(config.workloads))

    def routed(self, config: KitConfig) -> list:
        """The enabled workloads served through the gateway."""
        return [w for w in self.enabled(config) if gateway_routed(w)]

    def shared_model_names(self, config: KitConfig) -> list[ConfigIssue]:
        """Two routed workloads under one model name: both routes match the same x-ai-eg-model value, and Envoy sends
        every request to whichever route it sorts first; the other workload's GPUs would serve nothing."""
        issues = []
        owners: dict[str, str] = {}
        for index, workload in enumerate(config.workloads):
            if not workload.enabled or not gateway_routed(workload):
                continue
            for adapter_index, adapter in enumerate(served_adapters(workload)):
                # A LoRA adapter is a model name at the gateway like any other (blueprints/common/lora.py).
                if adapter in owners:
                    issues.append(
                        ConfigIssue(
                            f"workloads[{index}].lora.adapters[{adapter_index}].name",
                            f"serves the model name '{adapter}' through the gateway, "
                            f"as workload '{owners.get(adapter, workload.name)}' does",
                            value=adapter,
                            fix="give the adapter a name no other model has",
                        )
                    )
            # Every routable blueprint serves a model (GpuWorkloadParams); the name is the one clients send.
            name = workload.public_model_name if isinstance(workload, GpuWorkloadParams) else workload.name
            if name in owners and owners[name] != workload.name:  # a repeated workload name is refused on its own
                key = "served_model_name" if isinstance(workload, GpuWorkloadParams) and workload.served_model_name else "name"
                issues.append(
                    ConfigIssue(
                        f"workloads[{index}].{key}",
                        f"serves the model name '{name}' through the gateway, as workload "
                        f"'{owners[name]}' does: the gateway would send every request for it to one of them",
                        value=name,
                        allowed=f"a model name no other routed workload serves (taken: {', '.join(sorted(owners))})",
                        fix=f"set served_model_name on '{workload.name}' to a name of its own, or routing.gateway: false on one of the two",
                    )
                )
            owners.setdefault(name, workload.name)
            for adapter in served_adapters(workload):
                owners.setdefault(adapter, workload.name)
        return issues

    def team_issues(self, config: KitConfig) -> list[ConfigIssue]:
        """Every model a team lists is served through the gateway: a routed workload's model name or a Bedrock model."""
        routed = {name for w in self.routed(config) for name in (w.public_model_name, *served_adapters(w))}
        bedrock = [model.name for model in config.gateway.bedrock]
        issues = [
            ConfigIssue(
                "gateway.bedrock",
                f"the model name '{name}' is used twice (by a routed workload or another Bedrock model)",
                value=name,
                fix="give each model its own name",
            )
            for name, count in Counter([*bedrock, *routed]).items()
            if count > 1 and name in bedrock
        ]
        issues += self.shared_model_names(config)
        issues += [
            ConfigIssue("gateway.teams", f"the team name '{name}' is used more than once", value=name, fix="give each team its own name")
            for name, count in Counter(team.name for team in config.gateway.teams).items()
            if count > 1
        ]
        servable = sorted(routed | set(bedrock))
        for index, team in enumerate(config.gateway.teams):
            for model in team.models:
                if model not in servable:
                    issues.append(
                        ConfigIssue(
                            f"gateway.teams[{index}].models",
                            f"'{model}' is not served through the gateway",
                            value=model,
                            allowed=", ".join(servable) or "none: no enabled workload sets routing, and gateway.bedrock is empty",
                            fix=(
                                "list the model name of an enabled workload with routing (or add routing to it), or a gateway.bedrock model"
                            ),
                        )
                    )
        return issues

    def platform(self, config: KitConfig) -> Platform:
        """The platform facts, with every workload's endpoint (what other workloads may call)."""
        base = platform(config)
        endpoints = {}
        for workload in config.workloads:
            endpoint = self.blueprint_of(workload).endpoint(workload, base)
            if endpoint is not None:
                endpoints[workload.name] = endpoint
        openai = tuple(blueprint.name for blueprint in self.blueprints if blueprint.serves_openai)
        return replace(base, endpoints=endpoints, openai_blueprints=openai)

    def workload_issues(self, config: KitConfig) -> list[ConfigIssue]:
        issues = [
            ConfigIssue(
                "workloads", f"the workload name '{name}' is used more than once", value=name, fix="give each workload its own name"
            )
            for name, count in Counter(w.name for w in config.workloads).items()
            if count > 1
        ]
        facts = self.platform(config)
        for index, workload in enumerate(config.workloads):
            path = f"workloads[{index}]"
            for issue in self.blueprint_of(workload).checks(workload, facts):
                issues.append(replace(issue, path=f"{path}.{issue.path}" if issue.path else path))
        return issues

    def enabled(self, config: KitConfig) -> list:
        return [workload for workload in config.workloads if workload.enabled]

    def requirements(self, config: KitConfig) -> Requirements:
        facts = self.platform(config)
        parts = []
        for workload in self.enabled(config):
            blueprint = self.blueprint_of(workload)
            parts += [blueprint.requirements(workload, facts), Requirements(pod_security=blueprint.pod_security)]
        if config.gateway.bedrock:
            # Bedrock models are served through the gateway even when no local workload routes there.
            parts.append(GATEWAY_REQUIREMENTS)
        return Requirements.union(parts)

    def summary(self, workload: WorkloadParams) -> str:
        return self.blueprint_of(workload).summary(workload)


KIT = Kit()
