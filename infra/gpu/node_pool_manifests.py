"""Render one Karpenter NodePool (karpenter.sh/v1) and EC2NodeClass (karpenter.k8s.aws/v1) per configured pool.

Pure functions over the pool's props (infra/gpu/pool_props.py): the data plane applies the result, tests and the CRD
validator read it.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.capacity_block_schedule import EC2_TERMINATES_MINUTES_BEFORE_END, KARPENTER_EXPIRES_MINUTES_BEFORE_END, termination_grace_minutes
from core.instances import facts
from core.labels import GPU_RESOURCE, INSTANCE_TYPE_LABEL, KARPENTER_CAPACITY_TYPE_LABEL, POOL_LABEL, ZONE_ID_LABEL
from infra.gpu import efa
from infra.gpu.block_devices import karpenter_block_devices, node_volumes
from infra.gpu.pool_props import NodePoolProps
from infra.gpu.user_data import al2023_node_config, bottlerocket_settings

ALL_REASONS = ["Empty", "Underutilized", "Drifted"]

RESERVED_TERMINATION_GRACE_MINUTES = KARPENTER_EXPIRES_MINUTES_BEFORE_END - EC2_TERMINATES_MINUTES_BEFORE_END - 2
"""How long a node of a reserved pool may drain: 8 minutes. Karpenter v1.14.1 deletes the nodes of a capacity block
40 minutes before its end (pkg/controllers/capacityreservation/expiration/controller.go, polled every minute) and EC2
terminates them from 30 minutes before. Without a terminationGracePeriod the drain waits on PodDisruptionBudgets
for ever and EC2 ends it; with one, Karpenter deletes the pods that are left so that each still gets its own grace
period before the deadline (karpenter.sh v1.14.1 NodeClaim terminationGracePeriod). The 2 minutes spare cover the
controller's poll and the instance's shutdown."""

STATIC_REPLICAS_AT_CREATION = 0
"""A static (capacity-block) pool is created with no nodes; from then on only the reconciler sets its count."""


@dataclass(frozen=True, kw_only=True)
class NodeClassContext:
    """Cluster facts the manifests point at (CloudFormation tokens are fine). The zone is the pool's own
    (capacity.zone_id)."""

    node_role_name: str
    """The role Karpenter's nodes run as (EC2NodeClass spec.role)."""
    subnet_ids: tuple[str, ...]
    """The node subnets, all in the pool's zone."""
    security_group_ids: tuple[str, ...]
    """Cluster security group first; the EFA group is added for EFA pools."""
    efa_security_group_id: str
    """The group that lets EFA traffic flow between the nodes."""
    placement_group_name: str | None = None
    """The pool's cluster placement group. Default: none; only on-demand/spot EFA pools get one."""


def node_pool(pool: NodePoolProps) -> dict:
    """The NodePool as the kit wants it. A capacity-block pool's is what it is created with (no nodes); the data
    plane creates it with static_node_pool_creation and keeps the rest up to date with static_node_pool_patch."""
    capacity = pool.capacity
    reserved = capacity.reserved
    labels = capacity.node_labels()
    taints = [taint.as_kubernetes() for taint in capacity.taints()]
    spec = {
        "template": {
            "metadata": {"labels": labels},
            "spec": {
                "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": pool.name},
                "requirements": [
                    {"key": INSTANCE_TYPE_LABEL, "operator": "In", "values": list(capacity.instance_types)},
                    {"key": KARPENTER_CAPACITY_TYPE_LABEL, "operator": "In", "values": list(capacity.capacity_types)},
                    {"key": ZONE_ID_LABEL, "operator": "In", "values": [capacity.zone_id]},
                ],
                "taints": taints,
                **({"startupTaints": [taint.as_kubernetes() for taint in capacity.startup_taints]} if capacity.startup_taints else {}),
                "expireAfter": "Never" if reserved else pool.disruption.expire_after,
            },
        },
        "limits": {GPU_RESOURCE: str(capacity.max_gpus)},
        "disruption": _disruption(pool),
    }
    if capacity.weight is not None:
        spec["weight"] = capacity.weight
    block = pool.capacity_block
    if block is not None:
        # Static: a fixed node count (Karpenter's StaticCapacity), moved by the reconciler as the block opens and closes.
        # Only a node limit is allowed, and no weight: pods fill these nodes before any other pool is asked.
        spec["replicas"] = STATIC_REPLICAS_AT_CREATION
        spec["limits"] = {"nodes": str(block.instances)}
        spec.pop("weight", None)
        spec["template"]["spec"]["terminationGracePeriod"] = f"{termination_grace_minutes(block.drain_minutes_before_end)}m"
    elif reserved:
        spec["template"]["spec"]["terminationGracePeriod"] = f"{RESERVED_TERMINATION_GRACE_MINUTES}m"
    return {"apiVersion": "karpenter.sh/v1", "kind": "NodePool", "metadata": {"name": pool.name}, "spec": spec}


