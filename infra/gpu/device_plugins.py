"""Device plugins that advertise nvidia.com/gpu and vpc.amazonaws.com/efa to the scheduler.

Bottlerocket's NVIDIA variants run the NVIDIA device plugin themselves, so the chart targets only
AL2023 GPU nodes. The EFA plugin runs on EFA nodes of either family.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_eks_v2 as eks
from constructs import Construct

from core.labels import AMI_FAMILY_LABEL, EFA_LABEL
from core.versions import EFA_DEVICE_PLUGIN, NVIDIA_DEVICE_PLUGIN
from infra.cluster.helm import install_chart

GPU_TOLERATIONS = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}, {"key": "CriticalAddonsOnly", "operator": "Exists"}]


def _only_on(label: str, value: str) -> dict:
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [{"key": label, "operator": "In", "values": [value]}]}]}}}


@dataclass(frozen=True)
class DevicePluginsProps:
    cluster: eks.Cluster
    nvidia: bool = False
    """Install NVIDIA's device plugin (for AL2023 GPU nodes)."""
    efa: bool = False
    """Install the EFA device plugin (for EFA nodes)."""


class DevicePlugins(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: DevicePluginsProps) -> None:
        super().__init__(scope, construct_id)
        cluster = props.cluster
        self.charts: dict[str, eks.HelmChart] = {}
        if props.nvidia:
            values = {"tolerations": GPU_TOLERATIONS, "affinity": _only_on(AMI_FAMILY_LABEL, "al2023")}
            self.charts["nvidia"] = install_chart(cluster, "NvidiaDevicePlugin", chart="nvidia-device-plugin", pin=NVIDIA_DEVICE_PLUGIN, namespace="kube-system", values=values)
        if props.efa:
            values = {"tolerations": GPU_TOLERATIONS, "affinity": _only_on(EFA_LABEL, "true")}
            self.charts["efa"] = install_chart(cluster, "EfaDevicePlugin", chart="aws-efa-k8s-device-plugin", pin=EFA_DEVICE_PLUGIN, namespace="kube-system", values=values)
