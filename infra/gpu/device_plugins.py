"""Device plugins that advertise nvidia.com/gpu and vpc.amazonaws.com/efa to the scheduler.

Bottlerocket's NVIDIA variants run the NVIDIA device plugin themselves, so the chart targets only
AL2023 GPU nodes. The EFA plugin runs on EFA nodes of either family.
"""

from __future__ import annotations

from aws_cdk import aws_eks_v2 as eks
from constructs import Construct

from infra.cluster.helm import install_chart
from infra.gpu.node_pool_manifests import AMI_FAMILY_LABEL, EFA_LABEL
from infra.versions import EFA_DEVICE_PLUGIN, NVIDIA_DEVICE_PLUGIN

GPU_TOLERATIONS = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}, {"key": "CriticalAddonsOnly", "operator": "Exists"}]


def _only_on(label: str, value: str) -> dict:
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [{"key": label, "operator": "In", "values": [value]}]}]}}}


class DevicePlugins(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, cluster: eks.Cluster, nvidia: bool, efa: bool) -> None:
        super().__init__(scope, construct_id)
        self.charts: dict[str, eks.HelmChart] = {}
        if nvidia:
            values = {"tolerations": GPU_TOLERATIONS, "affinity": _only_on(AMI_FAMILY_LABEL, "al2023")}
            self.charts["nvidia"] = install_chart(cluster, "NvidiaDevicePlugin", chart="nvidia-device-plugin", pin=NVIDIA_DEVICE_PLUGIN, namespace="kube-system", values=values)
        if efa:
            values = {"tolerations": GPU_TOLERATIONS, "affinity": _only_on(EFA_LABEL, "true")}
            self.charts["efa"] = install_chart(cluster, "EfaDevicePlugin", chart="aws-efa-k8s-device-plugin", pin=EFA_DEVICE_PLUGIN, namespace="kube-system", values=values)
