"""The Dynamo blueprint: graph shape per mode, worker arguments, NIXL over EFA, frontend, placement, checks."""

import json

import kubernetes_validate
import pytest

from assembly.render import main as standalone_main
from assembly.kit import KIT
from core.versions import DYNAMO_PLATFORM
from tests.blueprints.conftest import by_kind
from tests.helpers import assert_rejected, helm_charts, helm_values, kubernetes_objects, synth, write_config

S3_MODEL = {
    "type": "s3",
    "uri": "s3://llm-kit-models-111122223333-us-west-2/models/meta-llama/Llama-3.1-70B-Instruct/",
    "streamer_concurrency": 32,
}
HF_MODEL = {"type": "hf", "repo_id": "meta-llama/Llama-3.1-8B-Instruct"}  # fits every worker shape below (docs/models.md)
DISAGGREGATED = {
    "mode": "disaggregated",
    "prefill_workers": 3,
    "prefill_tensor_parallel_size": 2,
    "decode_workers": 1,
    "decode_tensor_parallel_size": 8,
}
LIBFABRIC = {"kv_connector": "NixlConnector", "kv_role": "kv_both", "kv_connector_extra_config": {"backends": ["LIBFABRIC"]}}


def _dynamo(**fields):
    return {"name": "chat", "blueprint": "dynamo", "node_pool": "gpu-h100-efa", "model": HF_MODEL, **fields}


def _graph(objects) -> dict:
    return by_kind(objects)["DynamoGraphDeployment"]


def _components(objects) -> dict[str, dict]:
    return {component["name"]: component for component in _graph(objects)["spec"]["components"]}


def _main(component) -> dict:
    [container] = [c for c in component["podTemplate"]["spec"]["containers"] if c["name"] == "main"]
    return container


def _flag(args: list[str], flag: str) -> str:
    return args[args.index(flag) + 1]


def test_aggregated_graph_is_a_frontend_and_workers(render):
    objects = render({"workloads": [_dynamo(workers=3, tensor_parallel_size=4)]})["chat"]
    assert [o["kind"] for o in objects] == [
        "DynamoGraphDeployment",
        "Service",
        "PodDisruptionBudget",
        "PodDisruptionBudget",
        "NetworkPolicy",
        "NetworkPolicy",
    ]
    graph = _graph(objects)
    assert graph["apiVersion"] == "nvidia.com/v1beta1" and graph["metadata"]["namespace"] == "inference"
    assert graph["spec"]["backendFramework"] == "vllm"
    components = _components(objects)
    assert {name: (c["type"], c["replicas"]) for name, c in components.items()} == {"frontend": ("frontend", 1), "worker": ("worker", 3)}
    worker = _main(components["worker"])
    assert worker["command"] == ["python3", "-m", "dynamo.vllm"]
    assert _flag(worker["args"], "--model") == HF_MODEL["repo_id"] and _flag(worker["args"], "--tensor-parallel-size") == "4"
    # A single-node worker sends nothing between nodes: no EFA even on an EFA pool.
    assert "vpc.amazonaws.com/efa" not in worker["resources"]["limits"] and worker["image"].endswith(":1.4.2")
    assert "--disaggregation-mode" not in worker["args"] and "--kv-transfer-config" not in worker["args"]


def test_disaggregated_graph_has_prefill_and_decode_workers_with_their_own_parallelism(render):
    objects = render({"workloads": [_dynamo(served_model_name="llama-70b", max_model_len=32768, **DISAGGREGATED)]})["chat"]
    components = _components(objects)
    assert {name: (c["type"], c["replicas"]) for name, c in components.items()} == {
        "frontend": ("frontend", 1),
        "prefill": ("prefill", 3),
        "decode": ("decode", 1),
    }
    for role, tensor_parallel in (("prefill", "2"), ("decode", "8")):
        args = _main(components[role])["args"]
        assert _flag(args, "--disaggregation-mode") == role
        assert _flag(args, "--model") == HF_MODEL["repo_id"]
        assert _flag(args, "--tensor-parallel-size") == tensor_parallel
        assert _flag(args, "--served-model-name") == "llama-70b"
        assert _flag(args, "--max-model-len") == "32768"
        assert _main(components[role])["resources"]["limits"]["nvidia.com/gpu"] == tensor_parallel


def test_kv_cache_moves_over_nixl_libfabric_on_an_efa_pool(render):
    components = _components(render({"workloads": [_dynamo(**DISAGGREGATED)]})["chat"])
    for role in ("prefill", "decode"):
        worker = _main(components[role])
        assert json.loads(_flag(worker["args"], "--kv-transfer-config")) == LIBFABRIC
        assert worker["image"].endswith(":1.4.2-efa"), "NIXL's libfabric backend needs the image with the EFA provider"


