"""What the GPU data plane is told about each GPU capacity: a Karpenter pool or a capacity-block node group.

Each record carries the pool's GpuCapacity (core/capacity.py: types, labels, taints, zone, reservations, block
window), which blueprints, checks and the data plane share, plus the settings only the data plane reads (disruption,
image pulls, disks, burn-in, the block's size). infra/stacks/gpu_props.py builds them from the config; nothing in
infra/gpu reads the config. The patterns below are those of the CRDs the manifests must pass (Karpenter v1.14.1,
karpenter.sh_nodepools.yaml), so a value Karpenter would refuse is refused at synth, naming the field.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, cast

from core.burn_in import TAINT_KEY as BURN_IN_TAINT_KEY
from core.capacity import GpuCapacity
from core.capacity_block_schedule import KARPENTER_EXPIRES_MINUTES_BEFORE_END

# karpenter.sh_nodepools.yaml (v1.14.1): spec.disruption.consolidateAfter and spec.template.spec.expireAfter,
# spec.disruption.budgets[].nodes, .duration and .schedule.
KARPENTER_DURATION = re.compile(r"^(([0-9]+(s|m|h))+|Never)$")
BUDGET_NODES = re.compile(r"^((100|[0-9]{1,2})%|[0-9]+)$")
BUDGET_DURATION = re.compile(r"^((([0-9]+(h|m))|([0-9]+h[0-9]+m))(0s)?)$")
BUDGET_SCHEDULE = re.compile(r"^(@(annually|yearly|monthly|weekly|daily|midnight|hourly))|((.+)\s(.+)\s(.+)\s(.+)\s(.+))$")
# The SOCI snapshotter's chunk size (Bottlerocket settings.container-runtime-plugins.soci-snapshotter): a size in kb
# or mb, as the config allows it.
CHUNK_SIZE = re.compile(r"^[1-9][0-9]*(kb|mb)$")
SNAPSHOT_ID = re.compile(r"^snap-[0-9a-f]{8,17}$")
GP3_MAX_GIB = 16384
"""The largest gp3 volume EBS creates (EBS user guide, volume types)."""
AMI_TYPE_FAMILIES = {"AL2023_x86_64_NVIDIA": "al2023", "BOTTLEROCKET_x86_64_NVIDIA": "bottlerocket"}
"""The managed node group AMI types the kit launches, and the AMI family each one is."""


def _refuse(owner: str, name: str, value: object, allowed: str, fix: str) -> ValueError:
    return ValueError(f"{owner}.{name}: got {value!r}; {allowed}; {fix}")


@dataclass(frozen=True, kw_only=True)
class ProtectedWindowProps:
    """A window in which Karpenter disrupts no node of the pool (a disruption budget of zero nodes)."""

    schedule: str
    """When each window starts: a cron expression in UTC, or a macro such as @daily."""
    duration: str
    """How long each window lasts, in hours and minutes (e.g. 10h, 90m)."""

    def __post_init__(self) -> None:
        if not BUDGET_SCHEDULE.match(self.schedule):
            raise _refuse("ProtectedWindowProps", "schedule", self.schedule, "a five-field cron or an @-macro", "write e.g. '0 8 * * 1-5'")
        if not BUDGET_DURATION.match(self.duration):
            raise _refuse("ProtectedWindowProps", "duration", self.duration, "hours and/or minutes (10h, 90m, 1h30m)", "write e.g. '10h'")


@dataclass(frozen=True, kw_only=True)
class DisruptionProps:
    """How Karpenter may remove and replace a pool's nodes (NodePool spec.disruption and expireAfter). Reserved pools
    ignore it: their nodes are never given back mid-block."""

    consolidation_policy: Literal["WhenEmpty", "WhenEmptyOrUnderutilized"] = "WhenEmpty"
    """Default: WhenEmpty, because repacking a running model's pods restarts it (minutes of weights to load)."""
    consolidate_after: str = "10m"
    """How long a node must be empty or underused before it goes. Default: 10m, so a short gap between two
    requests does not cost a node launch."""
    expire_after: str = "720h"
    """The node lifetime, as the NodePool gets it (Never under protected windows). Default: 720h, so nodes pick up
    new AMIs within a month."""
    max_disrupted: str = "10%"
    """Most nodes disrupted at once, a count or a percentage. Default: 10%, a tenth of the serving capacity."""
    protected_windows: tuple[ProtectedWindowProps, ...] = ()
    """Windows with no disruption at all. Default: none, so Karpenter may act at any hour."""

    def __post_init__(self) -> None:
        for name in ("consolidate_after", "expire_after"):
            value = getattr(self, name)
            if not KARPENTER_DURATION.match(value):
                raise _refuse("DisruptionProps", name, value, "a Karpenter duration (10m, 720h, 1h30m) or Never", "write e.g. '720h'")
        if not BUDGET_NODES.match(self.max_disrupted):
            raise _refuse("DisruptionProps", "max_disrupted", self.max_disrupted, "a node count or 0%-100%", "write e.g. '1' or '10%'")


