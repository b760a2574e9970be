"""Teams on the gateway, from the synthesized example: keys, token budgets, Bedrock fallback and access, audit log."""

import json
import re
from pathlib import Path

import pytest
import yaml

from assembly.app import render_workloads
from assembly.kit import KIT
from core.routing import API_KEYS_SECRET
from tests.helpers import helm_charts, helm_values, kubernetes_objects, nested_templates, resources, synth

pytestmark = pytest.mark.e2e  # every test here reads whole synthesized apps

EXAMPLE = Path("config/examples/gateway-teams-bedrock.yaml")
HAIKU = "anthropic.claude-3-5-haiku-20241022-v1:0"


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    out = tmp_path_factory.mktemp("teams") / "out"
    templates = synth(EXAMPLE, out)
    objects = [o for items in kubernetes_objects(templates["llm-teams-workloads"]).values() for o in items]
    for nested in nested_templates(out).values():
        objects += [o for items in kubernetes_objects(nested).values() for o in items]
    return {"templates": templates, "objects": objects, "dir": out}


def _objects(out, kind):
    return {o["metadata"]["name"]: o for o in out["objects"] if o["kind"] == kind}


def _policy_of(template, role_id):
    [policy] = [p["Properties"] for p in resources(template, "AWS::IAM::Policy").values() if {"Ref": role_id} in p["Properties"]["Roles"]]
    return policy["PolicyDocument"]["Statement"]


