"""The gateway's request path as the kit writes it, checked against what the pinned upstream code does with it:
where the key check and the team rules attach, what reaches the audit log, how token budgets keep their cost, where
retries apply, the endpoint picker's rights, and the Bedrock IAM of each kind of model id."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
import pytest

from assembly.app import render_workloads
from assembly.kit import KIT
from blueprints.common.routing import PICKER_RULES
from core.routing import MODEL_HEADER, MODEL_RULE, TEAM_HEADER, TOKEN_METADATA
from core.versions import ENVOY_GATEWAY
from infra.routing.bedrock import model_statements
from infra.routing.gateway import gateway_objects
from infra.stacks.routing_props import gateway_settings

TEAMS = Path("config/examples/gateway-teams-bedrock.yaml")
POOLS = Path("config/examples/gateway-two-models.yaml")
# Envoy AI Gateway v1.1.0 names the catch-all rule it appends to every HTTPRoute it generates this way
# (internal/controller/ai_gateway_route.go), and its CRD reserves the name (api/v1beta1/ai_gateway_route.go).
CATCH_ALL = "route-not-found"
# The namespace Envoy AI Gateway v1.1.0 writes its per-request costs under (api/v1beta1/shared_types.go
# AIGatewayFilterMetadataNamespace; internal/extproc/processor_impl.go buildDynamicMetadata).
AI_GATEWAY_METADATA = "io.envoy.ai_gateway"


def _objects(path: Path) -> list[dict]:
    config = KIT.load(path)
    routing = KIT.platform(config).routing
    gateway = gateway_objects(
        "inference", {}, gateway_settings(config.gateway), vpc_cidr="10.0.0.0/16", region=config.region, teams_for=routing.teams_for
    )
    return gateway + [obj for objects in render_workloads(config).values() for obj in objects]


@pytest.fixture(scope="module")
def teams() -> list[dict]:
    return _objects(TEAMS)


@pytest.fixture(scope="module")
def pools() -> list[dict]:
    return _objects(POOLS)


def _kind(objects: list[dict], kind: str) -> dict[str, dict]:
    """{name: spec} of one kind (an RBAC object has no spec: the object itself)."""
    return {obj["metadata"]["name"]: obj.get("spec", obj) for obj in objects if obj["kind"] == kind}


def _version(tag: str) -> tuple[int, ...]:
    return tuple(int(part) for part in tag.lstrip("v").split("."))


def test_the_key_check_covers_the_catch_alls_and_each_model_rule_admits_its_teams(teams):
    """Envoy Gateway v1.8.3 runs api_key_auth before the ext_proc with which Envoy AI Gateway sets the model, so the
    key is checked on a route-not-found rule; the RBAC filter runs after, on the model's rule."""
    policies = _kind(teams, "SecurityPolicy")
    routes = _kind(teams, "AIGatewayRoute")
    gateway = policies.pop("llm-gateway")
    assert gateway["targetRefs"] == [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "llm-gateway"}]
    assert "authorization" not in gateway  # an unknown model gets its 404, a known one its own rule's teams
    assert set(policies) == set(routes) == {"llama-8b", "bedrock-claude-haiku"}
    for name, policy in policies.items():
        [target] = policy["targetRefs"]
        [rule] = routes[name]["rules"]
        assert target == {"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": name, "sectionName": rule["name"]}
        assert rule["name"] == MODEL_RULE != CATCH_ALL
        assert rule["matches"][0]["headers"][0]["name"] == MODEL_HEADER
        # The same key check wherever the first route match lands, and the team it forwards is what the rules read.
        assert policy["apiKeyAuth"] == gateway["apiKeyAuth"]
        assert gateway["apiKeyAuth"]["forwardClientIDHeader"] == TEAM_HEADER
        assert {header["name"] for allow in policy["authorization"]["rules"] for header in allow["principal"]["headers"]} == {TEAM_HEADER}


def test_clients_cannot_send_the_headers_the_gateway_sets(teams):
    [client] = _kind(teams, "ClientTrafficPolicy").values()
    assert sorted(client["headers"]["earlyRequestHeaders"]["remove"]) == sorted([TEAM_HEADER, MODEL_HEADER])


