"""vLLM's OpenAI-compatible server as a Deployment and Service, one replica per tensor-parallel group."""

from __future__ import annotations

import cdk8s
from constructs import Construct

from blueprints.common import objects, probes, resources, scheduling
from blueprints.common.model_source import model_mount
from blueprints.common.vllm_args import engine_args
from blueprints.context import Placement
from blueprints.vllm.params import VllmWorkload
from infra.versions import IMAGES

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


class VllmChart(cdk8s.Chart):
    def __init__(self, scope: Construct, construct_id: str, *, workload: VllmWorkload, placement: Placement) -> None:
        super().__init__(scope, construct_id, namespace=placement.namespace, disable_resource_name_hashes=True)
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
        objects.server_deployment(self, name, BLUEPRINT, replicas=workload.replicas, pod=pod, pod_annotations=objects.scrape_annotations(workload.port))
        objects.service(self, name, BLUEPRINT, selector, [{"name": "http", "port": workload.port, "targetPort": "http"}], health_path="/health")
        objects.disruption_budget(self, name, BLUEPRINT, selector, workload.replicas)
        if workload.autoscaling:
            self._autoscaler(workload)

    def _autoscaler(self, workload: VllmWorkload) -> None:
        scaling = workload.autoscaling
        objects.api_object(
            self,
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
