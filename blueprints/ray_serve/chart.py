"""A RayService (ray.io/v1, KubeRay v1.7): the Ray head on the system nodes, GPU worker groups on the kit's pools, Ray's
autoscaler adding and removing worker pods (Karpenter turns them into nodes), and the Serve application.

Read in ray-project/kuberay v1.7.0 (ray-operator/controllers/ray/common/pod.go, utils/validation.go, apis/ray/v1):
- The Ray container is the first container of each template; KubeRay writes its command (`ray start ... --block`),
  its liveness and readiness probes when the template sets none (workers of a RayService also check the Serve proxy,
  `wget localhost:8000/-/healthz`), a `wait-gcs-ready` init container on workers that copies the Ray container's
  securityContext, and the autoscaler sidecar on the head, whose securityContext comes from autoscalerOptions.
- rayStartParams num-cpus/num-gpus of the head are 0, so no replica lands there; a worker's num-gpus comes from its
  nvidia.com/gpu limit and num-cpus from its CPU request (generateRayStartCommand).
- With autoscaling on, KubeRay binds a Role (pods get/list/watch/patch, rayclusters get/patch) to the head's service
  account; a head that names its account must find it (reconcileAutoscalerServiceAccount), so the chart writes it.
- Worker group priority needs Ray 2.56 and autoscaler v2 (validateWorkerGroupPriority); the autoscaler reads
  minReplicas, maxReplicas, idleTimeoutSeconds and priority per group (ray 2.60.0 autoscaler/_private/kuberay/
  autoscaling_config.py).
- The serve Service is `<name>-serve-svc`, port `serve` of the head container, selecting the active cluster's pods
  labelled ray.io/serve=true (common/service.go BuildServeService): the head while its proxy is healthy, and workers,
  whose readiness carries their proxy's health.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from blueprints.common import objects, pod_scheduling, resources
from blueprints.common.identity import SHARED_HF_HOME, ServerIdentity, server_identity
from blueprints.common.k8s_types import (
    Container,
    ContainerPort,
    EnvVar,
    HeadGroupSpec,
    ObjectMeta,
    PodSpec,
    RayServiceSpec,
    Volume,
    VolumeMount,
    WorkerGroupSpec,
)
from blueprints.common.model_source import model_mount
from blueprints.common.placement import Placement
from blueprints.ray_serve.params import RayServeWorkload
from blueprints.ray_serve.serve_config import SERVE_PORT, serve_config_yaml
from core.labels import SYSTEM_POOL_LABEL, WORKLOAD_LABEL
from core.model_sources import FsxSource, HfSource
from core.images import IMAGES
from core.versions import PROGRAMS

if TYPE_CHECKING:
    import cdk8s
    from constructs import Construct

BLUEPRINT = "ray-serve"
IMAGE_KEY = "ray-llm"
API_VERSION = "ray.io/v1"
GIB = 1 << 30
# KubeRay's port names and numbers (ray-operator/controllers/ray/utils/constant.go).
PORTS = {"gcs-server": 6379, "dashboard": 8265, "client": 10001, "serve": SERVE_PORT, "metrics": 8080}
METRICS_PORT = PORTS["metrics"]
WORKER_OBJECT_STORE_GIB = 1
"""Ray's object store on a worker: vLLM's Ray executor passes control messages through it, nothing large. Set
explicitly because Ray refuses to start when a set size exceeds /dev/shm and a default one takes 30% of the memory."""
HEAD_SHM_SLACK_GIB = 1
AUTOSCALER_RESOURCES = {"cpu": "500m", "memory": "512Mi"}
"""KubeRay's own defaults for the sidecar (pod.go BuildAutoscalerContainer), written out so the head's share is visible."""
ENGINE_START_TIMEOUT_ENV = "RAYLLM_ENGINE_START_TIMEOUT_S"
"""How long a replica may take to download, load and warm up before Ray Serve LLM gives up on it (ray 2.60.0
llm/_internal/serve/constants.py, default 3600): the kit's startup window."""
HEAD_COMPONENT, WORKER_COMPONENT = "head", "worker"


