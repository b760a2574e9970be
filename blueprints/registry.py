"""Every blueprint, registered once: its typed parameters, its chart, the controllers it needs.

Adding a blueprint: a new folder with params.py and chart.py, plus one line here.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Annotated, Union

from pydantic import Field

from blueprints.base import WorkloadBase
from blueprints.benchmark.params import BenchmarkWorkload
from blueprints.dynamo.params import DynamoWorkload
from blueprints.triton.params import TritonWorkload
from blueprints.vllm.params import VllmWorkload
from blueprints.vllm_multinode.params import VllmMultinodeWorkload


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
    "triton": Blueprint(TritonWorkload, "blueprints.triton.chart:TritonChart"),
    "vllm-multinode": Blueprint(VllmMultinodeWorkload, "blueprints.vllm_multinode.chart:VllmMultinodeChart", controllers=("lws",)),
    "dynamo": Blueprint(DynamoWorkload, "blueprints.dynamo.chart:DynamoChart", controllers=("dynamo",)),
    "benchmark": Blueprint(BenchmarkWorkload, "blueprints.benchmark.chart:BenchmarkChart"),
}

_PARAMS = tuple(blueprint.params for blueprint in BLUEPRINTS.values())
Workload = Annotated[Union[_PARAMS], Field(discriminator="blueprint")] if len(_PARAMS) > 1 else _PARAMS[0]  # noqa: UP007
