"""Triton serving one vLLM model: the model repository as a ConfigMap, a Deployment, Service and budget."""

from __future__ import annotations

import hashlib

from typing import TYPE_CHECKING

from blueprints.common import objects, pod_scheduling, probes, resources
from blueprints.common.identity import ServerIdentity, server_identity
from blueprints.common.k8s_types import Container, PodSpec, ServicePort, Volume
from blueprints.common.model_source import ModelMount, model_mount
from blueprints.common.placement import Placement
from blueprints.triton.params import TritonWorkload
from blueprints.triton.repository import repository_files
from core.images import IMAGES

if TYPE_CHECKING:
    import cdk8s
    from constructs import Construct

BLUEPRINT = "triton"
REPOSITORY = "/model_repository"
PORTS = {"http": 8000, "grpc": 8001, "metrics": 8002}
REPOSITORY_HASH_ANNOTATION = "llm-kit/model-repository-hash"


def server_command(model_name: str) -> list[str]:
    # A ConfigMap volume holds '..data' and timestamped directories beside the model; Triton's default mode would
    # try to load them as models and exit. Explicit mode loads the one named model and ignores the rest.
    return [
        "tritonserver",
        f"--model-repository={REPOSITORY}",
        "--model-control-mode=explicit",
        f"--load-model={model_name}",
        f"--http-port={PORTS['http']}",
        f"--grpc-port={PORTS['grpc']}",
        f"--metrics-port={PORTS['metrics']}",
    ]


def server_pod(
    workload: TritonWorkload, placement: Placement, model: ModelMount, repository_volume: Volume, identity: ServerIdentity
) -> PodSpec:
    shm_volume, shm_mount = resources.shm(
        resources.shm_gib(placement.instance, workload.gpus_per_pod(), workload.shm_size_gib, workload.extra_shm_gib())
    )
    efa = placement.efa
    container: Container = {
        "name": "triton",
        "image": workload.image or IMAGES["triton"].reference,
        # `args` only: NGC's entrypoint sets the environment up (EFA and NCCL plugin detection included), then runs them.
        "args": server_command(workload.repository_model_name),
        "ports": [{"name": port_name, "containerPort": port} for port_name, port in PORTS.items()],
        "env": [*identity.env(), *model.env, *resources.efa_env(placement)],
        "resources": resources.container_resources(
            placement,
            workload.gpus_per_pod(),
            workload.memory_gib_per_gpu,
            shm_size_gib=workload.shm_size_gib,
            efa=efa,
            extra_shm=workload.extra_shm_gib(),
        ),
        "volumeMounts": [
            {"name": repository_volume["name"], "mountPath": REPOSITORY, "readOnly": True},
            shm_mount,
            *identity.mounts(),
            *model.mounts,
        ],
        "securityContext": identity.security_context(),
        "lifecycle": probes.graceful_stop(),
        **probes.http_probes(
            port="http", ready_path="/v2/health/ready", live_path="/v2/health/live", startup_minutes=placement.startup_minutes
        ),
    }
    return {
        "serviceAccountName": placement.model_reader_service_account,
        **identity.pod_fields(),
        "terminationGracePeriodSeconds": 120,
        "containers": [container],
        "volumes": [repository_volume, shm_volume, *identity.volumes(), *model.volumes],
        **pod_scheduling.gpu_scheduling(placement, objects.selector_labels(workload.name)),
    }


def triton_chart(scope: Construct, workload: TritonWorkload, placement: Placement) -> cdk8s.Chart:
    chart = objects.new_chart(scope, workload.name, placement.namespace)
    name = workload.name
    selector = objects.selector_labels(name)
    identity = server_identity("triton", workload.run_as_user)
    model = model_mount(workload.model, identity.hf_home)
    files = repository_files(workload, model)
    config_map = f"{name}-model-repository"
    data = {key: content for key, (_, content) in files.items()}
    objects.api_object(
        chart,
        "model-repository",
        api_version="v1",
        kind="ConfigMap",
        name=config_map,
        labels_=objects.labels(name, BLUEPRINT),
        body={"data": data},
    )
    repository_volume: Volume = {
        "name": "model-repository",
        "configMap": {"name": config_map, "items": [{"key": key, "path": path} for key, (path, _) in files.items()]},
    }
    # Triton reads the repository once, at start-up: a changed model.json must roll the pods.
    digest = hashlib.sha256("".join(data.values()).encode()).hexdigest()[:16]
    objects.server_deployment(
        chart,
        name,
        BLUEPRINT,
        replicas=workload.replicas,
        pod=server_pod(workload, placement, model, repository_volume, identity),
        pod_annotations={**objects.scrape_annotations(PORTS["metrics"]), REPOSITORY_HASH_ANNOTATION: digest},
    )
    ports: list[ServicePort] = [{"name": port_name, "port": port, "targetPort": port_name} for port_name, port in PORTS.items()]
    objects.service(chart, name, BLUEPRINT, selector, ports, health_path="/v2/health/ready")
    objects.disruption_budget(chart, name, BLUEPRINT, selector, workload.replicas)
    return chart
