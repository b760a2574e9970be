"""Pod security and network isolation of the workloads, read back from what every shipped config renders."""

from pathlib import Path

import pytest

from assembly.app import render_workloads
from assembly.kit import KIT
from core.isolation import WorkloadTraffic
from tests.blueprints.conftest import by_kind
from tests.helpers import DEFAULT_CONFIG, pools_with, write_config
from tests.infra.netpol import Endpoint, Policies

EXAMPLES = sorted(Path("config/examples").glob("*.yaml"))
RESTRICTED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"}
SCRAPER = [{"ipBlock": {"cidr": "10.0.130.0/28"}}, {"ipBlock": {"cidr": "10.0.130.16/28"}}]
# Out of the VPC and out of the Service range EKS picks for a VPC in 10.0.0.0/8 (the `kubernetes` Service is there).
OUT_OF_VPC = {"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/16", "172.20.0.0/16"]}}


def pod_specs(obj: dict) -> list[dict]:
    """Every pod spec the object will create, by kind."""
    spec = obj.get("spec", {})
    if obj["kind"] in ("Deployment", "Job"):
        return [spec["template"]["spec"]]
    if obj["kind"] == "LeaderWorkerSet":
        group = spec["leaderWorkerTemplate"]
        return [group["leaderTemplate"]["spec"], group["workerTemplate"]["spec"]]
    if obj["kind"] == "DynamoGraphDeployment":
        return [component["podTemplate"]["spec"] for component in spec["components"]]
    if obj["kind"] == "RayService":
        cluster = spec["rayClusterConfig"]
        return [cluster["headGroupSpec"]["template"]["spec"], *(group["template"]["spec"] for group in cluster["workerGroupSpecs"])]
    return []


def restricted_violations(pod: dict) -> list[str]:
    """The restricted Pod Security Standard's checks (Kubernetes 1.35) that a pod spec fails."""
    found = []
    pod_context = pod.get("securityContext", {})
    if pod.get("hostNetwork") or pod.get("hostPID") or pod.get("hostIPC"):
        found.append("host namespaces")
    for volume in pod.get("volumes", []):
        kinds = set(volume) - {"name"}
        if not kinds <= RESTRICTED_VOLUMES:
            found.append(f"volume {volume['name']}: {kinds}")
    for container in [*pod.get("initContainers", []), *pod["containers"]]:
        context = {**pod_context, **container.get("securityContext", {})}
        name = container["name"]
        if context.get("privileged"):
            found.append(f"{name}: privileged")
        if context.get("allowPrivilegeEscalation") is not False:
            found.append(f"{name}: allowPrivilegeEscalation not false")
        if context.get("runAsNonRoot") is not True or context.get("runAsUser") == 0:
            found.append(f"{name}: may run as root")
        capabilities = context.get("capabilities", {})
        if capabilities.get("drop") != ["ALL"] or set(capabilities.get("add", [])) - {"NET_BIND_SERVICE"}:
            found.append(f"{name}: capabilities {capabilities}")
        if context.get("seccompProfile", {}).get("type") not in ("RuntimeDefault", "Localhost"):
            found.append(f"{name}: no seccomp profile")
        if any(port.get("hostPort") for port in container.get("ports", [])):
            found.append(f"{name}: host port")
    return found


@pytest.mark.parametrize("path", [DEFAULT_CONFIG, *EXAMPLES], ids=lambda p: Path(p).stem)
def test_every_pod_the_kit_writes_meets_the_restricted_standard(path):
    rendered = render_workloads(KIT.load(path))
    pods = [(name, pod) for name, objects in rendered.items() for obj in objects for pod in pod_specs(obj)]
    assert len({name for name, _ in pods}) == len(rendered)  # every workload has pods, and each was checked
    assert {name: restricted_violations(pod) for name, pod in pods if restricted_violations(pod)} == {}


@pytest.mark.parametrize("path", [DEFAULT_CONFIG, *EXAMPLES], ids=lambda p: Path(p).stem)
def test_every_workload_has_its_policy_and_every_group_its_own(path):
    config = KIT.load(path)
    for name, objects in render_workloads(config).items():
        policies = {obj["metadata"]["name"]: obj["spec"] for obj in objects if obj["kind"] == "NetworkPolicy"}
        assert policies[name]["podSelector"] == {"matchLabels": {"llm-kit/workload": name}}
        assert policies[name]["policyTypes"] == ["Ingress", "Egress"]
        for group_name, spec in policies.items():
            if group_name.startswith(f"{name}-group-"):
                members = [{"podSelector": spec["podSelector"]}]
                assert spec["ingress"] == [{"from": members}] and spec["egress"] == [{"to": members}]


