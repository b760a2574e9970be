"""LoRA adapters and rollouts as the kit renders them: vLLM's arguments, the adapters' copy from S3, the gateway's
rules and teams, the endpoint picker's adapter affinity, and a rollout's weighted split."""

from __future__ import annotations

import hashlib
import json

import boto3
import pytest
import yaml
from moto import mock_aws

from assembly.app import render_workloads
from assembly.kit import KIT
from blueprints.common import lora_sync
from core.routing import MAX_RULES, MODEL_HEADER
from tests.helpers import write_config

L8 = {"type": "s3", "uri": "s3://{bucket}/models/meta-llama/Llama-3.1-8B-Instruct/"}
CERT = "arn:aws:acm:us-west-2:111122223333:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
BUCKET = "llm-kit-models-{account}-us-west-2"


def _vllm(name: str, **fields) -> dict:
    return {
        "name": name,
        "blueprint": "vllm",
        "node_pool": "gpu-l40s",
        "instance_type": "g6e.2xlarge",
        "model": L8,
        "max_model_len": 8192,
        "routing": {},
        **fields,
    }


ADAPTERS = {
    "adapters": [
        {"name": "support-bot", "uri": "s3://{bucket}/models/adapters/support-bot/", "rank": 16},
        {"name": "contract-review", "uri": "s3://{bucket}/models/adapters/contract-review/", "rank": 64},
    ]
}


def render(tmp_path, overrides: dict) -> dict[str, list[dict]]:
    return render_workloads(KIT.load(write_config(tmp_path, overrides)))


def of(objects: list[dict], kind: str, name: str | None = None) -> list[dict]:
    return [obj for obj in objects if obj["kind"] == kind and (name is None or obj["metadata"]["name"] == name)]


def pod(objects: list[dict]) -> dict:
    (deployment,) = [
        obj for obj in of(objects, "Deployment") if "vllm" in [c["name"] for c in obj["spec"]["template"]["spec"]["containers"]]
    ]
    return deployment["spec"]["template"]["spec"]


def test_vllm_gets_every_adapter_by_name_before_extra_args(tmp_path):
    objects = render(tmp_path, {"workloads": [_vllm("chat", lora=ADAPTERS, extra_args=["--max-num-seqs", "64"])]})["chat"]
    args = pod(objects)["containers"][0]["args"]
    start = args.index("--enable-lora")
    assert args[start:] == [
        "--enable-lora", "--max-loras", "2", "--max-lora-rank", "64", "--max-cpu-loras", "2",
        "--lora-modules", "support-bot=/adapters/support-bot", "contract-review=/adapters/contract-review",
        "--max-num-seqs", "64",
    ]  # fmt: skip


def test_an_init_container_copies_the_adapters_from_the_kits_bucket(tmp_path):
    objects = render(tmp_path, {"workloads": [_vllm("chat", lora=ADAPTERS)]})["chat"]
    spec = pod(objects)
    (init,) = spec["initContainers"]
    server = spec["containers"][0]
    assert init["image"] == server["image"] and init["securityContext"] == server["securityContext"]
    env = {item["name"]: item["value"] for item in init["env"]}
    assert json.loads(env["ADAPTERS"]) == [
        {"name": "support-bot", "bucket": BUCKET, "prefix": "models/adapters/support-bot/"},
        {"name": "contract-review", "bucket": BUCKET, "prefix": "models/adapters/contract-review/"},
    ]
    assert env["TARGET"] == "/adapters" and env["AWS_REGION"] == "us-west-2"
    volumes = {volume["name"]: volume for volume in spec["volumes"]}
    assert volumes["lora-adapters"] == {"name": "lora-adapters", "emptyDir": {}}
    (program,) = of(objects, "ConfigMap", volumes["lora-sync"]["configMap"]["name"])
    assert program["data"]["lora_sync.py"] == lora_sync.__loader__.get_source(lora_sync.__name__)
    assert {"name": "lora-adapters", "mountPath": "/adapters", "readOnly": True} in server["volumeMounts"]
    assert "nvidia.com/gpu" not in json.dumps(init["resources"])


def test_adapters_from_s3_open_https_even_for_a_model_on_fsx(tmp_path):
    fsx = {"type": "fsx", "sub_path": "models/meta-llama/Llama-3.1-8B-Instruct"}
    overrides = {"storage": {"fsx": {"enabled": True}}, "workloads": [_vllm("chat", model=fsx, lora=ADAPTERS)]}
    (policy,) = [
        p
        for p in of(render(tmp_path, overrides)["chat"], "NetworkPolicy")
        if p["spec"]["podSelector"]["matchLabels"].get("llm-kit/workload") == "chat"
    ]
    assert any(port["port"] == 443 for rule in policy["spec"]["egress"] for port in rule.get("ports", []))


