"""The Triton blueprint: the generated model repository, the server command, ports, probes, model sources, checks."""

import json

import kubernetes_validate
import pytest

from assembly.render import main as standalone_main
from tests.blueprints.conftest import by_kind
from tests.helpers import assert_rejected, write_config

S3_MODEL = {
    "type": "s3",
    "uri": "s3://llm-kit-models-111122223333-us-west-2/models/meta-llama/Llama-3.1-8B-Instruct/",
    "streamer_concurrency": 24,
}


HF_MODEL = {"type": "hf", "repo_id": "meta-llama/Llama-3.1-8B-Instruct"}
# The pinned Triton image is not known to carry the Run:ai streamer: an S3 model needs an image that says it does.
STREAMER_IMAGE = {
    "image": "123456789012.dkr.ecr.us-west-2.amazonaws.com/tritonserver:26.08-vllm-runai",
    "image_provides": ["runai-model-streamer"],
}


def _triton(**fields):
    return {"name": "chat", "blueprint": "triton", "node_pool": "gpu-l40s", "instance_type": "g6e.12xlarge", "model": HF_MODEL, **fields}


def _objects(render, **fields) -> dict[str, dict]:
    return by_kind(render({"workloads": [_triton(**fields)]})["chat"])


def _container(objects) -> dict:
    return objects["Deployment"]["spec"]["template"]["spec"]["containers"][0]


def _model_json(objects) -> dict:
    return json.loads(objects["ConfigMap"]["data"]["model.json"])


def test_every_object_passes_the_strict_schema(render):
    objects = _objects(render, replicas=2)
    assert sorted(objects) == ["ConfigMap", "Deployment", "NetworkPolicy", "PodDisruptionBudget", "Service"]
    for obj in objects.values():
        kubernetes_validate.validate(obj, "1.35", strict=True)


def test_config_pbtxt_names_the_vllm_backend_and_leaves_the_gpus_to_it(render):
    pbtxt = _objects(render, triton_model_name="llama_8b")["ConfigMap"]["data"]["config.pbtxt"]
    lines = [line.strip() for line in pbtxt.splitlines()]
    assert 'name: "llama_8b"' in lines and 'backend: "vllm"' in lines
    assert "kind: KIND_MODEL" in lines and "decoupled: true" in lines
    assert 'key: "REPORT_CUSTOM_METRICS"' in lines and 'string_value: "true"' in lines


def test_model_json_carries_the_engine_settings_by_their_engine_argument_names(render):
    engine = _model_json(
        _objects(
            render,
            tensor_parallel_size=4,
            max_model_len=8192,
            gpu_memory_utilization=0.85,
            quantization="fp8",
            dtype="bfloat16",
            enable_prefix_caching=False,
            model=S3_MODEL,
            **STREAMER_IMAGE,
        )
    )
    assert engine == {
        "model": S3_MODEL["uri"],
        "tensor_parallel_size": 4,
        "max_model_len": 8192,
        "gpu_memory_utilization": 0.85,
        "quantization": "fp8",
        "dtype": "bfloat16",
        "enable_prefix_caching": False,
        "disable_log_stats": False,
        "load_format": "runai_streamer",
        # Four ranks share the reading (Triton's vLLM 0.27.1 has 0.30.0's runai_streamer_loader.py).
        "model_loader_extra_config": {"concurrency": 24, "distributed": True},
    }


def test_extra_args_are_merged_into_model_json(render):
    engine = _model_json(_objects(render, extra_args={"max_num_seqs": 64, "enforce_eager": True}))
    assert engine["max_num_seqs"] == 64 and engine["enforce_eager"] is True
    assert engine["tensor_parallel_size"] == 1


def test_the_repository_is_mounted_as_triton_expects_and_only_the_named_model_loads(render):
    objects = _objects(render, served_model_name="llama-8b")
    pod = objects["Deployment"]["spec"]["template"]["spec"]
    [volume] = [v for v in pod["volumes"] if v["name"] == "model-repository"]
    assert volume["configMap"] == {
        "name": "chat-model-repository",
        "items": [{"key": "config.pbtxt", "path": "llama-8b/config.pbtxt"}, {"key": "model.json", "path": "llama-8b/1/model.json"}],
    }
    container = _container(objects)
    assert {"name": "model-repository", "mountPath": "/model_repository", "readOnly": True} in container["volumeMounts"]
    # NGC's entrypoint prepares the environment and then runs these arguments: no command of our own.
    assert "command" not in container
    command = container["args"]
    assert command[0] == "tritonserver" and "--model-repository=/model_repository" in command
    assert "--model-control-mode=explicit" in command and "--load-model=llama-8b" in command