def test_refused_requests_reach_the_audit_log(teams):
    """A 401 ends the request before Envoy AI Gateway sets x-ai-eg-model: a CEL filter on that header, or any filter,
    would keep it out of the log (Envoy Gateway v1.8.3 internal/xds/translator/accesslog.go ANDs the matches)."""
    [proxy] = _kind(teams, "EnvoyProxy").values()
    [setting] = proxy["telemetry"]["accessLog"]["settings"]
    assert "matches" not in setting and "type" not in setting
    fields = setting["format"]["json"]
    assert fields["status"] == "%RESPONSE_CODE%" and fields["team"] == f"%REQ({TEAM_HEADER.upper()})%"


def test_shared_token_budgets_keep_their_response_cost_at_the_pinned_envoy_gateway(teams):
    """v1.8.0 and v1.8.1 put shared rules on the route without hits_addend, dropping the cost; from v1.8.2
    (internal/xds/translator/ratelimit.go buildRouteRateLimits) a rule with a cost goes to the per-route filter config
    of its shared domain, its response cost as an apply_on_stream_done limit whose hits_addend is
    %DYNAMIC_METADATA(<namespace>:<key>)% (internal/gatewayapi/backendtrafficpolicy.go translateRateLimitCost)."""
    budgets = _kind(teams, "BackendTrafficPolicy")["llm-gateway"]
    rules = budgets["rateLimit"]["global"]["rules"]
    assert len(rules) == 4
    costs = {
        route: {cost["metadataKey"]: cost["type"] for cost in spec["llmRequestCosts"]}
        for route, spec in _kind(teams, "AIGatewayRoute").items()
    }
    for rule in rules:
        assert rule["shared"] is True and rule["clientSelectors"]  # a match: the rule is one descriptor per team, not all traffic
        assert rule["cost"]["request"] == {"from": "Number", "number": 0}
        response = rule["cost"]["response"]
        assert response["from"] == "Metadata" and response["metadata"]["namespace"] == TOKEN_METADATA == AI_GATEWAY_METADATA
        # Every route writes the key the rule reads, as the total of prompt and completion.
        assert all(route_costs.get(response["metadata"]["key"]) == "TotalToken" for route_costs in costs.values()), costs
    assert _version(ENVOY_GATEWAY.version)[:2] == (1, 8) and _version(ENVOY_GATEWAY.version) >= (1, 8, 2)


