"""The components of a DynamoGraphDeployment: one frontend and the vLLM workers behind it."""

from __future__ import annotations

import json
from typing import Any

from blueprints.common import objects, pod_scheduling, probes, resources
from blueprints.common.identity import ServerIdentity, server_identity
from blueprints.common.k8s_types import Container, DynamoComponent, PodAffinityTerm, PodScheduling, PodSecurityContext, PodSpec
from blueprints.common.model_source import ModelMount, model_mount
from blueprints.common.vllm_args import engine_args
from blueprints.common.placement import Placement
from blueprints.dynamo.params import DynamoWorkload
from core.labels import ZONE_ID_LABEL
from core.images import IMAGES

BLUEPRINT = "dynamo"
FRONTEND_PORT = 8000
HOSTNAME_KEY = "kubernetes.io/hostname"
# The operator gives every worker a "system" port serving /live, /health (its generate endpoint) and /metrics.
WORKER_SYSTEM_PORT = 9090
# The operator labels every pod of a graph with the graph's name.
GRAPH_LABEL = "nvidia.com/dynamo-graph-deployment-name"

NIXL_CONNECTOR = "NixlConnector"
# Without EFA, NIXL's default (UCX) carries the KV cache over TCP. On EFA it must be told to use libfabric:
# otherwise it also falls back to TCP without a word, and time to first token grows by orders of magnitude.
EFA_NIXL_BACKENDS = ["LIBFABRIC"]


def kv_transfer_config(efa: bool) -> dict[str, Any]:
    """vLLM's --kv-transfer-config (KVTransferConfig's fields), as JSON."""
    config: dict[str, Any] = {"kv_connector": NIXL_CONNECTOR, "kv_role": "kv_both"}
    if efa:
        config["kv_connector_extra_config"] = {"backends": EFA_NIXL_BACKENDS}
    return config


def role_selector(name: str, role: str) -> dict[str, str]:
    return {**objects.selector_labels(name), "app.kubernetes.io/component": role}


def pod_security_context(identity: ServerIdentity) -> PodSecurityContext:
    """The pod-level context of a component, matching its container's: the image's non-root user, the runtime's
    seccomp profile. The operator adds its own default (fsGroup 1000) only to a podTemplate without a
    securityContext (ai-dynamo/dynamo deploy/operator/internal/dynamo/graph.go, GenerateBasePodSpec and
    applyDefaultSecurityContext), so the kit sets fsGroup itself, as the image's user: 1000 for NVIDIA's images,
    the same group the operator would have given."""
    return {**identity.pod_security_context(), "fsGroup": identity.user}


def frontend(workload: DynamoWorkload, placement: Placement) -> DynamoComponent:
    """CPU only: it carries no GPU toleration, so it lands on the system nodes; the zone selector keeps
    client -> frontend -> worker traffic inside the one zone even if nodes elsewhere join the cluster."""
    args = ["--http-port", str(FRONTEND_PORT), "--router-mode", workload.router_mode]
    identity = server_identity("dynamo-frontend")
    container: Container = {
        "name": "main",
        "image": IMAGES["dynamo-frontend"].reference,
        "command": ["python3", "-m", "dynamo.frontend"],
        "args": args,
        "resources": {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"memory": "4Gi"}},
        "securityContext": identity.security_context(),
        # Probes: the operator's frontend defaults (/live and /health on this port) fit a process that starts in seconds.
    }
    return {
        "name": "frontend",
        "type": "frontend",
        "replicas": workload.frontend_replicas,
        "podTemplate": {
            "metadata": {
                "labels": objects.labels(workload.name, BLUEPRINT, "frontend"),
                "annotations": objects.scrape_annotations(FRONTEND_PORT),
            },
            "spec": {
                "securityContext": pod_security_context(identity),
                "nodeSelector": {ZONE_ID_LABEL: placement.az_id},
                "containers": [container],
            },
        },
    }


def worker_identity(workload: DynamoWorkload, efa: bool) -> ServerIdentity:
    return server_identity("dynamo-vllm-efa" if efa else "dynamo-vllm", workload.run_as_user)


def worker_model(workload: DynamoWorkload, identity: ServerIdentity) -> ModelMount:
    return model_mount(workload.model, identity.hf_home)


def worker_args(workload: DynamoWorkload, role: str, tensor_parallel: int, model: ModelMount, efa: bool) -> list[str]:
    engine = workload.model_copy(update={"tensor_parallel_size": tensor_parallel})
    args = ["--model", model.location, *engine_args(engine, model, workload.public_model_name)]
    if role in ("prefill", "decode"):
        # dynamo.vllm refuses to start a prefill worker without an explicit KV transfer config.
        args += ["--disaggregation-mode", role, "--kv-transfer-config", json.dumps(kv_transfer_config(efa), separators=(",", ":"))]
    return args


