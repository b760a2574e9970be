"""The gateway's audit log in CloudWatch Logs: one record per request (team, model, tokens, status, latency).

The proxies write the record as a JSON access-log line on stdout (infra/routing/teams.py); a Fluent Bit DaemonSet
(aws-for-fluent-bit) on the system nodes, where the proxies run, tails only the proxies' container logs and ships
them to a log group the kit creates with the config's retention. The group is retained on destroy (an audit trail
outlives the cluster) under a name unique to each creation of the stack.

Fluent Bit reads EKS Pod Identity credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI with the token file) since Fluent
Bit 4.0 (fluent/fluent-bit#10115); the pinned chart runs aws-for-fluent-bit 3.2.1, built on a later Fluent Bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct, IDependable

from core.labels import SYSTEM_POOL_LABEL
from core.routing import PROXY_NAMESPACE
from core.versions import AUDIT_LOG_SHIPPER
from infra.cluster.helm import install_chart
from infra.cluster.pod_identity import pod_identity_role
from infra.logs import per_deployment_name

NAMESPACE = "gateway-audit"
SERVICE_ACCOUNT = "gateway-audit-shipper"
# Container log files are named <pod>_<namespace>_<container>-<id>.log; Envoy Gateway names the proxy container envoy.
PROXY_LOGS = f"/var/log/containers/*_{PROXY_NAMESPACE}_envoy-*.log"


@dataclass(frozen=True)
class GatewayAuditProps:
    cluster: eks.Cluster
    cluster_name: str
    retention_days: int
    after: IDependable
    """The system nodes the shipper runs on."""


def shipper_values(log_group_name: str, region: str) -> dict:
    return {
        "input": {"path": PROXY_LOGS, "tag": "gateway.*"},
        # Parse the access-log JSON into the record (under "audit"), and drop the raw line it came from.
        "filter": {"match": "gateway.*", "mergeLogKey": "audit", "keepLog": "Off"},
        "cloudWatchLogs": {
            "enabled": True,
            "match": "gateway.*",
            "region": region,
            "logGroupName": log_group_name,
            "logStreamPrefix": "proxy-",
            # The kit owns the group and its retention; the shipper may only write streams into it.
            "autoCreateGroup": False,
        },
        "serviceAccount": {"create": True, "name": SERVICE_ACCOUNT},
        "nodeSelector": SYSTEM_POOL_LABEL,
        "containerSecurityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}, "readOnlyRootFilesystem": True},
    }


class GatewayAudit(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: GatewayAuditProps) -> None:
        super().__init__(scope, construct_id)
        self.log_group = logs.CfnLogGroup(
            self,
            "Logs",
            log_group_name=per_deployment_name(f"/llm-kit/{props.cluster_name}/gateway-audit", self),
            retention_in_days=props.retention_days,
        )
        self.log_group.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
        # The group's ARN attribute ends in ":*", which already covers its streams.
        stream_arns = self.log_group.attr_arn
        self.role = pod_identity_role(
            self,
            "ShipperRole",
            description="Gateway audit log shipper: write streams of the audit log group",
            cluster=props.cluster,
            namespace=NAMESPACE,
            service_accounts=(SERVICE_ACCOUNT,),
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                resources=[stream_arns],
            )
        )
        association = eks.CfnPodIdentityAssociation(
            self, "Association", cluster_name=props.cluster.cluster_name, namespace=NAMESPACE, service_account=SERVICE_ACCOUNT, role_arn=self.role.role_arn
        )
        # Reading the nodes' container logs takes a hostPath volume: the namespace holds the shipper alone.
        self.chart = install_chart(
            props.cluster,
            "GatewayAuditShipper",
            chart="aws-for-fluent-bit",
            pin=AUDIT_LOG_SHIPPER,
            namespace=NAMESPACE,
            release="gateway-audit",
            values=shipper_values(self.log_group.ref, cdk.Stack.of(self).region),
            pod_security="privileged",
        )
        self.chart.node.add_dependency(props.after, association, self.log_group)
