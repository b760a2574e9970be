"""Device plugins that advertise nvidia.com/gpu and vpc.amazonaws.com/efa to the scheduler.

Bottlerocket's NVIDIA variants run the NVIDIA device plugin themselves, so the chart targets only
AL2023 GPU nodes. The EFA plugin runs on EFA nodes of either family. Both tolerate every taint a GPU
capacity carries: a plugin that cannot run on a node leaves its GPUs or EFA devices unadvertised.

Chart values, read at the pinned versions: nvidia-device-plugin 0.20.0 takes `affinity` (its default needs
Node Feature Discovery labels, which EKS nodes lack) and `tolerations`; aws-efa-k8s-device-plugin v0.5.30
has no `affinity` value (its affinity is built from `supportedInstanceLabels`), so it is targeted with
`nodeSelector`, and its `tolerations` are added to a fixed CriticalAddonsOnly one.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_eks_v2 as eks
from constructs import Construct

from core.labels import AMI_FAMILY_LABEL, EFA_LABEL, GPU_TAINT
from core.versions import EFA_DEVICE_PLUGIN, NVIDIA_DEVICE_PLUGIN
from infra.cluster.helm import install_chart

CRITICAL_ADDONS_ONLY = {"key": "CriticalAddonsOnly", "operator": "Exists"}


def gpu_node_tolerations(extra_taint_keys: tuple[str, ...]) -> list[dict]:
    """The GPU taint every GPU node carries, then any taint a capacity adds."""
    gpu = {"key": GPU_TAINT["key"], "operator": "Exists", "effect": GPU_TAINT["effect"]}
    return [gpu, *({"key": key, "operator": "Exists"} for key in extra_taint_keys)]


def _only_on(label: str, value: str) -> dict:
    return {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [{"key": label, "operator": "In", "values": [value]}]}]
            }
        }
    }


@dataclass(frozen=True, kw_only=True)
class DevicePluginsProps:
    """Which device plugins the GPU nodes need, and the taints they must tolerate."""

    cluster: eks.Cluster
    """The cluster: eks.Cluster, not ICluster, because the charts go through infra/cluster/helm.py, which needs it."""
    nvidia: bool = False
    """Install NVIDIA's device plugin (for AL2023 GPU nodes). Default: off, as Bottlerocket runs its own."""
    efa: bool = False
    """Install the EFA device plugin (for EFA nodes). Default: off, as nodes without EFA need none."""
    gpu_taint_keys: tuple[str, ...] = ()
    """Taint keys GPU nodes carry beyond the GPU taint; the plugins tolerate them. Default: none beyond the GPU taint."""

    def __post_init__(self) -> None:
        keys = self.gpu_taint_keys
        if GPU_TAINT["key"] in keys or len(set(keys)) != len(keys) or not all(keys):
            raise ValueError(
                f"DevicePluginsProps.gpu_taint_keys: got {list(keys)}; distinct, non-empty keys other than {GPU_TAINT['key']}"
                " (always tolerated); pass core.capacity.extra_taint_keys of the capacities"
            )


class DevicePlugins(Construct):
    """The Helm charts of NVIDIA's and the EFA device plugin, each only on the nodes that need it."""

    def __init__(self, scope: Construct, construct_id: str, props: DevicePluginsProps) -> None:
        super().__init__(scope, construct_id)
        cluster = props.cluster
        self.charts: dict[str, eks.HelmChart] = {}
        if props.nvidia:
            values = {
                "tolerations": [*gpu_node_tolerations(props.gpu_taint_keys), CRITICAL_ADDONS_ONLY],
                "affinity": _only_on(AMI_FAMILY_LABEL, "al2023"),
            }
            self.charts["nvidia"] = install_chart(
                cluster,
                "NvidiaDevicePlugin",
                chart="nvidia-device-plugin",
                pin=NVIDIA_DEVICE_PLUGIN,
                namespace="kube-system",
                values=values,
            )
        if props.efa:
            values = {"tolerations": gpu_node_tolerations(props.gpu_taint_keys), "nodeSelector": {EFA_LABEL: "true"}}
            self.charts["efa"] = install_chart(
                cluster, "EfaDevicePlugin", chart="aws-efa-k8s-device-plugin", pin=EFA_DEVICE_PLUGIN, namespace="kube-system", values=values
            )