def _policies(render, workload: dict, overrides: dict | None = None) -> dict[str, dict]:
    objects = render({"workloads": [workload], **(overrides or {})})[workload["name"]]
    return {obj["metadata"]["name"]: obj["spec"] for obj in objects if obj["kind"] == "NetworkPolicy"}


HF_VLLM = {"name": "chat", "blueprint": "vllm", "node_pool": "gpu-l40s", "model": {"type": "hf", "repo_id": "org/model"}}
FSX_VLLM = {**HF_VLLM, "model": {"type": "fsx", "sub_path": "org/model"}}


def test_a_server_off_the_gateway_admits_only_the_scraper_and_reaches_only_the_hub(render):
    # No `podSelector: {}`: a pod of the workloads namespace gets no way around the gateway's keys and budgets.
    policy = _policies(render, HF_VLLM)["chat"]
    assert policy["ingress"] == [{"from": SCRAPER, "ports": [{"protocol": "TCP", "port": 8000}]}]
    assert policy["egress"] == [{"to": [OUT_OF_VPC], "ports": [{"protocol": "TCP", "port": 443}]}]


def test_outside_10_8_the_service_range_eks_picks_is_left_out_instead(render):
    # EKS takes 10.100.0.0/16 for the Services of a VPC outside 10.0.0.0/8; the `kubernetes` Service is 10.100.0.1.
    policy = _policies(render, HF_VLLM, {"network": {"vpc_cidr": "192.168.0.0/16"}})["chat"]
    assert policy["egress"] == [
        {
            "to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["192.168.0.0/16", "10.100.0.0/16"]}}],
            "ports": [{"protocol": "TCP", "port": 443}],
        }
    ]


def test_a_server_reaches_neither_the_api_service_nor_the_endpoint_but_the_hub(render):
    objects = render({"workloads": [HF_VLLM]})["chat"]
    policies = Policies([*objects, {"kind": "Namespace", "metadata": {"name": "inference"}}])
    server = Endpoint("server", "10.0.0.10", "inference", {"llm-kit/workload": "chat"})
    allowed = {
        name: all(policies.allows(server, Endpoint(name, address), 443))
        for name, address in {
            "kubernetes Service": "172.20.0.1",
            "another Service": "172.20.14.7",
            "API endpoint ENI": "10.0.130.5",
            "the hub": "52.94.133.131",
        }.items()
    }
    assert allowed == {"kubernetes Service": False, "another Service": False, "API endpoint ENI": False, "the hub": True}


EXISTING_VPC = {
    "vpc_id": "vpc-0123456789abcdef0",
    "cidr": "10.20.0.0/16",
    "node_subnet_ids": ["subnet-0aaaaaaaaaaaaaaa1"],
    "control_plane_subnet_ids": ["subnet-0bbbbbbbbbbbbbbb1", "subnet-0ccccccccccccccc1"],
    "control_plane_subnet_cidrs": ["10.20.240.0/28", "10.20.240.16/28"],
}


def test_in_an_existing_vpc_the_scraper_is_admitted_from_the_control_plane_subnets_only(render):
    # AMP's scraper has its interfaces in the control-plane subnets (infra/observability/amp.py): their ranges, not
    # the VPC's, or every pod in the VPC could call vLLM's metrics port, which is its serving port, with no key.
    objects = render({"workloads": [HF_VLLM], "network": {"existing_vpc": EXISTING_VPC}})["chat"]
    policy = by_kind(objects)["NetworkPolicy"]["spec"]
    assert policy["ingress"] == [
        {
            "from": [{"ipBlock": {"cidr": "10.20.240.0/28"}}, {"ipBlock": {"cidr": "10.20.240.16/28"}}],
            "ports": [{"protocol": "TCP", "port": 8000}],
        }
    ]
    policies = Policies([*objects, {"kind": "Namespace", "metadata": {"name": "inference"}}])
    server = Endpoint("server", "10.20.0.10", "inference", {"llm-kit/workload": "chat"})
    scraper, pod_elsewhere = Endpoint("scraper", "10.20.240.20"), Endpoint("pod", "10.20.77.3", "default", {"app": "x"})
    assert all(policies.allows(scraper, server, 8000))
    assert not all(policies.allows(pod_elsewhere, server, 8000))


def test_a_server_reading_fsx_sends_nothing_at_all(render):
    # The Lustre client runs in the node's kernel, outside the pod's network.
    assert _policies(render, FSX_VLLM, {"storage": {"fsx": {"enabled": True}}})["chat"]["egress"] == []


