"""Every blueprint, registered once: its typed parameters, its chart, the controllers it needs.

Adding a blueprint: a new folder with params.py and chart.py, plus one line here.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Annotated, Union

from pydantic import Field

from blueprints.base import WorkloadBase
from blueprints.vllm.params import VllmWorkload


@dataclass(frozen=True)
class Blueprint:
    params: type[WorkloadBase]
    chart: str
    """'module:Class' of the cdk8s chart, imported when first rendered."""
    controllers: tuple[str, ...] = ()
    """In-cluster controllers the cluster stack installs while a workload of this blueprint is enabled."""

    def chart_class(self):
        module, _, name = self.chart.partition(":")
        return getattr(importlib.import_module(module), name)


BLUEPRINTS: dict[str, Blueprint] = {
    "vllm": Blueprint(VllmWorkload, "blueprints.vllm.chart:VllmChart"),
}

_PARAMS = tuple(blueprint.params for blueprint in BLUEPRINTS.values())
Workload = Annotated[Union[_PARAMS], Field(discriminator="blueprint")] if len(_PARAMS) > 1 else _PARAMS[0]  # noqa: UP007
