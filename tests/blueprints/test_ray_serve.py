"""The Ray Serve blueprint: the RayService's head and worker groups, Serve's LLM config, autoscaling, the KubeRay
operator it requires, its network policies and route, and the settings it refuses."""

from __future__ import annotations

import copy

import kubernetes_validate
import pytest
import yaml

from assembly.app import render_workloads
from assembly.kit import KIT
from blueprints.ray_serve.serve_config import KIT_ENGINE_KWARGS
from tests.blueprints.conftest import by_kind
from tests.helpers import REPO, assert_rejected, pools_with, write_config

HUB = {"type": "hf", "repo_id": "meta-llama/Llama-3.1-8B-Instruct", "token_secret_name": "hf-token"}
S3_MODEL = {"type": "s3", "uri": "s3://llm-kit-models-111122223333-us-west-2/models/meta-llama/Llama-3.1-8B-Instruct/"}
OPERATOR_NAMESPACE = "kuberay-system"


def _workload(**fields):
    return {"name": "chat", "blueprint": "ray-serve", "node_pool": "gpu-l40s", "instance_type": "g6e.2xlarge", "model": HUB, **fields}


def _objects(render, overrides=None, **fields):
    return render({"workloads": [_workload(**fields)], **(overrides or {})})["chat"]


def _service(objects):
    return by_kind(objects)["RayService"]


def _cluster(objects):
    return _service(objects)["spec"]["rayClusterConfig"]


def _llm_config(objects):
    serve = yaml.safe_load(_service(objects)["spec"]["serveConfigV2"])
    [app] = serve["applications"]
    [config] = app["args"]["llm_configs"]
    return serve, app, config


def test_serve_config_is_one_openai_app_of_ray_serve_llm_with_the_vllm_engine_settings(render):
    objects = _objects(
        render,
        served_model_name="llama-8b",
        max_model_len=32768,
        gpu_memory_utilization=0.85,
        quantization="fp8",
        enable_prefix_caching=False,
    )
    serve, app, config = _llm_config(objects)
    assert (serve["proxy_location"], serve["http_options"]) == ("EveryNode", {"host": "0.0.0.0", "port": 8000})
    assert (app["import_path"], app["route_prefix"]) == ("ray.serve.llm:build_openai_app", "/")
    assert config["model_loading_config"] == {"model_id": "llama-8b", "model_source": "meta-llama/Llama-3.1-8B-Instruct"}
    kwargs = config["engine_kwargs"]
    assert kwargs["tensor_parallel_size"] == 1 and kwargs["max_model_len"] == 32768 and kwargs["gpu_memory_utilization"] == 0.85
    assert kwargs["quantization"] == "fp8" and kwargs["enable_prefix_caching"] is False
    # Ray owns the served name (model_loading_config.model_id) and the executor; writing them would be refused by Ray.
    assert not {"model", "served_model_name", "distributed_executor_backend"} & set(kwargs)
    assert set(kwargs) - {"revision"} <= KIT_ENGINE_KWARGS
    assert config["placement_group_config"] == {"bundle_per_worker": {"GPU": 1}, "strategy": "STRICT_PACK"}


def test_autoscaling_fields_come_from_the_config_and_the_target_is_always_written(render):
    scaling = {"min_replicas": 2, "max_replicas": 6, "target_ongoing_requests": 12, "upscale_delay_s": 45, "downscale_delay_s": 900}
    _, _, config = _llm_config(_objects(render, autoscaling=scaling, max_workers=6))
    assert config["deployment_config"] == {"autoscaling_config": scaling}
    # Left out, Ray Serve LLM's default target (1e9 requests per replica) would never add a replica.
    _, _, default = _llm_config(_objects(render))
    assert default["deployment_config"]["autoscaling_config"]["target_ongoing_requests"] == 32