def test_named_namespaces_may_call_the_servers(render):
    policy = _policies(render, HF_VLLM, {"cluster": {"network_policies": {"serving_from_namespaces": ["gateway"]}}})["chat"]
    clients = policy["ingress"][0]["from"]
    assert {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "gateway"}}} in clients


def test_in_cluster_prometheus_scrapes_from_its_own_pods_only(render):
    # Grafana and the exporters share the monitoring namespace; only the operator's Prometheus pods scrape.
    policy = _policies(render, HF_VLLM, {"observability": {"metrics": "in-cluster"}})["chat"]
    prometheus = {"app.kubernetes.io/name": "prometheus", "app.kubernetes.io/managed-by": "prometheus-operator"}
    assert policy["ingress"] == [
        {
            "from": [
                {
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
                    "podSelector": {"matchLabels": prometheus},
                }
            ],
            "ports": [{"protocol": "TCP", "port": 8000}],
        }
    ]


def test_triton_serves_http_and_grpc_and_is_scraped_on_its_metrics_port(render):
    workload = {**HF_VLLM, "blueprint": "triton"}
    ingress = _policies(render, workload, {"cluster": {"network_policies": {"serving_from_namespaces": ["ingress"]}}})["chat"]["ingress"]
    assert [rule["ports"] for rule in ingress] == [
        [{"protocol": "TCP", "port": 8000}, {"protocol": "TCP", "port": 8001}],
        [{"protocol": "TCP", "port": 8002}],
    ]


def test_multinode_groups_talk_only_within_themselves(render):
    workload = {
        "name": "big",
        "blueprint": "vllm-multinode",
        "node_pool": "gpu-h100-efa",
        "model": {"type": "hf", "repo_id": "org/model"},
        "nodes": 2,
        "tensor_parallel_size": 8,
        "replicas": 3,
        "efa": False,
    }
    policies = _policies(render, workload, {"node_pools": pools_with(**{"gpu-h100-efa": 48})})
    groups = [policies[f"big-group-{index}"]["podSelector"]["matchLabels"] for index in range(3)]
    # The LeaderWorkerSet is named <workload>-group (its headless Service is the leader address); the label carries that.
    assert groups == [
        {"leaderworkerset.sigs.k8s.io/name": "big-group", "leaderworkerset.sigs.k8s.io/group-index": str(i)} for i in range(3)
    ]
    assert len(policies) == 4


def test_dynamo_components_reach_the_api_and_each_other(render):
    workload = {"name": "graph", "blueprint": "dynamo", "node_pool": "gpu-l40s", "model": {"type": "hf", "repo_id": "org/model"}}
    policies = _policies(render, workload)
    api = policies["graph"]["egress"][1]
    assert api == {"to": [{"ipBlock": {"cidr": "172.20.0.1/32"}}, *SCRAPER], "ports": [{"protocol": "TCP", "port": 443}]}
    assert policies["graph-group-0"]["podSelector"] == {"matchLabels": {"nvidia.com/dynamo-graph-deployment-name": "graph"}}
    # Off the gateway the frontend admits only the scraper; the graph's own traffic is its group policy's.
    assert [port["port"] for port in policies["graph"]["ingress"][0]["ports"]] == [8000, 9090]
    assert len(policies["graph"]["ingress"]) == 1


def test_a_benchmark_calls_its_target_and_nothing_calls_it(tmp_path):
    overrides = {"account": "111122223333", "workloads": [*KIT.load(DEFAULT_CONFIG).model_dump(mode="json")["workloads"]]}
    overrides["workloads"].append({"name": "bench", "blueprint": "benchmark", "target": "llama-8b"})
    objects = render_workloads(KIT.load(write_config(tmp_path, overrides)))["bench"]
    policy = by_kind(objects)["NetworkPolicy"]["spec"]
    assert policy["ingress"] == []
    assert {
        "to": [{"podSelector": {"matchLabels": {"llm-kit/workload": "llama-8b"}}}],
        "ports": [{"protocol": "TCP", "port": 8000}],
    } in policy["egress"]
    # ... and its target admits it, by its own workload label, on that port.
    target = {
        o["metadata"]["name"]: o["spec"]
        for o in render_workloads(KIT.load(write_config(tmp_path, overrides)))["llama-8b"]
        if o["kind"] == "NetworkPolicy"
    }
    serving = [rule for rule in target["llama-8b"]["ingress"] if {"protocol": "TCP", "port": 8000} in rule["ports"]][0]
    assert {"podSelector": {"matchLabels": {"llm-kit/workload": "bench"}}} in serving["from"]


