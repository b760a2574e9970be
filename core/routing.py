"""Facts of the request path that blueprints need: the kit's Gateway and where serving metrics can be queried."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# The Gateway every routed workload attaches to, in the workloads namespace; its proxies run in Envoy Gateway's.
GATEWAY_NAME = "llm-gateway"
GATEWAY_CLASS = "llm-kit"
PROXY_NAMESPACE = "envoy-gateway-system"
# Envoy AI Gateway copies the request body's "model" into this header; each workload's route matches on it.
MODEL_HEADER = "x-ai-eg-model"
# The gateway checks a team's API key against this Secret (key: team name, value: API key; scripts/team_keys.py
# writes it) and forwards the team's name in TEAM_HEADER, which clients cannot set themselves.
API_KEYS_SECRET = "llm-gateway-api-keys"
TEAM_HEADER = "x-team-id"
# The name of the rule that matches the model in every AIGatewayRoute the kit writes (and in the HTTPRoute Envoy AI
# Gateway generates from it); the team policy attaches to this rule, not to the generated `route-not-found` rule.
MODEL_RULE = "model"
# While a rotated key's grace period runs, the team's old key stays in the Secret under `<team>.previous` (Envoy
# Gateway v1.8.3 keeps one key per client id: internal/gatewayapi/securitypolicy.go buildAPIKeyAuth skips a repeated
# id), so x-team-id carries that id; the gateway's rules accept it as the team (no team name holds a dot).
PREVIOUS_KEY_SUFFIX = ".previous"


def team_client_ids(team: str) -> tuple[str, str]:
    """The client ids a team's requests may carry in x-team-id: its current key's and, during a rotation, the old one's."""
    return team, team + PREVIOUS_KEY_SUFFIX


def team_client_pattern(team: str) -> str:
    """A RE2 expression matching exactly the team's client ids (team names are lowercase letters, digits and '-')."""
    return f"^{team}({re.escape(PREVIOUS_KEY_SUFFIX)})?$"


# The proxies' own service account (their EnvoyProxy names it; the Bedrock role's Pod Identity association too), and
# the Redis that holds the rate-limit counters of Envoy Gateway's rate-limit service.
PROXY_SERVICE_ACCOUNT = "llm-gateway-envoy"
RATE_LIMIT_REDIS = "llm-gateway-redis"
RATE_LIMIT_REDIS_URL = f"{RATE_LIMIT_REDIS}.{PROXY_NAMESPACE}.svc.cluster.local:6379"
# The Redis password: a Secret in PROXY_NAMESPACE whose value is drawn in the cluster at deploy time
# (infra/routing/redis_auth.py), read by the Redis and by Envoy Gateway's rate limiter (its REDIS_AUTH).
RATE_LIMIT_REDIS_AUTH_SECRET = "llm-gateway-redis-auth"
RATE_LIMIT_REDIS_AUTH_KEY = "password"


def redis_auth_env(name: str) -> dict[str, Any]:
    """A container env var holding the Redis password, read from its Secret when the container starts."""
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": RATE_LIMIT_REDIS_AUTH_SECRET, "key": RATE_LIMIT_REDIS_AUTH_KEY}}}


# Token counts Envoy AI Gateway writes for each request, which rate limits and the audit log read.
TOKEN_METADATA = "io.envoy.ai_gateway"
LLM_REQUEST_COSTS = (("llm_input_token", "InputToken"), ("llm_output_token", "OutputToken"), ("llm_total_token", "TotalToken"))
# Stands for the AMP workspace's query URL in rendered objects; the workloads stack fills it in from the cluster stack.
AMP_QUERY_URL = "{amp-query-url}"
IN_CLUSTER_PROMETHEUS = "http://kube-prometheus-stack-prometheus.monitoring.svc.cluster.local:9090"


@dataclass(frozen=True)
class RoutingFacts:
    gateway_listener_port: int = 80
    metrics_backend: str = "amp"
    """observability.metrics: amp, in-cluster, cloudwatch or none."""
    scrape_interval_seconds: int = 30
    """observability.scrape_interval_seconds: how old the newest sample of a series may be."""
    teams: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """(team, models it may call) from gateway.teams; empty: the gateway asks for no key."""
    bedrock: tuple[tuple[str, str], ...] = ()
    """(name, Bedrock model id) from gateway.bedrock."""

    def teams_for(self, model: str) -> tuple[str, ...]:
        return tuple(team for team, models in self.teams if model in models)

    def bedrock_id(self, name: str) -> str | None:
        return dict(self.bedrock).get(name)

    @property
    def metrics_query_url(self) -> str | None:
        """Where KEDA sends PromQL; None where the backend speaks none."""
        return {"amp": AMP_QUERY_URL, "in-cluster": IN_CLUSTER_PROMETHEUS}.get(self.metrics_backend)


