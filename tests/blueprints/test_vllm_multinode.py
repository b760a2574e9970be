"""The multi-node vLLM blueprint: LeaderWorkerSet shape, vLLM's native multi-node mode, placement, EFA, service, checks,
and the LeaderWorkerSet controller following the workload in the cluster stack."""

import json
import re

import kubernetes_validate
import pytest

from assembly.render import main as standalone_main
from tests.blueprints.conftest import by_kind
from tests.helpers import assert_rejected, helm_charts, pools_with, synth, write_config

S3_MODEL = {
    "type": "s3",
    "uri": "s3://llm-kit-models-111122223333-us-west-2/models/meta-llama/Llama-3.1-405B-Instruct/",
    "streamer_concurrency": 64,
}
LWS_NAME = "leaderworkerset.sigs.k8s.io/name"
WORKER_INDEX = "leaderworkerset.sigs.k8s.io/worker-index"


def _multinode(**fields):
    return {
        "name": "big",
        "blueprint": "vllm-multinode",
        "node_pool": "gpu-h100-efa",
        "model": S3_MODEL,
        "nodes": 2,
        "tensor_parallel_size": 8,
        "efa": False,
        **fields,
    }


def _objects(render, **fields) -> dict[str, dict]:
    # Room for up to 3 groups of 2 nodes, or 2 of 3, on the H100 pool.
    return by_kind(render({"node_pools": pools_with(**{"gpu-h100-efa": 48}), "workloads": [_multinode(**fields)]})["big"])


def _templates(objects) -> dict[str, dict]:
    group = objects["LeaderWorkerSet"]["spec"]["leaderWorkerTemplate"]
    return {"leader": group["leaderTemplate"], "worker": group["workerTemplate"]}


EFA_IMAGE = {
    "image": "123456789012.dkr.ecr.us-west-2.amazonaws.com/vllm-efa:v0.30.0",
    "image_provides": ["aws-ofi-nccl", "runai-model-streamer"],
}


def _args(template) -> list[str]:
    [container] = template["spec"]["containers"]
    # The image's own entrypoint (`vllm serve`) stays: the pods set arguments only.
    assert "command" not in container
    return container["args"]


def _flags(args: list[str]) -> dict[str, str]:
    return {
        arg: args[i + 1] for i, arg in enumerate(args) if arg.startswith("--") and i + 1 < len(args) and not args[i + 1].startswith("--")
    }


def test_the_group_is_one_leader_and_nodes_minus_one_workers_recreated_together(render):
    lws = _objects(render, nodes=3, replicas=2)["LeaderWorkerSet"]
    assert lws["apiVersion"] == "leaderworkerset.x-k8s.io/v1" and lws["metadata"]["name"] == "big-group"
    spec = lws["spec"]
    assert spec["replicas"] == 2
    assert spec["leaderWorkerTemplate"]["size"] == 3
    assert spec["leaderWorkerTemplate"]["restartPolicy"] == "RecreateGroupOnPodRestart"
    # LeaderReady would deadlock: workers wait for a Ready leader, the leader serves only once they joined.
    assert spec["startupPolicy"] == "LeaderCreated"
    assert _templates(by_kind([lws]))["leader"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["path"] == "/health"


def test_one_pod_per_node_without_squeezing_a_group_onto_one_host(render):
    objects = _objects(render, replicas=2)
    # exclusive-topology on kubernetes.io/hostname would require every pod of a group on the same host.
    assert "leaderworkerset.sigs.k8s.io/exclusive-topology" not in (objects["LeaderWorkerSet"]["metadata"].get("annotations") or {})
    for template in _templates(objects).values():
        [term] = template["spec"]["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        assert term["topologyKey"] == "kubernetes.io/hostname"
        assert term["labelSelector"]["matchLabels"].items() <= template["metadata"]["labels"].items()


def test_leader_and_workers_are_pinned_to_the_same_instance_type_in_the_zone(render):
    templates = _templates(_objects(render))
    selectors = [t["spec"]["nodeSelector"] for t in templates.values()]
    assert (
        selectors[0]
        == selectors[1]
        == {"llm-kit/pool": "gpu-h100-efa", "node.kubernetes.io/instance-type": "p5.48xlarge", "topology.k8s.aws/zone-id": "usw2-az2"}
    )
    for template in templates.values():
        assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in template["spec"]["tolerations"]


def test_every_pod_gets_the_whole_node_its_efa_devices_and_shared_memory_with_an_image_that_can_use_efa(render):
    for role, template in _templates(_objects(render, shm_size_gib=64, efa=None, **EFA_IMAGE)).items():
        [container] = template["spec"]["containers"]
        limits = container["resources"]["limits"]
        assert (limits["nvidia.com/gpu"], limits["vpc.amazonaws.com/efa"]) == ("8", "32"), role
        env = {e["name"]: e.get("value") for e in container["env"]}
        # aws-ofi-nccl names itself OFI when NCCL_NET says so; NCCL_NET_PLUGIN opens libnccl-net-ofi.so.
        assert (env["FI_PROVIDER"], env["NCCL_NET"], env["NCCL_NET_PLUGIN"]) == ("efa", "OFI", "ofi"), role
        # p5.48xlarge's EFA devices read GPU memory directly (RDMA read).
        assert env["FI_EFA_USE_DEVICE_RDMA"] == "1", role
        # No IPC_LOCK: EFA nodes lift the locked-memory limit for every container (restricted admits no added capability).
        assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}, role
        assert {"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": "64Gi"}} in template["spec"]["volumes"], role
        assert template["spec"]["serviceAccountName"] == "model-reader", role