@dataclass(frozen=True)
class Group:
    """One worker group as rendered: its name, where its pods go and how many the autoscaler may run."""

    name: str
    placement: Placement
    gpus: int
    min_workers: int
    max_workers: int
    replicas_per_worker: int
    priority: int | None


def head_account(name: str) -> str:
    return f"{name}-ray-head"


def serve_service(name: str) -> str:
    """The Service KubeRay writes for a RayService (utils/util.go GenerateServeServiceName)."""
    return f"{name}-serve-svc"


def _container_ports(names: tuple[str, ...]) -> list[ContainerPort]:
    return [{"name": port, "containerPort": PORTS[port]} for port in names]


def _identity(workload: RayServeWorkload) -> ServerIdentity:
    return server_identity(IMAGE_KEY, workload.run_as_user)


def head_group(workload: RayServeWorkload) -> HeadGroupSpec:
    identity = _identity(workload)
    head = workload.head
    shm_gib = head.object_store_gib + HEAD_SHM_SLACK_GIB
    shm_volume, shm_mount = resources.shm(shm_gib)
    memory = f"{head.memory_gib + shm_gib}Gi"
    container: Container = {
        "name": "ray-head",
        "image": workload.image or IMAGES[IMAGE_KEY].reference,
        "ports": _container_ports(("gcs-server", "dashboard", "client", "serve", "metrics")),
        "env": identity.env(),
        "resources": {"requests": {"cpu": f"{head.cpu:g}", "memory": memory}, "limits": {"memory": memory}},
        "volumeMounts": [shm_mount, *identity.mounts()],
        "securityContext": identity.security_context(),
    }
    pod: PodSpec = {
        "serviceAccountName": head_account(workload.name),
        # The autoscaler sidecar calls the Kubernetes API with this account's token.
        **identity.pod_fields(api_access=True),
        "nodeSelector": dict(SYSTEM_POOL_LABEL),
        "containers": [container],
        "volumes": [shm_volume, *identity.volumes()],
    }
    return {
        # No replica or engine on the head (num-cpus 0): it runs GCS, the dashboard, the Serve controller and a proxy.
        "rayStartParams": {
            "num-cpus": "0",
            "num-gpus": "0",
            "object-store-memory": str(head.object_store_gib * GIB),
            "dashboard-host": "0.0.0.0",
        },
        "template": {"metadata": _template_metadata(workload.name, HEAD_COMPONENT), "spec": pod},
    }


def _template_metadata(name: str, component: str) -> ObjectMeta:
    return {"labels": objects.labels(name, BLUEPRINT, component), "annotations": objects.scrape_annotations(METRICS_PORT)}


def _model_volumes(workload: RayServeWorkload) -> tuple[list[Volume], list[VolumeMount], list[EnvVar]]:
    """(volumes, mounts, env) for the model: the Hugging Face cache on the node's disk (Hub downloads and Ray's S3
    download land there), the Hub token where one is named, and the FSx claim for an fsx model."""
    hf_home = SHARED_HF_HOME
    volumes: list[Volume] = [{"name": "hf-cache", "emptyDir": {}}]
    mounts: list[VolumeMount] = [{"name": "hf-cache", "mountPath": hf_home}]
    env: list[EnvVar] = [{"name": "HF_HOME", "value": hf_home}]
    if isinstance(workload.model, FsxSource):
        mount = model_mount(workload.model, hf_home)
        volumes += mount.volumes
        mounts += mount.mounts
    elif isinstance(workload.model, HfSource):
        env = model_mount(workload.model, hf_home).env
    return volumes, mounts, env


def model_local_path(workload: RayServeWorkload) -> str:
    """Where an fsx model is mounted in the workers (blueprints/common/model_source.py)."""
    return model_mount(workload.model, SHARED_HF_HOME).location if isinstance(workload.model, FsxSource) else ""


