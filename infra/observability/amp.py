"""Amazon Managed Service for Prometheus: a workspace, an AWS managed scraper pointed at the cluster, and the alert rules.

The scraper reaches pods through one network interface per subnet it is given. AMP requires subnets in two zones,
so it gets the two control-plane subnets, where no pod lives: the workloads' NetworkPolicies admit it by their ranges.
The cluster uses API authentication, so AMP creates the scraper's EKS access entry (and its
read-only access policy) itself; the kit adds no aws-auth mapping or ClusterRole.
"""

from __future__ import annotations

from dataclasses import dataclass

import re

import aws_cdk as cdk
import yaml
from aws_cdk import aws_aps as aps
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.cluster.pod_identity import pod_identity_role
from infra.logs import per_deployment_name
from infra.network.refs import NetworkRefs
from infra.observability.rules import AlertRuleThresholds, rules_yaml
from infra.observability.scrape import scrape_config_blob

LOG_RETENTION = logs.RetentionDays.THREE_MONTHS
SCRAPER_COMPONENTS = ("SERVICE_DISCOVERY", "COLLECTOR", "EXPORTER")


def alert_manager_definition(topic_arn: str, region: str) -> str:
    """Every alert to one SNS topic, grouped per alert and workload so a flapping server sends one message."""
    return (
        "alertmanager_config: |\n"
        "  route:\n"
        "    receiver: sns\n"
        "    group_by: [alertname, llm_kit_workload, node]\n"
        "  receivers:\n"
        "    - name: sns\n"
        "      sns_configs:\n"
        f"        - topic_arn: {topic_arn}\n"
        "          sigv4:\n"
        f"            region: {region}\n"
    )


_TOPIC_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$")


@dataclass(frozen=True, kw_only=True)
class ManagedPrometheusProps:
    """An AMP workspace, the AWS managed scraper that feeds it from the cluster, and its rules and alert routing."""

    name: str
    """Workspace alias, scraper alias and the `cluster` label of every series."""
    cluster: eks.ICluster
    """The cluster the scraper reads (through its security group) and whose pods may be granted queries."""
    network: NetworkRefs
    """Its control-plane subnets (two zones, no pods) hold the scraper's interfaces."""
    scrape_interval_seconds: int = 30
    """How often the scraper collects. Default: 30, the shortest interval AWS managed scrapers take."""
    retention_days: int = 150
    """Days the workspace keeps samples. Default: 150, AMP's own default retention."""
    alert_topic_arn: str | None = None
    """An SNS topic every firing alert goes to, through the workspace's alert manager. Default: None, alerts stay
    in the workspace (no alert manager definition)."""
    customer_managed_key: bool = False
    """Encrypt the workspace with a kit-created KMS key (with rotation). Default: False, an AWS owned key, which
    costs nothing; the choice is fixed when the workspace is created."""
    alert_thresholds: AlertRuleThresholds | None = None
    """Load the kit's alert rules with these thresholds. Default: None, no kit alert rules."""
    extra_rule_groups: tuple[dict, ...] = ()
    """Rule groups beside the kit's alerts (the gateway's showback), loaded in a namespace of their own. Default: ()."""

    def __post_init__(self) -> None:
        if not 30 <= self.scrape_interval_seconds <= 300:
            raise ValueError(
                f"ManagedPrometheusProps.scrape_interval_seconds: got {self.scrape_interval_seconds}; 30 to 300 is allowed"
                " (AWS managed scrapers take 30 s at the shortest); pick one in that range"
            )
        if not 1 <= self.retention_days <= 1095:
            raise ValueError(
                f"ManagedPrometheusProps.retention_days: got {self.retention_days}; 1 to 1095 days is allowed (AMP's range);"
                " pick one in that range"
            )
        if self.alert_topic_arn is not None and not _TOPIC_ARN.match(self.alert_topic_arn):
            raise ValueError(
                f"ManagedPrometheusProps.alert_topic_arn: got {self.alert_topic_arn!r}; an SNS topic ARN"
                " (arn:aws:sns:<region>:<account>:<name>) or None is allowed; copy the topic's ARN"
            )


