"""Log groups for the kubectl provider's two Lambda functions, with the cluster's log retention.

aws-eks-v2 gives its kubectl handler and the provider framework's onEvent function no log group of their own, so
Lambda creates /aws/lambda/<function name> on the first invocation: outside the stack, kept forever, and left behind
by a destroy. The handler writes every request it receives to that log (manifests and chart values included).
Created here and named in each function's LoggingConfig, the groups have the config's retention and go with the
stack: a function depends on its group, so CloudFormation deletes the functions (after every manifest that calls
them) before the groups, and nothing writes to a group once it is gone.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_logs as logs
from constructs import Construct, IConstruct

from infra.cfn import cfn_resource, child

# The functions inside aws-eks-v2's KubectlProvider construct (aws-cdk-lib 2.275): the kubectl handler, and the
# custom resource provider framework's entry point.
FUNCTIONS = {"handler": ("Handler",), "provider": ("Provider", "framework-onEvent")}


def kubectl_provider_logs(cluster: eks.Cluster, cluster_name: str, retention_days: int) -> dict[str, logs.CfnLogGroup]:
    provider = child(cluster, "KubectlProvider", Construct)
    groups = {}
    for kind, path in FUNCTIONS.items():
        function: IConstruct = provider
        for step in path:
            function = function.node.find_child(step)
        group = logs.CfnLogGroup(
            provider,
            f"{kind.capitalize()}Logs",
            log_group_name=f"/aws/lambda/{cluster_name}-kubectl-{kind}",
            retention_in_days=retention_days,
        )
        group.apply_removal_policy(cdk.RemovalPolicy.DESTROY)
        cfn = cfn_resource(function)
        cfn.add_property_override("LoggingConfig.LogGroup", group.ref)
        cfn.node.add_dependency(group)
        groups[kind] = group
    return groups