def test_a_changed_model_json_rolls_the_pods(render):
    def digest(**fields):
        return _objects(render, **fields)["Deployment"]["spec"]["template"]["metadata"]["annotations"]["llm-kit/model-repository-hash"]

    assert digest() == digest()
    assert digest() != digest(max_model_len=4096)


def test_http_grpc_and_metrics_ports_on_the_pod_and_the_service(render):
    objects = _objects(render)
    container = _container(objects)
    assert {p["name"]: p["containerPort"] for p in container["ports"]} == {"http": 8000, "grpc": 8001, "metrics": 8002}
    service = objects["Service"]
    assert {p["name"]: (p["port"], p["targetPort"]) for p in service["spec"]["ports"]} == {
        "http": (8000, "http"),
        "grpc": (8001, "grpc"),
        "metrics": (8002, "metrics"),
    }
    assert service["metadata"]["annotations"]["llm-kit/health-path"] == "/v2/health/ready"
    assert service["spec"]["selector"].items() <= objects["Deployment"]["spec"]["template"]["metadata"]["labels"].items()
    annotations = objects["Deployment"]["spec"]["template"]["metadata"]["annotations"]
    assert (annotations["prometheus.io/port"], annotations["prometheus.io/path"]) == ("8002", "/metrics")


def test_probes_use_the_v2_health_endpoints_and_allow_the_startup_timeout(render):
    container = _container(_objects(render, startup_timeout_minutes=40))
    assert container["startupProbe"]["httpGet"] == {"path": "/v2/health/ready", "port": "http"}
    assert container["startupProbe"]["periodSeconds"] * container["startupProbe"]["failureThreshold"] == 40 * 60
    assert container["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/v2/health/live"


def test_gpus_placement_and_shared_memory(render):
    objects = _objects(render, tensor_parallel_size=4, shm_size_gib=16)
    pod = objects["Deployment"]["spec"]["template"]["spec"]
    assert pod["nodeSelector"]["node.kubernetes.io/instance-type"] == "g6e.12xlarge"
    assert _container(objects)["resources"]["limits"]["nvidia.com/gpu"] == "4"
    assert {"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": "16Gi"}} in pod["volumes"]
    assert pod["serviceAccountName"] == "model-reader"


def test_fsx_and_hub_model_sources(render):
    fsx = render({"storage": {"fsx": {"enabled": True}}, "workloads": [_triton(model={"type": "fsx", "sub_path": "models/llama"})]})["chat"]
    objects = by_kind(fsx)
    engine = _model_json(objects)
    assert engine["model"] == "/models/models/llama" and "load_format" not in engine
    assert {"name": "models", "mountPath": "/models", "readOnly": True} in _container(objects)["volumeMounts"]
    hub = _objects(
        render, model={"type": "hf", "repo_id": "meta-llama/Llama-3.1-8B-Instruct", "revision": "v1.0", "token_secret_name": "hf-token"}
    )
    engine = _model_json(hub)
    assert (engine["model"], engine["revision"]) == ("meta-llama/Llama-3.1-8B-Instruct", "v1.0")
    env = {e["name"]: e for e in _container(hub)["env"]}
    assert env["HF_TOKEN"]["valueFrom"]["secretKeyRef"] == {"name": "hf-token", "key": "HF_TOKEN"}


def test_python_dash_m_prints_the_model_repository(tmp_path, capsys):
    config = write_config(tmp_path, {"workloads": [_triton()]})
    assert standalone_main(["--blueprint", "triton", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "kind: ConfigMap" in out and 'backend: "vllm"' in out


CHECKS = [
    pytest.param(
        _triton(extra_args={"tensor_parallel_size": 2}),
        ["workloads[0].extra_args", "sets tensor_parallel_size, which the blueprint writes from its own keys"],
        id="extra-args-clash",
    ),
    pytest.param(
        _triton(served_model_name="meta-llama/Llama-3.1-8B"),
        ["workloads[0].triton_model_name", "cannot name a Triton model directory"],
        id="bad-default-model-name",
    ),
    pytest.param(_triton(triton_model_name="../escape"), ["workloads[0].triton_model_name"], id="bad-model-name"),
    pytest.param(_triton(tensor_parallel_size=3), ["leave GPUs of a 4-GPU g6e.12xlarge unusable"], id="tp-not-a-divisor"),
    pytest.param(
        _triton(model=S3_MODEL),
        ["workloads[0].model", "pinned triton image is not known to carry it", "image_provides: [runai-model-streamer]"],
        id="s3-without-the-streamer",
    ),
    pytest.param(
        _triton(image_provides=["runai-model-streamer"]), ["workloads[0].image_provides", "no image is set"], id="provides-without-an-image"
    ),
]


@pytest.mark.parametrize(("workload", "expected"), CHECKS)
def test_bad_triton_workloads_are_explained(tmp_path, workload, expected):
    assert_rejected(tmp_path, {"workloads": [workload]}, expected)