def worker_scheduling(workload: DynamoWorkload, placement: Placement, role: str, tensor_parallel: int) -> PodScheduling:
    """nodeSelector, tolerations and affinity of one role's worker pods.

    Aggregated workers are alike, so the shared rule spreads them over nodes. A disaggregated graph mixes sizes, and
    spreading them fragments the nodes: two 4-GPU prefill workers on two 8-GPU nodes leave no node for an 8-GPU
    decode worker. So each role prefers the nodes that already run its own role's workers, and nothing keeps it
    away from any node. Worker sizes divide the node's GPUs (placement_checks) and, node GPU counts being powers of
    two, divide one another; then in whatever order the pods come, and whichever of the tied nodes the scheduler
    picks, they fit on the fewest nodes that can hold them (tests/blueprints/test_dynamo_placement.py tries every
    order and tie for every layout up to three 8-GPU nodes). Pods that take a whole node have nothing to pack."""
    fields = pod_scheduling.gpu_scheduling(placement, role_selector(workload.name, role))
    if workload.mode == "aggregated":
        return fields
    del fields["affinity"]
    if tensor_parallel < placement.instance.gpus:
        same_role: PodAffinityTerm = {"labelSelector": {"matchLabels": role_selector(workload.name, role)}, "topologyKey": HOSTNAME_KEY}
        fields["affinity"] = {
            "podAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 100, "podAffinityTerm": same_role}]}
        }
    return fields


def worker(workload: DynamoWorkload, placement: Placement, role: str) -> DynamoComponent:
    """A `python3 -m dynamo.vllm` component: prefill, decode, or (aggregated) both."""
    tensor_parallel = workload.role_tensor_parallel()[role]
    efa = placement.efa
    identity = worker_identity(workload, efa)
    model = worker_model(workload, identity)
    container: Container = {
        "name": "main",
        "image": workload.image or IMAGES["dynamo-vllm-efa" if efa else "dynamo-vllm"].reference,
        "command": ["python3", "-m", "dynamo.vllm"],
        "args": worker_args(workload, role, tensor_parallel, model, efa),
        "env": [*model.env, *resources.efa_env(placement)],
        "resources": resources.container_resources(
            placement,
            tensor_parallel,
            workload.memory_gib_per_gpu,
            shm_size_gib=workload.shm_size_gib,
            efa=efa,
            extra_shm=workload.extra_shm_gib(),
        ),
        # No privilege and no capability, EFA included. ai-dynamo/dynamo v1.4.2's own EFA test runs its workers
        # privileged, and NIXL's CI job (ai-dynamo/nixl contrib/aws-efa) as a privileged host-network pod, but NIXL's
        # libfabric backend (nixl v1.3.2 src/utils/libfabric) needs only what a restricted pod gets: the
        # /dev/infiniband/uverbs devices, which the EFA device plugin puts in the container for the
        # vpc.amazonaws.com/efa request; locked memory to register buffers (the kernel checks RLIMIT_MEMLOCK, or
        # CAP_IPC_LOCK above it), which the kit's EFA nodes leave unlimited for every container (Bottlerocket on EFA
        # hosts, AL2023 through nodeadm's baseRuntimeSpec); and sysfs, readable, for hwloc's topology. IPC_LOCK is no
        # use under an unlimited RLIMIT_MEMLOCK, and Pod Security baseline would refuse it. [docs/blueprints.md]
        "securityContext": identity.security_context(),
        # Set here rather than left to the operator so the startup window follows startup_timeout_minutes.
        **probes.http_probes(port=WORKER_SYSTEM_PORT, ready_path="/health", live_path="/live", startup_minutes=placement.startup_minutes),
    }
    if model.mounts:
        container["volumeMounts"] = model.mounts
    # No serviceAccountName: the operator then runs the pods as the graph's discovery account, which may write the
    # DynamoWorkerMetadata through which a worker registers. Under any other account the frontend never sees it.
    spec: PodSpec = {
        "securityContext": pod_security_context(identity),
        "terminationGracePeriodSeconds": 120,
        "containers": [container],
        **worker_scheduling(workload, placement, role, tensor_parallel),
    }
    if model.volumes:
        spec["volumes"] = model.volumes
    return {
        # The operator's component types include the roles themselves: worker, prefill, decode.
        "name": role,
        "type": role,
        "replicas": workload.role_replicas()[role],
        # The operator mounts a memory-backed /dev/shm of this size (NCCL, vLLM's worker processes).
        "sharedMemorySize": f"{resources.shm_gib(placement.instance, tensor_parallel, workload.shm_size_gib, workload.extra_shm_gib())}Gi",
        "podTemplate": {
            "metadata": {
                "labels": objects.labels(workload.name, BLUEPRINT, role),
                "annotations": objects.scrape_annotations(WORKER_SYSTEM_PORT),
            },
            "spec": spec,
        },
    }
