"""Observability of the cluster: exporters, the metrics backend chosen in observability.metrics, alert rules, and the
benchmark Jobs' AWS access. One construct, added to the cluster stack after the GPU data plane."""

from __future__ import annotations

from aws_cdk import aws_eks_v2 as eks
from constructs import Construct, IDependable

from infra.config.model import KitConfig
from infra.network.refs import NetworkRefs
from infra.observability.amp import ManagedPrometheus
from infra.observability.benchmark_access import BenchmarkAccess
from infra.observability.cloudwatch import CloudWatchObservability
from infra.observability.exporters import Exporters
from infra.observability.in_cluster import InClusterPrometheus


class Observability(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: KitConfig, cluster: eks.Cluster, network: NetworkRefs, after: IDependable) -> None:
        super().__init__(scope, construct_id)
        settings = config.observability
        self.backend = None
        if settings.metrics == "amp":
            self.backend = ManagedPrometheus(self, "Amp", name=config.name, settings=settings, cluster=cluster, network=network)
        elif settings.metrics == "in-cluster":
            self.backend = InClusterPrometheus(self, "InCluster", config=config, cluster=cluster, after=after)
        elif settings.metrics == "cloudwatch":
            self.backend = CloudWatchObservability(self, "CloudWatch", cluster=cluster, after=after)
        # kube-prometheus-stack brings its own kube-state-metrics; the AWS managed scraper needs one installed.
        self.exporters = Exporters(
            self,
            "Exporters",
            config=config,
            cluster=cluster,
            after=self.backend.chart if settings.metrics == "in-cluster" else after,
            service_monitors=settings.metrics == "in-cluster",
            state_metrics=settings.metrics == "amp",
        )
        self.benchmark_access = None
        benchmarks = [w.name for w in config.workloads if w.enabled and w.blueprint == "benchmark"]
        if benchmarks:
            self.benchmark_access = BenchmarkAccess(self, "BenchmarkAccess", config=config, cluster=cluster, service_accounts=benchmarks)