@pytest.mark.parametrize(
    "workload",
    [
        pytest.param(
            _dynamo(node_pool="gpu-l40s", instance_type="g6e.12xlarge", tensor_parallel_size=2, mode="disaggregated"), id="pool-without-efa"
        ),
        pytest.param(_dynamo(efa=False, tensor_parallel_size=2, mode="disaggregated"), id="efa-switched-off"),
    ],
)
def test_without_efa_nixl_keeps_its_default_backend_and_pods_ask_for_no_efa(render, workload):
    components = _components(render({"workloads": [workload]})["chat"])
    for role in ("prefill", "decode"):
        worker = _main(components[role])
        assert json.loads(_flag(worker["args"], "--kv-transfer-config")) == {"kv_connector": "NixlConnector", "kv_role": "kv_both"}
        assert worker["image"].endswith(":1.4.2")
        assert "vpc.amazonaws.com/efa" not in worker["resources"]["limits"]
        assert not any(e["name"].startswith("FI_") for e in worker["env"])
        assert worker["securityContext"]["capabilities"] == {"drop": ["ALL"]}


def test_frontend_routes_by_kv_cache_needs_no_gpu_and_stays_in_the_zone(render):
    objects = render({"workloads": [_dynamo(frontend_replicas=2)]})["chat"]
    frontend = _components(objects)["frontend"]
    container = _main(frontend)
    assert container["command"] == ["python3", "-m", "dynamo.frontend"]
    assert _flag(container["args"], "--router-mode") == "kv" and _flag(container["args"], "--http-port") == "8000"
    assert not any(key.startswith(("nvidia.com/", "vpc.amazonaws.com/")) for part in container["resources"].values() for key in part)
    # NGC's image, as the kit's image build copies it into the account's ECR (ECR has no cache rule for NGC).
    assert container["image"] == "{account}.dkr.ecr.us-west-2.amazonaws.com/llm-kit/ngc/nvidia/ai-dynamo/dynamo-frontend:1.4.2"
    spec = frontend["podTemplate"]["spec"]
    assert spec["nodeSelector"] == {"topology.k8s.aws/zone-id": "usw2-az2"} and "tolerations" not in spec
    assert frontend["replicas"] == 2
    budgets = {o["metadata"]["name"]: o["spec"] for o in objects if o["kind"] == "PodDisruptionBudget"}
    assert budgets["chat"]["selector"]["matchLabels"]["app.kubernetes.io/component"] == "frontend"
    assert budgets["chat"]["maxUnavailable"] == 1 and budgets["chat-worker"]["maxUnavailable"] == 0
    round_robin = _main(_components(render({"workloads": [_dynamo(router_mode="round-robin")]})["chat"])["frontend"])
    assert _flag(round_robin["args"], "--router-mode") == "round-robin"