def test_each_route_admits_only_the_teams_that_list_its_model(out):
    policies = _objects(out, "SecurityPolicy")
    # The Gateway's own key check on the catch-alls, then one per model's rule (tests/infra/test_gateway_request_path.py).
    assert set(policies) == {"llm-gateway", "llama-8b", "bedrock-claude-haiku"}
    for route, teams in (("llama-8b", ["search", "support"]), ("bedrock-claude-haiku", ["support"])):
        spec = policies[route]["spec"]
        assert spec["targetRefs"] == [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": route, "sectionName": "model"}]
        auth = spec["apiKeyAuth"]
        assert auth["credentialRefs"] == [{"group": "", "kind": "Secret", "name": API_KEYS_SECRET}]
        # The key is checked, stripped, and replaced by the team's name, which the authorization then reads.
        assert (auth["forwardClientIDHeader"], auth["sanitize"]) == ("x-team-id", True)
        assert spec["authorization"]["defaultAction"] == "Deny"
        [rule] = spec["authorization"]["rules"]
        # Each team's current key and, during a rotation's grace period, its previous one (scripts/team_keys.py).
        assert rule["principal"]["headers"] == [{"name": "x-team-id", "values": [i for t in teams for i in (t, f"{t}.previous")]}]


def test_token_budgets_are_counted_per_team_from_the_response(out):
    policy = _objects(out, "BackendTrafficPolicy")["llm-gateway"]
    rules = policy["spec"]["rateLimit"]["global"]["rules"]
    budgets = {(r["clientSelectors"][0]["headers"][0]["value"], r["limit"]["unit"]): r["limit"]["requests"] for r in rules}
    assert budgets == {
        (r"^search(\.previous)?$", "Minute"): 200000,
        (r"^search(\.previous)?$", "Day"): 50000000,
        (r"^support(\.previous)?$", "Minute"): 50000,
        (r"^support(\.previous)?$", "Day"): 10000000,
    }
    for rule in rules:
        # One budget for both of a team's keys during a rotation (a RegularExpression match is one descriptor in
        # Envoy Gateway v1.8.3, not one per value), and no other team's id matches it.
        [header] = rule["clientSelectors"][0]["headers"]
        assert header["type"] == "RegularExpression"
        team = header["value"][1:].split("(")[0]
        assert re.fullmatch(header["value"], team) and re.fullmatch(header["value"], f"{team}.previous")
        assert not re.fullmatch(header["value"], f"{team}x") and not re.fullmatch(header["value"], f"{team}.previousx")
    for rule in rules:
        assert rule["shared"] is True
        assert rule["cost"]["request"] == {"from": "Number", "number": 0}
        assert rule["cost"]["response"] == {"from": "Metadata", "metadata": {"namespace": "io.envoy.ai_gateway", "key": "llm_total_token"}}
    # Every route counts the tokens the rate limits read.
    for route in _objects(out, "AIGatewayRoute").values():
        assert {"metadataKey": "llm_total_token", "type": "TotalToken"} in route["spec"]["llmRequestCosts"]


def test_the_local_model_falls_back_to_bedrock_by_priority(out):
    route = _objects(out, "AIGatewayRoute")["llama-8b"]
    [rule] = route["spec"]["rules"]
    assert rule["backendRefs"] == [
        {"name": "llama-8b-local", "priority": 0},
        {"name": "bedrock-claude-haiku", "priority": 1, "modelNameOverride": HAIKU},
    ]
    backend = _objects(out, "Backend")["llama-8b-local"]
    assert backend["spec"]["endpoints"] == [{"fqdn": {"hostname": "llama-8b.inference.svc.cluster.local", "port": 8000}}]
    retry = _objects(out, "BackendTrafficPolicy")["llama-8b"]["spec"]["retry"]
    assert retry["numAttemptsPerPriority"] == 1 and 429 in retry["retryOn"]["httpStatusCodes"]
    # The workload's Service stays reachable: the route goes there, not through a pool.
    assert "llama-8b" not in _objects(out, "InferencePool")


def test_bedrock_is_signed_with_the_proxies_role_scoped_to_the_listed_model(out):
    cluster = out["templates"]["llm-teams-cluster"]
    [association] = [
        a["Properties"]
        for a in resources(cluster, "AWS::EKS::PodIdentityAssociation").values()
        if a["Properties"]["ServiceAccount"] == "llm-gateway-envoy"
    ]
    assert association["Namespace"] == "envoy-gateway-system"
    [statement] = _policy_of(cluster, association["RoleArn"]["Fn::GetAtt"][0])
    assert statement["Action"] == ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
    assert helm_values(statement["Resource"]) == f"arn:<token>:bedrock:us-west-2::foundation-model/{HAIKU}"
    signing = _objects(out, "BackendSecurityPolicy")["bedrock-claude-haiku"]["spec"]
    assert signing == {
        "targetRefs": [{"group": "aigateway.envoyproxy.io", "kind": "AIServiceBackend", "name": "bedrock-claude-haiku"}],
        "type": "AWSCredentials",
        "awsCredentials": {"region": "us-west-2"},
    }
    proxy = _objects(out, "EnvoyProxy")["llm-gateway"]["spec"]["provider"]["kubernetes"]
    assert proxy["envoyServiceAccount"] == {"name": "llm-gateway-envoy"}
    [gateway] = _objects(out, "Gateway").values()
    assert gateway["spec"]["infrastructure"]["parametersRef"] == {
        "group": "gateway.envoyproxy.io",
        "kind": "EnvoyProxy",
        "name": "llm-gateway",
    }


def test_the_audit_log_goes_to_a_retained_log_group_with_the_configured_retention(out):
    cluster = out["templates"]["llm-teams-cluster"]
    [(group_id, group)] = [(k, v) for k, v in resources(cluster, "AWS::Logs::LogGroup").items() if "GatewayAudit" in k]
    assert group["Properties"]["RetentionInDays"] == 365 and group["DeletionPolicy"] == "Retain"
    assert helm_values(group["Properties"]["LogGroupName"]) == "/llm-kit/llm-teams/gateway-audit-<token>"
    # The kit's own DaemonSet (not the aws-for-fluent-bit chart, whose ClusterRole grants nodes/proxy).
    assert "aws-for-fluent-bit" not in helm_charts(cluster)
    [config] = [
        o
        for items in kubernetes_objects(cluster).values()
        for o in items
        if o["kind"] == "ConfigMap" and o["metadata"]["namespace"] == "gateway-audit"
    ]
    conf = config["data"]["fluent-bit.conf"]
    assert "log_group_name <token>" in conf
    assert "auto_create_group Off" in conf and "Path /var/log/containers/envoy-inference-llm-gateway-" in conf
    [association] = [
        a["Properties"]
        for a in resources(cluster, "AWS::EKS::PodIdentityAssociation").values()
        if a["Properties"]["ServiceAccount"] == "gateway-audit-shipper"
    ]
    [statement] = _policy_of(cluster, association["RoleArn"]["Fn::GetAtt"][0])
    assert statement["Resource"] == {"Fn::GetAtt": [group_id, "Arn"]}
    assert sorted(statement["Action"]) == ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"]


def test_the_access_log_records_usage_and_never_bodies(out):
    proxy = _objects(out, "EnvoyProxy")["llm-gateway"]["spec"]
    assert proxy["provider"]["kubernetes"]["envoyDeployment"]["pod"]["nodeSelector"] == {"llm-kit/pool": "system"}
    [setting] = proxy["telemetry"]["accessLog"]["settings"]
    fields = setting["format"]["json"]
    assert {"team", "model", "input_tokens", "output_tokens", "status", "duration_ms"} <= set(fields)
    assert "path" not in fields  # audit.log_paths is off in the example
    text = json.dumps(fields)
    assert "BODY" not in text.upper() and "x-team-id".upper() in text


def test_showback_rules_are_loaded_beside_the_alerts(out):
    cluster = out["templates"]["llm-teams-cluster"]
    namespaces = {r["Properties"]["Name"]: r["Properties"]["Data"] for r in resources(cluster, "AWS::APS::RuleGroupsNamespace").values()}
    assert set(namespaces) == {"llm-teams", "llm-teams-showback"}
    showback = yaml.safe_load(namespaces["llm-teams-showback"])["groups"][0]["rules"]
    costs = {(r["labels"]["model"], r["labels"]["source"]) for r in showback if r.get("record") == "llm_kit:team_cost_usd_per_hour"}
    assert costs == {("claude-haiku", "bedrock"), ("llama-8b", "gpu")}
    assert sorted(r["labels"]["team_id"] for r in showback if r.get("alert") == "TeamNearDailyTokenBudget") == ["search", "support"]


def test_no_api_key_is_written_anywhere(out):
    """Keys exist only in the cluster's Secret, written by scripts/team_keys.py: no output names one or holds it."""
    texts = [path.read_text() for path in out["dir"].rglob("*.json")]
    texts += [json.dumps(objects) for objects in render_workloads(KIT.load(EXAMPLE)).values()]
    for text in texts:
        assert "lk_" not in text
    secrets = [o for o in out["objects"] if o["kind"] == "Secret"]
    assert secrets == []