def test_only_the_fallback_route_retries_with_back_off(teams, pools):
    policies = _kind(teams, "BackendTrafficPolicy")
    assert "retry" not in policies.pop("llm-gateway")
    [(name, policy)] = policies.items()
    priorities = [backend.get("priority") for backend in _kind(teams, "AIGatewayRoute")[name]["rules"][0]["backendRefs"]]
    assert name == "llama-8b" and priorities == [0, 1]
    assert policy["targetRefs"] == [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": name}]
    # Merged into the Gateway's policy, so the route keeps the teams' shared budgets.
    assert policy["mergeType"] == "StrategicMerge" and "rateLimit" not in policy
    retry = policy["retry"]
    assert retry["numAttemptsPerPriority"] == 1 and retry["numRetries"] >= len(priorities)
    assert "retriable-status-codes" in retry["retryOn"]["triggers"] and 429 in retry["retryOn"]["httpStatusCodes"]
    backoff = retry["perRetry"]["backOff"]
    assert _millis(backoff["baseInterval"]) >= 100 and _millis(backoff["maxInterval"]) >= 2 * _millis(backoff["baseInterval"])
    # Routes to a pool retry nothing: the picker chose the replica, and no Gateway-wide policy retries for it.
    assert _kind(pools, "BackendTrafficPolicy") == {}


def _millis(duration: str) -> int:
    return int(duration[:-2]) if duration.endswith("ms") else int(duration[:-1]) * 1000


def test_the_picker_gets_exactly_its_charts_rights(pools):
    roles = _kind(pools, "Role")
    expected = sorted(
        (group, resource, tuple(sorted(rule["verbs"])))
        for rule in PICKER_RULES
        for group in rule["apiGroups"]
        for resource in rule["resources"]
    )
    # llm-d-router v0.10.0 config/charts: objectives and model rewrites (both groups), pools and pods, read only.
    assert expected == sorted(
        [
            ("", "pods", ("get", "list", "watch")),
            ("inference.networking.k8s.io", "inferencepools", ("get", "list", "watch")),
            ("inference.networking.x-k8s.io", "inferencemodelrewrites", ("get", "list", "watch")),
            ("inference.networking.x-k8s.io", "inferenceobjectives", ("get", "list", "watch")),
            ("llm-d.ai", "inferencemodelrewrites", ("get", "list", "watch")),
            ("llm-d.ai", "inferenceobjectives", ("get", "list", "watch")),
        ]
    )
    assert {name: role["rules"] for name, role in roles.items()} == {
        picker: [dict(rule) for rule in PICKER_RULES] for picker in ("llama-8b-epp", "qwen-7b-epp")
    }
    # Nothing cluster-wide: the chart's ClusterRole comes only with metrics token review, which the kit turns off.
    assert not [obj for obj in pools if obj["kind"] in {"ClusterRole", "ClusterRoleBinding"}]


def _statements(model_id: str) -> list[dict]:
    stack = cdk.Stack(cdk.App(), "s", env=cdk.Environment(account="111122223333", region="us-west-2"))
    return [stack.resolve(statement.to_statement_json()) for statement in model_statements(model_id, stack)]


def _arn(value) -> str:
    """An ARN with the partition token written as `aws`."""
    if isinstance(value, str):
        return value
    return "".join("aws" if part == {"Ref": "AWS::Partition"} else part for part in value["Fn::Join"][1])


SONNET = "anthropic.claude-sonnet-4-5-20250929-v1:0"


def test_a_foundation_model_opens_that_model_in_the_region():
    [statement] = _statements(SONNET)
    assert _arn(statement["Resource"]) == f"arn:aws:bedrock:us-west-2::foundation-model/{SONNET}" and "Condition" not in statement


def test_a_geographic_profile_opens_the_model_in_any_region_only_through_the_profile():
    profile, models = _statements(f"us.{SONNET}")
    profile_arn = f"arn:aws:bedrock:us-west-2:111122223333:inference-profile/us.{SONNET}"
    assert _arn(profile["Resource"]) == profile_arn and "Condition" not in profile
    assert _arn(models["Resource"]) == f"arn:aws:bedrock:*::foundation-model/{SONNET}"
    assert {key: _arn(value) for key, value in models["Condition"]["StringEquals"].items()} == {"bedrock:InferenceProfileArn": profile_arn}


def test_a_global_profile_gets_the_three_statements_aws_documents():
    """docs.aws.amazon.com/bedrock/latest/userguide/global-cross-region-inference.html, "IAM policy requirements for
    global cross-Region inference": the profile here, the model here, and the Region-less model ARN that Bedrock
    checks with aws:RequestedRegion "unspecified", each through the profile."""
    profile, regional, worldwide = _statements(f"global.{SONNET}")
    profile_arn = f"arn:aws:bedrock:us-west-2:111122223333:inference-profile/global.{SONNET}"
    conditions = [{key: _arn(value) for key, value in s["Condition"]["StringEquals"].items()} for s in (profile, regional, worldwide)]
    assert _arn(profile["Resource"]) == profile_arn and conditions[0] == {"aws:RequestedRegion": "us-west-2"}
    assert _arn(regional["Resource"]) == f"arn:aws:bedrock:us-west-2::foundation-model/{SONNET}"
    assert conditions[1] == {"aws:RequestedRegion": "us-west-2", "bedrock:InferenceProfileArn": profile_arn}
    assert _arn(worldwide["Resource"]) == f"arn:aws:bedrock:::foundation-model/{SONNET}"
    assert conditions[2] == {"aws:RequestedRegion": "unspecified", "bedrock:InferenceProfileArn": profile_arn}
    for statement in (profile, regional, worldwide):
        assert statement["Action"] == ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
