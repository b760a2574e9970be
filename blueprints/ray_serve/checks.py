"""What a ray-serve workload refuses beyond the checks every GPU server gets (blueprints/contract.py GpuBlueprint).

Every refusal is a setting that cannot run as written at the pinned versions: a replica's GPUs that do not fit one
worker pod, a RayService name KubeRay v1.7 rejects, replicas the worker groups can never hold, keys this blueprint
does not read.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from blueprints.common import checks as common_checks
from blueprints.common.placement import Placement, placement_for
from blueprints.ray_serve.chart import WORKER_OBJECT_STORE_GIB
from blueprints.ray_serve.params import RayServeWorkload, WorkerGroup
from blueprints.ray_serve.serve_config import KIT_ENGINE_KWARGS, RAY_OWNED_ENGINE_KWARGS
from core.instances import known
from core.issues import ConfigIssue
from core.platform import Platform

if TYPE_CHECKING:
    from blueprints.ray_serve.chart import Group

# ray-project/kuberay v1.7.0 utils/validation.go ValidateRayServiceMetadata: at most 47 characters (53 minus the
# 6 KubeRay appends to name the RayCluster) and a DNS-1035 label, which starts with a letter.
MAX_NAME = 47
DNS_1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


def replica_fit_issues(tensor: int, pipeline: int, gpus: int, where: str) -> list[ConfigIssue]:
    """A replica's GPUs (tensor x pipeline) are one STRICT_PACK placement group: they must lie in one worker pod, and a
    pod's GPUs must be whole replicas (the rest would idle)."""
    need = tensor * pipeline
    key = f"{where}gpus_per_worker"
    if need > gpus:
        return [
            ConfigIssue(
                key,
                f"a replica needs {need} GPUs (tensor_parallel_size {tensor} x pipeline_parallel_size {pipeline}) but a worker pod has "
                f"{gpus}: its placement group (STRICT_PACK) would never be placed",
                value=gpus,
                allowed=f"a multiple of {need}",
                fix=f"set {key} to {need} (or a multiple), or lower the parallel sizes",
            )
        ]
    if gpus % need:
        return [
            ConfigIssue(
                key,
                f"{gpus} GPUs per worker pod hold {gpus // need} replicas of {need} GPUs and leave {gpus % need} idle",
                value=gpus,
                allowed=f"a multiple of {need}",
                fix=f"set {key} to {gpus - gpus % need or need}",
            )
        ]
    return []


def placement_issues(workload: RayServeWorkload, placement: Placement, platform: Platform) -> list[ConfigIssue]:
    """The primary group's pods and the keys of the workload itself."""
    found = []
    name = workload.name
    if len(name) > MAX_NAME or not DNS_1035.match(name):
        found.append(
            ConfigIssue(
                "name",
                "KubeRay v1.7 refuses a RayService name that does not start with a letter (a DNS-1035 label) or is longer than 47 "
                "characters",
                value=name,
                allowed="a lowercase letter first, then letters, digits and '-', at most 47 characters",
                fix="rename the workload, e.g. with a letter in front",
            )
        )
    found += replica_fit_issues(workload.tensor_parallel_size, workload.pipeline_parallel_size, workload.gpus_per_pod(), "")
    found += pod_issues(workload, placement, "")
    if workload.extra_args:
        found.append(
            ConfigIssue(
                "extra_args",
                "are command-line flags of `vllm serve`, which Ray Serve LLM does not run: it builds vLLM's engine from engine_kwargs",
                value=list(workload.extra_args),
                fix="write them as engine_kwargs (AsyncEngineArgs names: --max-num-seqs 256 becomes engine_kwargs: {max_num_seqs: 256})",
            )
        )
    taken = sorted(set(workload.engine_kwargs) & (KIT_ENGINE_KWARGS | RAY_OWNED_ENGINE_KWARGS))
    if taken:
        found.append(
            ConfigIssue(
                "engine_kwargs",
                f"sets {', '.join(taken)}, which the kit writes from the workload's own keys or Ray Serve LLM sets itself "
                "(model, served_model_name and distributed_executor_backend are refused or overridden by Ray)",
                value=taken,
                fix="use the workload's keys (tensor_parallel_size, max_model_len, served_model_name, ...) instead",
            )
        )
    if "replicas" in workload.model_fields_set:
        found.append(
            ConfigIssue(
                "replicas",
                "is not used by the ray-serve blueprint: Ray Serve scales the replicas",
                fix="set autoscaling.min_replicas and autoscaling.max_replicas",
            )
        )
    if workload.kv_offload is not None and workload.kv_offload.tiers():
        found.append(
            ConfigIssue(
                "kv_offload",
                "Ray worker pods take the CPU tier only: the kit runs no janitor beside KubeRay's pods to bound a file tier",
                fix="keep cpu_gib and remove nvme and fsx",
            )
        )
    return found


