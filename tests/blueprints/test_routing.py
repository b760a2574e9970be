"""The request path: routes by model name, InferencePools that reach their pods, the endpoint picker, KEDA."""

from pathlib import Path

import pytest
import yaml

from assembly.app import render_workloads
from assembly.kit import KIT
from blueprints.common.routing import pool_reaches
from core.isolation import gateway_proxy_peer
from tests.blueprints.conftest import by_kind
from tests.helpers import assert_rejected, write_config

EXAMPLE = Path("config/examples/gateway-two-models.yaml")
HF = {"type": "hf", "repo_id": "org/model"}


@pytest.fixture(scope="module")
def example():
    return render_workloads(KIT.load(EXAMPLE))


def _named(objects, kind):
    return {obj["metadata"]["name"]: obj for obj in objects if obj["kind"] == kind}


def test_each_model_has_its_route_matched_on_its_name_and_its_pool(example):
    for name, objects in example.items():
        [route] = _named(objects, "AIGatewayRoute").values()
        [rule] = route["spec"]["rules"]
        assert rule["matches"] == [{"headers": [{"type": "Exact", "name": "x-ai-eg-model", "value": name}]}]
        assert rule["backendRefs"] == [{"group": "inference.networking.k8s.io", "kind": "InferencePool", "name": name}]
        assert route["spec"]["parentRefs"][0]["name"] == "llm-gateway"


def test_every_pool_reaches_the_serving_pods_and_its_picker(example):
    for name, objects in example.items():
        pool = _named(objects, "InferencePool")[name]
        server = _named(objects, "Deployment")[name]["spec"]["template"]
        assert pool_reaches(pool, [server]) == []
        picker_service = _named(objects, "Service")[f"{name}-epp"]
        ref = pool["spec"]["endpointPickerRef"]
        assert (ref["name"], ref["port"]["number"]) == (picker_service["metadata"]["name"], 9002)
        assert 9002 in [port["port"] for port in picker_service["spec"]["ports"]]
        # The picker is no replica: the pool's selector does not pick it.
        picker_pod = _named(objects, "Deployment")[f"{name}-epp"]["spec"]["template"]
        assert pool["spec"]["selector"]["matchLabels"].items() - picker_pod["metadata"]["labels"].items()


def test_a_pool_that_misses_its_pods_is_caught():
    pool = {"metadata": {"name": "p"}, "spec": {"selector": {"matchLabels": {"app": "x"}}, "targetPorts": [{"number": 8000}]}}
    pod = {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "c", "ports": [{"containerPort": 9000}]}]}}
    assert pool_reaches(pool, [pod]) == ["InferencePool p: target ports [8000] not all served by the picked pods (they expose [9000])"]
    assert "picks no pod" in pool_reaches(pool, [{"metadata": {"labels": {"app": "y"}}, "spec": {"containers": []}}])[0]


def test_the_picker_scores_with_the_configured_weights(example):
    config = yaml.safe_load(_named(example["llama-8b"], "ConfigMap")["llama-8b-epp"]["data"]["config.yaml"])
    assert config["kind"] == "EndpointPickerConfig"
    [profile] = config["schedulingProfiles"]
    assert {p["pluginRef"]: p["weight"] for p in profile["plugins"]} == {
        "queue-scorer": 2,
        "kv-cache-utilization-scorer": 2,
        "prefix-cache-scorer": 3,
    }
    args = _named(example["llama-8b"], "Deployment")["llama-8b-epp"]["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[args.index("--pool-name") + 1] == "llama-8b" and args[args.index("--pool-namespace") + 1] == "inference"
    assert "--secure-serving=true" in args


def test_a_zero_weight_leaves_its_scorer_out(render):
    workload = {
        "name": "chat",
        "blueprint": "vllm",
        "node_pool": "gpu-l40s",
        "model": HF,
        "routing": {"endpoint_picker": {"kv_cache_weight": 0}},
    }
    objects = render({"workloads": [workload]})["chat"]
    config = yaml.safe_load(_named(objects, "ConfigMap")["chat-epp"]["data"]["config.yaml"])
    assert [p["pluginRef"] for p in config["schedulingProfiles"][0]["plugins"]] == ["queue-scorer", "prefix-cache-scorer"]
    assert "kv-cache-utilization-scorer" not in {p["type"] for p in config["plugins"]}


def test_the_gateway_proxies_and_only_they_reach_the_picker_and_the_servers(example):
    objects = example["llama-8b"]
    policies = _named(objects, "NetworkPolicy")
    # The proxy pods of the kit's Gateway, by Envoy Gateway's labels (tests/blueprints/test_isolation.py spells them
    # out); not every pod of their namespace, where the rate limiter and the Redis run too.
    proxies = gateway_proxy_peer("inference")
    assert proxies["podSelector"]["matchLabels"]["gateway.envoyproxy.io/owning-gateway-name"] == "llm-gateway"
    assert proxies in policies["llama-8b"]["spec"]["ingress"][0]["from"]
    assert {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "envoy-gateway-system"}}} not in policies["llama-8b"][
        "spec"
    ]["ingress"][0]["from"]
    picker = policies["llama-8b-epp"]["spec"]
    assert picker["ingress"][0] == {"from": [proxies], "ports": [{"protocol": "TCP", "port": 9002}]}
    assert {
        "to": [{"podSelector": {"matchLabels": {"llm-kit/workload": "llama-8b"}}}],
        "ports": [{"protocol": "TCP", "port": 8000}],
    } in picker["egress"]


