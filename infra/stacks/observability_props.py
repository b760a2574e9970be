"""observability.* (with the gateway's and the node pools' prices for showback) mapped to the props of
infra/observability."""

from __future__ import annotations

from aws_cdk import aws_eks_v2 as eks
from constructs import IDependable

from config.model import PlatformConfig
from config.observability import AlertThresholds
from config.platform import capacities
from core.capacity import extra_taint_keys
from core.metrics import PROMQL_BACKENDS
from core.requirements import Requirements
from infra.network.refs import NetworkRefs
from infra.observability import ObservabilityProps
from infra.observability.rules import AlertRuleThresholds
from infra.observability.rules.gpu_showback import gpu_showback_groups
from infra.observability.rules.showback import LocalModel, showback_groups
from infra.stacks.routing_props import gateway_settings


def alert_rule_thresholds(thresholds: AlertThresholds) -> AlertRuleThresholds:
    return AlertRuleThresholds(
        queue_waiting_requests=thresholds.queue_waiting_requests,
        queue_minutes=thresholds.queue_minutes,
        idle_gpu_utilization_percent=thresholds.idle_gpu_utilization_percent,
        idle_reserved_minutes=thresholds.idle_reserved_minutes,
        node_not_ready_minutes=thresholds.node_not_ready_minutes,
    )


def pool_prices(config: PlatformConfig) -> dict[str, float | None]:
    """Each node pool's GPU-hour price by name (None where the config sets none), for the GPU showback rules."""
    return {pool.name: pool.gpu_hour_usd for pool in config.node_pools}


def extra_rule_groups(config: PlatformConfig, requirements: Requirements, routed_models: tuple[LocalModel, ...]) -> tuple[dict, ...]:
    """The gateway's showback (when the gateway is installed) and the GPU showback (when teams have queues); none where
    the backend evaluates no PromQL."""
    if config.observability.metrics not in PROMQL_BACKENDS:
        return ()
    token_showback = showback_groups(gateway_settings(config.gateway), list(routed_models)) if requirements.gateway else []
    gpu_showback = gpu_showback_groups(pool_prices(config)) if config.scheduling.teams else []
    return tuple(token_showback + gpu_showback)


def observability_props(
    config: PlatformConfig,
    requirements: Requirements,
    routed_models: tuple[LocalModel, ...],
    cluster: eks.Cluster,
    network: NetworkRefs,
    after: IDependable,
) -> ObservabilityProps:
    """routed_models: the enabled workloads served through the gateway, for the showback rules."""
    settings = config.observability
    return ObservabilityProps(
        name=config.name,
        cluster=cluster,
        network=network,
        after=after,
        metrics=settings.metrics,
        scrape_interval_seconds=settings.scrape_interval_seconds,
        dcgm_exporter=settings.runs_dcgm_exporter,
        alert_thresholds=alert_rule_thresholds(settings.thresholds) if settings.loads_alerts else None,
        workspace_retention_days=settings.retention_days,
        alert_topic_arn=settings.alert_topic_arn,
        customer_managed_key=settings.amp_customer_managed_key,
        server_retention_days=settings.in_cluster.retention_days,
        server_storage_gib=settings.in_cluster.storage_gib,
        grafana=settings.in_cluster.grafana,
        gpu_taint_keys=tuple(extra_taint_keys(capacities(config))),
        extra_rule_groups=extra_rule_groups(config, requirements, routed_models),
    )