def test_with_efa_off_nccl_uses_tcp_and_no_efa_device_is_taken(render):
    for template in _templates(_objects(render, efa=False)).values():
        [container] = template["spec"]["containers"]
        assert "vpc.amazonaws.com/efa" not in container["resources"]["limits"]
        assert not {"NCCL_NET", "FI_PROVIDER"} & {e["name"] for e in container["env"]}


def _streaming(template) -> tuple[dict, dict]:
    [container] = template["spec"]["containers"]
    extra = json.loads(_flags(container["args"])["--model-loader-extra-config"])
    return extra, {e["name"]: e.get("value") for e in container["env"] if e["name"].startswith("RUNAI_STREAMER")}


def test_every_node_streams_the_checkpoint_once_its_gpus_share_the_reading(render):
    """vLLM 0.30.0 streams every file in every rank without "distributed"; with it, the ranks of one host share it."""
    for role, template in _templates(_objects(render, efa=False)).items():
        assert _streaming(template) == ({"concurrency": 64, "distributed": True}, {}), role


def test_over_efa_the_nodes_of_a_group_share_the_reading_too(render):
    """RUNAI_STREAMER_DIST_GLOBAL=1: one group of all the ranks, so each node reads 1/nodes of the checkpoint."""
    for role, template in _templates(_objects(render, efa=None, **EFA_IMAGE)).items():
        assert _streaming(template) == ({"concurrency": 64, "distributed": True}, {"RUNAI_STREAMER_DIST_GLOBAL": "1"}), role


def test_no_streamer_settings_without_an_s3_model(render):
    hub = {"type": "hf", "repo_id": "meta-llama/Llama-3.1-405B-Instruct"}
    for template in _templates(_objects(render, efa=None, model=hub, **EFA_IMAGE)).values():
        [container] = template["spec"]["containers"]
        assert "--model-loader-extra-config" not in container["args"]
        assert not any(e["name"].startswith("RUNAI_STREAMER") for e in container["env"])


def test_on_an_efa_pool_a_group_runs_the_kits_efa_image_over_efa_by_default(render):
    """No efa key, no image: the pool's EFA is used, with the kit's build of the pinned image (images/vllm-efa)."""
    for role, template in _templates(_objects(render, efa=None)).items():
        [container] = template["spec"]["containers"]
        host, _, rest = container["image"].partition("/")
        assert host == "{account}.dkr.ecr.us-west-2.amazonaws.com" and rest.startswith("llm-kit/vllm-efa:v0.30.0-efa1.50.0-"), role
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert (env["NCCL_NET"], env["NCCL_NET_PLUGIN"], env["FI_PROVIDER"]) == ("OFI", "ofi", "efa"), role
        assert container["resources"]["limits"]["vpc.amazonaws.com/efa"] == "32", role
        # The image's own user and entrypoint stay (core/images.py vllm-efa).
        assert "command" not in container and container["securityContext"]["runAsUser"] == 2000, role


