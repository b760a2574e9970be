"""Where a GPU workload's pods run, resolved once from the platform and the workload."""

from __future__ import annotations

from dataclasses import dataclass

from blueprints.common.params import GpuWorkloadParams
from core.capacity import GpuCapacity
from core.instances import InstanceFacts, facts
from core.naming import MODEL_READER_SERVICE_ACCOUNT
from core.platform import Platform


@dataclass(frozen=True)
class Placement:
    namespace: str
    az_id: str
    region: str
    pool: str
    instance_type: str
    instance: InstanceFacts
    efa: bool
    capacity: GpuCapacity
    model_reader_service_account: str = MODEL_READER_SERVICE_ACCOUNT


def placement_for(platform: Platform, workload: GpuWorkloadParams) -> Placement:
    capacity = platform.capacities[workload.node_pool]
    instance_type = workload.instance_type or capacity.instance_types[0]
    return Placement(
        namespace=platform.namespace,
        az_id=platform.az_id,
        region=platform.region,
        pool=workload.node_pool,
        instance_type=instance_type,
        instance=facts(instance_type),
        efa=capacity.efa if workload.efa is None else workload.efa,
        capacity=capacity,
    )
