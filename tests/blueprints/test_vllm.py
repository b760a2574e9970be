"""The vLLM blueprint: arguments, pod placement, resources, probes, model sources, strict schema."""

import json

import kubernetes_validate

from tests.blueprints.conftest import by_kind
from tests.helpers import assert_rejected

S3_MODEL = {"type": "s3", "uri": "s3://llm-kit-models-111122223333-us-west-2/models/meta-llama/Llama-3.1-70B-Instruct/", "streamer_concurrency": 32}


def _workload(**fields):
    return {"name": "chat", "blueprint": "vllm", "node_pool": "gpu-h100-efa", "model": S3_MODEL, "tensor_parallel_size": 8, **fields}


def _container(objects):
    return by_kind(objects)["Deployment"]["spec"]["template"]["spec"]["containers"][0]


def test_default_config_workload_passes_the_strict_schema(render):
    objects = render({})["llama-8b"]
    assert [o["kind"] for o in objects] == ["Deployment", "Service"]
    for obj in objects:
        kubernetes_validate.validate(obj, "1.35", strict=True)


def test_engine_arguments_follow_the_config(render):
    objects = render({"workloads": [_workload(max_model_len=32768, gpu_memory_utilization=0.92, quantization="fp8", served_model_name="llama-70b", extra_args=["--max-num-seqs", "128"])]})["chat"]
    container = _container(objects)
    assert container["command"] == ["vllm", "serve"]
    args = container["args"]
    assert args[0] == S3_MODEL["uri"]
    pairs = dict(zip(args[1::2], args[2::2], strict=False))
    assert pairs["--served-model-name"] == "llama-70b"
    assert pairs["--tensor-parallel-size"] == "8"
    assert pairs["--max-model-len"] == "32768"
    assert pairs["--gpu-memory-utilization"] == "0.92"
    assert pairs["--quantization"] == "fp8"
    assert "--enable-prefix-caching" in args
    assert args[-2:] == ["--max-num-seqs", "128"]


def test_s3_models_are_streamed_with_the_run_ai_streamer_under_pod_identity(render):
    objects = render({"workloads": [_workload()]})["chat"]
    args = _container(objects)["args"]
    assert args[args.index("--load-format") + 1] == "runai_streamer"
    assert json.loads(args[args.index("--model-loader-extra-config") + 1]) == {"concurrency": 32}
    assert by_kind(objects)["Deployment"]["spec"]["template"]["spec"]["serviceAccountName"] == "model-reader"


def test_pods_land_on_one_instance_type_of_their_pool_in_the_zone(render):
    pod = by_kind(render({"workloads": [_workload()]})["chat"])["Deployment"]["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"llm-kit/pool": "gpu-h100-efa", "node.kubernetes.io/instance-type": "p5.48xlarge", "topology.k8s.aws/zone-id": "usw2-az2"}
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod["tolerations"]


def test_gpu_efa_and_shm_resources_on_an_efa_pool(render):
    objects = render({"workloads": [_workload(shm_size_gib=64)]})["chat"]
    container = _container(objects)
    limits = container["resources"]["limits"]
    assert limits["nvidia.com/gpu"] == "8" and limits["vpc.amazonaws.com/efa"] == "32"
    assert container["resources"]["requests"]["nvidia.com/gpu"] == "8"
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["FI_PROVIDER"] == "efa"
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"], "add": ["IPC_LOCK"]}
    volumes = by_kind(objects)["Deployment"]["spec"]["template"]["spec"]["volumes"]
    assert {"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": "64Gi"}} in volumes


def test_no_efa_on_a_pool_without_it(render):
    container = _container(render({})["llama-8b"])
    assert "vpc.amazonaws.com/efa" not in container["resources"]["limits"]
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert not any(e["name"].startswith("FI_") for e in container["env"])


def test_probes_allow_the_startup_timeout_and_gate_traffic_on_health(render):
    container = _container(render({"workloads": [_workload(startup_timeout_minutes=45)]})["chat"])
    assert container["startupProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    assert container["startupProbe"]["periodSeconds"] * container["startupProbe"]["failureThreshold"] == 45 * 60
    assert container["readinessProbe"]["httpGet"]["path"] == "/health"
    assert container["lifecycle"] == {"preStop": {"sleep": {"seconds": 15}}}


def test_fsx_and_hub_sources(render):
    fsx = _workload(model={"type": "fsx", "sub_path": "models/llama"})
    objects = render({"storage": {"fsx": {"enabled": True}}, "workloads": [fsx]})["chat"]
    container = _container(objects)
    assert container["args"][0] == "/models/models/llama"
    assert {"name": "models", "mountPath": "/models", "readOnly": True} in container["volumeMounts"]
    hub = render({})["llama-8b"]
    env = {e["name"]: e for e in _container(hub)["env"]}
    assert env["HF_TOKEN"]["valueFrom"]["secretKeyRef"] == {"name": "hf-token", "key": "HF_TOKEN"}


def test_replicas_bring_a_disruption_budget_and_autoscaling_an_hpa(render):
    objects = by_kind(render({"workloads": [_workload(replicas=2, autoscaling={"min_replicas": 2, "max_replicas": 6})]})["chat"])
    assert objects["PodDisruptionBudget"]["spec"]["maxUnavailable"] == 1
    hpa = objects["HorizontalPodAutoscaler"]["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (2, 6)
    assert hpa["metrics"][0]["pods"]["metric"]["name"] == "vllm_num_requests_waiting"
    # The autoscaler owns the count: a Deployment that named it would be reset to it on every apply.
    assert "replicas" not in objects["Deployment"]["spec"]
    for obj in objects.values():
        kubernetes_validate.validate(obj, "1.35", strict=True)


def test_without_an_autoscaler_the_deployment_names_its_replicas(render):
    assert by_kind(render({"workloads": [_workload(replicas=3)]})["chat"])["Deployment"]["spec"]["replicas"] == 3


def test_autoscaling_minimum_above_its_maximum_is_refused(tmp_path):
    assert_rejected(
        tmp_path,
        {"workloads": [_workload(autoscaling={"min_replicas": 5, "max_replicas": 2})]},
        ["workloads[0].autoscaling", "min_replicas (5) is above max_replicas (2)"],
    )


def test_disabled_workloads_render_nothing(render):
    assert render({"workloads": [_workload(enabled=False)]}) == {}
