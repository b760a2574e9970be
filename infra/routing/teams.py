"""What the gateway's teams and Amazon Bedrock models add to it, as plain objects for the workloads stack.

- Keys: one SecurityPolicy on the Gateway checks the key on every route (where Envoy checks it, before the model is
  known: core/routing.py gateway_key_policy); each model's rule has its teams' policy.
- Rate limits: one BackendTrafficPolicy on the Gateway. Each team's tokens per minute and per day are counted from
  the token totals Envoy AI Gateway records for every response (the request itself costs nothing up front), in
  Envoy Gateway's global rate-limit service backed by the Redis below. Retries are not Gateway-wide: only a route
  with a Bedrock fallback has them (blueprints/common/routing.py).
- Clients cannot set the headers the gateway owns: x-team-id (set by the key check) and x-ai-eg-model (set by
  Envoy AI Gateway from the body) are removed as the request arrives.
- Bedrock models: an Envoy Gateway Backend for the regional Bedrock endpoint (TLS, system CAs), an
  AIServiceBackend speaking the Bedrock API, a BackendSecurityPolicy that signs with the default AWS credential
  chain (the proxies' Pod Identity role, scoped to these models), and a route per model with its teams' policy.
- The proxies run as a service account of their own (the EnvoyProxy), which the Pod Identity association names,
  and write one JSON access-log line per request (team, model, tokens, status, latency; never the prompt).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.routing import (
    GATEWAY_NAME,
    LLM_REQUEST_COSTS,
    MODEL_HEADER,
    PROXY_NAMESPACE,
    PROXY_SERVICE_ACCOUNT,
    RATE_LIMIT_REDIS,
    TEAM_HEADER,
    TOKEN_METADATA,
    bedrock_backend_name,
    redis_auth_env,
    gateway_key_policy,
    route_spec,
    team_client_pattern,
    team_policy,
)
from core.labels import SYSTEM_POOL_LABEL
from core.images import IMAGES
from infra.images.chart_images import ENVOY_PROXY_IMAGE
from infra.routing.settings import GatewaySettings

ENVOY_PROXY = "llm-gateway"
REDIS = RATE_LIMIT_REDIS
GATEWAY_REF = {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": GATEWAY_NAME}
TOTAL_TOKENS = LLM_REQUEST_COSTS[-1][0]
TeamsFor = Callable[[str], tuple[str, ...]]
"""The teams that may call a model, by the model's name (core.routing.RoutingFacts.teams_for)."""