def test_pipeline_stages_and_the_cpu_tier_reach_the_engine(render):
    objects = _objects(render, tensor_parallel_size=2, pipeline_parallel_size=2, instance_type="g6e.12xlarge", kv_offload={"cpu_gib": 16})
    _, _, config = _llm_config(objects)
    assert (config["engine_kwargs"]["tensor_parallel_size"], config["engine_kwargs"]["pipeline_parallel_size"]) == (2, 2)
    assert config["engine_kwargs"]["kv_offloading_size"] == 16
    worker = _cluster(objects)["workerGroupSpecs"][0]["template"]["spec"]
    assert worker["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "4"
    # The CPU tier is a file in /dev/shm (vLLM 0.29.0 shared_offload_region.py): the volume grows by it.
    shm = next(v for v in worker["volumes"] if v["name"] == "dshm")
    assert int(shm["emptyDir"]["sizeLimit"].removesuffix("Gi")) >= 16 + 1


def test_the_head_runs_on_the_system_nodes_and_offers_no_cpu_or_gpu_to_replicas(render):
    cluster = _cluster(_objects(render))
    head = cluster["headGroupSpec"]
    assert head["rayStartParams"]["num-cpus"] == "0" and head["rayStartParams"]["num-gpus"] == "0"
    pod = head["template"]["spec"]
    assert pod["nodeSelector"] == {"llm-kit/pool": "system"}
    assert "tolerations" not in pod
    [container] = pod["containers"]
    assert "nvidia.com/gpu" not in container["resources"]["limits"]
    assert {p["name"]: p["containerPort"] for p in container["ports"]} == {
        "gcs-server": 6379,
        "dashboard": 8265,
        "client": 10001,
        "serve": 8000,
        "metrics": 8080,
    }
    # KubeRay binds the autoscaler's Role to the head's account; a head that names one must find it.
    assert pod["serviceAccountName"] == "chat-ray-head"
    assert "automountServiceAccountToken" not in pod


def test_workers_run_on_the_gpu_pool_in_the_zone(render):
    cluster = _cluster(_objects(render))
    [group] = cluster["workerGroupSpecs"]
    pod = group["template"]["spec"]
    assert pod["nodeSelector"] == {
        "llm-kit/pool": "gpu-l40s",
        "node.kubernetes.io/instance-type": "g6e.2xlarge",
        "topology.k8s.aws/zone-id": "usw2-az2",
    }
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod["tolerations"]
    assert pod["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert pod["automountServiceAccountToken"] is False
    # KubeRay writes the probes (workers also check their Serve proxy): a template that set them would replace those.
    assert not {"readinessProbe", "livenessProbe", "startupProbe"} & set(pod["containers"][0])


def test_ray_autoscaling_is_on_with_worker_bounds_from_the_config(render):
    cluster = _cluster(_objects(render, min_workers=1, max_workers=3, idle_worker_seconds=120, autoscaling={"max_replicas": 3}))
    assert cluster["enableInTreeAutoscaling"] is True and cluster["rayVersion"] == "2.60.0"
    assert cluster["autoscalerOptions"]["version"] == "v2" and cluster["autoscalerOptions"]["idleTimeoutSeconds"] == 120
    [group] = cluster["workerGroupSpecs"]
    assert (group["minReplicas"], group["maxReplicas"], group["replicas"], group["idleTimeoutSeconds"]) == (1, 3, 1, 120)
    assert "priority" not in group


def test_max_workers_defaults_to_what_max_replicas_needs(render):
    # Four replicas of one GPU, two to a worker pod of two GPUs: two pods.
    cluster = _cluster(_objects(render, instance_type="g6e.12xlarge", gpus_per_worker=2, autoscaling={"max_replicas": 4}))
    assert cluster["workerGroupSpecs"][0]["maxReplicas"] == 2


def test_worker_groups_on_two_pools_in_the_order_written(render):
    extra = {"node_pool": "gpu-h100-efa", "gpus_per_worker": 8, "max_workers": 1}
    cluster = _cluster(_objects(render, max_workers=2, worker_groups=[extra], autoscaling={"max_replicas": 10}))
    first, second = cluster["workerGroupSpecs"]
    assert (first["groupName"], second["groupName"]) == ("gpu-l40s", "gpu-h100-efa")
    # Ray's autoscaler v2 prefers the higher priority when both groups fit a pending replica.
    assert first["priority"] > second["priority"]
    pod = second["template"]["spec"]
    assert (
        pod["nodeSelector"]["llm-kit/pool"] == "gpu-h100-efa" and pod["nodeSelector"]["node.kubernetes.io/instance-type"] == "p5.48xlarge"
    )
    limits = pod["containers"][0]["resources"]["limits"]
    # A replica never crosses nodes: no EFA even on an EFA pool.
    assert limits["nvidia.com/gpu"] == "8" and "vpc.amazonaws.com/efa" not in limits


def test_every_pod_meets_the_restricted_pod_security_standard(render):
    cluster = _cluster(_objects(render))
    pods = [cluster["headGroupSpec"]["template"]["spec"], *(g["template"]["spec"] for g in cluster["workerGroupSpecs"])]
    for pod in pods:
        assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        for container in pod["containers"]:
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
            assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    # The autoscaler sidecar KubeRay adds takes its securityContext from here (pod.go mergeAutoscalerOverrides).
    assert cluster["autoscalerOptions"]["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert KIT.by_name["ray-serve"].pod_security == "restricted"


def test_metrics_are_scraped_on_rays_port(render):
    cluster = _cluster(_objects(render))
    for template in (cluster["headGroupSpec"]["template"], cluster["workerGroupSpecs"][0]["template"]):
        assert template["metadata"]["annotations"]["prometheus.io/port"] == "8080"


def test_model_sources(render):
    fsx = _objects(render, {"storage": {"fsx": {"enabled": True}}}, model={"type": "fsx", "sub_path": "models/llama"})
    _, _, fsx_config = _llm_config(fsx)
    assert fsx_config["model_loading_config"]["model_source"] == "/models/models/llama"
    mounts = _cluster(fsx)["workerGroupSpecs"][0]["template"]["spec"]["containers"][0]["volumeMounts"]
    assert {"name": "models", "mountPath": "/models", "readOnly": True} in mounts
    s3 = _objects(render, model=S3_MODEL)
    _, _, s3_config = _llm_config(s3)
    # Ray downloads a cloud mirror with boto3 into the Hub cache of each node (the image is not known to carry the
    # Run:ai streamer); the model-reader account's Pod Identity reads the prefix.
    assert s3_config["model_loading_config"]["model_source"] == {"bucket_uri": S3_MODEL["uri"]}
    assert "load_format" not in s3_config["engine_kwargs"]
    pod = _cluster(s3)["workerGroupSpecs"][0]["template"]["spec"]
    assert pod["serviceAccountName"] == "model-reader"
    env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
    assert env["HF_HOME"] == "/cache/huggingface"
    hub = _cluster(_objects(render))["workerGroupSpecs"][0]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "hf-token", "key": "HF_TOKEN"}}} in hub


