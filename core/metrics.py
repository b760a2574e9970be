"""Where the kit's metrics go: one choice that the config offers and the observability constructs build."""

from __future__ import annotations

from typing import Literal

MetricsBackend = Literal["amp", "in-cluster", "cloudwatch", "none"]
"""amp: Amazon Managed Service for Prometheus fed by an AWS managed scraper; in-cluster: kube-prometheus-stack on the
system nodes; cloudwatch: the Amazon CloudWatch Observability add-on; none: nothing."""
PROMQL_BACKENDS: tuple[MetricsBackend, ...] = ("amp", "in-cluster")
"""The backends that evaluate PromQL: only these load alert rules and run the kit's DCGM exporter."""
