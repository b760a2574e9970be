"""Config of the EKS control plane and the system node group."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from core.schema import InstanceType, Ipv4Cidr, KubernetesName, LogRetentionDays, StrictModel
from core.versions import KubernetesVersion

LogType = Literal["api", "audit", "authenticator", "controllerManager", "scheduler"]
ManagedAddon = Literal[
    "vpc-cni",
    "coredns",
    "kube-proxy",
    "eks-pod-identity-agent",
    "aws-ebs-csi-driver",
    "eks-node-monitoring-agent",
    "aws-fsx-csi-driver",
    "aws-mountpoint-s3-csi-driver",
]
PrincipalArn = Annotated[
    str,
    Field(
        pattern=r"^arn:aws[a-z-]*:iam::\d{12}:(role|user)/[\w+=,.@/-]+$",
        description="An IAM role or user ARN.",
        examples=["arn:aws:iam::111122223333:role/PlatformAdmin"],
    ),
]


class SystemNodesSettings(StrictModel):
    instance_types: Annotated[list[InstanceType], Field(min_length=1)] = ["m7i.xlarge"]
    """CPU instance types for the managed node group that runs the controllers (Karpenter, CoreDNS, operators)."""
    min_size: Annotated[int, Field(ge=1, le=20)] = 2
    """Fewest system nodes; two keep controllers up through a node replacement."""
    desired_size: Annotated[int, Field(ge=1, le=20)] = 2
    """System nodes at creation."""
    max_size: Annotated[int, Field(ge=1, le=20)] = 4
    """Most system nodes."""
    disk_size_gib: Annotated[int, Field(ge=20, le=1000)] = 100
    """Encrypted gp3 root volume size of each system node."""


class NetworkPolicies(StrictModel):
    enabled: bool = True
    """The VPC CNI enforces Kubernetes NetworkPolicies, and the kit isolates the workloads namespace: default deny,
    then only the traffic each workload needs. false leaves every pod reachable from every other."""
    serving_from_namespaces: list[KubernetesName] = []
    """Namespaces whose pods may call the model servers directly (an ingress controller's, say), besides the kit's
    gateway proxies, each workload's endpoint picker and the workloads that call it (a benchmark). No other pod, of the
    workloads namespace or any other, reaches a serving port; a team's namespace may not be named here."""


class ClusterSettings(StrictModel):
    kubernetes_version: KubernetesVersion = "1.35"
    """EKS Kubernetes version."""
    public_access_cidrs: list[Ipv4Cidr] = []
    """CIDRs allowed to reach the public API endpoint, each /16 or narrower and at most sixteen /16s in all. Empty (the
    default) keeps the endpoint private to the VPC."""
    admin_principal_arns: list[PrincipalArn] = []
    """IAM roles or users granted cluster admin through EKS access entries."""
    logging: list[LogType] = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
    """Control-plane log types sent to CloudWatch Logs."""
    network_policies: NetworkPolicies = NetworkPolicies()
    """Network isolation of the workloads (docs/security.md)."""
    log_retention_days: LogRetentionDays = 365
    """How long CloudWatch keeps the control-plane logs (the audit trail of every API call). The log group belongs to
    the cluster stack and goes with it: export the logs elsewhere if they must outlive the cluster."""
    system_nodes: SystemNodesSettings = SystemNodesSettings()
    """The managed node group for controllers, in placement.az_id."""
    addon_versions: dict[ManagedAddon, Annotated[str, Field(pattern=r"^v\d+\.\d+\.\d+-eksbuild\.\d+$")]] = {}
    """Pin EKS add-on versions (e.g. vpc-cni: v1.20.4-eksbuild.1). Unpinned add-ons get the EKS default for the Kubernetes version."""