def _route_rules_valid(route: dict) -> None:
    """The AIGatewayRoute CRD's own rules (aigateway.envoyproxy.io_aigatewayroutes.yaml, v1.1.0): at most 15 rules,
    unique names, never route-not-found; one InferencePool alone in a rule, never mixed with AIServiceBackends."""
    rules = route["spec"]["rules"]
    names = [rule["name"] for rule in rules]
    assert len(rules) <= MAX_RULES and len(set(names)) == len(names) and "route-not-found" not in names
    for rule in rules:
        pools = [ref for ref in rule["backendRefs"] if ref.get("kind") == "InferencePool"]
        assert not pools or len(rule["backendRefs"]) == 1


def test_each_adapter_is_a_model_name_with_its_own_teams(tmp_path):
    teams = [
        {"name": "support", "models": ["chat", "support-bot"]},
        {"name": "legal", "models": ["chat", "contract-review"]},
        {"name": "ops", "models": ["support-bot"]},
    ]
    objects = render(tmp_path, {"gateway": {"certificate_arn": CERT, "teams": teams}, "workloads": [_vllm("chat", lora=ADAPTERS)]})["chat"]
    (route,) = of(objects, "AIGatewayRoute")
    _route_rules_valid(route)
    served = {rule["name"]: [match["headers"][0]["value"] for match in rule["matches"]] for rule in route["spec"]["rules"]}
    assert served == {"model": ["chat"], "model-2": ["support-bot"], "model-3": ["contract-review"]}
    assert all(match["headers"][0]["name"] == MODEL_HEADER for rule in route["spec"]["rules"] for match in rule["matches"])
    allowed = {}
    for policy in of(objects, "SecurityPolicy"):
        (target,) = policy["spec"]["targetRefs"]
        assert target["name"] == "chat" and target["kind"] == "HTTPRoute"
        allowed[target["sectionName"]] = sorted(
            v for rule in policy["spec"]["authorization"]["rules"] for v in rule["principal"]["headers"][0]["values"] if "." not in v
        )
    assert allowed == {"model": ["legal", "support"], "model-2": ["ops", "support"], "model-3": ["legal"]}


def test_names_with_the_same_teams_share_a_rule_and_without_teams_one_rule_serves_all(tmp_path):
    teams = [{"name": "all", "models": ["chat", "support-bot", "contract-review"]}]
    objects = render(tmp_path, {"gateway": {"certificate_arn": CERT, "teams": teams}, "workloads": [_vllm("chat", lora=ADAPTERS)]})["chat"]
    (route,) = of(objects, "AIGatewayRoute")
    assert [[m["headers"][0]["value"] for m in rule["matches"]] for rule in route["spec"]["rules"]] == [
        ["chat", "support-bot", "contract-review"]
    ]
    (route,) = of(render(tmp_path, {"workloads": [_vllm("chat", lora=ADAPTERS)]})["chat"], "AIGatewayRoute")
    assert len(route["spec"]["rules"]) == 1 and len(route["spec"]["rules"][0]["matches"]) == 3


def _picker(objects: list[dict]) -> dict:
    (config,) = [obj for obj in of(objects, "ConfigMap") if obj["metadata"]["name"].endswith("-epp")]
    return yaml.safe_load(config["data"]["config.yaml"])


@pytest.mark.parametrize(
    ("lora", "weight"), [(ADAPTERS, 2), ({**ADAPTERS, "affinity_weight": 5}, 5), ({**ADAPTERS, "affinity_weight": 0}, None), (None, None)]
)
def test_the_endpoint_picker_prefers_replicas_with_the_adapter_loaded(tmp_path, lora, weight):
    objects = render(tmp_path, {"workloads": [_vllm("chat", **({"lora": lora} if lora else {}))]})["chat"]
    config = _picker(objects)
    weights = {entry["pluginRef"]: entry["weight"] for entry in config["schedulingProfiles"][0]["plugins"]}
    types = [plugin["type"] for plugin in config["plugins"]]
    # llm-d-router v0.10.0 registers lora-affinity-scorer (cmd/epp/runner/runner.go); it reads vllm:lora_requests_info
    # through the core-metrics-extractor the config already has.
    assert weights.get("lora-affinity-scorer") == weight and ("lora-affinity-scorer" in types) == (weight is not None)
    assert "core-metrics-extractor" in types