def test_a_custom_image_without_aws_ofi_nccl_is_still_refused_on_efa(tmp_path):
    """NCCL_NET=OFI would stop NCCL in an image without the plugin: an image the kit knows nothing of must say it has it."""
    workload = {k: v for k, v in _multinode(image="example.com/vllm:custom", image_provides=["runai-model-streamer"]).items() if k != "efa"}
    assert_rejected(
        tmp_path,
        {"workloads": [workload]},
        ["workloads[0]", "NCCL would cross nodes over EFA", "carries no aws-ofi-nccl", "set efa: false"],
    )


def test_every_pod_runs_vllm_serve_in_native_multinode_mode_without_ray(render):
    templates = _templates(_objects(render, nodes=4, max_model_len=32768))
    leader, worker = _args(templates["leader"]), _args(templates["worker"])
    assert leader[0] == worker[0] == S3_MODEL["uri"]
    assert "ray" not in " ".join(leader + worker).lower()
    flags = _flags(leader)
    assert (flags["--tensor-parallel-size"], flags["--pipeline-parallel-size"], flags["--nnodes"]) == ("8", "4", "4")
    assert (flags["--distributed-executor-backend"], flags["--node-rank"]) == ("mp", "0")
    assert (flags["--master-addr"], flags["--master-port"]) == ("$(LWS_LEADER_ADDRESS)", "29501")
    assert (flags["--port"], flags["--max-model-len"], flags["--load-format"]) == ("8000", "32768", "runai_streamer")
    assert "--headless" not in leader
    # Workers: the same engine, their own rank, no API server.
    assert worker[-1] == "--headless" and _flags(worker)["--node-rank"] == "$(LWS_WORKER_INDEX)"
    assert {k: v for k, v in _flags(worker).items() if k != "--node-rank"} == {k: v for k, v in flags.items() if k != "--node-rank"}
    leader_ports = {p["name"]: p["containerPort"] for p in templates["leader"]["spec"]["containers"][0]["ports"]}
    assert leader_ports == {"http": 8000, "master": 29501}


def test_only_variables_leaderworkerset_injects_are_left_for_the_kubelet(render):
    for template in _templates(_objects(render)).values():
        [container] = template["spec"]["containers"]
        referenced = set(re.findall(r"\$\((\w+)\)", " ".join(container["args"])))
        assert referenced <= {"LWS_LEADER_ADDRESS", "LWS_WORKER_INDEX"}
        host_ip = next(e for e in container["env"] if e["name"] == "VLLM_HOST_IP")
        assert host_ip["valueFrom"] == {"fieldRef": {"fieldPath": "status.podIP"}}


def test_probes_and_scrape_hints_on_the_leader_only(render):
    templates = _templates(_objects(render, startup_timeout_minutes=60))
    leader = templates["leader"]["spec"]["containers"][0]
    assert leader["startupProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    assert leader["startupProbe"]["periodSeconds"] * leader["startupProbe"]["failureThreshold"] == 60 * 60
    assert templates["leader"]["metadata"]["annotations"]["prometheus.io/port"] == "8000"
    worker = templates["worker"]["spec"]["containers"][0]
    assert not {"startupProbe", "readinessProbe", "livenessProbe"} & worker.keys()
    assert "annotations" not in templates["worker"]["metadata"]


def test_service_sends_traffic_to_the_leaders_only(render):
    objects = _objects(render)
    service = objects["Service"]
    assert service["metadata"]["name"] == "big"
    assert service["spec"]["selector"] == {LWS_NAME: "big-group", WORKER_INDEX: "0"}
    assert service["spec"]["ports"] == [{"name": "http", "port": 8000, "targetPort": "http"}]
    # LeaderWorkerSet makes a headless Service named after the set for LWS_LEADER_ADDRESS; the names must differ.
    assert objects["LeaderWorkerSet"]["metadata"]["name"] != service["metadata"]["name"]


def test_a_disruption_budget_covers_every_pod_of_every_group(render):
    objects = _objects(render, replicas=2)
    budget = objects["PodDisruptionBudget"]["spec"]
    assert budget["maxUnavailable"] == 1
    for template in _templates(objects).values():
        assert budget["selector"]["matchLabels"].items() <= template["metadata"]["labels"].items()
    # One group is never evicted voluntarily: a drain would take the model down.
    assert _objects(render, replicas=1)["PodDisruptionBudget"]["spec"]["maxUnavailable"] == 0


def test_core_objects_and_pod_templates_pass_the_strict_schema(render):
    objects = _objects(render, replicas=2)
    for kind in ("Service", "PodDisruptionBudget"):
        kubernetes_validate.validate(objects[kind], "1.35", strict=True)
    for role, template in _templates(objects).items():
        pod_template = {"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": f"big-{role}"}, "template": template}
        kubernetes_validate.validate(pod_template, "1.35", strict=True)


