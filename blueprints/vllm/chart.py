"""vLLM's OpenAI-compatible server as a Deployment and Service, one replica per tensor-parallel group."""

from __future__ import annotations

from typing import TYPE_CHECKING

from blueprints.common import objects, probes, resources, scheduling
from blueprints.common.model_source import model_mount
from blueprints.common.placement import Placement
from blueprints.common.vllm_args import engine_args
from blueprints.vllm.params import VllmWorkload
from core.versions import IMAGES

if TYPE_CHECKING:
    import cdk8s
    from constructs import Construct

BLUEPRINT = "vllm"


def server_container(workload: VllmWorkload, placement: Placement) -> tuple[dict, list[dict]]:
    """The `vllm serve` container and the volumes it needs."""
    model = model_mount(workload.model)
    shm_volume, shm_mount = resources.shm(workload.shm_size_gib)
    efa = placement.efa
    container = {
        "name": "vllm",
        "image": workload.image or IMAGES["vllm"],
        "command": ["vllm", "serve"],
        "args": [model.location, "--port", str(workload.port), *engine_args(workload, model, workload.public_model_name)],
        "ports": [{"name": "http", "containerPort": workload.port}],
        "env": [*model.env, *resources.efa_env(efa)],
        "resources": resources.container_resources(placement, workload.gpus_per_pod(), workload.memory_gib_per_gpu, efa=efa),
        "volumeMounts": [shm_mount, *model.mounts],
        "securityContext": resources.security_context(efa=efa),
        "lifecycle": probes.graceful_stop(),
        **probes.http_probes(port="http", ready_path="/health", startup_minutes=workload.startup_timeout_minutes),
    }
    return container, [shm_volume, *model.volumes]


def vllm_chart(scope: Construct, workload: VllmWorkload, placement: Placement) -> cdk8s.Chart:
    chart = objects.new_chart(scope, workload.name, placement.namespace)
    name = workload.name
    selector = objects.selector_labels(name)
    container, volumes = server_container(workload, placement)
    pod = {
        "serviceAccountName": placement.model_reader_service_account,
        "terminationGracePeriodSeconds": 120,
        "containers": [container],
        "volumes": volumes,
        **scheduling.gpu_scheduling(placement, selector),
    }
    # Under an autoscaler the Deployment names no replica count: the autoscaler owns it.
    replicas = None if workload.autoscaling else workload.replicas
    objects.server_deployment(chart, name, BLUEPRINT, replicas=replicas, pod=pod, pod_annotations=objects.scrape_annotations(workload.port))
    objects.service(chart, name, BLUEPRINT, selector, [{"name": "http", "port": workload.port, "targetPort": "http"}], health_path="/health")
    objects.disruption_budget(chart, name, BLUEPRINT, selector, workload.replicas)
    if workload.autoscaling:
        _autoscaler(chart, workload)
    return chart


def _autoscaler(chart: cdk8s.Chart, workload: VllmWorkload) -> None:
    scaling = workload.autoscaling
    objects.api_object(
        chart,
        "hpa",
        api_version="autoscaling/v2",
        kind="HorizontalPodAutoscaler",
        name=workload.name,
        labels_=objects.labels(workload.name, BLUEPRINT),
        body={
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": workload.name},
                "minReplicas": scaling.min_replicas,
                "maxReplicas": scaling.max_replicas,
                "metrics": [
                    {
                        "type": "Pods",
                        "pods": {
                            "metric": {"name": "vllm_num_requests_waiting"},
                            "target": {"type": "AverageValue", "averageValue": str(scaling.target_waiting_requests)},
                        },
                    }
                ],
                # A new replica needs minutes to load; do not flap.
                "behavior": {"scaleDown": {"stabilizationWindowSeconds": 600}},
            }
        },
    )
