"""Facts about the accelerated instance types the kit schedules onto.

Source: Karpenter's generated instance-type reference (labels karpenter.k8s.aws/instance-gpu-*,
instance-local-nvme and the vpc.amazonaws.com/efa resource) and the VPC CNI's generated limits
(network cards), both read on 2026-11-23; host memory from the EC2 accelerated-computing instance
specifications, read on 2026-11-29. Confirm a new type with
`aws ec2 describe-instance-types --instance-types TYPE --query 'InstanceTypes[].[NetworkInfo,MemoryInfo]'`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class InstanceFacts:
    gpus: int
    gpu: str
    """Karpenter's karpenter.k8s.aws/instance-gpu-name."""
    gpu_memory_mib: int
    network_cards: int
    efa_interfaces: int
    """0 when the type has no EFA. Equal to network_cards when card 0 carries EFA too."""
    local_nvme_gb: int
    vcpus: int
    memory_gib: int

    @property
    def efa(self) -> bool:
        return self.efa_interfaces > 0

    @property
    def efa_on_card_zero(self) -> bool:
        return self.efa_interfaces >= self.network_cards

    def efa_cards(self) -> list[int]:
        """Network cards that carry an EFA device (p6-b300 keeps card 0 for ENA only)."""
        if not self.efa:
            return []
        first = 0 if self.efa_on_card_zero else 1
        return list(range(first, first + self.efa_interfaces))


def _family(gpu: str, memory: int, rows: dict[str, tuple[int, int, int, int, int, int]]) -> dict[str, InstanceFacts]:
    """rows: type -> (gpus, network cards, efa interfaces, local nvme GB, vcpus, memory GiB)."""
    return {
        name: InstanceFacts(gpus, gpu, memory, cards, efa, nvme, cpus, host) for name, (gpus, cards, efa, nvme, cpus, host) in rows.items()
    }


INSTANCE_TYPES: dict[str, InstanceFacts] = {
    **_family("a100", 40960, {"p4d.24xlarge": (8, 4, 4, 8000, 96, 1152)}),
    **_family("a100", 81920, {"p4de.24xlarge": (8, 4, 4, 8000, 96, 1152)}),
    **_family("h100", 81920, {"p5.4xlarge": (1, 1, 1, 3800, 16, 256), "p5.48xlarge": (8, 32, 32, 30400, 192, 2048)}),
    **_family("h200", 144384, {"p5e.48xlarge": (8, 32, 32, 30400, 192, 2048), "p5en.48xlarge": (8, 16, 16, 30400, 192, 2048)}),
    **_family("b200", 183359, {"p6-b200.48xlarge": (8, 8, 8, 30400, 192, 2048)}),
    **_family("b300", 275040, {"p6-b300.48xlarge": (8, 17, 16, 30400, 192, 4096)}),
    **_family(
        "a10g",
        22888,
        {
            "g5.xlarge": (1, 1, 0, 250, 4, 16),
            "g5.2xlarge": (1, 1, 0, 450, 8, 32),
            "g5.4xlarge": (1, 1, 0, 600, 16, 64),
            "g5.8xlarge": (1, 1, 1, 900, 32, 128),
            "g5.12xlarge": (4, 1, 1, 3800, 48, 192),
            "g5.16xlarge": (1, 1, 1, 1900, 64, 256),
            "g5.24xlarge": (4, 1, 1, 3800, 96, 384),
            "g5.48xlarge": (8, 1, 1, 7600, 192, 768),
        },
    ),
    **_family(
        "l4",
        22888,
        {
            "g6.xlarge": (1, 1, 0, 250, 4, 16),
            "g6.2xlarge": (1, 1, 0, 450, 8, 32),
            "g6.4xlarge": (1, 1, 0, 600, 16, 64),
            "g6.8xlarge": (1, 1, 1, 900, 32, 128),
            "g6.12xlarge": (4, 1, 1, 3760, 48, 192),
            "g6.16xlarge": (1, 1, 1, 1880, 64, 256),
            "g6.24xlarge": (4, 1, 1, 3760, 96, 384),
            "g6.48xlarge": (8, 1, 1, 7520, 192, 768),
        },
    ),
    **_family(
        "l40s",
        45776,
        {
            "g6e.xlarge": (1, 1, 0, 250, 4, 32),
            "g6e.2xlarge": (1, 1, 0, 450, 8, 64),
            "g6e.4xlarge": (1, 1, 0, 600, 16, 128),
            "g6e.8xlarge": (1, 1, 1, 900, 32, 256),
            "g6e.12xlarge": (4, 1, 1, 3800, 48, 384),
            "g6e.16xlarge": (1, 1, 1, 1900, 64, 512),
            "g6e.24xlarge": (4, 2, 2, 3800, 96, 768),
            "g6e.48xlarge": (8, 4, 4, 7600, 192, 1536),
        },
    ),
}


def facts(instance_type: str) -> InstanceFacts:
    return INSTANCE_TYPES[instance_type]


def known(instance_type: str) -> InstanceFacts | None:
    return INSTANCE_TYPES.get(instance_type)