def test_model_sources_reach_leader_and_workers(render):
    fsx = by_kind(
        render({"storage": {"fsx": {"enabled": True}}, "workloads": [_multinode(model={"type": "fsx", "sub_path": "models/llama-405b"})]})[
            "big"
        ]
    )
    templates = _templates(fsx)
    assert _args(templates["leader"])[0] == _args(templates["worker"])[0] == "/models/models/llama-405b"
    for template in templates.values():
        assert {"name": "models", "mountPath": "/models", "readOnly": True} in template["spec"]["containers"][0]["volumeMounts"]
    hub = _templates(
        _objects(render, model={"type": "hf", "repo_id": "meta-llama/Llama-3.1-405B-Instruct", "token_secret_name": "hf-token"})
    )
    for template in hub.values():
        env = {e["name"]: e for e in template["spec"]["containers"][0]["env"]}
        assert env["HF_TOKEN"]["valueFrom"]["secretKeyRef"]["name"] == "hf-token"


def test_python_dash_m_prints_the_leader_worker_set(tmp_path, capsys):
    config = write_config(tmp_path, {"workloads": [_multinode()]})
    assert standalone_main(["--blueprint", "vllm-multinode", "--config", str(config)]) == 0
    assert "kind: LeaderWorkerSet" in capsys.readouterr().out


CHECKS = [
    pytest.param(
        _multinode(tensor_parallel_size=4),
        ["workloads[0].tensor_parallel_size", "is 4, but each pod takes a whole node", "all of its 8 GPUs", "set tensor_parallel_size: 8"],
        id="tp-below-the-node",
    ),
    pytest.param(
        _multinode(nodes=1), ["workloads[0].nodes", "is 1, but a multi-node group needs at least 2 nodes", "blueprint: vllm"], id="one-node"
    ),
    pytest.param(
        _multinode(tensor_parallel_size=16), ["needs 16 GPUs but p5.48xlarge has 8", "set tensor_parallel_size: 8"], id="tp-beyond-the-node"
    ),
]


@pytest.mark.parametrize(("workload", "expected"), CHECKS)
def test_bad_multinode_workloads_are_explained(tmp_path, workload, expected):
    assert_rejected(tmp_path, {"workloads": [workload]}, expected)


def _cluster_stack(tmp_path_factory, enabled: bool) -> dict:
    folder = tmp_path_factory.mktemp("lws-on" if enabled else "lws-off")
    return synth(write_config(folder, {"workloads": [_multinode(enabled=enabled)]}), folder / "out")["llm-kit-cluster"]


@pytest.fixture(scope="module")
def cluster_with_lws(tmp_path_factory):
    return _cluster_stack(tmp_path_factory, enabled=True)


@pytest.fixture(scope="module")
def cluster_without_lws(tmp_path_factory):
    return _cluster_stack(tmp_path_factory, enabled=False)


@pytest.mark.e2e
def test_an_enabled_workload_makes_the_cluster_install_the_lws_chart(cluster_with_lws):
    chart = helm_charts(cluster_with_lws)["lws"]
    assert chart["Type"] == "Custom::AWSCDK-EKS-HelmChart"
    properties = chart["Properties"]
    assert (properties["Repository"], properties["Version"], properties["Namespace"]) == (
        "oci://registry.k8s.io/lws/charts/lws",
        "0.10.0",
        "lws-system",
    )


@pytest.mark.e2e
def test_disabling_the_workload_removes_the_lws_chart(cluster_without_lws):
    assert "lws" not in helm_charts(cluster_without_lws)
