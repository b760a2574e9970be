"""The rate-limit Redis's password: a Secret whose value is drawn in the cluster at deploy time.

A value drawn at synth would sit in the template; a Secrets Manager dynamic reference would be resolved into the
kubectl provider's request, which its handler prints whole to its CloudWatch log (aws-cdk-lib 2.275
custom-resource-handlers/dist/aws-eks-v2/kubectl-handler/index.py), and its `kubectl apply` would copy the value into
the object's last-applied-configuration annotation. So a tiny local chart (redis_auth_chart/) draws it with Helm's
randAlphaNum when the provider installs it, and keeps it across upgrades with lookup: the template, the asset and the
provider's log only ever hold the Secret's name.

The Redis requires it (--requirepass), and Envoy Gateway's rate limiter sends it: Envoy Gateway v1.8.3 has no
password field under rateLimit.backend.redis (api/v1alpha1/envoygateway_types.go RateLimitRedisSettings: url, tls),
but merges the env of provider.kubernetes.rateLimitDeployment.container into the rate limiter's container
(internal/infrastructure/kubernetes/ratelimit/resource.go expectedRateLimitContainerEnv ->
resource.ExpectedContainerEnv), and envoyproxy/ratelimit reads REDIS_AUTH (src/settings/settings.go).
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from infra import nag
from core.routing import PROXY_NAMESPACE, RATE_LIMIT_REDIS_AUTH_KEY, RATE_LIMIT_REDIS_AUTH_SECRET

CHART = Path(__file__).parent / "redis_auth_chart"


def add_redis_password(scope: Construct, cluster: eks.ICluster, part_of: str) -> eks.HelmChart:
    """The Secret in Envoy Gateway's namespace (the cluster stack created it with the controller)."""
    asset = s3_assets.Asset(scope, "RedisAuthChart", path=str(CHART))
    values = {"name": RATE_LIMIT_REDIS_AUTH_SECRET, "key": RATE_LIMIT_REDIS_AUTH_KEY, "partOf": part_of}
    chart = eks.HelmChart(
        scope,
        "RedisAuth",
        cluster=cluster,
        chart_asset=asset,
        release=RATE_LIMIT_REDIS_AUTH_SECRET,
        namespace=PROXY_NAMESPACE,
        create_namespace=False,
        values=values,
    )
    # aws-eks-v2 lets the kubectl provider's handler read the asset: read on the CDK assets bucket, whose object
    # names are content hashes the synth picks (helm-chart.js chartAsset.bucket.grantRead).
    # aws-eks-v2's KubectlProvider holds its handler as a lambda.Function with a role of its own.
    handler = cast(lambda_.Function, cluster.node.find_child("KubectlProvider").node.find_child("Handler"))
    if handler.role is None:
        raise ValueError(f"{cluster.node.path}: the kubectl provider's handler has no role to acknowledge the asset read on")
    nag.acknowledge_policy_wildcards(
        handler.role.node.find_child("DefaultPolicy"),
        "aws-eks-v2 grants the kubectl handler read on the CDK assets bucket (its objects are named by content hash)"
        " to fetch a local Helm chart: the Redis password's",
    )
    return chart


# Envoy Gateway v1.8.3's labels on its rate limiter's pods (internal/infrastructure/kubernetes/ratelimit/resource.go
# rateLimitLabels), in its own namespace: the only client of the Redis.
RATE_LIMITER_LABELS = {
    "app.kubernetes.io/name": "envoy-ratelimit",
    "app.kubernetes.io/component": "ratelimit",
    "app.kubernetes.io/managed-by": "envoy-gateway",
}
REDIS_PORT = 6379


def redis_policy(redis_labels: dict[str, str], labels: dict[str, str]) -> dict:
    """Only the rate limiter reaches the Redis, on its port; the Redis itself sends nothing (no egress rule)."""
    spec = {
        "podSelector": {"matchLabels": redis_labels},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [{"from": [{"podSelector": {"matchLabels": RATE_LIMITER_LABELS}}], "ports": [{"protocol": "TCP", "port": REDIS_PORT}]}],
        "egress": [],
    }
    name = redis_labels["app.kubernetes.io/name"]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": PROXY_NAMESPACE, "labels": labels},
        "spec": spec,
    }
