"""The props and records of infra/{network,storage,observability,routing,scheduling} refuse what their types cannot
say: each refusal names the field, the value given, what is allowed and the fix."""

from __future__ import annotations

import math
from collections.abc import Callable
from ipaddress import IPv4Network
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_s3 as s3
from aws_cdk.lambda_layer_kubectl_v35 import KubectlV35Layer

from core.capacity import GpuCapacity
from infra.network.endpoints import VpcEndpointsProps
from infra.network.refs import ExistingVpcProps, NetworkRefs, import_existing
from infra.network.vpc import SingleZoneVpcProps
from infra.observability import ObservabilityProps
from infra.observability.amp import ManagedPrometheusProps
from infra.observability.in_cluster import InClusterPrometheusProps
from infra.observability.rules import AlertRuleThresholds
from infra.routing.audit import GatewayAuditProps
from infra.routing.bedrock import BedrockAccessProps
from infra.routing.settings import BedrockRoute, GatewaySettings, TeamBudget
from infra.scheduling.kueue import KueueProps, TeamQueue
from infra.storage.bucket import ModelBucketProps
from infra.storage.fsx import LustreFileSystemProps
from infra.storage.in_cluster import StorageInClusterProps
from infra.storage.refs import StorageRefs
from tests.helpers import unvalidated_app

THRESHOLDS: dict[str, Any] = {
    "queue_waiting_requests": 16,
    "queue_minutes": 5,
    "idle_gpu_utilization_percent": 5,
    "idle_reserved_minutes": 30,
    "node_not_ready_minutes": 5,
}
EXISTING: dict[str, Any] = {
    "vpc_id": "vpc-0123456789abcdef0",
    "cidr": "10.0.0.0/16",
    "node_subnet_ids": ("subnet-0123456789abcdef0",),
    "control_plane_subnet_ids": ("subnet-0123456789abcdef1", "subnet-0123456789abcdef2"),
    "az_id": "usw2-az2",
    "control_plane_az_id": "usw2-az1",
}
H100 = GpuCapacity(
    name="h100",
    provisioner="karpenter",
    instance_types=("p5.48xlarge",),
    capacity_types=("on-demand",),
    ami_family="bottlerocket",
    efa=True,
    zone_id="usw2-az2",
    max_gpus=16,
)
TOPIC = "arn:aws:sns:us-west-2:111122223333:llm-alerts"


class _Scope:
    """One bare stack with a cluster, a network and a bucket: what the props below refer to."""

    def __init__(self) -> None:
        self.stack = cdk.Stack(unvalidated_app(), "Bare", env=cdk.Environment(account="111122223333", region="us-west-2"))
        self.cluster = eks.Cluster(
            self.stack,
            "Cluster",
            version=eks.KubernetesVersion.V1_35,
            kubectl_provider_options=eks.KubectlProviderOptions(kubectl_layer=KubectlV35Layer(self.stack, "Layer")),
        )
        self.network: NetworkRefs = import_existing(self.stack, ExistingVpcProps(**EXISTING))
        self.bucket = s3.Bucket.from_bucket_name(self.stack, "Bucket", "acme-models")


@pytest.fixture(scope="module")
def scope() -> _Scope:
    return _Scope()


