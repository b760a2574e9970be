"""Config of the GPU data plane: Karpenter node pools and capacity-block node groups."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, Field

from core.capacity import AmiFamily, CapacityType
from core.schema import InstanceType, KubeName, LabelKey, LabelValue, StrictModel

# Patterns spell digits [0-9]: \d would also take other scripts' digits, which Karpenter's CRD patterns (and the
# props of infra/gpu/pool_props.py, which copy them) refuse.
Duration = Annotated[str, Field(pattern=r"^([0-9]+h)?([0-9]+m)?([0-9]+s)?$", min_length=2, examples=["10m", "720h"])]
ReservationId = Annotated[str, Field(pattern=r"^cr-[0-9a-f]{17}$", examples=["cr-0123456789abcdef0"])]


class Taint(StrictModel):
    key: LabelKey
    value: Annotated[str, Field(max_length=63)] = ""
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] = "NoSchedule"


class CapacityReservations(StrictModel):
    ids: list[ReservationId] = []
    """Capacity reservation or capacity block IDs (cr-...). Excludes `tags`."""
    tags: dict[str, str] = {}
    """Select reservations by tags instead of IDs."""


class ProtectedWindow(StrictModel):
    schedule: Annotated[str, Field(pattern=r"^(\S+\s+){4}\S+$", examples=["0 8 * * mon-fri"])]
    """Cron schedule (UTC) of the start of a window in which Karpenter disrupts no serving node."""
    duration: Annotated[str, Field(pattern=r"^([0-9]+h)?([0-9]+m)?$", min_length=2, examples=["10h"])]
    """How long each window lasts, in hours and minutes (e.g. 10h, 90m)."""


class Disruption(StrictModel):
    consolidation_policy: Literal["WhenEmpty", "WhenEmptyOrUnderutilized"] = "WhenEmpty"
    """WhenEmpty never moves a running model; WhenEmptyOrUnderutilized repacks pods to save nodes."""
    consolidate_after: Duration = "10m"
    """How long a node must be empty (or underused) before Karpenter removes it."""
    expire_after: Duration | Literal["Never"] = "720h"
    """Maximum node lifetime; replaced nodes pick up new AMIs. Expiry is forceful: it ignores budgets and
    protected windows, so pools with protected_windows (and reserved pools) default to Never, and a new
    AMI pin rolls their nodes by drift, which the budgets and windows do govern."""
    # karpenter.sh_nodepools.yaml (Karpenter v1.14.1) spec.disruption.budgets[].nodes: a count, or 0% to 100%.
    max_disrupted: Annotated[str, Field(pattern=r"^((100|[0-9]{1,2})%|[0-9]+)$")] = "10%"
    """Most nodes of the pool disrupted at once: a node count, or a percentage from 0% to 100%."""
    protected_windows: list[ProtectedWindow] = []
    """Windows (e.g. business hours) in which Karpenter disrupts no node of the pool: no consolidation, no
    drift replacement, no expiry (expire_after then defaults to Never and may not be set)."""

    @property
    def effective_expire_after(self) -> str:
        """What the NodePool gets: Never under protected windows unless expire_after was set (which the checks refuse)."""
        if self.protected_windows and "expire_after" not in self.model_fields_set:
            return "Never"
        return self.expire_after


# AL2023: nodeadm's FastImagePull writes a fixed SOCI configuration with these values; no NodeConfig field changes them.
AL2023_FIXED_PULL = {
    "max_concurrent_downloads_per_image": 20,
    "concurrent_download_chunk_size": "16mb",
    "max_concurrent_unpacks_per_image": 12,
    "discard_unpacked_layers": True,
}


class ImagePull(StrictModel):
    soci_parallel_pull: bool = True
    """Bottlerocket: SOCI snapshotter in parallel-pull-unpack mode. AL2023: nodeadm FastImagePull (with nodeadm's
    fixed tuning; the four tuning keys below apply to Bottlerocket only)."""
    max_concurrent_downloads_per_image: Annotated[int, Field(ge=1, le=64)] = 20
    concurrent_download_chunk_size: Annotated[str, Field(pattern=r"^[1-9][0-9]*(kb|mb)$")] = "16mb"
    """Bottlerocket only: the size of the ranged requests a layer is fetched in, from 1kb (e.g. 16mb)."""
    max_concurrent_unpacks_per_image: Annotated[int, Field(ge=1, le=64)] = 12
    discard_unpacked_layers: bool = True
    """Drop compressed layers once unpacked, halving the disk a multi-gigabyte image needs."""
    prepulled_images_snapshot_id: Annotated[str | None, Field(pattern=r"^snap-[0-9a-f]{8,17}$")] = None
    """Bottlerocket only: EBS snapshot of a data volume with the serving images already pulled. The pool's nodes
    then keep containerd on that volume rather than on NVMe instance store, where the images would be hidden."""


class CapacityBlockWindow(StrictModel):
    """When a capacity block is active: its pool holds `instances` nodes from `start` until drain_minutes_before_end
    before `end`, and none otherwise (scripts/capacity_blocks.py writes these from the purchase)."""

    start: AwareDatetime
    """The block's start, with its offset (e.g. 2026-12-01T11:30:00Z)."""
    end: AwareDatetime
    """The block's end; EC2 ends every block at 11:30 UTC and starts terminating its instances 30 minutes before."""
    instances: Annotated[int, Field(ge=1, le=64)]
    """Instances in the block: the pool's node count while it is active."""
    drain_minutes_before_end: Annotated[int, Field(ge=45, le=1440)] = 60
    """When the pool gives its nodes back: Karpenter drains them (pods get the minutes beyond Karpenter's own
    expiry drain at 40 minutes before the end to leave), and the workloads move to the next pool of their chain."""


