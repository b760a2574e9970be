"""The vLLM blueprint: arguments, pod placement, resources, probes, model sources, strict schema."""

import json

import kubernetes_validate

from tests.blueprints.conftest import by_kind
from tests.helpers import assert_rejected

S3_MODEL = {
    "type": "s3",
    "uri": "s3://llm-kit-models-111122223333-us-west-2/models/meta-llama/Llama-3.1-70B-Instruct/",
    "streamer_concurrency": 32,
}


HUB = {"type": "hf", "repo_id": "meta-llama/Llama-3.1-8B-Instruct", "token_secret_name": "hf-token"}


def _workload(**fields):
    return {"name": "chat", "blueprint": "vllm", "node_pool": "gpu-h100-efa", "model": S3_MODEL, "tensor_parallel_size": 8, **fields}


def _container(objects):
    return by_kind(objects)["Deployment"]["spec"]["template"]["spec"]["containers"][0]


def test_default_config_workload_passes_the_strict_schema(render):
    objects = render({})["llama-8b"]
    assert [o["kind"] for o in objects] == ["Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy"]
    # One replica: voluntary evictions (drains, Karpenter consolidation and drift) never take it down.
    assert objects[2]["spec"]["maxUnavailable"] == 0
    for obj in objects:
        kubernetes_validate.validate(obj, "1.35", strict=True)


def test_engine_arguments_follow_the_config(render):
    objects = render(
        {
            "workloads": [
                _workload(
                    max_model_len=32768,
                    gpu_memory_utilization=0.92,
                    quantization="fp8",
                    served_model_name="llama-70b",
                    extra_args=["--max-num-seqs", "128"],
                )
            ]
        }
    )["chat"]
    container = _container(objects)
    # The image's entrypoint is `vllm serve`: the container sets arguments only.
    assert "command" not in container
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
    # Eight ranks: without "distributed" each would stream the whole checkpoint (vLLM 0.30.0 runai_streamer_loader.py).
    assert json.loads(args[args.index("--model-loader-extra-config") + 1]) == {"concurrency": 32, "distributed": True}
    assert by_kind(objects)["Deployment"]["spec"]["template"]["spec"]["serviceAccountName"] == "model-reader"


def test_a_single_gpu_server_streams_alone(render):
    one_gpu_model = {**S3_MODEL, "uri": S3_MODEL["uri"].replace("70B", "8B")}  # 70B's weights fill no single L40S (docs/models.md)
    args = _container(
        render(
            {
                "workloads": [
                    _workload(
                        tensor_parallel_size=1, node_pool="gpu-l40s", instance_type="g6e.2xlarge", model=one_gpu_model, max_model_len=16384
                    )
                ]
            }
        )["chat"]
    )["args"]
    assert json.loads(args[args.index("--model-loader-extra-config") + 1]) == {"concurrency": 32}


def test_pods_land_on_one_instance_type_of_their_pool_in_the_zone(render):
    pod = by_kind(render({"workloads": [_workload()]})["chat"])["Deployment"]["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {
        "llm-kit/pool": "gpu-h100-efa",
        "node.kubernetes.io/instance-type": "p5.48xlarge",
        "topology.k8s.aws/zone-id": "usw2-az2",
    }
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod["tolerations"]


def test_a_single_node_server_takes_no_efa_even_on_an_efa_pool(render):
    container = _container(render({"workloads": [_workload(shm_size_gib=64)]})["chat"])
    limits = container["resources"]["limits"]
    assert limits["nvidia.com/gpu"] == "8" and "vpc.amazonaws.com/efa" not in limits
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert not {"FI_PROVIDER", "NCCL_NET"} & {e["name"] for e in container["env"]}


def test_efa_asked_of_a_single_node_server_is_refused(tmp_path):
    assert_rejected(tmp_path, {"workloads": [_workload(efa=True)]}, ["workloads[0].efa", "sends nothing between nodes", "fix: remove efa"])


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
    hub = render({"workloads": [_workload(model=HUB)]})["chat"]
    env = {e["name"]: e for e in _container(hub)["env"]}
    assert env["HF_TOKEN"]["valueFrom"]["secretKeyRef"] == {"name": "hf-token", "key": "HF_TOKEN"}


def test_replicas_bring_a_disruption_budget(render):
    objects = by_kind(render({"workloads": [_workload(replicas=2)]})["chat"])
    assert objects["PodDisruptionBudget"]["spec"]["maxUnavailable"] == 1
    assert objects["Deployment"]["spec"]["replicas"] == 2
    for obj in objects.values():
        kubernetes_validate.validate(obj, "1.35", strict=True)


def test_autoscaling_minimum_above_its_maximum_is_refused(tmp_path):
    assert_rejected(
        tmp_path,
        {"workloads": [_workload(autoscaling={"min_replicas": 5, "max_replicas": 2})]},
        ["workloads[0].autoscaling", "min_replicas (5) is above max_replicas (2)"],
    )


def test_disabled_workloads_render_nothing(render):
    assert render({"workloads": [_workload(enabled=False)]}) == {}


def test_memory_request_and_limit_cover_the_memory_backed_shm(render):
    """/dev/shm's pages count against the pod's memory: a limit without them would OOM-kill a busy server."""
    container = _container(render({})["llama-8b"])
    # g6e.2xlarge: 64 GiB for 1 GPU; shm defaults to a quarter of the pod's share (16 GiB), plus 12 GiB per GPU.
    assert container["resources"]["requests"]["memory"] == container["resources"]["limits"]["memory"] == "28Gi"
    volumes = by_kind(render({})["llama-8b"])["Deployment"]["spec"]["template"]["spec"]["volumes"]
    assert {"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": "16Gi"}} in volumes
    explicit = _container(render({"workloads": [_workload(shm_size_gib=64, memory_gib_per_gpu=100)]})["chat"])
    assert explicit["resources"]["limits"]["memory"] == "864Gi"


def test_memory_beyond_the_pods_share_of_the_node_is_refused(tmp_path):
    # p5.48xlarge: 2048 GiB for 8 GPUs, 90% for pods: at most 1843 GiB for a whole-node pod.
    assert_rejected(
        tmp_path,
        {"workloads": [_workload(memory_gib_per_gpu=240)]},
        ["workloads[0].memory_gib_per_gpu", "asks for 1952 GiB of host memory (240 GiB x 8 GPUs + 32 GiB of /dev/shm", "leave it 1843 GiB"],
    )


def test_hub_downloads_use_huggingface_hubs_current_fast_path(render):
    env = {e["name"]: e.get("value") for e in _container(render({"workloads": [_workload(model=HUB)]})["chat"])["env"]}
    # huggingface_hub 1.x (vLLM 0.30 needs >= 1.31) ignores HF_HUB_ENABLE_HF_TRANSFER; Xet's high-performance mode replaces it.
    assert env["HF_XET_HIGH_PERFORMANCE"] == "1" and "HF_HUB_ENABLE_HF_TRANSFER" not in env


def test_bitsandbytes_quantization_is_refused(tmp_path):
    """vLLM 0.30.0 moved bitsandbytes to a plugin the pinned image does not carry."""
    assert_rejected(
        tmp_path,
        {"workloads": [_workload(quantization="bitsandbytes")]},
        ["workloads[0].quantization", "not one of the allowed values", "'fp8'"],
    )