def test_multinode_pools_pick_the_leaders_and_keda_scales_groups(render):
    workload = {
        "name": "big",
        "blueprint": "vllm-multinode",
        "node_pool": "gpu-h100-efa",
        "model": HF,
        "nodes": 2,
        "tensor_parallel_size": 8,
        "efa": False,
        "routing": {},
        "autoscaling": {"min_replicas": 1, "max_replicas": 3},
    }
    objects = render({"workloads": [workload]})["big"]
    kinds = by_kind(objects)
    group = kinds["LeaderWorkerSet"]["spec"]["leaderWorkerTemplate"]
    pool = kinds["InferencePool"]
    assert pool_reaches(pool, [group["leaderTemplate"]]) == []
    assert pool_reaches(pool, [group["workerTemplate"]]) != []
    assert "replicas" not in kinds["LeaderWorkerSet"]["spec"]
    target = kinds["ScaledObject"]["spec"]["scaleTargetRef"]
    assert target == {"apiVersion": "leaderworkerset.x-k8s.io/v1", "kind": "LeaderWorkerSet", "name": "big-group"}
    # One isolation policy per group the autoscaler may create.
    assert {name for name in _named(objects, "NetworkPolicy") if "-group-" in name} == {"big-group-0", "big-group-1", "big-group-2"}


ROUTED = {"name": "chat", "blueprint": "vllm", "node_pool": "gpu-l40s", "model": HF}


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"autoscaling": {"min_replicas": 0}},
            ["workloads[0].autoscaling.min_replicas", "scale to zero would drop requests", "fix: set min_replicas: 1"],
        ),
        ({"autoscaling": {}, "replicas": 3}, ["workloads[0].replicas", "autoscaling owns the replica count"]),
        ({"routing": {"endpoint_picker": None}}, ["workloads[0].routing.endpoint_picker", "needs its endpoint picker"]),
        (
            {"routing": {}, "enable_prefix_caching": False},
            ["workloads[0].routing.endpoint_picker.prefix_cache_weight", "enable_prefix_caching is false"],
        ),
        (
            {"routing": {"endpoint_picker": {"prefix_cache_weight": 0, "kv_cache_weight": 0, "queue_weight": 0}}},
            ["every scorer weight is 0"],
        ),
        ({"autoscaling": {"signal": "kv_cache_usage", "target": 70}}, ["target must be below 1"]),
    ],
    ids=[
        "scale-to-zero",
        "replicas-beside-autoscaling",
        "gateway-without-picker",
        "prefix-weight-without-prefix-cache",
        "all-weights-zero",
        "kv-target-as-percent",
    ],
)
def test_request_path_mistakes_are_explained(tmp_path, overrides, expected):
    assert_rejected(tmp_path, {"workloads": [{**ROUTED, **overrides}]}, expected)


def test_autoscaling_without_a_promql_backend_is_refused(tmp_path):
    assert_rejected(
        tmp_path,
        {"workloads": [{**ROUTED, "autoscaling": {}}], "observability": {"metrics": "cloudwatch"}},
        [
            "workloads[0].autoscaling",
            "observability.metrics 'cloudwatch' serves none",
            "fix: set observability.metrics to amp or in-cluster",
        ],
    )


CERT = "arn:aws:acm:us-west-2:111122223333:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"


@pytest.mark.parametrize(
    ("gateway", "expected"),
    [
        ({"scheme": "internet-facing"}, ["gateway.source_cidrs", "gateway.certificate_arn", "serves only TLS"]),
        (
            {"scheme": "internet-facing", "certificate_arn": CERT, "source_cidrs": ["0.0.0.0/0"]},
            ["gateway.source_cidrs[0]", "every address on the internet", "CloudFront"],
        ),
        ({"certificate_arn": CERT.replace("us-west-2", "eu-west-1")}, ["gateway.certificate_arn", "the certificate is in eu-west-1"]),
    ],
    ids=["public-without-cidrs-or-tls", "public-to-everyone", "certificate-in-another-region"],
)
def test_gateway_exposure_mistakes_are_explained(tmp_path, gateway, expected):
    assert_rejected(tmp_path, {"gateway": gateway}, expected)


def test_the_default_config_asks_for_no_gateway_and_no_autoscaler(tmp_path):
    requirements = KIT.requirements(KIT.load(write_config(tmp_path)))
    assert not requirements.gateway and not requirements.crd_bundles and not requirements.metrics_readers
    assert not {c.name for c in requirements.controllers} & {"envoy-gateway", "ai-gateway", "keda"}