class ManagedPrometheus(Construct):
    """metrics: amp. The workspace, its retained log group, the scraper, and the rule groups namespaces."""

    def __init__(self, scope: Construct, construct_id: str, props: ManagedPrometheusProps) -> None:
        super().__init__(scope, construct_id)
        name, cluster, network = props.name, props.cluster, props.network
        region = cdk.Stack.of(self).region
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            # Vended-logs names keep the /aws/vendedlogs/ prefix that CloudWatch's delivery needs.
            log_group_name=per_deployment_name(f"/aws/vendedlogs/prometheus/{name}", self),
            retention=LOG_RETENTION,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        key = None
        if props.customer_managed_key:
            key = kms.Key(self, "WorkspaceKey", description=f"Encryption of the {name} Prometheus workspace", enable_key_rotation=True)
        self.workspace = aps.CfnWorkspace(
            self,
            "Workspace",
            alias=name,
            kms_key_arn=key.key_arn if key else None,
            logging_configuration=aps.CfnWorkspace.LoggingConfigurationProperty(log_group_arn=self.log_group.log_group_arn),
            workspace_configuration=aps.CfnWorkspace.WorkspaceConfigurationProperty(retention_period_in_days=props.retention_days),
            alert_manager_definition=alert_manager_definition(props.alert_topic_arn, region) if props.alert_topic_arn else None,
        )
        self.scraper = aps.CfnScraper(
            self,
            "Scraper",
            alias=f"{name}-scraper",
            source=aps.CfnScraper.SourceProperty(
                eks_configuration=aps.CfnScraper.EksConfigurationProperty(
                    cluster_arn=cluster.cluster_arn,
                    subnet_ids=scraper_subnet_ids(network),
                    # Nodes carry the cluster security group, which admits all traffic from its own members.
                    security_group_ids=[cluster.cluster_security_group_id],
                )
            ),
            destination=aps.CfnScraper.DestinationProperty(
                amp_configuration=aps.CfnScraper.AmpConfigurationProperty(workspace_arn=self.workspace.attr_arn)
            ),
            scrape_configuration=aps.CfnScraper.ScrapeConfigurationProperty(
                configuration_blob=scrape_config_blob(props.scrape_interval_seconds, cluster_name=name)
            ),
            scraper_logging_configuration=aps.CfnScraper.ScraperLoggingConfigurationProperty(
                logging_destination=aps.CfnScraper.ScraperLoggingDestinationProperty(
                    cloud_watch_logs=aps.CfnScraper.CloudWatchLogDestinationProperty(log_group_arn=self.log_group.log_group_arn)
                ),
                scraper_components=[aps.CfnScraper.ScraperComponentProperty(type=component) for component in SCRAPER_COMPONENTS],
            ),
        )
        self.rules = None
        if props.alert_thresholds is not None:
            self.rules = aps.CfnRuleGroupsNamespace(
                self, "Rules", name=name, workspace=self.workspace.attr_arn, data=rules_yaml(props.alert_thresholds)
            )
        if props.extra_rule_groups:
            data = yaml.safe_dump({"groups": list(props.extra_rule_groups)}, sort_keys=False, width=1000)
            aps.CfnRuleGroupsNamespace(self, "ShowbackRules", name=f"{name}-showback", workspace=self.workspace.attr_arn, data=data)
        cdk.CfnOutput(cdk.Stack.of(self), "PrometheusWorkspaceEndpoint", value=self.workspace.attr_prometheus_endpoint)

    @property
    def query_url(self) -> str:
        """The workspace as a Prometheus server address (no trailing slash, as KEDA's AMP client wants it)."""
        return f"https://aps-workspaces.{cdk.Stack.of(self).region}.amazonaws.com/workspaces/{self.workspace.attr_workspace_id}"

    def grant_query(self, cluster: eks.ICluster, namespace: str, service_account: str) -> eks.CfnPodIdentityAssociation:
        """aps:QueryMetrics on this workspace for one service account, through Pod Identity. Returns the association:
        whatever starts the account's pods must wait for it (credentials reach only pods started after it)."""
        role = pod_identity_role(
            self,
            f"Query-{namespace}-{service_account}",
            description=f"{service_account} in {namespace}: query the Prometheus workspace",
            cluster=cluster,
            namespace=namespace,
            service_accounts=(service_account,),
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["aps:QueryMetrics", "aps:GetLabels", "aps:GetSeries", "aps:GetMetricMetadata"], resources=[self.workspace.attr_arn]
            )
        )
        return eks.CfnPodIdentityAssociation(
            self,
            f"QueryAccess-{namespace}-{service_account}",
            cluster_name=cluster.cluster_name,
            namespace=namespace,
            service_account=service_account,
            role_arn=role.role_arn,
        )


def scraper_subnet_ids(network: NetworkRefs) -> list[str]:
    """The control-plane subnets (two zones, as the scraper requires): no pod lives there, so the workloads'
    NetworkPolicies can admit the scraper by these ranges without admitting any pod."""
    return [subnet.subnet_id for subnet in network.control_plane_subnets]