def test_the_engine_start_timeout_is_the_startup_window(render):
    env = {
        e["name"]: e.get("value")
        for e in _cluster(_objects(render, startup_timeout_minutes=45))["workerGroupSpecs"][0]["template"]["spec"]["containers"][0]["env"]
    }
    assert env["RAYLLM_ENGINE_START_TIMEOUT_S"] == str(45 * 60)


def test_requirements_install_kuberay_on_the_system_nodes_watching_the_workloads_namespace_only(tmp_path):
    config = KIT.load(write_config(tmp_path, {"workloads": [_workload()]}))
    [kuberay] = [c for c in KIT.requirements(config).controllers if c.name == "kuberay"]
    assert (kuberay.chart, kuberay.pin.repository, kuberay.pin.version, kuberay.namespace) == (
        "kuberay-operator",
        "https://ray-project.github.io/kuberay-helm",
        "1.7.1",
        OPERATOR_NAMESPACE,
    )
    assert kuberay.values["nodeSelector"] == {"llm-kit/pool": "system"}
    assert kuberay.values["watchNamespace"] == [config.storage.workloads_namespace]
    assert kuberay.pod_security == "restricted" and "rayservices.ray.io" in kuberay.crds
    disabled = KIT.load(write_config(tmp_path, {"workloads": [_workload(enabled=False)]}))
    assert "kuberay" not in {c.name for c in KIT.requirements(disabled).controllers}


