"""The EBS volumes of a GPU node per AMI family, one layout for both node paths (Karpenter and managed node groups).

AL2023 has one volume, /dev/xvda, which holds the OS, containerd's images and the kubelet. Bottlerocket has two: the
small OS volume /dev/xvda and the data volume /dev/xvdb, which holds images, containers and the kubelet's root, so
/dev/xvdb is the one to size. Karpenter v1.14.1's own defaults have the same devices
(pkg/providers/amifamily/al2023.go and bottlerocket.go: DefaultBlockDeviceMappings, EphemeralBlockDevice); the NVIDIA
variants' OS image is 4 GiB (bottlerocket variants/aws-k8s-*-nvidia: os-image-size-gib).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.capacity import AmiFamily

BOTTLEROCKET_OS_VOLUME_GIB = 4


@dataclass(frozen=True)
class NodeVolume:
    """One EBS volume of a GPU node: gp3, encrypted, deleted with the instance."""

    device_name: str
    size_gib: int
    kubelet_root: bool
    """The volume of the kubelet's root: what Karpenter counts as the node's ephemeral storage (rootVolume)."""
    snapshot_id: str | None = None


def node_volumes(family: AmiFamily, data_gib: int, snapshot_id: str | None = None) -> tuple[NodeVolume, ...]:
    """Every volume encrypted gp3, deleted with the instance; snapshot_id (Bottlerocket) restores the data volume."""
    if family == "al2023":
        return (NodeVolume("/dev/xvda", data_gib, kubelet_root=True),)
    return (
        NodeVolume("/dev/xvda", BOTTLEROCKET_OS_VOLUME_GIB, kubelet_root=False),
        NodeVolume("/dev/xvdb", data_gib, kubelet_root=True, snapshot_id=snapshot_id),
    )


def karpenter_block_devices(volumes: tuple[NodeVolume, ...]) -> list[dict]:
    """EC2NodeClass spec.blockDeviceMappings."""
    out = []
    for volume in volumes:
        ebs = {"volumeSize": f"{volume.size_gib}Gi", "volumeType": "gp3", "encrypted": True, "deleteOnTermination": True}
        if volume.snapshot_id:
            ebs["snapshotID"] = volume.snapshot_id
        out.append({"deviceName": volume.device_name, **({"rootVolume": True} if volume.kubelet_root else {}), "ebs": ebs})
    return out
