"""The EKS control plane: private by default, secrets encrypted, every log type on, access entries only."""

from __future__ import annotations

import json
from dataclasses import dataclass
from ipaddress import IPv4Network
from typing import get_args

import aws_cdk as cdk
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk.lambda_layer_kubectl_v35 import KubectlV35Layer
from constructs import Construct

from core.schema import LogRetentionDays
from core.versions import SUPPORTED_KUBERNETES_VERSIONS
from infra import nag
from infra.cfn import cfn_resource, child
from infra.cluster.kubectl_logs import kubectl_provider_logs
from infra.network.refs import NetworkRefs

_LOG_TYPES = {
    "api": eks.ClusterLoggingTypes.API,
    "audit": eks.ClusterLoggingTypes.AUDIT,
    "authenticator": eks.ClusterLoggingTypes.AUTHENTICATOR,
    "controllerManager": eks.ClusterLoggingTypes.CONTROLLER_MANAGER,
    "scheduler": eks.ClusterLoggingTypes.SCHEDULER,
}
CLUSTER_ADMIN_POLICY = "AmazonEKSClusterAdminPolicy"


@dataclass(frozen=True, kw_only=True)
class ControlPlaneProps:
    """The EKS cluster itself: its name, version and subnets, who reaches its API, and where its logs go."""

    cluster_name: str
    """The EKS cluster's name; also names the secrets key's description and the control-plane log group."""
    network: NetworkRefs
    """The VPC: the control plane's interfaces go in its control-plane subnets, the kubectl provider in its node subnets."""
    kubernetes_version: str = "1.35"
    """EKS Kubernetes version, one of core.versions.SUPPORTED_KUBERNETES_VERSIONS. Default: "1.35", the newest the
    kit's kubectl layer (lambda-layer-kubectl-v35) and pinned charts are checked against."""
    public_access_cidrs: tuple[str, ...] = ()
    """CIDRs allowed to the public endpoint. Default: () keeps the endpoint private, reached from the VPC only."""
    admin_principal_arns: tuple[str, ...] = ()
    """IAM principals given cluster admin through access entries. Default: () admits only the stack's deployer (the
    cluster creator's bootstrap admin permissions)."""
    logging: tuple[str, ...] = tuple(_LOG_TYPES)
    """Control-plane log types sent to CloudWatch Logs. Default: all five, so the audit trail is complete (cdk-nag
    EKS2 asks for it)."""
    log_retention_days: int = 365
    """Retention of the control-plane log group, which the kit creates before the cluster (EKS would otherwise
    create it itself, kept forever and outside any stack), and of the kubectl provider's log groups. Default: 365,
    a year of the audit trail; one of CloudWatch's retention values (core.schema.LogRetentionDays)."""

    def __post_init__(self) -> None:
        if not self.cluster_name:
            raise ValueError("ControlPlaneProps.cluster_name: got ''; a non-empty EKS cluster name; pass the kit's name")
        if self.kubernetes_version not in SUPPORTED_KUBERNETES_VERSIONS:
            raise ValueError(
                f"ControlPlaneProps.kubernetes_version: got {self.kubernetes_version!r}; one of {list(SUPPORTED_KUBERNETES_VERSIONS)};"
                " pick a supported version"
            )
        unknown = [name for name in self.logging if name not in _LOG_TYPES]
        if unknown:
            raise ValueError(f"ControlPlaneProps.logging: got {unknown}; log types among {list(_LOG_TYPES)}; drop the others")
        if self.log_retention_days not in get_args(LogRetentionDays):
            raise ValueError(
                f"ControlPlaneProps.log_retention_days: got {self.log_retention_days}; one of CloudWatch's retention values"
                f" {list(get_args(LogRetentionDays))}; pick the nearest"
            )
        for cidr in self.public_access_cidrs:
            try:
                IPv4Network(cidr)
            except ValueError:
                raise ValueError(
                    f"ControlPlaneProps.public_access_cidrs: got {cidr!r}; IPv4 networks such as '203.0.113.0/24'; write it as a network"
                ) from None