def test_a_rollout_splits_the_model_name_between_both_services_by_weight(tmp_path):
    overrides = {"workloads": [_vllm("chat", rollout={"next": "chat-v2", "weight": 10}), _vllm("chat-v2", served_model_name="chat-next")]}
    rendered = render(tmp_path, overrides)
    objects = rendered["chat"]
    (route,) = of(objects, "AIGatewayRoute")
    _route_rules_valid(route)
    (rule,) = route["spec"]["rules"]
    assert rule["matches"][0]["headers"][0]["value"] == "chat"
    assert rule["backendRefs"] == [
        {"name": "chat-local", "weight": 90, "priority": 0},
        {"name": "chat-next", "weight": 10, "priority": 0, "modelNameOverride": "chat-next"},
    ]
    backends = {obj["metadata"]["name"]: obj["spec"] for obj in of(objects, "Backend")}
    assert backends["chat-local"]["endpoints"][0]["fqdn"] == {"hostname": "chat.inference.svc.cluster.local", "port": 8000}
    assert backends["chat-next"]["endpoints"][0]["fqdn"] == {"hostname": "chat-v2.inference.svc.cluster.local", "port": 8000}
    ai = {obj["metadata"]["name"]: obj["spec"]["backendRef"]["name"] for obj in of(objects, "AIServiceBackend")}
    assert ai == {"chat-local": "chat-local", "chat-next": "chat-next"}
    assert not of(objects, "InferencePool")  # no rule routes to it while the split runs
    (own,) = of(rendered["chat-v2"], "AIGatewayRoute")  # the next version keeps its own name, behind its picker
    assert own["spec"]["rules"][0]["backendRefs"] == [{"group": "inference.networking.k8s.io", "kind": "InferencePool", "name": "chat-v2"}]


def test_weight_zero_leaves_the_route_alone_and_a_fallback_stays_last(tmp_path):
    idle = render(tmp_path, {"workloads": [_vllm("chat", rollout={"next": "chat-v2", "weight": 0}), _vllm("chat-v2")]})["chat"]
    (route,) = of(idle, "AIGatewayRoute")
    assert route["spec"]["rules"][0]["backendRefs"][0]["kind"] == "InferencePool"
    bedrock = {
        "bedrock": [
            {
                "name": "haiku",
                "model_id": "anthropic.claude-3-5-haiku-20241022-v1:0",
                "input_usd_per_million": 0.8,
                "output_usd_per_million": 4.0,
            }
        ]
    }
    routing = {"endpoint_picker": None, "fallback": "haiku"}
    split = render(
        tmp_path,
        {"gateway": bedrock, "workloads": [_vllm("chat", routing=routing, rollout={"next": "chat-v2", "weight": 50}), _vllm("chat-v2")]},
    )["chat"]
    (route,) = of(split, "AIGatewayRoute")
    refs = route["spec"]["rules"][0]["backendRefs"]
    assert [(ref["name"], ref.get("weight"), ref["priority"]) for ref in refs] == [
        ("chat-local", 50, 0),
        ("chat-next", 50, 0),
        ("bedrock-haiku", None, 1),
    ]
    assert of(split, "BackendTrafficPolicy", "chat")


def _stage(s3, bucket: str, prefix: str, files: dict[str, bytes], sha: dict[str, str] | None = None) -> None:
    for rel, body in files.items():
        digest = (sha or {}).get(rel, hashlib.sha256(body).hexdigest())
        s3.put_object(Bucket=bucket, Key=prefix + rel, Body=body, Metadata={"sha256": digest})


def test_the_init_program_copies_checks_and_refuses(tmp_path, monkeypatch):
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="adapters-bucket")
        _stage(
            s3,
            "adapters-bucket",
            "models/adapters/ok/",
            {"adapter_config.json": b'{"peft_type": "LORA", "r": 8}', "adapter_model.safetensors": b"\0" * 64, ".kit-manifest.json": b"{}"},
        )
        _stage(
            s3,
            "adapters-bucket",
            "models/adapters/bad/",
            {"adapter_config.json": b"{}", "adapter_model.safetensors": b"\1" * 8},
            sha={"adapter_model.safetensors": "0" * 64},
        )
        _stage(s3, "adapters-bucket", "models/adapters/empty/", {"README.md": b"no adapter"})
        target = tmp_path / "adapters"
        assert lora_sync.sync(s3, {"name": "ok", "bucket": "adapters-bucket", "prefix": "models/adapters/ok/"}, str(target)) == []
        assert sorted(p.name for p in (target / "ok").iterdir()) == ["adapter_config.json", "adapter_model.safetensors"]
        assert (
            "does not match the SHA-256"
            in lora_sync.sync(s3, {"name": "bad", "bucket": "adapters-bucket", "prefix": "models/adapters/bad/"}, str(target))[0]
        )
        assert (
            "holds no adapter_config.json"
            in lora_sync.sync(s3, {"name": "empty", "bucket": "adapters-bucket", "prefix": "models/adapters/empty/"}, str(target))[0]
        )