def _refused(make: Callable[[], Any], *fragments: str) -> None:
    with pytest.raises(ValueError) as error:
        make()
    message = str(error.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in: {message}"
    # Every refusal says what is allowed.
    assert "allowed" in message, message


# --- routing records ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "fragments"),
    [
        (lambda: TeamBudget(name="Search"), ("TeamBudget.name", "'Search'", "RFC 1123")),
        (lambda: TeamBudget(name="search", tokens_per_minute=0), ("TeamBudget.tokens_per_minute", "got 0")),
        (lambda: TeamBudget(name="search", tokens_per_day=-5), ("TeamBudget.tokens_per_day", "got -5")),
        (
            lambda: BedrockRoute(name="Haiku", model_id="anthropic.claude", input_usd_per_million=1, output_usd_per_million=1),
            ("BedrockRoute.name",),
        ),
        (
            lambda: BedrockRoute(name="haiku", model_id="claude", input_usd_per_million=1, output_usd_per_million=1),
            ("BedrockRoute.model_id", "'claude'", "provider.model"),
        ),
        (
            lambda: BedrockRoute(name="haiku", model_id="anthropic.claude", input_usd_per_million=math.nan, output_usd_per_million=1),
            ("BedrockRoute.input_usd_per_million", "nan"),
        ),
        (
            lambda: BedrockRoute(name="haiku", model_id="anthropic.claude", input_usd_per_million=1, output_usd_per_million=-1),
            ("BedrockRoute.output_usd_per_million", "-1"),
        ),
        (lambda: GatewaySettings(source_cidrs=("10.0.0.1/16",)), ("GatewaySettings.source_cidrs", "'10.0.0.1/16'")),
        (
            lambda: GatewaySettings(certificate_arn="arn:aws:acm:us-west-2:1:cert"),
            ("GatewaySettings.certificate_arn", "ACM certificate ARN"),
        ),
        (lambda: GatewaySettings(teams=(TeamBudget(name="a"), TeamBudget(name="a"))), ("GatewaySettings.teams", "got a more than once")),
        (
            lambda: GatewaySettings(
                bedrock=(
                    BedrockRoute(name="m", model_id="anthropic.claude", input_usd_per_million=1, output_usd_per_million=1),
                    BedrockRoute(name="m", model_id="amazon.nova", input_usd_per_million=1, output_usd_per_million=1),
                )
            ),
            ("GatewaySettings.bedrock", "got m more than once"),
        ),
        (lambda: GatewaySettings(gpu_hour_usd=0.0), ("GatewaySettings.gpu_hour_usd", "got 0.0")),
        (lambda: GatewaySettings(gpu_hour_usd=math.inf), ("GatewaySettings.gpu_hour_usd", "got inf")),
    ],
    ids=lambda value: "" if callable(value) else value[0],
)
def test_routing_records_refuse(make, fragments):
    _refused(make, *fragments)


def test_a_tls_gateway_listens_on_443_and_a_plain_one_on_80():
    cert = "arn:aws:acm:us-west-2:111122223333:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
    assert (GatewaySettings(certificate_arn=cert).listener_port, GatewaySettings().listener_port) == (443, 80)


def test_bedrock_access_refuses_no_model_and_a_model_twice(scope):
    _refused(lambda: BedrockAccessProps(cluster=scope.cluster, model_ids=()), "BedrockAccessProps.model_ids", "got ()")
    _refused(
        lambda: BedrockAccessProps(cluster=scope.cluster, model_ids=("amazon.nova-lite-v1:0", "amazon.nova-lite-v1:0")),
        "BedrockAccessProps.model_ids",
        "amazon.nova-lite-v1:0 more than once",
    )


def test_gateway_audit_refuses_a_retention_cloudwatch_does_not_take(scope):
    _refused(
        lambda: GatewayAuditProps(cluster=scope.cluster, cluster_name="kit", retention_days=100, after=scope.cluster),
        "GatewayAuditProps.retention_days",
        "got 100",
    )


# --- observability ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("queue_waiting_requests", 0),
        ("queue_minutes", 121),
        ("idle_gpu_utilization_percent", 51),
        ("idle_reserved_minutes", 9),
        ("node_not_ready_minutes", True),
    ],
)
def test_alert_thresholds_out_of_range_are_refused(field, value):
    _refused(lambda: AlertRuleThresholds(**{**THRESHOLDS, field: value}), f"AlertRuleThresholds.{field}", f"got {value!r}")


def test_managed_prometheus_refuses_what_amp_does_not_take(scope):
    base: dict[str, Any] = {"name": "kit", "cluster": scope.cluster, "network": scope.network}
    _refused(lambda: ManagedPrometheusProps(**base, scrape_interval_seconds=15), "scrape_interval_seconds", "got 15", "30 to 300")
    _refused(lambda: ManagedPrometheusProps(**base, retention_days=1096), "retention_days", "got 1096", "1 to 1095")
    _refused(lambda: ManagedPrometheusProps(**base, alert_topic_arn="llm-alerts"), "alert_topic_arn", "'llm-alerts'", "SNS topic ARN")


