"""A LeaderWorkerSet of vLLM groups: each group one leader and nodes - 1 workers, one pod per node, started in vLLM's
native multi-node mode (no Ray: the pinned image carries none, see core/images.py).

Every pod runs `vllm serve` with the same model and engine arguments plus --nnodes, --node-rank and
--master-addr/--master-port. Rank 0 (the leader) hosts the torch.distributed store and the OpenAI API; the
workers run --headless (engine processes only, no API server). vLLM picks its multiprocessing executor across
nodes; tensor parallel spans a node's GPUs and pipeline parallel spans the nodes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from blueprints.common import kv_offload, objects, pod_scheduling, probes, resources
from blueprints.common.identity import ServerIdentity, server_identity
from blueprints.common.k8s_types import Container, EnvVar, LeaderWorkerSetSpec, PodSpec, WeightedPodAffinityTerm
from blueprints.common.model_source import ModelMount, model_mount
from blueprints.common.placement import Placement
from blueprints.common.vllm_args import engine_args
from blueprints.vllm_multinode.params import VllmMultinodeWorkload
from core import streamer
from core.naming import FSX_CLAIM_NAME
from core.kueue_facts import TOPOLOGY_LABEL_PREFIX
from core.images import IMAGES

# LeaderWorkerSet v0.10 labels every pod of a group with the group's hash.
GROUP_KEY = "leaderworkerset.sigs.k8s.io/group-key"

if TYPE_CHECKING:
    import cdk8s
    from constructs import Construct

BLUEPRINT = "vllm-multinode"
LWS_API_VERSION = "leaderworkerset.x-k8s.io/v1"
LWS_NAME_LABEL = "leaderworkerset.sigs.k8s.io/name"
GROUP_INDEX_LABEL = "leaderworkerset.sigs.k8s.io/group-index"
WORKER_INDEX_LABEL = "leaderworkerset.sigs.k8s.io/worker-index"
# vLLM's --master-port default (vllm/config/parallel.py, 0.30.0); named here because the leader must expose it.
MASTER_PORT = 29501


def group_set_name(name: str) -> str:
    # LeaderWorkerSet creates a headless Service named after itself, through which LWS_LEADER_ADDRESS resolves.
    # The kit's own Service takes the workload name, so the set needs another one.
    return f"{name}-group"


def serve_args(workload: VllmMultinodeWorkload, model: ModelMount, *, leader: bool) -> list[str]:
    """`vllm serve` arguments of one pod. $(VAR) is filled in by the kubelet from the variables LeaderWorkerSet injects."""
    rank = "0" if leader else "$(LWS_WORKER_INDEX)"
    args = [
        model.location,
        "--port",
        str(workload.port),
        *engine_args(workload, model, workload.public_model_name, pipeline_parallel_size=workload.nodes),
        "--distributed-executor-backend",
        "mp",
        "--nnodes",
        str(workload.nodes),
        "--node-rank",
        rank,
        "--master-addr",
        "$(LWS_LEADER_ADDRESS)",
        "--master-port",
        str(MASTER_PORT),
    ]
    return args if leader else [*args, "--headless"]


def pod_spec(
    workload: VllmMultinodeWorkload, placement: Placement, model: ModelMount, role: Container, identity: ServerIdentity
) -> PodSpec:
    """Leader and workers alike: the same instance type, the whole node's GPUs and EFA, the model source."""
    kv_volumes, kv_mounts = kv_offload.volumes(workload.kv_offload, FSX_CLAIM_NAME)
    shm_volume, shm_mount = resources.shm(
        resources.shm_gib(placement.instance, workload.gpus_per_pod(), workload.shm_size_gib, workload.extra_shm_gib())
    )
    # Engine processes on every node listen on ports they pick at start, on this address: the pod's own.
    host_ip: EnvVar = {"name": "VLLM_HOST_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}
    # Over EFA the nodes of a group share the S3 reading too, not only the GPUs of one node (core/streamer.py).
    # core.streamer.env writes {name, value} pairs: EnvVars, in a module that knows nothing of Kubernetes types.
    shared_reading = cast(list[EnvVar], streamer.env(workload.nodes, placement.efa)) if model.streamed_from_s3 else []
    container: Container = {
        **role,
        # Over EFA the pinned image with the EFA installer (aws-ofi-nccl, libfabric), built by the kit.
        "image": workload.image or IMAGES["vllm-efa" if placement.efa else "vllm"].reference,
        "env": [host_ip, *identity.env(), *model.env, *shared_reading, *resources.efa_env(placement)],
        "resources": resources.container_resources(
            placement,
            workload.gpus_per_pod(),
            workload.memory_gib_per_gpu,
            shm_size_gib=workload.shm_size_gib,
            efa=placement.efa,
            extra_shm=workload.extra_shm_gib(),
        ),
        "volumeMounts": [shm_mount, *identity.mounts(), *model.mounts, *kv_mounts],
        "securityContext": identity.security_context(),
    }
    pod: PodSpec = {
        "serviceAccountName": placement.model_reader_service_account,
        **identity.pod_fields(),
        "terminationGracePeriodSeconds": 120,
        "containers": [container, *kv_offload.janitor(workload.kv_offload, container["image"], container["securityContext"], kv_mounts)],
        "volumes": [shm_volume, *identity.volumes(), *model.volumes, *kv_volumes],
        "nodeSelector": pod_scheduling.node_selector(placement),
        "tolerations": [pod_scheduling.GPU_TOLERATION],
        # One pod per node, whatever its group. LWS's exclusive-topology annotation is not the tool here: it puts a
        # whole group into one domain, and a group of whole-node pods cannot share a host.
        "affinity": {
            "podAntiAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": [
                    {"labelSelector": {"matchLabels": objects.selector_labels(workload.name)}, "topologyKey": "kubernetes.io/hostname"}
                ]
            },
            # A group's pods close together in EC2's network: under one switch if possible, else one spine. Preferred,
            # as nodes Karpenter is yet to launch carry no topology labels; on a capacity block, Kueue's topology-aware
            # admission makes it a requirement (blueprints/common/queueing.py).
            "podAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [group_near(workload, level, weight) for level, weight in NEAR_LEVELS]
            },
        },
    }
    return pod


