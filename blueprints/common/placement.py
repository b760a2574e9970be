"""Where a GPU workload's pods run, resolved once from the platform and the workload."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from blueprints.common.params import GpuWorkloadParams
from core.capacity import GpuCapacity
from core.instances import InstanceFacts, facts
from core.naming import MODEL_READER_SERVICE_ACCOUNT
from core.platform import Platform


Transport = Literal["nccl", "nixl"]
"""What carries a workload's traffic between nodes: NCCL collectives (through aws-ofi-nccl on EFA) or NIXL KV transfers
(through libfabric on EFA)."""


@dataclass(frozen=True)
class Placement:
    namespace: str
    az_id: str
    region: str
    pool: str
    instance_type: str
    instance: InstanceFacts
    efa: bool
    """EFA devices attached and the transport pointed at them."""
    transport: Transport | None
    capacity: GpuCapacity
    model_reader_service_account: str = MODEL_READER_SERVICE_ACCOUNT
    startup_minutes: int = 30
    """The startup probe's window: the workload's startup_timeout_minutes, else its cold-start budget with margin."""


def placement_for(platform: Platform, workload: GpuWorkloadParams, transport: Transport | None = None) -> Placement:
    """transport: what the workload sends between nodes, if anything; EFA is used only for that."""
    capacity = platform.capacities[workload.node_pool]
    wanted = capacity.efa if workload.efa is None else workload.efa
    instance_type = workload.instance_type or capacity.instance_types[0]
    return Placement(
        namespace=platform.namespace,
        az_id=platform.az_id,
        region=platform.region,
        pool=workload.node_pool,
        instance_type=instance_type,
        instance=facts(instance_type),
        efa=transport is not None and wanted,
        transport=transport,
        capacity=capacity,
    )
