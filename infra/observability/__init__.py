"""Observability of the cluster: exporters, and the metrics backend chosen in observability.metrics with its alert
rules. One construct, added to the cluster stack after the GPU data plane."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_eks_v2 as eks
from constructs import Construct, IDependable

from config.observability import ObservabilitySettings
from infra.network.refs import NetworkRefs
from infra.observability.amp import ManagedPrometheus, ManagedPrometheusProps
from infra.observability.cloudwatch import CloudWatchObservability, CloudWatchObservabilityProps
from infra.observability.exporters import Exporters, ExportersProps
from infra.observability.in_cluster import InClusterPrometheus, InClusterPrometheusProps


@dataclass(frozen=True)
class ObservabilityProps:
    name: str
    """The cluster's name: workspace alias and the `cluster` label."""
    cluster: eks.Cluster
    network: NetworkRefs
    after: IDependable
    """What the in-cluster charts wait for (system nodes and the default StorageClass)."""
    settings: ObservabilitySettings = ObservabilitySettings()
    gpu_taint_keys: tuple[str, ...] = ()
    """Taint keys GPU nodes carry beyond the GPU taint, for the DCGM exporter to tolerate."""
    extra_rule_groups: tuple[dict, ...] = ()
    """More rule groups for the metrics backend (the gateway's showback), beside the kit's alerts."""


class Observability(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: ObservabilityProps) -> None:
        super().__init__(scope, construct_id)
        settings, cluster, after = props.settings, props.cluster, props.after
        self.backend = None
        if settings.metrics == "amp":
            self.backend = ManagedPrometheus(
                self,
                "Amp",
                ManagedPrometheusProps(
                    name=props.name, cluster=cluster, network=props.network, settings=settings, extra_rule_groups=props.extra_rule_groups
                ),
            )
        elif settings.metrics == "in-cluster":
            self.backend = InClusterPrometheus(
                self,
                "InCluster",
                InClusterPrometheusProps(
                    cluster=cluster, cluster_name=props.name, after=after, settings=settings, extra_rule_groups=props.extra_rule_groups
                ),
            )
        elif settings.metrics == "cloudwatch":
            self.backend = CloudWatchObservability(self, "CloudWatch", CloudWatchObservabilityProps(cluster=cluster, after=after))
        # kube-prometheus-stack brings its own kube-state-metrics; the AWS managed scraper needs one installed.
        exporters = ExportersProps(
            cluster=cluster,
            after=self.backend.chart if settings.metrics == "in-cluster" else after,
            dcgm=settings.runs_dcgm_exporter,
            state_metrics=settings.metrics == "amp",
            service_monitors=settings.metrics == "in-cluster",
            gpu_taint_keys=props.gpu_taint_keys,
        )
        self.exporters = Exporters(self, "Exporters", exporters)