def test_without_enforcement_no_policy_is_written(render):
    objects = render({"workloads": [HF_VLLM], "cluster": {"network_policies": {"enabled": False}}})["chat"]
    assert "NetworkPolicy" not in by_kind(objects)


def test_a_blueprint_declares_nothing_unless_it_says_so():
    assert WorkloadTraffic() == WorkloadTraffic(serving_ports=(), metrics_ports=(), https_out=False, api_server=False, groups=(), calls=())


ROUTED_VLLM = {**HF_VLLM, "routing": {}}
# Envoy Gateway v1.8.3's labels on the kit's Gateway's proxy pods, in its namespace (core/isolation.py).
PROXIES = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "envoy-gateway-system"}},
    "podSelector": {
        "matchLabels": {
            "app.kubernetes.io/name": "envoy",
            "app.kubernetes.io/component": "proxy",
            "app.kubernetes.io/managed-by": "envoy-gateway",
            "gateway.envoyproxy.io/owning-gateway-name": "llm-gateway",
            "gateway.envoyproxy.io/owning-gateway-namespace": "inference",
        }
    },
}


def test_a_routed_server_admits_the_gateways_proxies_and_its_own_picker_and_nothing_else(render):
    policies = _policies(render, ROUTED_VLLM)
    assert policies["chat"]["ingress"] == [
        {
            "from": [PROXIES, {"podSelector": {"matchLabels": {"llm-kit/endpoint-picker": "chat"}}}],
            "ports": [{"protocol": "TCP", "port": 8000}],
        },
        {"from": SCRAPER, "ports": [{"protocol": "TCP", "port": 8000}]},
    ]
    # The picker is called by those proxies only: not by the rate limiter, the Redis or the controller beside them.
    assert policies["chat-epp"]["ingress"][0] == {"from": [PROXIES], "ports": [{"protocol": "TCP", "port": 9002}]}


def test_a_server_with_a_bedrock_fallback_has_no_picker_to_admit(render):
    haiku = {
        "name": "claude-haiku",
        "model_id": "anthropic.claude-3-5-haiku-20241022-v1:0",
        "input_usd_per_million": 0.8,
        "output_usd_per_million": 4,
    }
    workload = {**HF_VLLM, "routing": {"fallback": "claude-haiku", "endpoint_picker": None}}
    policy = _policies(render, workload, {"gateway": {"bedrock": [haiku]}})["chat"]
    assert policy["ingress"][0] == {"from": [PROXIES], "ports": [{"protocol": "TCP", "port": 8000}]}


@pytest.mark.parametrize("path", [DEFAULT_CONFIG, *EXAMPLES], ids=lambda p: Path(p).stem)
def test_no_policy_of_any_shipped_config_admits_a_whole_namespace_of_pods_to_a_server(path):
    """Every `from` names pods by label, a namespace the config names, or the scraper's addresses: never every pod."""
    config = KIT.load(path)
    named = set(config.cluster.network_policies.serving_from_namespaces)
    for name, objects in render_workloads(config).items():
        for policy in (o["spec"] for o in objects if o["kind"] == "NetworkPolicy"):
            for rule in policy["ingress"]:
                for peer in rule.get("from", []):
                    assert peer != {"podSelector": {}}, name
                    if "namespaceSelector" in peer and "podSelector" not in peer:
                        assert peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] in named | {"amazon-cloudwatch"}, (
                            name
                        )


def test_a_routed_multinode_server_keeps_its_group_open_inside_and_admits_the_gateway_on_its_port(render):
    workload = {
        "name": "big",
        "blueprint": "vllm-multinode",
        "node_pool": "gpu-h100-efa",
        "model": {"type": "hf", "repo_id": "org/model"},
        "nodes": 2,
        "tensor_parallel_size": 8,
        "efa": False,
        "routing": {},
    }
    policies = _policies(render, workload)
    members = [
        {"podSelector": {"matchLabels": {"leaderworkerset.sigs.k8s.io/name": "big-group", "leaderworkerset.sigs.k8s.io/group-index": "0"}}}
    ]
    # torch.distributed and NCCL between leader and workers: every port, within the group only.
    assert policies["big-group-0"]["ingress"] == [{"from": members}] and policies["big-group-0"]["egress"] == [{"to": members}]
    assert policies["big"]["ingress"][0]["from"] == [PROXIES, {"podSelector": {"matchLabels": {"llm-kit/endpoint-picker": "big"}}}]