@dataclass(frozen=True, kw_only=True)
class ImagePullProps:
    """How a pool's nodes pull and unpack images: SOCI parallel pull on Bottlerocket, FastImagePull on AL2023."""

    soci_parallel_pull: bool = True
    """Default: on, because it cuts a multi-gigabyte image's pull several-fold (docs/performance.md)."""
    max_concurrent_downloads_per_image: int = 20
    """Bottlerocket only. Default: 20, nodeadm's fixed value on AL2023, so both families pull alike."""
    concurrent_download_chunk_size: str = "16mb"
    """Bottlerocket only. Default: 16mb, nodeadm's fixed value on AL2023."""
    max_concurrent_unpacks_per_image: int = 12
    """Bottlerocket only. Default: 12, nodeadm's fixed value on AL2023."""
    discard_unpacked_layers: bool = True
    """Bottlerocket only. Default: true, so a layer's compressed copy does not double its disk."""
    prepulled_images_snapshot_id: str | None = None
    """Bottlerocket only: a snapshot of a data volume with the images already pulled. Default: none (images are
    pulled at first use)."""

    def __post_init__(self) -> None:
        for name in ("max_concurrent_downloads_per_image", "max_concurrent_unpacks_per_image"):
            value = getattr(self, name)
            if value < 1:
                raise _refuse("ImagePullProps", name, value, "at least 1", "leave it at its default or raise it")
        if not CHUNK_SIZE.match(self.concurrent_download_chunk_size):
            raise _refuse(
                "ImagePullProps",
                "concurrent_download_chunk_size",
                self.concurrent_download_chunk_size,
                "a size in kb or mb",
                "write e.g. '16mb'",
            )
        snapshot = self.prepulled_images_snapshot_id
        if snapshot is not None and not SNAPSHOT_ID.match(snapshot):
            raise _refuse("ImagePullProps", "prepulled_images_snapshot_id", snapshot, "an EBS snapshot id snap-...", "copy the id from EC2")


@dataclass(frozen=True, kw_only=True)
class BurnInProps:
    """The tests a new node of the pool passes before workloads may land on it (infra/gpu/burn_in.py)."""

    dcgm_level: Literal[1, 2] = 2
    """dcgmi diag run level. Default: 2, the GPUs under load for about two minutes, which level 1 never does."""
    all_reduce: bool = True
    """NCCL all-reduce over the node's GPUs (and over EFA on EFA pools). Default: on, so a bad link fails the node."""
    min_bus_bandwidth_gb_s: float | None = None
    """The all-reduce's required bus bandwidth, GB/s. Default: none, so 80% of the GPU's published figure
    (core/burn_in_thresholds.py)."""
    min_efa_bus_bandwidth_gb_s: float | None = None
    """The same over EFA, GB/s. Default: none, so half of one GPU's share of the instance's EFA bandwidth."""

    def __post_init__(self) -> None:
        if self.dcgm_level not in (1, 2):
            raise _refuse("BurnInProps", "dcgm_level", self.dcgm_level, "1 or 2", "use 2 unless the node must join within seconds")
        for name in ("min_bus_bandwidth_gb_s", "min_efa_bus_bandwidth_gb_s"):
            value = getattr(self, name)
            # NaN compares false to everything: the verdict would pass every node.
            if value is not None and not (math.isfinite(value) and value > 0):
                raise _refuse("BurnInProps", name, value, "a finite number of GB/s above 0, or None", "leave it unset for the default")