class BurnIn(StrictModel):
    """Test every new node before workloads may use it (a startup taint holds them off until it passes)."""

    dcgm_level: Literal[1, 2] = 2
    """dcgmi diag run level: 1 quick (seconds), 2 medium (about 2 minutes, the GPUs under load)."""
    all_reduce: bool = True
    """NCCL all-reduce over the node's GPUs (NVLink or PCIe) on multi-GPU nodes; on EFA pools a second one forced
    over EFA."""
    min_bus_bandwidth_gb_s: Annotated[float | None, Field(gt=0, allow_inf_nan=False)] = None
    """The all-reduce's bus bandwidth (nccl-tests busbw, GB/s) a node must reach (default: 80% of the published figure
    for its GPU model, core/burn_in_thresholds.py; no threshold where none is published). At most the published
    maximum plus 10%."""
    min_efa_bus_bandwidth_gb_s: Annotated[float | None, Field(gt=0, allow_inf_nan=False)] = None
    """The same for the all-reduce over EFA, in GB/s (default: half of one GPU's share of the instance's EFA bandwidth
    for p4d, p4de, p5, p5e, p5en and p6-b200, e.g. 25 GB/s on p5.48xlarge; elsewhere the run must succeed). At most
    that share plus 10%."""


class NodePool(StrictModel):
    name: KubeName
    """NodePool and EC2NodeClass name; pods select it with the label llm-kit/pool."""
    instance_types: Annotated[list[InstanceType], Field(min_length=1)]
    """GPU instance types (all with the same GPU model, so a replica never lands on a slower shard)."""
    capacity_types: Annotated[list[CapacityType], Field(min_length=1)] = ["on-demand"]
    """on-demand, spot, and reserved (capacity reservations and capacity blocks)."""
    ami_family: AmiFamily = "bottlerocket"
    """Bottlerocket (NVIDIA variant) or Amazon Linux 2023 (NVIDIA)."""
    ami_version: Annotated[str | None, Field(pattern=r"^(v[0-9]+\.[0-9]+\.[0-9]+|v[0-9]{8})$")] = None
    """Pinned AMI release (Bottlerocket v1.x.y, AL2023 vYYYYMMDD); empty takes the kit's pin in core/versions.py."""
    gpu_limit: Annotated[int, Field(ge=1, le=10000)]
    """Most GPUs (nvidia.com/gpu) the pool may run at once: the spend ceiling."""
    efa: bool = False
    """Attach EFA interfaces on every network card, the EFA security group and, off reserved capacity, a cluster placement group."""
    capacity_reservations: CapacityReservations | None = None
    """Reservations the pool launches into; requires capacity type 'reserved'."""
    labels: dict[LabelKey, LabelValue] = {}
    taints: list[Taint] = []
    """Extra taints; every pool already carries nvidia.com/gpu:NoSchedule."""
    disruption: Disruption = Disruption()
    image_pull: ImagePull = ImagePull()
    data_volume_gib: Annotated[int, Field(ge=50, le=16000)] = 200
    """Encrypted gp3 volume for images and ephemeral storage where the instance has no NVMe instance store."""
    weight: Annotated[int | None, Field(ge=1, le=100)] = None
    """Karpenter tries pools with a higher weight first (e.g. reserved before on-demand)."""
    capacity_block: CapacityBlockWindow | None = None
    """A capacity block's window: the pool becomes a fixed-size (static) pool whose node count follows it."""
    gpu_hour_usd: Annotated[float | None, Field(gt=0, allow_inf_nan=False)] = None
    """What one GPU-hour on this pool costs you (the on-demand list price, your spot average, a block's price over its
    GPU-hours), for the GPU showback per team; date it where you keep it. Unset: the pool's GPU-hours are reported,
    not priced."""
    burn_in: BurnIn | None = None
    """Test new nodes (DCGM diagnostics, NCCL all-reduce) before they take workloads; a failed node stays cordoned,
    labelled llm-kit/burn-in=failed, for replacement."""
    chain: KubeName | None = None
    """A capacity chain this pool belongs to: one logical GPU capacity over several pools (a block, spot, on-demand),
    which workloads name like a pool. Nodes are taken from the block first, then by weight, highest first."""


class CapacityBlockNodeGroup(StrictModel):
    name: KubeName
    instance_type: InstanceType
    """The capacity block's instance type."""
    reservation_id: ReservationId
    """The capacity block (cr-...)."""
    size: Annotated[int, Field(ge=1, le=64)]
    """Instances in the block; the node group's desired size."""
    ami_type: Literal["AL2023_x86_64_NVIDIA", "BOTTLEROCKET_x86_64_NVIDIA"] = "AL2023_x86_64_NVIDIA"
    efa: bool = True
    labels: dict[LabelKey, LabelValue] = {}


class KarpenterSettings(StrictModel):
    replicas: Annotated[int, Field(ge=1, le=3)] = 2
    """Controller replicas on the system nodes."""
    node_repair: bool = True
    """Let Karpenter replace GPU nodes whose health conditions (node monitoring agent) turn bad."""