def static_node_pool_creation(pool: NodePoolProps) -> dict:
    """What CloudFormation applies (kubectl create, then kubectl apply on every change) for a capacity-block pool:
    the name, no nodes, and nothing that a config or a clock can change. The manifest never changes, so no deploy
    ever applies it again, and a client-side apply, which resets every field it names, never resets the count the
    reconciler set. (spec.replicas cannot be left out instead: a NodePool without it is dynamic, and Karpenter's CRD
    refuses to turn one into the other.)"""
    ref = {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": pool.name}
    requirements = [{"key": KARPENTER_CAPACITY_TYPE_LABEL, "operator": "In", "values": ["reserved"]}]
    spec = {"replicas": STATIC_REPLICAS_AT_CREATION, "template": {"spec": {"nodeClassRef": ref, "requirements": requirements}}}
    return {"apiVersion": "karpenter.sh/v1", "kind": "NodePool", "metadata": {"name": pool.name}, "spec": spec}


def static_node_pool_patch(pool: NodePoolProps) -> list[dict]:
    """JSON patch (RFC 6902) that sets every part of a capacity-block pool's spec but its node count: each `add`
    replaces the whole member, as an apply would, and spec.replicas stays the reconciler's."""
    spec = node_pool(pool)["spec"]
    return [{"op": "add", "path": f"/spec/{key}", "value": value} for key, value in spec.items() if key != "replicas"]


def _disruption(pool: NodePoolProps) -> dict:
    settings = pool.disruption
    if pool.capacity.reserved:
        # Reserved capacity is paid for the whole block: never give a node back or roll it mid-block.
        return {"consolidationPolicy": "WhenEmpty", "consolidateAfter": "Never", "budgets": [{"nodes": "0"}]}
    budgets: list[dict[str, object]] = [{"nodes": settings.max_disrupted}]
    for window in settings.protected_windows:
        budgets.append({"nodes": "0", "schedule": window.schedule, "duration": window.duration, "reasons": ALL_REASONS})
    return {"consolidationPolicy": settings.consolidation_policy, "consolidateAfter": settings.consolidate_after, "budgets": budgets}


def node_class(pool: NodePoolProps, context: NodeClassContext) -> dict:
    capacity = pool.capacity
    family = capacity.ami_family
    security_groups = list(context.security_group_ids) + ([context.efa_security_group_id] if capacity.efa else [])
    spec: dict = {
        "role": context.node_role_name,
        "amiSelectorTerms": [{"alias": f"{family}@{capacity.ami_version}"}],
        "subnetSelectorTerms": [{"id": subnet} for subnet in context.subnet_ids],
        "securityGroupSelectorTerms": [{"id": group} for group in security_groups],
        "metadataOptions": {
            "httpEndpoint": "enabled",
            "httpProtocolIPv6": "disabled",
            "httpPutResponseHopLimit": 1,
            "httpTokens": "required",
        },
        "blockDeviceMappings": karpenter_block_devices(
            node_volumes(family, pool.data_volume_gib, pool.image_pull.prepulled_images_snapshot_id)
        ),
        "tags": {POOL_LABEL: pool.name},
    }
    spec["userData"] = (
        bottlerocket_settings(pool.image_pull) if family == "bottlerocket" else al2023_node_config(pool.image_pull, efa=capacity.efa)
    )
    # RAID0: Karpenter stripes the NVMe disks and binds the runtime's directories to them (containerd, kubelet,
    # pod logs and, on Bottlerocket 1.46+, SOCI's store), and counts them as the node's ephemeral storage.
    # Not under a pre-pulled image snapshot: the bind would hide the snapshot's images on the data volume.
    if capacity.instance_store:
        spec["instanceStorePolicy"] = "RAID0"
    if capacity.efa:
        spec["networkInterfaces"] = efa.karpenter_interfaces(facts(capacity.instance_types[0]))
    if capacity.reservation_ids:
        spec["capacityReservationSelectorTerms"] = [{"id": rid} for rid in capacity.reservation_ids]
    elif pool.reservation_tags:
        spec["capacityReservationSelectorTerms"] = [{"tags": dict(pool.reservation_tags)}]
    if pool.wants_placement_group and context.placement_group_name:
        spec["placementGroupSelector"] = {"name": context.placement_group_name}
    return {"apiVersion": "karpenter.k8s.aws/v1", "kind": "EC2NodeClass", "metadata": {"name": pool.name}, "spec": spec}