@dataclass(frozen=True, kw_only=True)
class CapacityBlockProps:
    """A capacity block a static pool follows: its nodes from `start` until drain_minutes_before_end before `end`."""

    start: datetime
    """The block's start, with a time zone."""
    end: datetime
    """The block's end, with a time zone."""
    instances: int
    """Instances in the block: the pool's node count while the block is active."""
    drain_minutes_before_end: int = 60
    """When the pool gives its nodes back. Default: 60, so pods get 20 minutes to leave before Karpenter's own
    expiry of the block, 40 minutes before the end (core/capacity_block_schedule.py)."""

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            moment: datetime = getattr(self, name)
            if moment.utcoffset() is None:
                raise _refuse("CapacityBlockProps", name, moment.isoformat(), "a time with its zone", "add the offset, e.g. +00:00")
        if self.end <= self.start:
            raise _refuse("CapacityBlockProps", "end", self.end.isoformat(), f"a time after start {self.start.isoformat()}", "swap them")
        if self.instances < 1:
            raise _refuse("CapacityBlockProps", "instances", self.instances, "at least 1", "give the block's instance count")
        if self.drain_minutes_before_end <= KARPENTER_EXPIRES_MINUTES_BEFORE_END:
            raise _refuse(
                "CapacityBlockProps",
                "drain_minutes_before_end",
                self.drain_minutes_before_end,
                f"more than {KARPENTER_EXPIRES_MINUTES_BEFORE_END} (Karpenter deletes the nodes then, leaving pods no grace)",
                "use 60",
            )

    @property
    def window(self) -> tuple[datetime, datetime, int]:
        """As GpuCapacity.block_window holds it."""
        return (self.start, self.end, self.drain_minutes_before_end)


@dataclass(frozen=True, kw_only=True)
class NodePoolProps:
    """One Karpenter pool: its NodePool and EC2NodeClass, and its burn-in and capacity-block reconciler if any."""

    capacity: GpuCapacity
    """What the pool is: name, types, capacity types, AMI, EFA, zone, GPU limit, labels, taints, reservations."""
    disruption: DisruptionProps = DisruptionProps()
    """Default: the defaults of DisruptionProps (consolidate empty nodes after 10m, expire after 720h)."""
    image_pull: ImagePullProps = ImagePullProps()
    """Default: the defaults of ImagePullProps (parallel pull on)."""
    data_volume_gib: int = 200
    """The gp3 volume for images and the kubelet. Default: 200, room for two serving images and their layers."""
    reservation_tags: Mapping[str, str] = field(default_factory=dict)
    """Tags that select the reservations a reserved pool launches into, instead of capacity.reservation_ids.
    Default: none (the ids select them)."""
    capacity_block: CapacityBlockProps | None = None
    """The block a static pool follows. Default: none, a pool that Karpenter scales."""
    burn_in: BurnInProps | None = None
    """Test new nodes before they take workloads. Default: none, nodes serve at once."""

    def __post_init__(self) -> None:
        capacity = self.capacity
        key = capacity.config_key or capacity.name
        if capacity.provisioner != "karpenter":
            raise _refuse("NodePoolProps", "capacity.provisioner", capacity.provisioner, "karpenter", f"build {key} with pool_capacity")
        if not capacity.instance_types or not capacity.capacity_types:
            raise _refuse(
                "NodePoolProps",
                "capacity",
                {"instance_types": capacity.instance_types, "capacity_types": capacity.capacity_types},
                "at least one instance type and one capacity type",
                f"list them in {key}",
            )
        if not capacity.ami_version:
            raise _refuse("NodePoolProps", "capacity.ami_version", capacity.ami_version, "an AMI release", "take the kit's pin")
        if capacity.max_gpus < 1:
            raise _refuse("NodePoolProps", "capacity.max_gpus", capacity.max_gpus, "at least 1", "give the pool a GPU limit")
        if not 1 <= self.data_volume_gib <= GP3_MAX_GIB:
            raise _refuse("NodePoolProps", "data_volume_gib", self.data_volume_gib, f"1 to {GP3_MAX_GIB} (gp3)", "use e.g. 200")
        self._check_reservations(key)
        block = self.capacity_block
        if (block.window if block else None) != capacity.block_window:
            raise _refuse(
                "NodePoolProps",
                "capacity_block",
                block.window if block else None,
                f"the capacity's block_window {capacity.block_window!r}",
                "build both from the same block",
            )
        tainted = any(taint.key == BURN_IN_TAINT_KEY for taint in capacity.startup_taints)
        if (self.burn_in is not None) != tainted:
            raise _refuse(
                "NodePoolProps",
                "burn_in",
                self.burn_in,
                f"burn-in settings exactly when the capacity has the {BURN_IN_TAINT_KEY} startup taint",
                "give both or neither: without the taint workloads land before the test, without burn-in the taint stays",
            )

    def _check_reservations(self, key: str) -> None:
        ids, tags = self.capacity.reservation_ids, self.reservation_tags
        if ids and tags:
            raise _refuse("NodePoolProps", "reservation_tags", dict(tags), f"no tags where {key} names ids {list(ids)}", "keep one of them")
        if (ids or tags) and not self.capacity.reserved:
            raise _refuse(
                "NodePoolProps", "capacity.capacity_types", self.capacity.capacity_types, "'reserved' with reservations", "add 'reserved'"
            )
        if self.capacity.reserved and not (ids or tags):
            raise _refuse("NodePoolProps", "reservation_tags", {}, "reservation ids or tags for a reserved pool", "name the reservations")

    @property
    def name(self) -> str:
        """The NodePool's and EC2NodeClass's name."""
        return self.capacity.name

    @property
    def wants_placement_group(self) -> bool:
        """A cluster placement group packs EFA nodes closely, but never with reservations (InsufficientInstanceCapacity)."""
        return self.capacity.efa and not self.capacity.reserved