def test_in_cluster_prometheus_refuses_what_the_chart_cannot_run(scope):
    base: dict[str, Any] = {"cluster": scope.cluster, "cluster_name": "kit", "after": scope.cluster}
    _refused(lambda: InClusterPrometheusProps(**base, scrape_interval_seconds=0), "scrape_interval_seconds", "got 0")
    _refused(lambda: InClusterPrometheusProps(**base, retention_days=366), "retention_days", "got 366", "1 to 365")
    _refused(lambda: InClusterPrometheusProps(**base, storage_gib=5), "storage_gib", "got 5", "10 to 4096")


def test_observability_refuses_settings_its_backend_does_not_use(scope):
    base: dict[str, Any] = {"name": "kit", "cluster": scope.cluster, "network": scope.network, "after": scope.cluster}
    _refused(lambda: ObservabilityProps(**base, metrics="cloudwatch"), "ObservabilityProps.dcgm_exporter", "'cloudwatch'")
    thresholds = AlertRuleThresholds(**THRESHOLDS)
    _refused(
        lambda: ObservabilityProps(**base, metrics="none", dcgm_exporter=False, alert_thresholds=thresholds),
        "ObservabilityProps.alert_thresholds",
        "'none'",
    )
    _refused(
        lambda: ObservabilityProps(**base, metrics="cloudwatch", dcgm_exporter=False, extra_rule_groups=({"name": "g", "rules": []},)),
        "extra_rule_groups",
        "'cloudwatch'",
    )
    _refused(
        lambda: ObservabilityProps(**base, metrics="in-cluster", alert_topic_arn=TOPIC),
        "ObservabilityProps.alert_topic_arn",
        "'in-cluster'",
    )
    assert ObservabilityProps(**base, metrics="cloudwatch", dcgm_exporter=False).metrics == "cloudwatch"


# --- scheduling ---------------------------------------------------------------------------------------------------------


def test_team_queues_refuse_empty_and_negative_quotas():
    _refused(lambda: TeamQueue(name="search", gpus={}), "TeamQueue.gpus", "'search'")
    _refused(lambda: TeamQueue(name="search", gpus={"h100": -1}), "TeamQueue.gpus", "{'h100': -1}")
    _refused(lambda: TeamQueue(name="search", gpus={"h100": 1}, borrowing_limit=-2), "TeamQueue.borrowing_limit", "got -2")


def test_kueue_refuses_no_team_and_names_it_cannot_resolve(scope):
    search = TeamQueue(name="search", gpus={"h100": 4})
    base: dict[str, Any] = {"cluster": scope.cluster, "capacities": {"h100": H100}, "after": scope.cluster}
    _refused(lambda: KueueProps(**base, teams=()), "KueueProps.teams", "got ()")
    _refused(lambda: KueueProps(**base, teams=(search,), queued_teams=("research",)), "KueueProps.queued_teams", "research")
    _refused(lambda: KueueProps(**base, teams=(TeamQueue(name="search", gpus={"b200": 1}),)), "KueueProps.teams", "quota on b200", "h100")
    _refused(lambda: KueueProps(**base, teams=(search,), pods_ready_timeout_minutes=0), "KueueProps.pods_ready_timeout_minutes", "got 0")


# --- storage ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "fragments"),
    [
        ({"storage_capacity_gib": 3600}, ("storage_capacity_gib", "got 3600", "round it to 4800")),
        ({"storage_capacity_gib": 1800}, ("storage_capacity_gib", "got 1800", "round it to 2400")),
        ({"throughput_per_unit_storage": 200}, ("throughput_per_unit_storage", "got 200")),
        ({"models_prefix": "models"}, ("models_prefix", "'models'", "'models/'")),
        ({"import_policy": ("NEW", "NEW")}, ("import_policy", "each event once")),
        ({"automatic_backup_retention_days": 91, "link_to_bucket": False}, ("automatic_backup_retention_days", "got 91")),
        ({"automatic_backup_retention_days": 7}, ("automatic_backup_retention_days", "link_to_bucket")),
        ({"daily_backup_start_time": "5am"}, ("daily_backup_start_time", "'5am'", "HH:MM")),
        ({"file_system_path": "models"}, ("file_system_path", "'models'")),
    ],
    ids=lambda value: next(iter(value)) if isinstance(value, dict) else "",
)
def test_lustre_refuses_what_persistent_2_does_not_take(scope, change, fragments):
    _refused(lambda: LustreFileSystemProps(name="kit", network=scope.network, bucket=scope.bucket, **change), *fragments)