def test_workers_get_gpus_efa_and_shared_memory_and_the_frontend_none_of_it(render):
    components = _components(render({"workloads": [_dynamo(shm_size_gib=64, **DISAGGREGATED)]})["chat"])
    for role, gpus, efa in (("prefill", "2", "8"), ("decode", "8", "32")):
        worker = _main(components[role])
        assert worker["resources"]["requests"]["nvidia.com/gpu"] == worker["resources"]["limits"]["nvidia.com/gpu"] == gpus
        assert worker["resources"]["limits"]["vpc.amazonaws.com/efa"] == efa
        env = {e["name"]: e["value"] for e in worker["env"]}
        # As ai-dynamo/dynamo's EFA test sets them; shm off: a peer on the same node is another pod, beyond its reach.
        assert (env["FI_PROVIDER"], env["FI_EFA_USE_DEVICE_RDMA"], env["FI_EFA_ENABLE_SHM_TRANSFER"]) == ("efa", "1", "0")
        assert env["FI_EFA_USE_HUGE_PAGE"] == "0"  # the pods request no hugepages-2Mi
        assert "NCCL_NET" not in env  # the KV cache goes through NIXL, not NCCL
        # No IPC_LOCK: the EFA nodes lift the locked-memory limit themselves (restricted pods may add no capability).
        assert worker["securityContext"]["capabilities"] == {"drop": ["ALL"]}
        assert "privileged" not in worker["securityContext"] and worker["securityContext"]["allowPrivilegeEscalation"] is False
        assert (worker["securityContext"]["runAsUser"], worker["securityContext"]["runAsNonRoot"]) == (1000, True)
        assert components[role]["sharedMemorySize"] == "64Gi"
    frontend = _main(components["frontend"])
    assert "env" not in frontend and frontend["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert "sharedMemorySize" not in components["frontend"]


def test_every_component_pod_runs_as_the_image_user_with_the_runtime_seccomp_profile(render):
    # A podTemplate with a securityContext gets none of the operator's defaults, so fsGroup is the kit's to set.
    pinned = _components(render({"workloads": [_dynamo(**DISAGGREGATED)]})["chat"])
    custom = _components(
        render(
            {
                "workloads": [
                    _dynamo(
                        image="111122223333.dkr.ecr.us-west-2.amazonaws.com/dynamo:1", image_provides=["efa-libfabric"], run_as_user=4242
                    )
                ]
            }
        )["chat"]
    )
    for components, worker_user in ((pinned, 1000), (custom, 4242)):
        for name, component in components.items():
            user = 1000 if name == "frontend" else worker_user
            assert component["podTemplate"]["spec"]["securityContext"] == {
                "runAsNonRoot": True,
                "runAsUser": user,
                "fsGroup": user,
                "seccompProfile": {"type": "RuntimeDefault"},
            }
            assert _main(component)["securityContext"]["runAsUser"] == user


def test_workers_land_on_one_instance_type_of_their_pool_in_the_zone(render):
    components = _components(render({"workloads": [_dynamo(**DISAGGREGATED)]})["chat"])
    for role in ("prefill", "decode"):
        spec = components[role]["podTemplate"]["spec"]
        assert spec["nodeSelector"] == {
            "llm-kit/pool": "gpu-h100-efa",
            "node.kubernetes.io/instance-type": "p5.48xlarge",
            "topology.k8s.aws/zone-id": "usw2-az2",
        }
        assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in spec["tolerations"]
        # Left to the operator, which then runs the pods as the graph's discovery account (worker registration).
        assert "serviceAccountName" not in spec
    # 2-GPU prefill workers pack onto their own role's nodes (tests/blueprints/test_dynamo_placement.py); a decode
    # worker takes a whole node and needs no rule.
    [term] = components["prefill"]["podTemplate"]["spec"]["affinity"]["podAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    assert term["podAffinityTerm"]["labelSelector"]["matchLabels"]["app.kubernetes.io/component"] == "prefill"
    assert "affinity" not in components["decode"]["podTemplate"]["spec"]


def test_worker_probes_allow_the_startup_timeout_on_the_system_port(render):
    worker = _main(_components(render({"workloads": [_dynamo(startup_timeout_minutes=45)]})["chat"])["worker"])
    startup = worker["startupProbe"]
    assert startup["httpGet"] == {"path": "/health", "port": 9090}
    assert startup["periodSeconds"] * startup["failureThreshold"] == 45 * 60
    assert worker["readinessProbe"]["httpGet"]["path"] == "/health" and worker["livenessProbe"]["httpGet"]["path"] == "/live"


def test_prometheus_scrape_hints_on_every_component(render):
    components = _components(render({"workloads": [_dynamo(**DISAGGREGATED)]})["chat"])
    ports = {name: c["podTemplate"]["metadata"]["annotations"] for name, c in components.items()}
    assert ports["frontend"] == {"prometheus.io/scrape": "true", "prometheus.io/port": "8000", "prometheus.io/path": "/metrics"}
    assert ports["prefill"]["prometheus.io/port"] == ports["decode"]["prometheus.io/port"] == "9090"


def test_model_sources(render):
    hub = _dynamo(model={"type": "hf", "repo_id": "meta-llama/Llama-3.1-8B-Instruct", "token_secret_name": "hf-token"})
    worker = _main(_components(render({"workloads": [hub]})["chat"])["worker"])
    env = {e["name"]: e for e in worker["env"]}
    assert env["HF_HOME"]["value"] == "/cache/huggingface" and env["HF_TOKEN"]["valueFrom"]["secretKeyRef"]["name"] == "hf-token"
    assert {"name": "hf-cache", "mountPath": "/cache/huggingface"} in worker["volumeMounts"]
    fsx = _dynamo(model={"type": "fsx", "sub_path": "models/llama"})
    component = _components(render({"storage": {"fsx": {"enabled": True}}, "workloads": [fsx]})["chat"])["worker"]
    assert _flag(_main(component)["args"], "--model") == "/models/models/llama"
    assert component["podTemplate"]["spec"]["volumes"][0]["persistentVolumeClaim"]["readOnly"] is True


def test_service_sends_traffic_to_the_frontend_pods(render):
    objects = by_kind(render({"workloads": [_dynamo(frontend_replicas=2)]})["chat"])
    service = objects["Service"]
    assert service["metadata"]["name"] == "chat" and service["spec"]["ports"][0]["port"] == 8000
    frontend_labels = _components(list(objects.values()))["frontend"]["podTemplate"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= frontend_labels.items()
    for kind in ("Service", "PodDisruptionBudget"):
        kubernetes_validate.validate(objects[kind], "1.35", strict=True)


def test_python_dash_m_prints_the_graph(tmp_path, capsys):
    config = write_config(tmp_path, {"workloads": [_dynamo()]})
    assert standalone_main(["--blueprint", "dynamo", "--config", str(config)]) == 0
    assert "kind: DynamoGraphDeployment" in capsys.readouterr().out


CHECKS = [
    pytest.param(_dynamo(replicas=2), ["workloads[0].replicas", "is not used by the dynamo blueprint", "prefill_workers"], id="replicas"),
    pytest.param(
        _dynamo(prefill_workers=2),
        ["workloads[0].prefill_workers", "applies only to mode: disaggregated", "set mode: disaggregated"],
        id="prefill-in-aggregated",
    ),
    pytest.param(
        _dynamo(mode="disaggregated", workers=2),
        ["workloads[0].workers", "applies only to mode: aggregated"],
        id="workers-in-disaggregated",
    ),
    pytest.param(
        _dynamo(mode="disaggregated", prefill_tensor_parallel_size=16),
        ["workloads[0].prefill_tensor_parallel_size", "needs 16 GPUs but the node has 8"],
        id="prefill-too-wide",
    ),
    pytest.param(
        _dynamo(mode="disaggregated", decode_tensor_parallel_size=3),
        ["workloads[0].decode_tensor_parallel_size", "leave GPUs of a 8-GPU node unusable", "divisor of 8"],
        id="decode-not-a-divisor",
    ),
    pytest.param(
        _dynamo(enable_prefix_caching=False),
        ["workloads[0].router_mode", "enable_prefix_caching is false", "router_mode: round-robin"],
        id="kv-routing-without-cache",
    ),
    pytest.param(_dynamo(router_mode="random"), ["workloads[0].router_mode", "'kv'", "'round-robin'"], id="unknown-router-mode"),
    pytest.param(_dynamo(tensor_parallel_size=16), ["needs 16 GPUs but p5.48xlarge has 8"], id="tp-beyond-the-node"),
    pytest.param(_dynamo(model=S3_MODEL), ["workloads[0].model", "no S3 provider", "type: fsx"], id="s3-model"),
    pytest.param(_dynamo(efa=True), ["workloads[0].efa", "sends nothing between nodes"], id="efa-in-aggregated"),
]


@pytest.mark.parametrize(("workload", "expected"), CHECKS)
def test_bad_dynamo_workloads_are_explained(tmp_path, workload, expected):
    assert_rejected(tmp_path, {"workloads": [workload]}, expected)


@pytest.fixture(scope="module")
def dynamo_cluster(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dynamo")
    return synth(write_config(folder, {"workloads": [_dynamo(**DISAGGREGATED)]}), folder / "out")["llm-kit-cluster"]


@pytest.mark.e2e
def test_a_dynamo_workload_makes_the_cluster_install_the_dynamo_platform(dynamo_cluster):
    chart = helm_charts(dynamo_cluster)["dynamo-platform"]["Properties"]
    assert (chart["Repository"], chart["Version"], chart["Namespace"]) == (DYNAMO_PLATFORM.repository, "1.4.2", "dynamo-system")
    assert chart["Repository"] == "https://helm.ngc.nvidia.com/nvidia/ai-dynamo"


def test_without_a_dynamo_workload_no_operator_is_installed(tmp_path):
    assert "dynamo" not in {c.name for c in KIT.requirements(KIT.load(write_config(tmp_path))).controllers}
    disabled = KIT.load(write_config(tmp_path, {"workloads": [_dynamo(enabled=False)]}, name="off.yaml"))
    assert KIT.requirements(disabled).controllers == ()


@pytest.mark.e2e
def test_the_platform_keeps_its_operator_on_the_system_nodes_and_sets_no_nats(dynamo_cluster):
    chart = helm_charts(dynamo_cluster)["dynamo-platform"]
    values = json.loads(helm_values(chart["Properties"]["Values"]))
    # ai-dynamo 1.4.x installs no NATS by default (global.nats.install: false): values for it would be dead.
    assert "nats" not in values and "global" not in values
    assert "nodeAffinity" in values["dynamo-operator"]["controllerManager"]["affinity"]
    # Every controller installs after the default StorageClass (the cluster stack's generic ordering).
    storage_class = next(name for name, objects in kubernetes_objects(dynamo_cluster).items() if objects[0]["kind"] == "StorageClass")
    assert storage_class in chart["DependsOn"]