@dataclass(frozen=True, kw_only=True)
class CapacityBlockNodeGroupProps:
    """A managed node group on one capacity block: the block's instances, EFA on every card where asked."""

    capacity: GpuCapacity
    """The group: name, instance type, reservation (the block), size (fixed_nodes), AMI family, EFA, labels."""
    ami_type: Literal["AL2023_x86_64_NVIDIA", "BOTTLEROCKET_x86_64_NVIDIA"]
    """The EKS AMI type; its family must be the capacity's."""

    def __post_init__(self) -> None:
        capacity = self.capacity
        key = capacity.config_key or capacity.name
        if capacity.provisioner != "capacity-block-node-group":
            raise _refuse(
                "CapacityBlockNodeGroupProps",
                "capacity.provisioner",
                capacity.provisioner,
                "capacity-block-node-group",
                f"build {key} with node_group_capacity",
            )
        if len(capacity.instance_types) != 1 or len(capacity.reservation_ids) != 1:
            raise _refuse(
                "CapacityBlockNodeGroupProps",
                "capacity",
                (capacity.instance_types, capacity.reservation_ids),
                "one instance type and one reservation (the block)",
                "one group per block",
            )
        if capacity.fixed_nodes is None or capacity.fixed_nodes < 1:
            raise _refuse(
                "CapacityBlockNodeGroupProps", "capacity.fixed_nodes", capacity.fixed_nodes, "at least 1", "give the block's instance count"
            )
        family = AMI_TYPE_FAMILIES.get(self.ami_type)
        if family != capacity.ami_family:
            raise _refuse(
                "CapacityBlockNodeGroupProps",
                "ami_type",
                self.ami_type,
                f"a type of the capacity's family {capacity.ami_family}: {sorted(AMI_TYPE_FAMILIES)}",
                "build both from the same group",
            )

    @property
    def name(self) -> str:
        return self.capacity.name

    @property
    def instance_type(self) -> str:
        return self.capacity.instance_types[0]

    @property
    def reservation_id(self) -> str:
        return self.capacity.reservation_ids[0]

    @property
    def size(self) -> int:
        """The block's instances: the group's desired and maximum size."""
        return cast(int, self.capacity.fixed_nodes)  # an int: __post_init__ refuses None
