"""The rate-limit Redis: a password drawn in the cluster at deploy (never in a template), required by the Redis, sent
by Envoy Gateway's rate limiter, and a NetworkPolicy that admits the rate limiter alone."""

import json
from pathlib import Path

import pytest
import yaml

from assembly.kit import KIT
from core.routing import RATE_LIMIT_REDIS_AUTH_KEY, RATE_LIMIT_REDIS_AUTH_SECRET
from infra.routing.gateway import gateway_objects
from infra.routing.redis_auth import CHART
from infra.stacks.routing_props import gateway_settings
from tests.helpers import helm_values, kubernetes_objects, resources, synth

EXAMPLE = Path("config/examples/gateway-teams-bedrock.yaml")
FROM_SECRET = {"secretKeyRef": {"name": "llm-gateway-redis-auth", "key": "password"}}


@pytest.fixture(scope="module")
def templates(tmp_path_factory):
    return synth(EXAMPLE, tmp_path_factory.mktemp("redis") / "out")


def _gateway_objects(templates):
    return [o for items in kubernetes_objects(templates["llm-teams-workloads"]).values() for o in items]


def test_the_password_is_drawn_by_helm_in_the_cluster_and_kept_on_upgrade():
    text = (CHART / "templates" / "secret.yaml").read_text()
    # Drawn at install from crypto/rand (letters and digits), unless the Secret already holds one.
    assert "randAlphaNum 48 | b64enc" in text
    assert 'lookup "v1" "Secret" .Release.Namespace .Values.name' in text and "{{ .Values.key }}: {{ $current }}" in text
    assert yaml.safe_load((CHART / "Chart.yaml").read_text())["apiVersion"] == "v2"


@pytest.mark.e2e
def test_the_workloads_stack_installs_the_chart_asset_with_no_value_in_it(templates):
    workloads = templates["llm-teams-workloads"]
    [chart] = resources(workloads, "Custom::AWSCDK-EKS-HelmChart").values()
    properties = chart["Properties"]
    assert "Chart" not in properties and "ChartAssetURL" in properties
    assert (properties["Namespace"], properties["Release"]) == ("envoy-gateway-system", RATE_LIMIT_REDIS_AUTH_SECRET)
    assert json.loads(helm_values(properties["Values"])) == {
        "name": RATE_LIMIT_REDIS_AUTH_SECRET,
        "key": RATE_LIMIT_REDIS_AUTH_KEY,
        "partOf": "llm-teams",
    }
    # No template of the app holds a Secret's data or a password of the Redis.
    for name, template in templates.items():
        text = json.dumps(template)
        assert "requirepass" not in text or "$(REDIS_PASSWORD)" in text, name
    assert not any(o["kind"] == "Secret" for o in _gateway_objects(templates))


@pytest.mark.e2e
def test_the_redis_requires_the_password_and_its_probe_sends_it(templates):
    [redis] = [o for o in _gateway_objects(templates) if o["kind"] == "Deployment" and o["metadata"]["name"] == "llm-gateway-redis"]
    [container] = redis["spec"]["template"]["spec"]["containers"]
    assert container["args"][-2:] == ["--requirepass", "$(REDIS_PASSWORD)"]
    env = {entry["name"]: entry["valueFrom"] for entry in container["env"]}
    assert env == {"REDIS_PASSWORD": FROM_SECRET, "REDISCLI_AUTH": FROM_SECRET}
    assert container["readinessProbe"]["exec"]["command"] == ["redis-cli", "ping"]


@pytest.mark.e2e
def test_envoy_gateways_rate_limiter_sends_the_password(templates):
    charts = {
        body["Properties"].get("Chart"): body for body in resources(templates["llm-teams-cluster"], "Custom::AWSCDK-EKS-HelmChart").values()
    }
    values = json.loads(helm_values(charts["gateway-helm"]["Properties"]["Values"]))
    provider = values["config"]["envoyGateway"]["provider"]
    assert provider["type"] == "Kubernetes"
    assert provider["kubernetes"]["rateLimitDeployment"]["container"]["env"] == [{"name": "REDIS_AUTH", "valueFrom": FROM_SECRET}]
    assert values["config"]["envoyGateway"]["rateLimit"]["backend"]["redis"] == {
        "url": "llm-gateway-redis.envoy-gateway-system.svc.cluster.local:6379"
    }


@pytest.mark.e2e
def test_only_the_rate_limiter_reaches_the_redis(templates):
    [policy] = [o for o in _gateway_objects(templates) if o["kind"] == "NetworkPolicy" and o["metadata"]["name"] == "llm-gateway-redis"]
    assert policy["metadata"]["namespace"] == "envoy-gateway-system"
    rate_limiter = {
        "app.kubernetes.io/name": "envoy-ratelimit",
        "app.kubernetes.io/component": "ratelimit",
        "app.kubernetes.io/managed-by": "envoy-gateway",
    }
    assert policy["spec"] == {
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "llm-gateway-redis"}},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [{"from": [{"podSelector": {"matchLabels": rate_limiter}}], "ports": [{"protocol": "TCP", "port": 6379}]}],
        "egress": [],
    }
    [redis] = [o for o in _gateway_objects(templates) if o["kind"] == "Deployment" and o["metadata"]["name"] == "llm-gateway-redis"]
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= redis["spec"]["template"]["metadata"]["labels"].items()


def test_without_enforcement_no_redis_policy_is_written():
    config = KIT.load(EXAMPLE)
    objects = gateway_objects(
        "inference",
        {},
        gateway_settings(config.gateway),
        vpc_cidr="10.0.0.0/16",
        region="us-west-2",
        teams_for=lambda model: (),
        isolate=False,
    )
    assert not [o for o in objects if o["kind"] == "NetworkPolicy"]
