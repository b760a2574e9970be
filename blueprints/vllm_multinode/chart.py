"""A LeaderWorkerSet of vLLM groups: each group one leader and nodes - 1 workers, one pod per node, one Ray cluster."""

from __future__ import annotations

from typing import TYPE_CHECKING

from blueprints.common import objects, probes, resources, scheduling
from blueprints.common.model_source import ModelMount, model_mount
from blueprints.common.vllm_args import engine_args
from blueprints.common.placement import Placement
from blueprints.vllm_multinode.params import VllmMultinodeWorkload
from blueprints.vllm_multinode.ray_cluster import RAY_PORT, leader_script, worker_script
from core.versions import IMAGES

if TYPE_CHECKING:
    import cdk8s
    from constructs import Construct

BLUEPRINT = "vllm-multinode"
LWS_API_VERSION = "leaderworkerset.x-k8s.io/v1"
LWS_NAME_LABEL = "leaderworkerset.sigs.k8s.io/name"
WORKER_INDEX_LABEL = "leaderworkerset.sigs.k8s.io/worker-index"


def group_set_name(name: str) -> str:
    # LeaderWorkerSet creates a headless Service named after itself, through which LWS_LEADER_ADDRESS resolves.
    # The kit's own Service takes the workload name, so the set needs another one.
    return f"{name}-group"


def serve_command(workload: VllmMultinodeWorkload, model: ModelMount) -> list[str]:
    return [
        "vllm",
        "serve",
        model.location,
        "--port",
        str(workload.port),
        "--distributed-executor-backend",
        "ray",
        *engine_args(workload, model, workload.public_model_name, pipeline_parallel_size=workload.nodes),
    ]


def pod_spec(workload: VllmMultinodeWorkload, placement: Placement, model: ModelMount, container: dict) -> dict:
    """Leader and workers alike: the same instance type, the whole node's GPUs and EFA, the model source."""
    shm_volume, shm_mount = resources.shm(workload.shm_size_gib)
    efa = placement.efa
    container = {
        **container,
        "image": workload.image or IMAGES["vllm"],
        "env": [*model.env, *resources.efa_env(efa)],
        "resources": resources.container_resources(placement, workload.gpus_per_pod(), workload.memory_gib_per_gpu, efa=efa),
        "volumeMounts": [shm_mount, *model.mounts],
        "securityContext": resources.security_context(efa=efa),
    }
    return {
        "serviceAccountName": placement.model_reader_service_account,
        "terminationGracePeriodSeconds": 120,
        "containers": [container],
        "volumes": [shm_volume, *model.volumes],
        "nodeSelector": scheduling.node_selector(placement),
        "tolerations": [scheduling.GPU_TOLERATION],
        # One pod per node, whatever its group. LWS's exclusive-topology annotation is not the tool here: it puts a
        # whole group into one domain, and a group of whole-node pods cannot share a host.
        "affinity": {
            "podAntiAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": [
                    {"labelSelector": {"matchLabels": objects.selector_labels(workload.name)}, "topologyKey": "kubernetes.io/hostname"}
                ]
            }
        },
    }


def vllm_multinode_chart(scope: Construct, workload: VllmMultinodeWorkload, placement: Placement) -> cdk8s.Chart:
    chart = objects.new_chart(scope, workload.name, placement.namespace)
    name = workload.name
    model = model_mount(workload.model)
    leader = {
        "name": "leader",
        "command": ["bash", "-c", leader_script(serve_command(workload, model))],
        "ports": [{"name": "http", "containerPort": workload.port}, {"name": "ray", "containerPort": RAY_PORT}],
        "lifecycle": probes.graceful_stop(),
        # The startup budget covers the workers' nodes launching, the group joining and the weights loading.
        **probes.http_probes(port="http", ready_path="/health", startup_minutes=workload.startup_timeout_minutes),
    }
    worker = {"name": "worker", "command": ["bash", "-c", worker_script()]}
    objects.api_object(
        chart,
        "leader-worker-set",
        api_version=LWS_API_VERSION,
        kind="LeaderWorkerSet",
        name=group_set_name(name),
        labels_=objects.labels(name, BLUEPRINT),
        body={
            "spec": {
                "replicas": workload.replicas,
                # LeaderReady would hold the workers back until the leader is Ready, and the leader cannot serve
                # (so cannot pass /health) before its workers have joined.
                "startupPolicy": "LeaderCreated",
                "leaderWorkerTemplate": {
                    "size": workload.nodes,
                    # A lost pod takes its pipeline stage with it; only a fresh group can serve again.
                    "restartPolicy": "RecreateGroupOnPodRestart",
                    "leaderTemplate": {
                        "metadata": {
                            "labels": objects.labels(name, BLUEPRINT, "leader"),
                            "annotations": objects.scrape_annotations(workload.port),
                        },
                        "spec": pod_spec(workload, placement, model, leader),
                    },
                    "workerTemplate": {
                        "metadata": {"labels": objects.labels(name, BLUEPRINT, "worker")},
                        "spec": pod_spec(workload, placement, model, worker),
                    },
                },
            }
        },
    )
    leaders = {LWS_NAME_LABEL: group_set_name(name), WORKER_INDEX_LABEL: "0"}
    objects.service(
        chart, name, BLUEPRINT, leaders, [{"name": "http", "port": workload.port, "targetPort": "http"}], health_path="/health"
    )
    # Evicting any pod recreates its whole group; while those pods are down the budget (counted in pods over
    # every group) allows no other eviction, so node drains take one group at a time.
    objects.disruption_budget(chart, name, BLUEPRINT, objects.selector_labels(name), workload.replicas)
    return chart
