"""EKS managed add-ons, with Pod Identity for those that call AWS APIs.

The ones nodes need to become Ready (CNI, kube-proxy, Pod Identity agent) are created
before any node group; the ones that run as pods wait for the system nodes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra import nag
from infra.cfn import cfn_resource
from infra.interfaces import cluster_interface
from infra.cluster.pod_identity import pod_identity_role

NODE_BOOTSTRAP_ADDONS = ("vpc-cni", "kube-proxy", "eks-pod-identity-agent")
POD_ADDONS = ("coredns", "aws-ebs-csi-driver", "eks-node-monitoring-agent")

# add-on -> (service account namespace/name, AWS managed policy, why that policy)
_POD_IDENTITY = {
    "vpc-cni": (
        "kube-system/aws-node",
        "AmazonEKS_CNI_Policy",
        "The VPC CNI assigns pod IPs and EFA-capable ENIs; AWS maintains the exact EC2 actions it needs.",
    ),
    "aws-ebs-csi-driver": (
        "kube-system/ebs-csi-controller-sa",
        "service-role/AmazonEBSCSIDriverPolicy",
        "The EBS CSI controller creates, attaches and snapshots volumes; its tag-conditioned policy is maintained by AWS.",
    ),
}


@dataclass(frozen=True, kw_only=True)
class ManagedAddonsProps:
    """The EKS managed add-ons every node needs, their versions, and whether the VPC CNI enforces NetworkPolicies."""

    cluster: eks.Cluster
    """The cluster the add-ons are installed on."""
    addon_versions: Mapping[str, str] = field(default_factory=dict)
    """Pinned add-on versions by add-on name (names the construct does not install are ignored: the same mapping pins
    the storage add-ons). Default: {} gives every add-on EKS's default for the Kubernetes version."""
    network_policies: bool = True
    """The VPC CNI's node agent enforces Kubernetes NetworkPolicies (without it they are stored and ignored).
    Default: True, so the kit's default-deny policies hold."""

    def __post_init__(self) -> None:
        blank = sorted(name for name, version in self.addon_versions.items() if not version)
        if blank:
            raise ValueError(
                f"ManagedAddonsProps.addon_versions: got an empty version for {blank}; a version such as"
                " 'v1.20.4-eksbuild.1'; leave an add-on out for EKS's default"
            )


class ManagedAddons(Construct):
    """The add-ons (NODE_BOOTSTRAP_ADDONS, POD_ADDONS), with a Pod Identity role for each that calls AWS APIs."""

    def __init__(self, scope: Construct, construct_id: str, props: ManagedAddonsProps) -> None:
        super().__init__(scope, construct_id)
        cluster = props.cluster
        versions = props.addon_versions
        self.addons: dict[str, eks.Addon] = {}
        for name in (*NODE_BOOTSTRAP_ADDONS, *POD_ADDONS):
            addon = eks.Addon(
                self,
                name,
                cluster=cluster_interface(cluster),
                addon_name=name,
                addon_version=versions.get(name),
                configuration_values=self._configuration(name, props),
                preserve_on_delete=False,
            )
            if name in _POD_IDENTITY:
                self._attach_role(name, addon, cluster_interface(cluster))
            self.addons[name] = addon

    @staticmethod
    def _configuration(name: str, props: ManagedAddonsProps) -> dict | None:
        if name == "vpc-cni" and props.network_policies:
            # The add-on's schema takes the switch as a string.
            return {"enableNetworkPolicy": "true"}
        return None

    def _attach_role(self, name: str, addon: eks.Addon, cluster: eks.ICluster) -> None:
        service_account, policy, reason = _POD_IDENTITY[name]
        namespace, account = service_account.split("/")
        role = pod_identity_role(
            self,
            f"{name}-role",
            description=f"Pod Identity role of the {name} add-on",
            cluster=cluster,
            namespace=namespace,
            service_accounts=(account,),
        )
        role.add_managed_policy(iam.ManagedPolicy.from_aws_managed_policy_name(policy))
        nag.acknowledge_managed_policies(role, {policy: reason})
        cfn = cfn_resource(addon)
        cfn.add_property_override("PodIdentityAssociations", [{"RoleArn": role.role_arn, "ServiceAccount": account}])
        cfn.add_property_override("ResolveConflicts", "OVERWRITE")

    def order_around(self, nodegroup) -> None:
        """Bootstrap add-ons before the node group, pod add-ons after it."""
        for name in NODE_BOOTSTRAP_ADDONS:
            nodegroup.node.add_dependency(self.addons[name])
        for name in POD_ADDONS:
            self.addons[name].node.add_dependency(nodegroup)
