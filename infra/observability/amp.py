"""Amazon Managed Service for Prometheus: a workspace, an AWS managed scraper pointed at the cluster, and the alert rules.

The scraper reaches pods through one network interface per subnet it is given. AMP requires subnets in two zones,
so it gets the two control-plane subnets, where no pod lives: the workloads' NetworkPolicies admit it by their ranges.
The cluster uses API authentication, so AMP creates the scraper's EKS access entry (and its
read-only access policy) itself; the kit adds no aws-auth mapping or ClusterRole.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
import yaml
from aws_cdk import aws_aps as aps
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from config.observability import ObservabilitySettings
from infra.cluster.pod_identity import pod_identity_role
from infra.logs import per_deployment_name
from infra.network.refs import NetworkRefs
from infra.observability.rules import rules_yaml
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


@dataclass(frozen=True)
class ManagedPrometheusProps:
    name: str
    """Workspace alias, scraper alias and the `cluster` label of every series."""
    cluster: eks.ICluster
    network: NetworkRefs
    settings: ObservabilitySettings = ObservabilitySettings()
    """Retention, scrape interval, alert rules and their SNS topic, the workspace key (config.observability.ObservabilitySettings)."""
    extra_rule_groups: tuple[dict, ...] = ()
    """Rule groups beside the kit's alerts (the gateway's showback), loaded in a namespace of their own."""


class ManagedPrometheus(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: ManagedPrometheusProps) -> None:
        super().__init__(scope, construct_id)
        name, settings, cluster, network = props.name, props.settings, props.cluster, props.network
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
        if settings.amp_customer_managed_key:
            key = kms.Key(self, "WorkspaceKey", description=f"Encryption of the {name} Prometheus workspace", enable_key_rotation=True)
        self.workspace = aps.CfnWorkspace(
            self,
            "Workspace",
            alias=name,
            kms_key_arn=key.key_arn if key else None,
            logging_configuration=aps.CfnWorkspace.LoggingConfigurationProperty(log_group_arn=self.log_group.log_group_arn),
            workspace_configuration=aps.CfnWorkspace.WorkspaceConfigurationProperty(retention_period_in_days=settings.retention_days),
            alert_manager_definition=alert_manager_definition(settings.alert_topic_arn, region) if settings.alert_topic_arn else None,
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
                configuration_blob=scrape_config_blob(settings.scrape_interval_seconds, cluster_name=name)
            ),
            scraper_logging_configuration=aps.CfnScraper.ScraperLoggingConfigurationProperty(
                logging_destination=aps.CfnScraper.ScraperLoggingDestinationProperty(
                    cloud_watch_logs=aps.CfnScraper.CloudWatchLogDestinationProperty(log_group_arn=self.log_group.log_group_arn)
                ),
                scraper_components=[aps.CfnScraper.ScraperComponentProperty(type=component) for component in SCRAPER_COMPONENTS],
            ),
        )
        self.rules = None
        if settings.loads_alerts:
            self.rules = aps.CfnRuleGroupsNamespace(
                self, "Rules", name=name, workspace=self.workspace.attr_arn, data=rules_yaml(settings.thresholds)
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
