"""Config of metrics, GPU telemetry and alerts: where metrics go, and what the kit installs to produce them."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from core.metrics import MetricsBackend
from core.schema import StrictModel

TopicArn = Annotated[
    str,
    Field(
        pattern=r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$", examples=["arn:aws:sns:us-west-2:111122223333:llm-alerts"]
    ),
]


class AlertThresholds(StrictModel):
    queue_waiting_requests: Annotated[int, Field(ge=1, le=10000)] = 16
    """Alert when a vLLM server keeps more than this many requests waiting (vllm:num_requests_waiting)."""
    queue_minutes: Annotated[int, Field(ge=1, le=120)] = 5
    """... for this many minutes, or when its queue grows for this long."""
    idle_gpu_utilization_percent: Annotated[int, Field(ge=0, le=50)] = 5
    """A GPU counts as idle below this utilisation (DCGM_FI_DEV_GPU_UTIL)."""
    idle_reserved_minutes: Annotated[int, Field(ge=10, le=1440)] = 30
    """Alert when every GPU of a reserved or capacity-block node has been idle this long: capacity paid for and unused."""
    node_not_ready_minutes: Annotated[int, Field(ge=1, le=60)] = 5
    """Alert when a node reports NotReady (or Unknown) for this long."""


class InCluster(StrictModel):
    grafana: bool = True
    """Run Grafana beside Prometheus, with the kit's dashboards loaded (reach it with kubectl port-forward)."""
    storage_gib: Annotated[int, Field(ge=10, le=4096)] = 100
    """Encrypted gp3 volume for Prometheus' data."""
    retention_days: Annotated[int, Field(ge=1, le=365)] = 15
    """Days Prometheus keeps samples (bounded by storage_gib too)."""


class ObservabilitySettings(StrictModel):
    metrics: MetricsBackend = "amp"
    """Where metrics go. amp: an Amazon Managed Service for Prometheus workspace fed by an AWS managed scraper (no collector to run;
    commercial regions, where AMP has managed scrapers);
    in-cluster: kube-prometheus-stack (Prometheus, Alertmanager, Grafana) on the system nodes; cloudwatch: the Amazon CloudWatch
    Observability add-on (Container Insights); none: nothing."""
    dcgm_exporter: bool = True
    """Run NVIDIA's DCGM exporter on every GPU node (utilisation, memory, Xid errors per GPU and per pod). With metrics: cloudwatch
    the add-on runs its own DCGM exporter, so leave this unset there."""
    alerts: bool = True
    """Load the kit's alert rules (GPU Xid errors, node not ready, vLLM queue growing, reserved GPUs idle) into AMP or
    the in-cluster Prometheus."""
    thresholds: AlertThresholds = AlertThresholds()
    """Thresholds of the alert rules."""
    alert_topic_arn: TopicArn | None = None
    """amp only: send firing alerts to this SNS topic through the workspace's alert manager. The topic policy must let
    aps.amazonaws.com publish."""
    retention_days: Annotated[int, Field(ge=1, le=1095)] = 150
    """amp only: days the workspace keeps samples."""
    scrape_interval_seconds: Annotated[int, Field(ge=30, le=300)] = 30
    """How often metrics are collected; AWS managed scrapers take 30 s at the shortest."""
    amp_customer_managed_key: bool = False
    """amp only: encrypt the workspace with a kit-created KMS key (with rotation) instead of an AWS owned key. The
    choice is fixed when the workspace is created."""
    in_cluster: InCluster = InCluster()
    """in-cluster only: Prometheus storage and Grafana."""

    @model_validator(mode="after")
    def _settings_fit_the_backend(self) -> ObservabilitySettings:
        if self.metrics == "cloudwatch" and self.dcgm_exporter and "dcgm_exporter" in self.model_fields_set:
            raise ValueError(
                "metrics: cloudwatch runs the add-on's own DCGM exporter; a second one "
                "would collect every GPU twice. Remove dcgm_exporter (or set it to false)"
            )
        if self.alert_topic_arn and self.metrics != "amp":
            raise ValueError(
                f"alert_topic_arn routes alerts from the AMP workspace, but metrics is '{self.metrics}'. Remove it, or set metrics: amp"
            )
        if self.alerts and self.metrics in ("cloudwatch", "none") and "alerts" in self.model_fields_set:
            raise ValueError(
                f"the kit's alert rules are PromQL and need metrics: amp or in-cluster, not '{self.metrics}'. Set alerts: false"
            )
        return self

    @property
    def runs_dcgm_exporter(self) -> bool:
        return self.dcgm_exporter and self.metrics in ("amp", "in-cluster")

    @property
    def loads_alerts(self) -> bool:
        return self.alerts and self.metrics in ("amp", "in-cluster")