def test_lustre_takes_the_sizes_fsx_offers(scope):
    for capacity in (1200, 2400, 4800):
        assert LustreFileSystemProps(name="kit", network=scope.network, bucket=scope.bucket, storage_capacity_gib=capacity)


def test_a_bucket_name_s3_refuses_is_refused_and_a_token_is_left_for_deploy_time():
    _refused(lambda: ModelBucketProps(bucket_name="Acme_Models"), "ModelBucketProps.bucket_name", "'Acme_Models'")
    assert ModelBucketProps(bucket_name=f"kit-models-{cdk.Aws.ACCOUNT_ID}-us-west-2").create


def test_storage_in_cluster_refuses_a_namespace_kubernetes_refuses(scope):
    storage = StorageRefs(bucket_name="acme-models", bucket_arn="arn:aws:s3:::acme-models", models_prefix="models/", region="us-west-2")
    _refused(
        lambda: StorageInClusterProps(name="kit", cluster=scope.cluster, storage=storage, namespace="Inference"),
        "StorageInClusterProps.namespace",
        "'Inference'",
    )


# --- network ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "fragments"),
    [
        ({"control_plane_az_id": "usw2-az2"}, ("control_plane_az_id", "the same as az_id")),
        ({"nat_gateways": 2}, ("nat_gateways", "got 2", "0 or 1")),
        ({"flow_logs_retention_days": 100}, ("flow_logs_retention_days", "got 100")),
        ({"vpc_cidr": IPv4Network("10.0.0.0/24"), "node_subnet_prefix": 25}, ("node_subnet_prefix", "/25", "widen vpc_cidr")),
        ({"node_subnet_prefix": 16}, ("node_subnet_prefix", "/16")),
    ],
    ids=lambda value: next(iter(value)) if isinstance(value, dict) else "",
)
def test_the_vpc_refuses_a_layout_it_cannot_build(change, fragments):
    _refused(lambda: SingleZoneVpcProps(**{"az_id": "usw2-az2", "control_plane_az_id": "usw2-az1", **change}), *fragments)


def test_endpoints_refuse_no_route_subnet_and_bad_service_names(scope):
    subnets = scope.network.node_subnets
    _refused(lambda: VpcEndpointsProps(network=scope.network, route_subnets=()), "VpcEndpointsProps.route_subnets", "got ()")
    _refused(
        lambda: VpcEndpointsProps(network=scope.network, route_subnets=subnets, interface_endpoints=("sts", "sts")),
        "VpcEndpointsProps.interface_endpoints",
        "sts more than once",
    )
    _refused(
        lambda: VpcEndpointsProps(network=scope.network, route_subnets=subnets, interface_endpoints=("com.amazonaws.us-west-2.sts",)),
        "VpcEndpointsProps.interface_endpoints",
        "without the com.amazonaws.<region> prefix",
    )


@pytest.mark.parametrize(
    ("change", "fragments"),
    [
        ({"cidr": "10.0.0.0/33"}, ("ExistingVpcProps.cidr", "'10.0.0.0/33'")),
        ({"node_subnet_ids": ()}, ("ExistingVpcProps.node_subnet_ids", "got ()")),
        ({"control_plane_subnet_ids": ("subnet-0123456789abcdef1",)}, ("control_plane_subnet_ids", "got 1 subnet", "two")),
        ({"control_plane_az_id": "usw2-az2"}, ("control_plane_az_id", "the same as az_id")),
    ],
    ids=lambda value: next(iter(value)) if isinstance(value, dict) else "",
)
def test_an_existing_vpc_refuses_what_eks_cannot_use(change, fragments):
    _refused(lambda: ExistingVpcProps(**{**EXISTING, **change}), *fragments)