class ControlPlane(Construct):
    """The EKS cluster (aws-eks-v2), its secrets key, its control-plane log group and its admin access entries."""

    def __init__(self, scope: Construct, construct_id: str, props: ControlPlaneProps) -> None:
        super().__init__(scope, construct_id)
        network = props.network
        self.secrets_key = kms.Key(
            self,
            "SecretsKey",
            description=f"Envelope encryption of Kubernetes secrets in {props.cluster_name}",
            enable_key_rotation=True,
        )
        public_cidrs = list(props.public_access_cidrs)
        endpoint = eks.EndpointAccess.PUBLIC_AND_PRIVATE.only_from(*public_cidrs) if public_cidrs else eks.EndpointAccess.PRIVATE
        self.cluster = eks.Cluster(
            self,
            "Cluster",
            cluster_name=props.cluster_name,
            version=eks.KubernetesVersion.of(props.kubernetes_version),
            vpc=network.vpc,
            vpc_subnets=[network.control_plane_selection()],
            default_capacity=0,
            default_capacity_type=eks.DefaultCapacityType.NODEGROUP,
            endpoint_access=endpoint,
            secrets_encryption_key=self.secrets_key,
            cluster_logging=[_LOG_TYPES[name] for name in props.logging],
            bootstrap_cluster_creator_admin_permissions=True,
            kubectl_provider_options=eks.KubectlProviderOptions(kubectl_layer=KubectlV35Layer(self, "KubectlLayer")),
        )
        self._control_plane_logs(props)
        kubectl_provider_logs(self.cluster, props.cluster_name, props.log_retention_days)
        self._kubectl_in_node_subnets(network)
        self._kubectl_without_private_ecr()
        for index, arn in enumerate(props.admin_principal_arns):
            self.cluster.grant_access(
                f"Admin{index}",
                arn,
                [eks.AccessPolicy.from_access_policy_name(CLUSTER_ADMIN_POLICY, access_scope_type=eks.AccessScopeType.CLUSTER)],
            )
        self._acknowledge(list(props.logging), public_cidrs)

    def _control_plane_logs(self, props: ControlPlaneProps) -> None:
        """EKS writes to /aws/eks/<name>/cluster. Created here first, the group has a retention and a fixed name, so
        it is deleted with the stack (after the cluster, which depends on it): retained, it would make the next
        deploy of this stack fail on a name that already exists."""
        if not props.logging:
            return
        group = logs.CfnLogGroup(
            self, "ControlPlaneLogs", log_group_name=f"/aws/eks/{props.cluster_name}/cluster", retention_in_days=props.log_retention_days
        )
        group.apply_removal_policy(cdk.RemovalPolicy.DESTROY)
        cfn_resource(self.cluster).node.add_dependency(group)

    def _kubectl_in_node_subnets(self, network: NetworkRefs) -> None:
        """aws-eks-v2 puts the kubectl provider in the cluster's own subnets whenever the endpoint is private, whatever
        KubectlProviderOptions says. Ours are isolated /28s for the control plane; the provider must reach chart
        repositories, so its functions go to the node subnets, which route through the NAT gateway."""
        provider = self.cluster.node.find_child("KubectlProvider")
        functions = [provider.node.find_child("Handler"), provider.node.find_child("Provider").node.find_child("framework-onEvent")]
        for function in functions:
            cfn_resource(function).add_property_override("VpcConfig.SubnetIds", [subnet.subnet_id for subnet in network.node_subnets])

    def _kubectl_without_private_ecr(self) -> None:
        """aws-eks-v2 gives the kubectl handler AmazonEC2ContainerRegistryReadOnly for charts kept in private ECR. The kit's
        charts come from public repositories (Karpenter's from ECR Public, which keeps its own conditional policy), so
        the handler's role loses that policy: a compromised handler could otherwise read every image in the account."""
        handler = child(self.cluster.node.find_child("KubectlProvider"), "Handler", lambda_.Function)
        role = cfn_resource(handler.role) if handler.role is not None else None
        if not isinstance(role, iam.CfnRole):
            raise TypeError(f"{handler.node.path}: aws-eks-v2's kubectl handler has no role of its own to trim")
        arns = cdk.Stack.of(self).resolve(role.managed_policy_arns)
        kept = [arn for arn in arns if "AmazonEC2ContainerRegistryReadOnly" not in str(arn)]
        role.managed_policy_arns = [arn if isinstance(arn, str) else cdk.Token.as_string(arn) for arn in kept]

    def _acknowledge(self, logging: list[str], public_cidrs: list[str]) -> None:
        nag.acknowledge_managed_policies(
            self.cluster.role,
            {
                "AmazonEKSClusterPolicy": "The EKS service role must carry AmazonEKSClusterPolicy; AWS maintains it with the permissions "
                "the control plane needs."
            },
        )
        provider = self.cluster.node.find_child("KubectlProvider")
        nag.acknowledge_managed_policies(
            provider,
            {
                "service-role/AWSLambdaBasicExecutionRole": "Created by aws-eks-v2's kubectl provider: write its own CloudWatch logs.",
                "service-role/AWSLambdaVPCAccessExecutionRole": "The kubectl provider runs in the node subnets to reach the private API "
                "endpoint; it needs to manage its ENIs.",
            },
        )
        handler = provider.node.find_child("Handler")
        stack = cdk.Stack.of(handler)
        ecr_public = next(child for child in handler.node.children if isinstance(child, cdk.CfnCondition))
        public_policy = {
            "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::aws:policy/AmazonElasticContainerRegistryPublicReadOnly"]]
        }
        conditional = {"Fn::If": [stack.get_logical_id(ecr_public), public_policy, {"Ref": "AWS::NoValue"}]}
        nag.acknowledge(
            provider,
            "IAM4",
            "Conditional ECR Public read-only policy that aws-eks-v2 adds for Helm charts hosted on public.ecr.aws (Karpenter's chart is).",
            finding="Policy::" + json.dumps(conditional, separators=(",", ":")),
        )
        nag.acknowledge(provider, "L1", "The kubectl provider's runtime is chosen by aws-eks-v2 and moves with aws-cdk-lib upgrades.")
        nag.acknowledge(
            provider,
            "IAM5",
            "The provider framework may invoke any version of its own kubectl handler function (the wildcard is a version suffix of one "
            "ARN).",
            finding=f"Resource::<{stack.get_logical_id(cfn_resource(handler))}.Arn>:*",
        )
        if public_cidrs:
            nag.acknowledge(
                self.cluster,
                "EKS1",
                f"The public endpoint is restricted to cluster.public_access_cidrs ({', '.join(public_cidrs)}); the private endpoint "
                "serves the VPC.",
            )
        if len(logging) < len(_LOG_TYPES):
            nag.acknowledge(self.cluster, "EKS2", f"Control-plane log types reduced to {logging} by cluster.logging in the config.")