def _object(api_version: str, kind: str, name: str, namespace: str, labels: dict, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": name, "namespace": namespace, "labels": labels}, "spec": spec}


def rate_limit_rules(settings: GatewaySettings) -> list[dict[str, Any]]:
    rules = []
    for team in settings.teams:
        for limit, unit in ((team.tokens_per_minute, "Minute"), (team.tokens_per_day, "Day")):
            if limit is None:
                continue
            rules.append(
                {
                    # The team's current key and, during a rotation's grace period, its previous one: one budget.
                    "clientSelectors": [
                        {"headers": [{"name": TEAM_HEADER, "type": "RegularExpression", "value": team_client_pattern(team.name)}]}
                    ],
                    "limit": {"requests": limit, "unit": unit},
                    # One budget over every model the team calls, not one per route.
                    "shared": True,
                    "cost": {
                        "request": {"from": "Number", "number": 0},
                        "response": {"from": "Metadata", "metadata": {"namespace": TOKEN_METADATA, "key": TOTAL_TOKENS}},
                    },
                }
            )
    return rules


def traffic_policy(namespace: str, labels: dict, settings: GatewaySettings) -> list[dict[str, Any]]:
    """The teams' token budgets on every route; none without a budget (a fallback route's retries merge into it)."""
    rules = rate_limit_rules(settings)
    if not rules:
        return []
    spec = {"targetRefs": [GATEWAY_REF], "rateLimit": {"global": {"rules": rules}}}
    return [_object("gateway.envoyproxy.io/v1alpha1", "BackendTrafficPolicy", GATEWAY_NAME, namespace, labels, spec)]


def client_policy(namespace: str, labels: dict) -> dict[str, Any]:
    """Large prompts buffered whole (Envoy AI Gateway reads the body), and the gateway's own headers removed before
    routing (earlyRequestHeaders, Envoy Gateway v1.8.3 api/v1alpha1/clienttrafficpolicy_types.go): a client's
    x-team-id never reaches the authorization, the rate limits or the audit log, and the first route match is always
    a catch-all, where the key check runs (core/routing.py gateway_key_policy)."""
    spec = {
        "targetRefs": [GATEWAY_REF],
        "connection": {"bufferLimit": "50Mi"},
        "headers": {"earlyRequestHeaders": {"remove": [TEAM_HEADER, MODEL_HEADER]}},
    }
    return _object("gateway.envoyproxy.io/v1alpha1", "ClientTrafficPolicy", GATEWAY_NAME, namespace, labels, spec)


def access_log_format(log_paths: bool) -> dict[str, str]:
    fields = {
        "start_time": "%START_TIME%",
        "team": f"%REQ({TEAM_HEADER.upper()})%",
        "model": f"%REQ({MODEL_HEADER.upper()})%",
        "backend": f"%DYNAMIC_METADATA({TOKEN_METADATA}:ai_service_backend_name)%",
        "input_tokens": f"%DYNAMIC_METADATA({TOKEN_METADATA}:llm_input_token)%",
        "output_tokens": f"%DYNAMIC_METADATA({TOKEN_METADATA}:llm_output_token)%",
        "total_tokens": f"%DYNAMIC_METADATA({TOKEN_METADATA}:llm_total_token)%",
        "status": "%RESPONSE_CODE%",
        "duration_ms": "%DURATION%",
        "request_id": "%REQ(X-REQUEST-ID)%",
    }
    if log_paths:
        fields["path"] = "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%"
        fields["model_override"] = f"%DYNAMIC_METADATA({TOKEN_METADATA}:model_name_override)%"
    return fields


def envoy_proxy(namespace: str, labels: dict, settings: GatewaySettings) -> dict[str, Any]:
    spec = {
        "provider": {
            "type": "Kubernetes",
            "kubernetes": {
                "envoyServiceAccount": {"name": PROXY_SERVICE_ACCOUNT},
                # On the system nodes, where the audit log shipper reads their stdout (infra/routing/audit.py).
                # The proxy's image named here: this EnvoyProxy replaces Envoy Gateway's default spec (mergeType unset,
                # api/v1alpha1/envoygateway_types.go), and with it the chart's global.images.envoyProxy, so the registry
                # cache could not reach the proxies otherwise. The tag is Envoy Gateway v1.8.3's own default.
                "envoyDeployment": {"pod": {"nodeSelector": SYSTEM_POOL_LABEL}, "container": {"image": ENVOY_PROXY_IMAGE}},
            },
        },
        "telemetry": {
            "accessLog": {
                # Every request, refused ones included: no CEL filter. One that reads x-ai-eg-model would drop the
                # 401s, whose key check ends the request before Envoy AI Gateway has set it.
                "settings": [
                    {
                        "sinks": [{"type": "File", "file": {"path": "/dev/stdout"}}],
                        "format": {"type": "JSON", "json": access_log_format(settings.log_paths)},
                    }
                ]
            }
        },
    }
    return _object("gateway.envoyproxy.io/v1alpha1", "EnvoyProxy", ENVOY_PROXY, namespace, labels, spec)


def bedrock_objects(namespace: str, labels: dict, settings: GatewaySettings, region: str, teams_for: TeamsFor) -> list[dict[str, Any]]:
    objects = []
    host = f"bedrock-runtime.{region}.amazonaws.com"
    if settings.bedrock:
        backend = {"endpoints": [{"fqdn": {"hostname": host, "port": 443}}], "tls": {"wellKnownCACertificates": "System", "sni": host}}
        objects.append(_object("gateway.envoyproxy.io/v1alpha1", "Backend", "bedrock", namespace, labels, backend))
    for model in settings.bedrock:
        name = bedrock_backend_name(model.name)
        service = {"schema": {"name": "AWSBedrock"}, "backendRef": {"group": "gateway.envoyproxy.io", "kind": "Backend", "name": "bedrock"}}
        objects.append(_object("aigateway.envoyproxy.io/v1beta1", "AIServiceBackend", name, namespace, labels, service))
        # No credentials file: the signer takes the default chain, the proxies' Pod Identity role.
        signing = {
            "targetRefs": [{"group": "aigateway.envoyproxy.io", "kind": "AIServiceBackend", "name": name}],
            "type": "AWSCredentials",
            "awsCredentials": {"region": region},
        }
        objects.append(_object("aigateway.envoyproxy.io/v1beta1", "BackendSecurityPolicy", name, namespace, labels, signing))
        # An AIServiceBackend is the default kind of a backendRef (group and kind name InferencePools only).
        backends = [{"name": name, "modelNameOverride": model.model_id}]
        objects.append(
            _object("aigateway.envoyproxy.io/v1beta1", "AIGatewayRoute", name, namespace, labels, route_spec(model.name, backends))
        )
        if settings.teams:
            objects.append(
                _object(
                    "gateway.envoyproxy.io/v1alpha1", "SecurityPolicy", name, namespace, labels, team_policy(name, teams_for(model.name))
                )
            )
    return objects


def redis_objects(labels: dict) -> list[dict[str, Any]]:
    """The rate-limit counters: one Redis without persistence (a restart forgets the current minute and day), behind
    a password drawn at deploy time (infra/routing/redis_auth.py). Kubernetes expands $(REDIS_PASSWORD) when the
    container starts: the pod spec holds only the reference, and Redis overwrites its process title."""
    selector = {"app.kubernetes.io/name": REDIS}
    container = {
        "name": "redis",
        "image": IMAGES["redis"].reference,
        "args": ["--save", "", "--appendonly", "no", "--requirepass", "$(REDIS_PASSWORD)"],
        # redis-cli (the readiness probe) authenticates with REDISCLI_AUTH.
        "env": [redis_auth_env("REDIS_PASSWORD"), redis_auth_env("REDISCLI_AUTH")],
        "ports": [{"name": "redis", "containerPort": 6379}],
        "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}},
        "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}, "readOnlyRootFilesystem": True},
        "volumeMounts": [{"name": "data", "mountPath": "/data"}],
        "readinessProbe": {"exec": {"command": ["redis-cli", "ping"]}, "periodSeconds": 10},
        "livenessProbe": {"tcpSocket": {"port": "redis"}, "periodSeconds": 20, "failureThreshold": 3},
    }
    pod = {
        "automountServiceAccountToken": False,
        "securityContext": {"runAsNonRoot": True, "runAsUser": IMAGES["redis"].run_as, "seccompProfile": {"type": "RuntimeDefault"}},
        "nodeSelector": SYSTEM_POOL_LABEL,
        "containers": [container],
        "volumes": [{"name": "data", "emptyDir": {}}],
    }
    all_labels = {**labels, **selector}
    deployment = {"replicas": 1, "selector": {"matchLabels": selector}, "template": {"metadata": {"labels": all_labels}, "spec": pod}}
    service = {"selector": selector, "ports": [{"name": "redis", "port": 6379, "targetPort": "redis"}]}
    return [
        _object("apps/v1", "Deployment", REDIS, PROXY_NAMESPACE, all_labels, deployment),
        _object("v1", "Service", REDIS, PROXY_NAMESPACE, all_labels, service),
    ]


def team_objects(namespace: str, labels: dict, settings: GatewaySettings, *, region: str, teams_for: TeamsFor) -> list[dict[str, Any]]:
    keys = (
        [_object("gateway.envoyproxy.io/v1alpha1", "SecurityPolicy", GATEWAY_NAME, namespace, labels, gateway_key_policy())]
        if settings.teams
        else []
    )
    return [
        envoy_proxy(namespace, labels, settings),
        client_policy(namespace, labels),
        *keys,
        *traffic_policy(namespace, labels, settings),
        *bedrock_objects(namespace, labels, settings, region, teams_for),
        *redis_objects(labels),
    ]