def test_head_and_workers_talk_on_any_port_and_the_operator_reaches_the_head(render):
    objects = _objects(render)
    policies = {o["metadata"]["name"]: o["spec"] for o in objects if o["kind"] == "NetworkPolicy"}
    group = policies["chat-group-0"]
    assert group["podSelector"] == {"matchLabels": {"llm-kit/workload": "chat"}}
    assert group["ingress"] == [{"from": [{"podSelector": {"matchLabels": {"llm-kit/workload": "chat"}}}]}]
    head = policies["chat-head"]
    assert head["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "head"
    [ingress] = head["ingress"]
    assert ingress["from"][0]["namespaceSelector"] == {"matchLabels": {"kubernetes.io/metadata.name": OPERATOR_NAMESPACE}}
    assert {p["port"] for p in ingress["ports"]} == {8265, 8000}
    assert head["egress"][0]["ports"] == [{"protocol": "TCP", "port": 443}]  # the autoscaler sidecar's Kubernetes API
    # Unrouted and uncalled, the serving port admits no one; the scraper reads Ray's metrics port.
    workload = policies["chat"]
    assert {p["port"] for rule in workload["ingress"] for p in rule["ports"]} == {8080}


def test_the_gateway_routes_the_model_to_the_serve_service_without_a_picker(render):
    objects = by_kind(_objects(render, served_model_name="llama-8b", routing={}))
    assert "InferencePool" not in objects
    assert objects["Backend"]["spec"]["endpoints"] == [{"fqdn": {"hostname": "chat-serve-svc.inference.svc.cluster.local", "port": 8000}}]
    rule = objects["AIGatewayRoute"]["spec"]["rules"][0]
    assert rule["matches"][0]["headers"][0]["value"] == "llama-8b"
    assert rule["backendRefs"] == [{"name": "chat-local", "priority": 0}]
    policy = next(o for o in _objects(render, routing={}) if o["kind"] == "NetworkPolicy" and o["metadata"]["name"] == "chat")
    peers = policy["spec"]["ingress"][0]["from"]
    assert peers[0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] == "envoy-gateway-system"


def test_the_endpoint_is_the_serve_service(tmp_path):
    config = KIT.load(write_config(tmp_path, {"workloads": [_workload()]}))
    endpoint = KIT.platform(config).endpoints["chat"]
    assert (endpoint.service, endpoint.port, endpoint.serves_openai) == ("chat-serve-svc", 8000, True)


def test_rendered_objects_pass_the_strict_schema(render):
    for obj in _objects(render):
        if obj["kind"] in ("ServiceAccount", "PodDisruptionBudget", "NetworkPolicy"):
            kubernetes_validate.validate(obj, "1.35", strict=True)


def test_the_example_renders_two_worker_groups_on_two_pools():
    config = KIT.load(REPO / "config" / "examples" / "ray-serve-llama-8b.yaml")
    cluster = _cluster(render_workloads(config)["llama-ray"])
    assert [g["template"]["spec"]["nodeSelector"]["llm-kit/pool"] for g in cluster["workerGroupSpecs"]] == ["l40s-ondemand", "l40s-spot"]


REFUSALS = [
    ({"autoscaling": {"min_replicas": 4, "max_replicas": 2}}, ["workloads[0].autoscaling", "min_replicas (4) is above max_replicas (2)"]),
    ({"min_workers": 3, "max_workers": 1}, ["min_workers (3) is above max_workers (1)"]),
    (
        {"worker_groups": [{"node_pool": "gpu-h100-efa", "min_workers": 2, "max_workers": 1}]},
        ["workloads[0].worker_groups[0]", "min_workers (2) is above max_workers (1)"],
    ),
    ({"gpus_per_worker": 8}, ["workloads[0]", "a pod needs 8 GPUs but g6e.2xlarge has 1"]),
    (
        {"worker_groups": [{"node_pool": "gpu-l40s", "instance_type": "g6e.12xlarge", "gpus_per_worker": 3}]},
        ["node pool that another worker group already uses"],
    ),
    (
        {"instance_type": "g6e.12xlarge", "tensor_parallel_size": 4, "gpus_per_worker": 2},
        ["workloads[0].gpus_per_worker", "a replica needs 4 GPUs", "STRICT_PACK"],
    ),
    (
        {"instance_type": "g6e.12xlarge", "tensor_parallel_size": 2, "pipeline_parallel_size": 2, "gpus_per_worker": 2},
        ["a replica needs 4 GPUs (tensor_parallel_size 2 x pipeline_parallel_size 2)"],
    ),
    (
        {
            "instance_type": "g6e.48xlarge",
            "tensor_parallel_size": 4,
            "gpus_per_worker": 8,
            "autoscaling": {"max_replicas": 2},
            "worker_groups": [{"node_pool": "gpu-h100-efa", "gpus_per_worker": 2}],
        },
        ["workloads[0].worker_groups[0].gpus_per_worker", "a replica needs 4 GPUs"],
    ),
    (
        {"autoscaling": {"min_replicas": 1, "max_replicas": 40}, "max_workers": 40},
        ["workloads[0].max_workers", "more than pool 'gpu-l40s' can ever hold (16)"],
    ),
    (
        {"autoscaling": {"min_replicas": 1, "max_replicas": 5}, "max_workers": 2},
        ["workloads[0].autoscaling.max_replicas", "hold at most 2 replicas"],
    ),
    ({"name": "1chat"}, ["workloads[0].name", "DNS-1035"]),
    ({"extra_args": ["--max-num-seqs", "64"]}, ["workloads[0].extra_args", "engine_kwargs: {max_num_seqs: 256}"]),
    ({"engine_kwargs": {"tensor_parallel_size": 2, "model": "x"}}, ["workloads[0].engine_kwargs", "model, tensor_parallel_size"]),
    ({"replicas": 2}, ["workloads[0].replicas", "is not used by the ray-serve blueprint"]),
    ({"kv_offload": {"cpu_gib": 8, "nvme": {"size_gib": 100}}}, ["workloads[0].kv_offload", "the CPU tier only"]),
    ({"shm_size_gib": 1}, ["workloads[0].shm_size_gib", "Ray's object store"]),
    ({"queue": "research"}, ["workloads[0].queue", "RayService integration"]),
    (
        {"efa": True, "node_pool": "gpu-h100-efa", "instance_type": None, "tensor_parallel_size": 8},
        ["workloads[0].efa", "sends nothing between nodes"],
    ),
    ({"image": "example.com/my-ray:1"}, ["workloads[0].image", "must carry both"]),
    ({"routing": {"fallback": "claude"}}, ["workloads[0].routing.fallback", "names no model of gateway.bedrock"]),
    (
        {
            "startup_timeout_minutes": 5,
            "model_size_gib": 500,
            "tensor_parallel_size": 8,
            "node_pool": "gpu-h100-efa",
            "instance_type": None,
        },
        ["workloads[0].startup_timeout_minutes", "RAYLLM_ENGINE_START_TIMEOUT_S"],
    ),
]


@pytest.mark.parametrize("fields,expected", REFUSALS, ids=lambda v: str(v)[:60] if isinstance(v, dict) else None)
def test_impossible_settings_are_refused(tmp_path, fields, expected):
    workload = {key: value for key, value in _workload(**fields).items() if value is not None}
    overrides: dict[str, object] = {"workloads": [workload]}
    if "queue" in fields:
        overrides["scheduling"] = {"teams": [{"name": "research", "gpus": {"gpu-l40s": 4}}]}
    assert_rejected(tmp_path, overrides, expected)


def test_a_ray_serve_workload_fits_pools_that_hold_it(tmp_path):
    """The refusals above are about the settings, not the base: this one, with room, loads."""
    pools = pools_with(**{"gpu-l40s": 16})
    workload = _workload(
        autoscaling={"min_replicas": 2, "max_replicas": 6},
        max_workers=6,
        worker_groups=[{"node_pool": "gpu-h100-efa", "gpus_per_worker": 8, "max_workers": 1}],
    )
    config = KIT.load(write_config(tmp_path, {"node_pools": copy.deepcopy(pools), "workloads": [workload]}))
    assert KIT.summary(config.workloads[0]).startswith("ray-serve on gpu-l40s, gpu-h100-efa: 2-6 replicas x 1 GPUs")
