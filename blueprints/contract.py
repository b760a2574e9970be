"""The blueprint contract: what every blueprint declares, and the only way the rest of the kit sees one.

A blueprint is one folder holding its parameters (a pydantic model with `blueprint: Literal["<name>"]`), its
cdk8s chart, and a `BLUEPRINT` object of a Blueprint subclass; blueprints/registry.py lists it in one line.
The assembly types the config's `workloads:` with the registered parameters, runs each blueprint's checks,
gathers its requirements (which the cluster stack installs generically) and renders its chart.
"""

from __future__ import annotations

import typing
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar, Generic, TypeVar

from blueprints.common import checks
from blueprints.common.params import GpuWorkloadParams, WorkloadParams
from blueprints.common.placement import Placement, placement_for
from core.instances import known
from core.issues import ConfigIssue
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


class Blueprint(ABC, Generic[P]):
    params: ClassVar[type[WorkloadParams]]
    """The typed `workloads:` entry of this blueprint."""
    serves_openai: ClassVar[bool] = False
    """Whether its Service speaks the OpenAI API (what a benchmark or a gateway can call)."""

    @property
    def name(self) -> str:
        return tag_of(self.params)

    def checks(self, workload: P, platform: Platform) -> list[ConfigIssue]:
        """Problems that need the platform (pools, storage, other workloads); paths relative to the workload."""
        return []

    def requirements(self, workload: P, platform: Platform) -> Requirements:
        """What the cluster must run or grant while this workload is enabled."""
        return Requirements()

    def endpoint(self, workload: P, platform: Platform) -> Endpoint | None:
        """How other workloads reach this one; None when it serves nothing."""
        return None

    @abstractmethod
    def render(self, scope: Construct, workload: P, platform: Platform) -> cdk8s.Chart:
        """The workload's Kubernetes objects as a cdk8s chart named after the workload."""

    def summary(self, workload: P) -> str:
        return self.name


class GpuBlueprint(Blueprint[G]):
    """A model server on a GPU capacity: the shared checks (pool, GPUs per pod, EFA, model source) run first."""

    port: ClassVar[int] = 8000

    def checks(self, workload: G, platform: Platform) -> list[ConfigIssue]:
        issues = checks.gpu_workload_issues(workload, platform)
        capacity = platform.capacities.get(workload.node_pool)
        if capacity is None or (workload.instance_type and workload.instance_type not in capacity.instance_types):
            return issues
        if known(workload.instance_type or capacity.instance_types[0]) is None:
            return issues  # reported on the pool
        return issues + self.placement_checks(workload, placement_for(platform, workload), platform)

    def placement_checks(self, workload: G, placement: Placement, platform: Platform) -> list[ConfigIssue]:
        """Blueprint-specific problems, once the workload is known to fit its capacity."""
        return []

    def endpoint(self, workload: G, platform: Platform) -> Endpoint:
        return Endpoint(
            workload=workload.name,
            blueprint=self.name,
            enabled=workload.enabled,
            serves_openai=self.serves_openai,
            service=workload.name,
            port=getattr(workload, "port", self.port),
            model_name=workload.public_model_name,
            model=workload.model,
        )

    def summary(self, workload: G) -> str:
        return f"{self.name} on {workload.node_pool}, {workload.replicas} x {workload.gpus_per_pod()} GPUs"
