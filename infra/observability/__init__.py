"""Observability of the cluster: exporters, and the metrics backend chosen in observability.metrics with its alert
rules. One construct, added to the cluster stack after the GPU data plane."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_eks_v2 as eks
from constructs import Construct, IDependable

from core.metrics import PROMQL_BACKENDS, MetricsBackend
from infra.network.refs import NetworkRefs
from infra.observability.amp import ManagedPrometheus, ManagedPrometheusProps
from infra.observability.cloudwatch import CloudWatchObservability, CloudWatchObservabilityProps
from infra.observability.exporters import Exporters, ExportersProps
from infra.observability.in_cluster import InClusterPrometheus, InClusterPrometheusProps
from infra.observability.rules import AlertRuleThresholds
from infra.interfaces import cluster_interface


@dataclass(frozen=True, kw_only=True)
class ObservabilityProps:
    """The metrics backend and what feeds it: exporters, scraping, the kit's alert rules and any extra rule groups."""

    name: str
    """The cluster's name: workspace alias and the `cluster` label."""
    cluster: eks.Cluster
    """The cluster observed; the exporters' and Prometheus' charts are installed in it."""
    network: NetworkRefs
    """The network of the cluster (AMP's scraper takes its control-plane subnets)."""
    after: IDependable
    """What the in-cluster charts wait for (system nodes and the default StorageClass)."""
    metrics: MetricsBackend = "amp"
    """Where metrics go. Default: "amp", no collector to run or volume to size."""
    scrape_interval_seconds: int = 30
    """How often metrics are collected. Default: 30, the shortest an AWS managed scraper takes."""
    dcgm_exporter: bool = True
    """Run NVIDIA's DCGM exporter on every GPU node; only with a PromQL backend (amp, in-cluster): the CloudWatch
    add-on runs its own. Default: True, GPU utilisation is what the alerts and showback read."""
    alert_thresholds: AlertRuleThresholds | None = None
    """Load the kit's alert rules with these thresholds; only with a PromQL backend. Default: None, no kit alerts."""
    workspace_retention_days: int = 150
    """amp: days the workspace keeps samples. Default: 150, AMP's own default."""
    alert_topic_arn: str | None = None
    """amp: the SNS topic firing alerts go to. Default: None, no alert manager definition."""
    customer_managed_key: bool = False
    """amp: encrypt the workspace with a kit-created KMS key. Default: False, an AWS owned key."""
    server_retention_days: int = 15
    """in-cluster: days Prometheus keeps samples. Default: 15, as observability.in_cluster has it."""
    server_storage_gib: int = 100
    """in-cluster: size of Prometheus' gp3 volume. Default: 100, as observability.in_cluster has it."""
    grafana: bool = True
    """in-cluster: run Grafana with the kit's dashboards. Default: True, the dashboards are how the metrics are read."""
    gpu_taint_keys: tuple[str, ...] = ()
    """Taint keys GPU nodes carry beyond the GPU taint, for the DCGM exporter to tolerate. Default: (), none."""
    extra_rule_groups: tuple[dict, ...] = ()
    """More rule groups for the metrics backend (the gateway's showback), beside the kit's alerts. Default: ()."""

    def __post_init__(self) -> None:
        promql = self.metrics in PROMQL_BACKENDS
        if self.dcgm_exporter and not promql:
            raise ValueError(
                f"ObservabilityProps.dcgm_exporter: got True with metrics {self.metrics!r}; True is allowed only with"
                f" {' or '.join(PROMQL_BACKENDS)} (the CloudWatch add-on runs its own DCGM exporter); set dcgm_exporter=False"
            )
        if not promql and (self.alert_thresholds is not None or self.extra_rule_groups):
            raise ValueError(
                f"ObservabilityProps.alert_thresholds/extra_rule_groups: got rules with metrics {self.metrics!r}; PromQL rules are"
                f" allowed only with {' or '.join(PROMQL_BACKENDS)}; leave them out or pick one of those backends"
            )
        if self.alert_topic_arn is not None and self.metrics != "amp":
            raise ValueError(
                f"ObservabilityProps.alert_topic_arn: got {self.alert_topic_arn!r} with metrics {self.metrics!r}; a topic is allowed"
                " only with amp (its alert manager sends to SNS); leave it out or set metrics='amp'"
            )


class Observability(Construct):
    """The backend chosen in props.metrics, and the exporters it scrapes."""

    def __init__(self, scope: Construct, construct_id: str, props: ObservabilityProps) -> None:
        super().__init__(scope, construct_id)
        cluster, after = props.cluster, props.after
        self.backend: ManagedPrometheus | InClusterPrometheus | CloudWatchObservability | None = None
        exporters_after = after
        if props.metrics == "amp":
            self.backend = ManagedPrometheus(
                self,
                "Amp",
                ManagedPrometheusProps(
                    name=props.name,
                    cluster=cluster_interface(cluster),
                    network=props.network,
                    scrape_interval_seconds=props.scrape_interval_seconds,
                    retention_days=props.workspace_retention_days,
                    alert_topic_arn=props.alert_topic_arn,
                    customer_managed_key=props.customer_managed_key,
                    alert_thresholds=props.alert_thresholds,
                    extra_rule_groups=props.extra_rule_groups,
                ),
            )
        elif props.metrics == "in-cluster":
            self.backend = InClusterPrometheus(
                self,
                "InCluster",
                InClusterPrometheusProps(
                    cluster=cluster,
                    cluster_name=props.name,
                    after=after,
                    scrape_interval_seconds=props.scrape_interval_seconds,
                    retention_days=props.server_retention_days,
                    storage_gib=props.server_storage_gib,
                    grafana=props.grafana,
                    alert_thresholds=props.alert_thresholds,
                    extra_rule_groups=props.extra_rule_groups,
                ),
            )
            # kube-prometheus-stack brings the ServiceMonitor CRD the exporters' charts then use.
            exporters_after = self.backend.chart
        elif props.metrics == "cloudwatch":
            self.backend = CloudWatchObservability(
                self,
                "CloudWatch",
                CloudWatchObservabilityProps(cluster=cluster_interface(cluster), after=after),
            )
        # kube-prometheus-stack brings its own kube-state-metrics; the AWS managed scraper needs one installed.
        exporters = ExportersProps(
            cluster=cluster,
            after=exporters_after,
            dcgm=props.dcgm_exporter,
            state_metrics=props.metrics == "amp",
            service_monitors=props.metrics == "in-cluster",
            gpu_taint_keys=props.gpu_taint_keys,
        )
        self.exporters = Exporters(self, "Exporters", exporters)
