"""Pod security and network isolation of the workloads, read back from what every shipped config renders."""

from pathlib import Path

import pytest

from assembly.app import render_workloads
from assembly.kit import KIT
from core.isolation import WorkloadTraffic
from tests.blueprints.conftest import by_kind
from tests.helpers import DEFAULT_CONFIG, write_config

EXAMPLES = sorted(Path("config/examples").glob("*.yaml"))
RESTRICTED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"}
SCRAPER = [{"ipBlock": {"cidr": "10.0.130.0/28"}}, {"ipBlock": {"cidr": "10.0.130.16/28"}}]
OUT_OF_VPC = {"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/16"]}}


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


def test_a_server_admits_clients_and_the_scraper_on_its_port_and_reaches_only_the_hub(render):
    policy = _policies(render, HF_VLLM)["chat"]
    assert policy["ingress"] == [
        {"from": [{"podSelector": {}}], "ports": [{"protocol": "TCP", "port": 8000}]},
        {"from": SCRAPER, "ports": [{"protocol": "TCP", "port": 8000}]},
    ]
    assert policy["egress"] == [{"to": [OUT_OF_VPC], "ports": [{"protocol": "TCP", "port": 443}]}]


def test_a_server_reading_fsx_sends_nothing_at_all(render):
    # The Lustre client runs in the node's kernel, outside the pod's network.
    assert _policies(render, FSX_VLLM, {"storage": {"fsx": {"enabled": True}}})["chat"]["egress"] == []


def test_named_namespaces_may_call_the_servers(render):
    policy = _policies(render, HF_VLLM, {"cluster": {"network_policies": {"serving_from_namespaces": ["gateway"]}}})["chat"]
    clients = policy["ingress"][0]["from"]
    assert {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "gateway"}}} in clients


def test_in_cluster_prometheus_scrapes_from_its_namespace(render):
    policy = _policies(render, HF_VLLM, {"observability": {"metrics": "in-cluster"}})["chat"]
    assert policy["ingress"][1]["from"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]


def test_triton_serves_http_and_grpc_and_is_scraped_on_its_metrics_port(render):
    workload = {**HF_VLLM, "blueprint": "triton"}
    ingress = _policies(render, workload)["chat"]["ingress"]
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
    policies = _policies(render, workload)
    groups = [policies[f"big-group-{index}"]["podSelector"]["matchLabels"] for index in range(3)]
    # The LeaderWorkerSet is named <workload>-group (its headless Service is the leader address); the label carries that.
    assert groups == [{"leaderworkerset.sigs.k8s.io/name": "big-group", "leaderworkerset.sigs.k8s.io/group-index": str(i)} for i in range(3)]
    assert len(policies) == 4


def test_dynamo_components_reach_the_api_and_each_other(render):
    workload = {"name": "graph", "blueprint": "dynamo", "node_pool": "gpu-l40s", "model": {"type": "hf", "repo_id": "org/model"}}
    policies = _policies(render, workload)
    api = policies["graph"]["egress"][1]
    assert api == {"to": [{"ipBlock": {"cidr": "172.20.0.1/32"}}, *SCRAPER], "ports": [{"protocol": "TCP", "port": 443}]}
    assert policies["graph-group-0"]["podSelector"] == {"matchLabels": {"nvidia.com/dynamo-graph-deployment-name": "graph"}}
    assert [port["port"] for port in policies["graph"]["ingress"][1]["ports"]] == [8000, 9090]


def test_a_benchmark_calls_its_target_and_nothing_calls_it(tmp_path):
    overrides = {"account": "111122223333", "workloads": [*KIT.load(DEFAULT_CONFIG).model_dump(mode="json")["workloads"]]}
    overrides["workloads"].append({"name": "bench", "blueprint": "benchmark", "target": "llama-8b"})
    objects = render_workloads(KIT.load(write_config(tmp_path, overrides)))["bench"]
    policy = by_kind(objects)["NetworkPolicy"]["spec"]
    assert policy["ingress"] == []
    assert {"to": [{"podSelector": {"matchLabels": {"llm-kit/workload": "llama-8b"}}}], "ports": [{"protocol": "TCP", "port": 8000}]} in policy["egress"]


def test_without_enforcement_no_policy_is_written(render):
    objects = render({"workloads": [HF_VLLM], "cluster": {"network_policies": {"enabled": False}}})["chat"]
    assert "NetworkPolicy" not in by_kind(objects)


def test_a_blueprint_declares_nothing_unless_it_says_so():
    assert WorkloadTraffic() == WorkloadTraffic(serving_ports=(), metrics_ports=(), https_out=False, api_server=False, groups=(), calls=())
