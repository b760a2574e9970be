"""What every workload entry in the config has, whatever its blueprint."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from infra.config.base import StrictModel
from infra.config.cluster import InstanceType
from infra.config.errors import ConfigIssue
from infra.config.node_pools import KubeName
from infra.config.sources import ModelSource


class BlueprintBase(StrictModel):
    """What every `workloads:` entry has; GPU-less helpers (the benchmark Job) derive from this alone."""

    runs_on_gpus: ClassVar[bool] = False
    name: KubeName
    """Workload name: the Kubernetes objects, the dist/ folder and the Helm chart are named after it."""
    enabled: bool = True
    """Switch the workload (and any controller only it needs) on or off."""

    def config_checks(self, config) -> list[ConfigIssue]:
        """Problems that need the whole config (other workloads, storage); paths are relative to the workload."""
        return []

    def chart_inputs(self, config) -> dict:
        """Keyword arguments the blueprint's chart takes besides the workload."""
        return {}

    def summary(self) -> str:
        return self.blueprint


class WorkloadBase(BlueprintBase):
    runs_on_gpus: ClassVar[bool] = True
    node_pool: KubeName
    """A name from node_pools or capacity_block_node_groups: the GPUs the pods run on."""
    instance_type: InstanceType | None = None
    """Pin every pod to one instance type of the pool (default: the pool's first); mixed shards crash or crawl."""
    model: ModelSource
    served_model_name: Annotated[str | None, Field(min_length=1, max_length=128)] = None
    """Name clients send in the OpenAI 'model' field (default: the workload name)."""
    image: Annotated[str | None, Field(pattern=r"^[\w.\-/:@]+$")] = None
    """Container image (default: the blueprint's pin in infra/versions.py)."""
    replicas: Annotated[int, Field(ge=0, le=100)] = 1
    efa: bool | None = None
    """Use EFA (default: when the node pool has it)."""
    shm_size_gib: Annotated[int, Field(ge=1, le=1024)] = 32
    """/dev/shm for NCCL and the server's worker processes, as a memory-backed volume."""
    memory_gib_per_gpu: Annotated[int, Field(ge=4, le=512)] = 12
    """Host memory requested per GPU of a pod."""
    startup_timeout_minutes: Annotated[int, Field(ge=5, le=180)] = 30
    """How long a server may take to load its weights before Kubernetes restarts it."""

    def gpus_per_pod(self) -> int:
        raise NotImplementedError

    def chart_inputs(self, config) -> dict:
        from blueprints.context import placement_for

        return {"placement": placement_for(config, self)}

    def summary(self) -> str:
        return f"{self.blueprint} on {self.node_pool}, {self.replicas} x {self.gpus_per_pod()} GPUs"

    def extra_checks(self, instance, pool_efa: bool) -> list[tuple[str, str, str]]:
        """Blueprint-specific problems as (key below the workload, message, fix)."""
        return []

    @property
    def public_model_name(self) -> str:
        return self.served_model_name or self.name