def worker_group(workload: RayServeWorkload, group: Group, startup_minutes: int) -> WorkerGroupSpec:
    identity = _identity(workload)
    placement = group.placement
    sized = workload.model_copy(update={"gpus_per_worker": group.gpus})
    extra = sized.extra_shm_gib()
    shm_volume, shm_mount = resources.shm(resources.shm_gib(placement.instance, group.gpus, workload.shm_size_gib, extra))
    model_volumes, model_mounts, model_env = _model_volumes(workload)
    container: Container = {
        "name": "ray-worker",
        "image": workload.image or IMAGES[IMAGE_KEY].reference,
        "ports": _container_ports(("serve", "metrics")),
        "env": [*identity.env(), *model_env, {"name": ENGINE_START_TIMEOUT_ENV, "value": str(startup_minutes * 60)}],
        "resources": resources.container_resources(
            placement, group.gpus, workload.memory_gib_per_gpu, shm_size_gib=workload.shm_size_gib, efa=False, extra_shm=extra
        ),
        "volumeMounts": [shm_mount, *identity.mounts(), *model_mounts],
        "securityContext": identity.security_context(),
    }
    selector = {WORKLOAD_LABEL: workload.name, "app.kubernetes.io/component": WORKER_COMPONENT}
    pod: PodSpec = {
        # The model reader's Pod Identity reads the S3 prefix (Ray's download); nothing here calls the Kubernetes API.
        "serviceAccountName": placement.model_reader_service_account,
        **identity.pod_fields(),
        "terminationGracePeriodSeconds": 120,
        "containers": [container],
        "volumes": [shm_volume, *identity.volumes(), *model_volumes],
        **pod_scheduling.gpu_scheduling(placement, selector),
    }
    spec: WorkerGroupSpec = {
        "groupName": group.name,
        "replicas": group.min_workers,
        "minReplicas": group.min_workers,
        "maxReplicas": group.max_workers,
        "idleTimeoutSeconds": workload.idle_worker_seconds,
        "rayStartParams": {"object-store-memory": str(WORKER_OBJECT_STORE_GIB * GIB)},
        "template": {"metadata": _template_metadata(workload.name, WORKER_COMPONENT), "spec": pod},
    }
    if group.priority is not None:
        spec["priority"] = group.priority
    return spec


def ray_service_spec(workload: RayServeWorkload, groups: list[Group], startup_minutes: int) -> RayServiceSpec:
    identity = _identity(workload)
    return {
        "serveConfigV2": serve_config_yaml(workload, model_local_path(workload)),
        "rayClusterConfig": {
            "rayVersion": PROGRAMS["ray"],
            "enableInTreeAutoscaling": True,
            "autoscalerOptions": {
                "version": "v2",
                "idleTimeoutSeconds": workload.idle_worker_seconds,
                "upscalingMode": "Default",
                "resources": {"requests": dict(AUTOSCALER_RESOURCES), "limits": dict(AUTOSCALER_RESOURCES)},
                "securityContext": identity.security_context(),
            },
            "headGroupSpec": head_group(workload),
            "workerGroupSpecs": [worker_group(workload, group, startup_minutes) for group in groups],
        },
    }


def ray_serve_chart(scope: Construct, workload: RayServeWorkload, groups: list[Group], startup_minutes: int, namespace: str) -> cdk8s.Chart:
    chart = objects.new_chart(scope, workload.name, namespace)
    name = workload.name
    labels = objects.labels(name, BLUEPRINT)
    objects.api_object(chart, "head-account", api_version="v1", kind="ServiceAccount", name=head_account(name), labels_=labels, body={})
    objects.api_object(
        chart,
        "ray-service",
        api_version=API_VERSION,
        kind="RayService",
        name=name,
        labels_=labels,
        body={"spec": ray_service_spec(workload, groups, startup_minutes)},
    )
    # The head is one pod whose loss restarts every replica (no GCS fault tolerance): never evicted, like a server of
    # one replica. Workers go one at a time.
    head = {WORKLOAD_LABEL: name, "app.kubernetes.io/component": HEAD_COMPONENT}
    workers = {WORKLOAD_LABEL: name, "app.kubernetes.io/component": WORKER_COMPONENT}
    objects.disruption_budget(chart, name, BLUEPRINT, head, 1, suffix="-head")
    objects.disruption_budget(chart, name, BLUEPRINT, workers, workload.autoscaling.min_replicas, suffix="-workers")
    return chart
