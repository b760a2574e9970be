"""GPU capacity: the one concept behind Karpenter node pools and capacity-block managed node groups.

Blueprints, config checks, the data plane, preflight, cluster verification and the summary all see a
node pool or a capacity-block node group through a GpuCapacity: where its nodes run, what they are,
how they are labelled and tainted. The config layer builds them (config.capacities).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from core import labels
from core.instances import InstanceFacts, known

Provisioner = Literal["karpenter", "capacity-block-node-group", "chain"]
CapacityType = Literal["on-demand", "spot", "reserved"]
AmiFamily = Literal["bottlerocket", "al2023"]


@dataclass(frozen=True)
class NodeTaint:
    key: str
    value: str = ""
    effect: str = "NoSchedule"

    def as_kubernetes(self) -> dict[str, str]:
        return {"key": self.key, "effect": self.effect, **({"value": self.value} if self.value else {})}


@dataclass(frozen=True)
class GpuCapacity:
    name: str
    """The pool's name: nodes carry it in the llm-kit/pool label."""
    provisioner: Provisioner
    instance_types: tuple[str, ...]
    """All with one GPU model; a workload pins one of them."""
    capacity_types: tuple[CapacityType, ...]
    ami_family: AmiFamily
    efa: bool
    zone_id: str
    max_gpus: int
    """The most GPUs the capacity can run at once: a pool's limit, or a block's instances times their GPUs."""
    extra_labels: Mapping[str, str] = field(default_factory=dict)
    extra_taints: tuple[NodeTaint, ...] = ()
    weight: int | None = None
    """Karpenter tries pools of higher weight first."""
    reservation_ids: tuple[str, ...] = ()
    config_key: str = ""
    """Where the config defines it, e.g. node_pools[gpu-l40s]."""
    fixed_nodes: int | None = None
    """The instance count of a capacity-block node group; None where Karpenter scales the nodes."""
    parallel_pull: bool = True
    """Images are pulled and unpacked in parallel (SOCI parallel pull, or AL2023's FastImagePull)."""
    instance_store: bool = False
    """Pod volumes live on the instance-store NVMe (Karpenter's RAID0 of it, under the kubelet's directory)."""
    startup_taints: tuple[NodeTaint, ...] = ()
    """Taints new nodes carry until something lifts them (the burn-in's)."""
    members: tuple[str, ...] = ()
    """A chain's pools, most preferred first; empty for a pool or node group."""
    chain: str | None = None
    """The chain a pool belongs to: its nodes also carry CHAIN_LABEL with this name."""
    block_window: tuple[datetime, datetime, int] | None = None
    """A capacity-block pool's (start, end, drain minutes before the end)."""
    ami_version: str | None = None
    """The AMI release its nodes run (a pool's pin, else the kit's); None for managed node groups, which take the
    newest release when created and are checked against the kit's pin (core/image_matrix.py)."""

    @property
    def standing_nodes(self) -> bool:
        """Nodes that exist before any pod asks (a capacity-block node group, or a pool following a block while it
        is active): no node launch on a workload's path, and Kueue can place by topology on them."""
        return self.fixed_nodes is not None or self.block_window is not None

    @property
    def reserved(self) -> bool:
        """Paid for whether used or not: a capacity reservation or capacity block."""
        return "reserved" in self.capacity_types

    @property
    def instance(self) -> InstanceFacts | None:
        """Facts of the first instance type (all types of a capacity share a GPU model); None when unknown."""
        return known(self.instance_types[0])

    @property
    def accelerator(self) -> str:
        instance = self.instance
        return instance.gpu if instance else "unknown"

    def selector(self) -> dict[str, str]:
        """The node label a workload that names this capacity selects on: its chain's, or its own pool's."""
        return {labels.CHAIN_LABEL: self.name} if self.members else {labels.POOL_LABEL: self.name}

    def node_labels(self) -> dict[str, str]:
        """The labels every node of this capacity carries, written here once for every provisioner."""
        chain = {labels.CHAIN_LABEL: self.chain} if self.chain else {}
        return {
            **chain,
            labels.POOL_LABEL: self.name,
            labels.ACCELERATOR_LABEL: self.accelerator,
            labels.EFA_LABEL: str(self.efa).lower(),
            labels.AMI_FAMILY_LABEL: self.ami_family,
            **self.extra_labels,
        }

    def taints(self) -> list[NodeTaint]:
        """The GPU taint, then any the config adds."""
        return [NodeTaint(labels.GPU_TAINT["key"], effect=labels.GPU_TAINT["effect"]), *self.extra_taints]

    def describe(self) -> str:
        """One line: what the nodes are and how many GPUs the capacity may run."""
        if self.members:
            return f"chain {' -> '.join(self.members)}; up to {self.max_gpus} GPUs"
        if self.block_window is not None:
            start, end, drain = self.block_window
            when = f"{start:%Y-%m-%d %H:%M} .. {end:%Y-%m-%d %H:%M} UTC, drained {drain} min before the end"
            nodes = self.max_gpus // max(self.instance.gpus if self.instance else 1, 1)
            return f"{nodes} x {self.instance_types[0]} in {', '.join(self.reservation_ids)}, {when}"
        if self.fixed_nodes is not None:
            return f"{self.fixed_nodes} x {'/'.join(self.instance_types)} in {', '.join(self.reservation_ids)}"
        extras = (", EFA" if self.efa else "") + (", burn-in" if self.startup_taints else "")
        return f"{'/'.join(self.instance_types)}; {'+'.join(self.capacity_types)}; {self.ami_family}; up to {self.max_gpus} GPUs{extras}"

    @property
    def title(self) -> str:
        kind = {"karpenter": "Karpenter", "capacity-block-node-group": "capacity block", "chain": "capacity chain"}[self.provisioner]
        return f"{self.name} ({kind})"


def extra_taint_keys(capacities: Mapping[str, GpuCapacity] | list[GpuCapacity]) -> list[str]:
    """Taint keys beyond the GPU taint on any capacity: node agents must tolerate them to run on every GPU node."""
    values = capacities.values() if isinstance(capacities, Mapping) else capacities
    keys = {taint.key for capacity in values for taint in (*capacity.extra_taints, *capacity.startup_taints)}
    return sorted(keys - {labels.GPU_TAINT["key"]})