def pod_issues(workload: RayServeWorkload, placement: Placement, where: str) -> list[ConfigIssue]:
    """/dev/shm holds Ray's object store besides the engines, and a pod's CPUs run one replica actor each plus the
    OpenAI ingress replica (1 CPU each: Ray Serve's default num_cpus; the head offers none)."""
    found = []
    if workload.shm_size_gib is not None and workload.shm_size_gib <= WORKER_OBJECT_STORE_GIB:
        found.append(
            ConfigIssue(
                "shm_size_gib",
                f"leaves nothing beside Ray's object store ({WORKER_OBJECT_STORE_GIB} GiB in /dev/shm): Ray refuses to start a node whose "
                "object store is larger than /dev/shm, and NCCL and vLLM need room there too",
                value=workload.shm_size_gib,
                allowed=f"at least {WORKER_OBJECT_STORE_GIB + 1}",
                fix="remove shm_size_gib (a quarter of the pod's memory share), or raise it",
            )
        )
    gpus = workload.gpus_per_pod()
    cpus = max(1, int(placement.instance.vcpus * gpus / placement.instance.gpus * 0.8))  # resources.container_resources
    replicas = workload.replicas_per_worker()
    if cpus < replicas + 1:
        found.append(
            ConfigIssue(
                f"{where}gpus_per_worker" if where else "tensor_parallel_size",
                f"a worker pod on {placement.instance_type} gets {cpus} CPUs for its {replicas} replicas and the ingress replica (1 CPU "
                "each)",
                value=gpus,
                fix="give each worker pod more GPUs of the node (and so more CPUs), or pick an instance type with more vCPUs per GPU",
            )
        )
    return found


def group_issues(workload: RayServeWorkload, group: WorkerGroup, index: int, platform: Platform) -> list[ConfigIssue]:
    """A further worker group gets the checks of the workload's own pool, under worker_groups[i]."""
    where = f"worker_groups[{index}]."
    pools = [workload.node_pool, *(other.node_pool for other in workload.worker_groups)]
    if pools.count(group.node_pool) > 1:
        return [
            ConfigIssue(
                f"{where}node_pool",
                "names a node pool that another worker group already uses: the group takes the pool's name in the RayCluster",
                value=group.node_pool,
                fix="one worker group per pool; pick its instance type with instance_type",
            )
        ]
    copy = workload.as_group(group)
    found = [
        replace_path(issue, where)
        for issue in common_checks.gpu_workload_issues(copy, platform)
        if not issue.path.startswith("model")  # the model is the workload's, reported once
    ]
    if found or known(copy.instance_type or platform.capacities[group.node_pool].instance_types[0]) is None:
        return found
    found += replica_fit_issues(workload.tensor_parallel_size, workload.pipeline_parallel_size, copy.gpus_per_pod(), where)
    placement = placement_for(platform, copy)
    found += [issue for issue in pod_issues(copy, placement, where) if issue.path != "shm_size_gib"]
    return found


def replace_path(issue: ConfigIssue, prefix: str) -> ConfigIssue:
    path = issue.path
    if path == "":
        path = "gpus_per_worker"
    return ConfigIssue(prefix + path, issue.message, issue.value, issue.allowed, issue.fix, issue.line)


def replica_room(workload: RayServeWorkload, groups: list[Group], platform: Platform) -> list[ConfigIssue]:
    """Each group's worker pods within what its pool can ever hold (Karpenter launches no node past the pool's GPU
    limit, a block holds its instances), and the replicas Serve may ask for within what the groups hold together."""
    found = []
    held, parts = 0, []
    for index, group in enumerate(groups):
        where = "" if index == 0 else f"worker_groups[{index - 1}]."
        capacity = group.placement.capacity
        node_gpus = group.placement.instance.gpus
        pods_per_node = node_gpus // group.gpus
        room = common_checks.whole_nodes(capacity, platform, node_gpus) * pods_per_node
        asked = group.max_workers
        if asked > room:
            found.append(
                ConfigIssue(
                    f"{where}max_workers",
                    f"asks for {asked} worker pods of {group.gpus} GPUs, more than pool '{group.name}' can ever hold ({room}): "
                    "Ray's autoscaler would wait for pods that stay Pending",
                    value=asked,
                    allowed=f"at most {room}",
                    fix=f"lower {where}max_workers to {room}, or raise the pool's capacity (gpu_limit, or the block's instances)",
                )
            )
        if group.min_workers > room:
            found.append(
                ConfigIssue(
                    f"{where}min_workers",
                    f"keeps more worker pods than pool '{group.name}' can ever hold ({room})",
                    value=group.min_workers,
                    fix=f"lower it to {room} or fewer",
                )
            )
        held += min(asked, room) * group.replicas_per_worker
        parts.append(f"{min(asked, room)} pods x {group.replicas_per_worker} on {group.name}")
    scaling = workload.autoscaling
    for key, value in (("autoscaling.min_replicas", scaling.min_replicas), ("autoscaling.max_replicas", scaling.max_replicas)):
        if value > held:
            found.append(
                ConfigIssue(
                    key,
                    f"is {value}, but the worker groups hold at most {held} replicas of {workload.replica_gpus()} GPUs "
                    f"({' + '.join(parts)}): Ray Serve would wait for the rest forever",
                    value=value,
                    allowed=f"at most {held}",
                    fix="raise max_workers (or add a worker group on another pool), or lower it",
                )
            )
            break
    return found