NEAR_LEVELS = (("network-node-layer-3", 100), ("network-node-layer-2", 50))


def group_near(workload: VllmMultinodeWorkload, level: str, weight: int) -> WeightedPodAffinityTerm:
    """Prefer the nodes of this group's other pods (same group-key, filled in per group by the scheduler)."""
    return {
        "weight": weight,
        "podAffinityTerm": {
            "labelSelector": {"matchLabels": objects.selector_labels(workload.name)},
            "matchLabelKeys": [GROUP_KEY],
            "topologyKey": TOPOLOGY_LABEL_PREFIX + level,
        },
    }


def vllm_multinode_chart(scope: Construct, workload: VllmMultinodeWorkload, placement: Placement) -> cdk8s.Chart:
    chart = objects.new_chart(scope, workload.name, placement.namespace)
    name = workload.name
    identity = server_identity("vllm", workload.run_as_user)
    model = model_mount(workload.model, identity.hf_home)
    # `args` only: the image's entrypoint is `vllm serve`.
    leader: Container = {
        "name": "leader",
        "args": serve_args(workload, model, leader=True),
        "ports": [{"name": "http", "containerPort": workload.port}, {"name": "master", "containerPort": MASTER_PORT}],
        "lifecycle": probes.graceful_stop(),
        # The startup budget covers the workers' nodes launching, the group joining and the weights loading.
        **probes.http_probes(port="http", ready_path="/health", startup_minutes=placement.startup_minutes),
    }
    # Headless workers serve no HTTP: nothing to probe. A worker that dies fails its group (RecreateGroupOnPodRestart).
    worker: Container = {"name": "worker", "args": serve_args(workload, model, leader=False)}
    spec: LeaderWorkerSetSpec = {
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
                "spec": pod_spec(workload, placement, model, leader, identity),
            },
            "workerTemplate": {
                "metadata": {"labels": objects.labels(name, BLUEPRINT, "worker")},
                "spec": pod_spec(workload, placement, model, worker, identity),
            },
        },
    }
    if not workload.autoscaling:
        # Under KEDA the autoscaler owns the count (the set's scale subresource counts groups).
        spec = {"replicas": workload.replicas, **spec}
    objects.api_object(
        chart,
        "leader-worker-set",
        api_version=LWS_API_VERSION,
        kind="LeaderWorkerSet",
        name=group_set_name(name),
        labels_=objects.labels(name, BLUEPRINT),
        body={"spec": spec},
    )
    leaders = {LWS_NAME_LABEL: group_set_name(name), WORKER_INDEX_LABEL: "0"}
    objects.service(chart, name, BLUEPRINT, leaders, [{"name": "http", "port": workload.port, "targetPort": "http"}], health_path="/health")
    # Evicting any pod recreates its whole group; while those pods are down the budget (counted in pods over
    # every group) allows no other eviction, so node drains take one group at a time.
    copies = workload.autoscaling.min_replicas if workload.autoscaling else workload.replicas
    objects.disruption_budget(chart, name, BLUEPRINT, objects.selector_labels(name), copies)
    return chart
