"""vLLM's OpenAI-compatible server as a Deployment and Service, one replica per tensor-parallel group."""

from __future__ import annotations

from typing import TYPE_CHECKING

from blueprints.common import kv_offload, lora, objects, pod_scheduling, probes, resources
from blueprints.common.identity import server_identity
from blueprints.common.k8s_types import Container, PodSpec, Volume
from blueprints.common.model_source import ModelMount, model_mount
from blueprints.common.placement import Placement
from blueprints.common.vllm_args import engine_args
from blueprints.vllm.params import VllmWorkload
from core.naming import FSX_CLAIM_NAME
from core.images import IMAGES

if TYPE_CHECKING:
    import cdk8s
    from constructs import Construct

BLUEPRINT = "vllm"
IMAGE_KEY = "vllm"


def serve_args(workload: VllmWorkload, model: ModelMount) -> list[str]:
    """`vllm serve`'s arguments (the image's entrypoint): the model, the port, the engine, the LoRA adapters, then
    extra_args."""
    engine = engine_args(workload.model_copy(update={"extra_args": []}), model, workload.public_model_name)
    return [model.location, "--port", str(workload.port), *engine, *lora.engine_args(workload.lora), *workload.extra_args]


def server_image(workload: VllmWorkload) -> str:
    return workload.image or IMAGES["vllm"].reference


def server_container(workload: VllmWorkload, placement: Placement) -> tuple[Container, list[Volume]]:
    """The `vllm serve` container and the volumes it needs."""
    identity = server_identity(IMAGE_KEY, workload.run_as_user)
    model = model_mount(workload.model, identity.hf_home)
    kv_volumes, kv_mounts = kv_offload.volumes(workload.kv_offload, FSX_CLAIM_NAME)
    shm_volume, shm_mount = resources.shm(
        resources.shm_gib(placement.instance, workload.gpus_per_pod(), workload.shm_size_gib, workload.extra_shm_gib())
    )
    efa = placement.efa
    container: Container = {
        "name": "vllm",
        "image": server_image(workload),
        # `args` only: the image's entrypoint is `vllm serve`.
        "args": serve_args(workload, model),
        "ports": [{"name": "http", "containerPort": workload.port}],
        "env": [*identity.env(), *model.env, *resources.efa_env(placement)],
        "resources": resources.container_resources(
            placement,
            workload.gpus_per_pod(),
            workload.memory_gib_per_gpu,
            shm_size_gib=workload.shm_size_gib,
            efa=efa,
            extra_shm=workload.extra_shm_gib(),
        ),
        "volumeMounts": [shm_mount, *identity.mounts(), *model.mounts, *kv_mounts, *([lora.server_mount()] if workload.lora else [])],
        "securityContext": identity.security_context(),
        "lifecycle": probes.graceful_stop(),
        **probes.http_probes(port="http", ready_path="/health", startup_minutes=placement.startup_minutes),
    }
    return container, [shm_volume, *identity.volumes(), *model.volumes, *kv_volumes]


def vllm_chart(scope: Construct, workload: VllmWorkload, placement: Placement) -> cdk8s.Chart:
    chart = objects.new_chart(scope, workload.name, placement.namespace)
    name = workload.name
    selector = objects.selector_labels(name)
    container, volumes = server_container(workload, placement)
    # What the sidecars share with the server: its image, its user, and (the janitor) the KV-cache tiers' mounts.
    identity = server_identity(IMAGE_KEY, workload.run_as_user)
    image, security_context = server_image(workload), identity.security_context()
    _, kv_mounts = kv_offload.volumes(workload.kv_offload, FSX_CLAIM_NAME)
    adapters: PodSpec = {}
    if workload.lora is not None:
        # The adapters are copied from S3 before vLLM starts, which loads them all at start (blueprints/common/lora.py).
        objects.api_object(
            chart,
            "lora-sync",
            api_version="v1",
            kind="ConfigMap",
            name=f"{name}-lora-sync",
            labels_=objects.labels(name, BLUEPRINT, "lora"),
            body={"data": lora.sync_files()},
        )
        adapters = {"initContainers": [lora.sync_init_container(workload.lora, image, security_context, placement.region)]}
        volumes = [*volumes, *lora.volumes(f"{name}-lora-sync")]
    pod: PodSpec = {
        "serviceAccountName": placement.model_reader_service_account,
        **identity.pod_fields(),
        "terminationGracePeriodSeconds": 120,
        **adapters,
        "containers": [
            container,
            *kv_offload.janitor(workload.kv_offload, image, security_context, kv_mounts),
        ],
        "volumes": volumes,
        **pod_scheduling.gpu_scheduling(placement, selector),
    }
    scaled = workload.autoscaling is not None
    replicas = None if scaled else workload.replicas
    objects.server_deployment(chart, name, BLUEPRINT, replicas=replicas, pod=pod, pod_annotations=objects.scrape_annotations(workload.port))
    objects.service(
        chart, name, BLUEPRINT, selector, [{"name": "http", "port": workload.port, "targetPort": "http"}], health_path="/health"
    )
    objects.disruption_budget(
        chart, name, BLUEPRINT, selector, workload.replicas if workload.autoscaling is None else workload.autoscaling.min_replicas
    )
    return chart