def route_spec(served_name: str, backends: list[dict], groups: tuple[tuple[str, tuple[str, ...]], ...] = ()) -> dict[str, Any]:
    """groups: (rule name, model names) of each rule, every rule to `backends`; default one rule, MODEL_RULE, for
    served_name. An AIGatewayRoute holds at most MAX_RULES rules (its CRD at v1.1.0)."""
    return {
        "parentRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": GATEWAY_NAME}],
        "llmRequestCosts": [{"metadataKey": key, "type": kind} for key, kind in LLM_REQUEST_COSTS],
        "rules": [
            {
                # Copied to the generated HTTPRoute's rule, where the model's team policy attaches (team_policy).
                "name": rule,
                "matches": [{"headers": [{"type": "Exact", "name": MODEL_HEADER, "value": name}]} for name in names],
                "backendRefs": backends,
                # Envoy AI Gateway's default (60 s) would cut long generations.
                "timeouts": {"request": "600s"},
            }
            for rule, names in (groups or ((MODEL_RULE, (served_name,)),))
        ],
    }


MAX_RULES = 15
"""Rules an AIGatewayRoute may hold (aigateway.envoyproxy.io_aigatewayroutes.yaml v1.1.0: spec.rules maxItems)."""


def rule_groups(names: tuple[str, ...], teams_for) -> tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]:
    """The model names one route serves (its served name first, then its LoRA adapters'), grouped by the teams that
    may call them: a team policy attaches to a rule, so names with other teams need a rule of their own. Returns
    (rule name, names, teams); the served name's rule is MODEL_RULE, the others model-2, model-3, ..."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for name in names:
        groups.setdefault(tuple(sorted(teams_for(name))), []).append(name)
    return tuple(
        (MODEL_RULE if index == 0 else f"{MODEL_RULE}-{index + 1}", tuple(members), teams)
        for index, (teams, members) in enumerate(groups.items())
    )


def api_key_auth() -> dict[str, Any]:
    """API key required (the key Secret maps each key to its team), the key stripped before the model sees the
    request, the team forwarded in x-team-id. Envoy's api_key_auth filter takes the key from either header, without
    a leading "Bearer " (source/extensions/filters/http/api_key_auth/api_key_auth.cc)."""
    return {
        "credentialRefs": [{"group": "", "kind": "Secret", "name": API_KEYS_SECRET}],
        "extractFrom": [{"headers": ["authorization", "x-api-key"]}],
        "forwardClientIDHeader": TEAM_HEADER,
        "sanitize": True,
    }


def gateway_key_policy() -> dict[str, Any]:
    """The key check on every route of the Gateway. Envoy Gateway v1.8.3 runs api_key_auth (filter order 6,
    internal/xds/translator/httpfilters.go) before every ext_proc (100+), and Envoy AI Gateway v1.1.0 inserts its
    own ext_proc, which copies the body's model into x-ai-eg-model and re-selects the route, among those
    (internal/extensionserver/post_translate_modify.go). So the key is checked on the route chosen before the model
    is known: a `route-not-found` catch-all rule that Envoy AI Gateway adds to every HTTPRoute it generates
    (internal/controller/ai_gateway_route.go). This policy covers those rules; a model's own rule has team_policy,
    the more specific one, which Envoy Gateway applies instead (internal/gatewayapi/securitypolicy.go)."""
    return {"targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": GATEWAY_NAME}], "apiKeyAuth": api_key_auth()}


def team_policy(route: str, teams: tuple[str, ...], rule: str = MODEL_RULE) -> dict[str, Any]:
    """On the rule that carries the model (not the route's catch-all): the same key check, then only the listed
    teams pass. Envoy's RBAC filter (order 301) runs after Envoy AI Gateway has set the model and re-selected the
    route, so the authorization is the model's own whichever catch-all the key check ran on. A team passes with
    its current key and, during a rotation, its previous one (team_client_ids)."""
    clients = [client for team in teams for client in team_client_ids(team)]
    allowed = [{"action": "Allow", "principal": {"headers": [{"name": TEAM_HEADER, "values": clients}]}}] if teams else []
    return {
        "targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": route, "sectionName": rule}],
        "apiKeyAuth": api_key_auth(),
        "authorization": {"defaultAction": "Deny", "rules": allowed},
    }


def fallback_retry_policy(route: str) -> dict[str, Any]:
    """Retries for a route with a Bedrock fallback only (a pool's route and a Bedrock model's own get none): one
    attempt per priority, so a failed or refusing local backend hands the request to Bedrock, and Bedrock's throttling
    (429) is retried after a jittered back-off rather than at once. Envoy's previous_priorities plugin excludes each
    tried priority and starts over once all are tried (envoyproxy/gateway v1.8.3 internal/xds/translator/route.go
    buildRetryPolicy), so three retries give local, Bedrock, local, Bedrock. Targets the HTTPRoute Envoy AI Gateway
    generates under the AIGatewayRoute's name (its examples/provider_fallback at v1.1.0); merged into the Gateway's
    policy so the teams' rate limits keep their shared counters (internal/gatewayapi/backendtrafficpolicy.go keeps
    the Gateway policy's rule names when only it has rate limits)."""
    return {
        "targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": route}],
        "mergeType": "StrategicMerge",
        "retry": {
            "numRetries": 3,
            "numAttemptsPerPriority": 1,
            "retryOn": {"triggers": ["connect-failure", "reset", "retriable-status-codes"], "httpStatusCodes": [429, 500, 502, 503, 504]},
            "perRetry": {"backOff": {"baseInterval": "500ms", "maxInterval": "5s"}},
        },
    }


def bedrock_backend_name(model: str) -> str:
    """The AIServiceBackend of a gateway.bedrock model (the gateway's own object, which fallbacks also name)."""
    return f"bedrock-{model}"
