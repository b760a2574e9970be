"""Render one Karpenter NodePool (karpenter.sh/v1) and EC2NodeClass (karpenter.k8s.aws/v1) per configured pool.

Pure functions over the config: the cluster stack applies the result, tests and the CRD validator read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from config.node_pools import NodePool
from config.platform import pool_capacity
from core.capacity_block_schedule import desired_nodes, termination_grace_minutes
from core.instances import facts
from core.labels import GPU_RESOURCE, INSTANCE_TYPE_LABEL, KARPENTER_CAPACITY_TYPE_LABEL, POOL_LABEL, ZONE_ID_LABEL
from core.versions import AMI_VERSIONS
from infra.gpu import efa
from config.platform import instance_store_raid
from infra.gpu.user_data import al2023_node_config, bottlerocket_settings

ALL_REASONS = ["Empty", "Underutilized", "Drifted"]


@dataclass(frozen=True)
class NodeClassContext:
    """Cluster facts the manifests point at (CloudFormation tokens are fine)."""

    cluster_name: str
    az_id: str
    node_role_name: str
    subnet_ids: list[str]
    security_group_ids: list[str]
    """Cluster security group first; the EFA group is added for EFA pools."""
    efa_security_group_id: str
    placement_group_name: str | None = None


def is_reserved(pool: NodePool) -> bool:
    return "reserved" in pool.capacity_types


def wants_placement_group(pool: NodePool) -> bool:
    """A cluster placement group packs EFA nodes closely, but never with reservations (InsufficientInstanceCapacity)."""
    return pool.efa and not is_reserved(pool)


def node_pool(pool: NodePool, context: NodeClassContext, now: datetime | None = None) -> dict:
    """now: when the manifest is written; a capacity-block pool starts at the node count its block calls for then."""
    capacity = pool_capacity(pool, context.az_id)
    labels = capacity.node_labels()
    taints = [taint.as_kubernetes() for taint in capacity.taints()]
    spec = {
        "template": {
            "metadata": {"labels": labels},
            "spec": {
                "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": pool.name},
                "requirements": [
                    {"key": INSTANCE_TYPE_LABEL, "operator": "In", "values": list(pool.instance_types)},
                    {"key": KARPENTER_CAPACITY_TYPE_LABEL, "operator": "In", "values": list(pool.capacity_types)},
                    {"key": ZONE_ID_LABEL, "operator": "In", "values": [context.az_id]},
                ],
                "taints": taints,
                **({"startupTaints": [taint.as_kubernetes() for taint in capacity.startup_taints]} if capacity.startup_taints else {}),
                "expireAfter": "Never" if is_reserved(pool) else pool.disruption.effective_expire_after,
            },
        },
        "limits": {GPU_RESOURCE: str(pool.gpu_limit)},
        "disruption": _disruption(pool),
    }
    if pool.weight is not None:
        spec["weight"] = pool.weight
    block = pool.capacity_block
    if block is not None:
        # Static: a fixed node count (Karpenter's StaticCapacity), moved by the reconciler as the block opens and closes.
        # Only a node limit is allowed, and no weight: pods fill these nodes before any other pool is asked.
        spec["replicas"] = desired_nodes(block.start, block.end, block.instances, block.drain_minutes_before_end, now or datetime.now(UTC))
        spec["limits"] = {"nodes": str(block.instances)}
        spec.pop("weight", None)
        spec["template"]["spec"]["terminationGracePeriod"] = f"{termination_grace_minutes(block.drain_minutes_before_end)}m"
    return {"apiVersion": "karpenter.sh/v1", "kind": "NodePool", "metadata": {"name": pool.name}, "spec": spec}


def _disruption(pool: NodePool) -> dict:
    settings = pool.disruption
    if is_reserved(pool):
        # Reserved capacity is paid for the whole block: never give a node back or roll it mid-block.
        return {"consolidationPolicy": "WhenEmpty", "consolidateAfter": "Never", "budgets": [{"nodes": "0"}]}
    budgets = [{"nodes": settings.max_disrupted}]
    for window in settings.protected_windows:
        budgets.append({"nodes": "0", "schedule": window.schedule, "duration": window.duration, "reasons": ALL_REASONS})
    return {"consolidationPolicy": settings.consolidation_policy, "consolidateAfter": settings.consolidate_after, "budgets": budgets}


def node_class(pool: NodePool, context: NodeClassContext) -> dict:
    family = pool.ami_family
    version = pool.ami_version or AMI_VERSIONS[family]
    security_groups = list(context.security_group_ids) + ([context.efa_security_group_id] if pool.efa else [])
    spec: dict = {
        "role": context.node_role_name,
        "amiSelectorTerms": [{"alias": f"{family}@{version}"}],
        "subnetSelectorTerms": [{"id": subnet} for subnet in context.subnet_ids],
        "securityGroupSelectorTerms": [{"id": group} for group in security_groups],
        "metadataOptions": {"httpEndpoint": "enabled", "httpProtocolIPv6": "disabled", "httpPutResponseHopLimit": 1, "httpTokens": "required"},
        "blockDeviceMappings": _block_devices(pool),
        "tags": {POOL_LABEL: pool.name},
    }
    spec["userData"] = bottlerocket_settings(pool.image_pull) if family == "bottlerocket" else al2023_node_config(pool.image_pull, efa=pool.efa)
    # RAID0: Karpenter stripes the NVMe disks and binds the runtime's directories to them (containerd, kubelet,
    # pod logs and, on Bottlerocket 1.46+, SOCI's store), and counts them as the node's ephemeral storage.
    # Not under a pre-pulled image snapshot: the bind would hide the snapshot's images on the data volume.
    if instance_store_raid(pool):
        spec["instanceStorePolicy"] = "RAID0"
    if pool.efa:
        spec["networkInterfaces"] = efa.karpenter_interfaces(facts(pool.instance_types[0]))
    if pool.capacity_reservations is not None:
        reservations = pool.capacity_reservations
        terms = [{"id": rid} for rid in reservations.ids] if reservations.ids else [{"tags": dict(reservations.tags)}]
        spec["capacityReservationSelectorTerms"] = terms
    if wants_placement_group(pool) and context.placement_group_name:
        spec["placementGroupSelector"] = {"name": context.placement_group_name}
    return {"apiVersion": "karpenter.k8s.aws/v1", "kind": "EC2NodeClass", "metadata": {"name": pool.name}, "spec": spec}


def _block_devices(pool: NodePool) -> list[dict]:
    data = {"volumeSize": f"{pool.data_volume_gib}Gi", "volumeType": "gp3", "encrypted": True, "deleteOnTermination": True}
    if pool.ami_family == "al2023":
        return [{"deviceName": "/dev/xvda", "rootVolume": True, "ebs": data}]
    if pool.image_pull.prepulled_images_snapshot_id:
        data["snapshotID"] = pool.image_pull.prepulled_images_snapshot_id
    os_volume = {"volumeSize": "4Gi", "volumeType": "gp3", "encrypted": True, "deleteOnTermination": True}
    # On Bottlerocket the kubelet's root (the node's ephemeral storage) is the data volume, not the 4 GiB OS volume.
    return [{"deviceName": "/dev/xvda", "ebs": os_volume}, {"deviceName": "/dev/xvdb", "rootVolume": True, "ebs": data}]
