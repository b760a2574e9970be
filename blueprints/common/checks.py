"""Checks every GPU workload gets against the platform: its capacity, GPUs per pod, EFA, and where its weights live.

Paths are relative to the workload entry; the assembly prefixes them with workloads[i].
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from blueprints.common.params import GpuWorkloadParams
from blueprints.common.resources import memory_share_gib, pod_memory_gib, shm_gib
from core.capacity import GpuCapacity
from core.instances import InstanceFacts, known
from core.issues import ConfigIssue
from core.model_sources import FsxSource, ModelSource, S3Source
from core.platform import Platform

if TYPE_CHECKING:
    from blueprints.common.placement import Placement


def gpu_workload_issues(workload: GpuWorkloadParams, platform: Platform) -> list[ConfigIssue]:
    capacity = platform.capacities.get(workload.node_pool)
    if capacity is None:
        return [
            ConfigIssue(
                "node_pool",
                "no node pool or capacity-block node group has this name",
                value=workload.node_pool,
                allowed=", ".join(platform.capacities) or "(none configured)",
                fix="name one of the pools, or add the pool under node_pools",
            )
        ]
    types = list(capacity.instance_types)
    instance_type = workload.instance_type or types[0]
    if workload.instance_type and workload.instance_type not in types:
        return [
            ConfigIssue(
                "instance_type",
                f"is not one of pool '{workload.node_pool}''s instance types",
                value=workload.instance_type,
                allowed=", ".join(types),
                fix="pick one of them",
            )
        ]
    issues: list[ConfigIssue] = []
    instance = known(instance_type)
    if instance is not None:  # an unknown type is reported on the pool itself
        gpus = workload.gpus_per_pod()
        if gpus > instance.gpus:
            issues.append(
                ConfigIssue(
                    "",
                    f"a pod needs {gpus} GPUs but {instance_type} has {instance.gpus}",
                    value=gpus,
                    allowed=f"at most {instance.gpus} GPUs per pod on {instance_type}",
                    fix="lower tensor_parallel_size, or run the model across nodes with the vllm-multinode blueprint",
                )
            )
        elif instance.gpus % gpus:
            issues.append(
                ConfigIssue(
                    "",
                    f"{gpus} GPUs per pod leave GPUs of a {instance.gpus}-GPU {instance_type} unusable",
                    value=gpus,
                    allowed=f"a divisor of {instance.gpus}",
                    fix="pick a tensor parallel size that divides the node's GPUs",
                )
            )
        else:
            issues += memory_issues(workload, instance, instance_type, gpus)
    if workload.efa and not capacity.efa:
        issues.append(
            ConfigIssue(
                "efa",
                f"node pool '{workload.node_pool}' has no EFA",
                value=True,
                fix="set efa: true on the pool (an EFA-capable type), or drop efa here",
            )
        )
    issues += model_source_issues(workload.model, platform)
    return issues


def memory_issues(workload: GpuWorkloadParams, instance: InstanceFacts, instance_type: str, gpus: int) -> list[ConfigIssue]:
    """The pod's memory, /dev/shm included, must fit its share of the node: else it never schedules."""
    need = pod_memory_gib(instance, gpus, workload.memory_gib_per_gpu, workload.shm_size_gib, workload.extra_shm_gib())
    share = memory_share_gib(instance, gpus)
    if need <= share:
        return []
    shm = shm_gib(instance, gpus, workload.shm_size_gib, workload.extra_shm_gib())
    return [
        ConfigIssue(
            "memory_gib_per_gpu",
            f"a pod asks for {need} GiB of host memory ({workload.memory_gib_per_gpu} GiB x {gpus} GPUs + {shm} GiB of /dev/shm"
            + (f", {workload.extra_shm_gib()} of them the KV-cache CPU tier" if workload.extra_shm_gib() else "")
            + f", which counts against the pod's memory) but {gpus} of the {instance.gpus} GPUs of a {instance_type} leave it {share} GiB "
            f"of the node's {instance.memory_gib} GiB",
            value=workload.memory_gib_per_gpu,
            allowed=f"memory_gib_per_gpu x {gpus} + shm_size_gib <= {share}",
            fix="lower memory_gib_per_gpu, shm_size_gib or kv_offload.cpu_gib, or pick an instance type with more memory per GPU",
        )
    ]


WEIGHT_FILE_SUFFIXES = frozenset({"safetensors", "bin", "pt", "pth", "gguf", "json", "model"})
"""What a model folder's files end in: weights, configs, a SentencePiece tokenizer."""


def model_source_issues(source: ModelSource, platform: Platform) -> list[ConfigIssue]:
    """Where a model (or a LoRA adapter) may be read from: FSx only when it is on, S3 only where the model-reader role
    may read; issues at `model`."""
    storage = platform.storage
    if isinstance(source, FsxSource) and not storage.fsx_enabled:
        return [
            ConfigIssue(
                "model",
                "reads from FSx for Lustre, which is switched off",
                value=source.model_dump(),
                fix="set storage.fsx.enabled: true, or use an s3 or hf model source",
            )
        ]
    if isinstance(source, S3Source):
        last = source.uri.rstrip("/").rsplit("/", 1)[-1]
        if not source.uri.endswith("/") and last.rsplit(".", 1)[-1].lower() in WEIGHT_FILE_SUFFIXES:
            # The streamer and vLLM list the URI as a folder (config.json, tokenizer, every shard): one file finds none.
            return [
                ConfigIssue(
                    "model.uri",
                    f"names one file ({last}); vLLM loads a model folder: its config.json, tokenizer and every weight shard",
                    value=source.uri,
                    allowed="the folder that holds the model's files, e.g. s3://{bucket}/models/meta-llama/Llama-3.1-8B-Instruct/",
                    fix=f"drop /{last} from the URI",
                )
            ]
        prefix = storage.models_prefix
        if storage.creates_bucket and not storage.bucket_matches(source.bucket):
            return [
                ConfigIssue(
                    "model.uri",
                    "the model-reader role can read only the kit's model bucket",
                    value=source.uri,
                    allowed=f"s3://{storage.bucket_name.replace('{account}', '<account>')}/{prefix}...",
                    fix="stage the model there (scripts/stage_model.py), or name your bucket in storage.model_bucket.existing_bucket_name",
                )
            ]
        if not storage.creates_bucket and not storage.bucket_matches(source.bucket):
            return [
                ConfigIssue(
                    "model.uri",
                    "the model-reader role can read only the configured model bucket",
                    value=source.uri,
                    allowed=f"s3://{storage.bucket_name}/{prefix}...",
                    fix="stage the model in that bucket",
                )
            ]
        if not source.key_prefix.startswith(prefix):
            return [
                ConfigIssue(
                    "model.uri",
                    f"is outside the model prefix '{prefix}' the model-reader role may read",
                    value=source.uri,
                    fix=f"stage the model under {prefix}",
                )
            ]
    return []


def whole_nodes(capacity: GpuCapacity, platform: Platform, node_gpus: int) -> int:
    """The most nodes of `node_gpus` GPUs the capacity can ever run: Karpenter launches no node that would take a
    pool past its GPU limit (kubernetes-sigs/karpenter, provisioning/scheduling filterByRemainingResources), a block
    holds its instances, and a chain adds up its pools."""
    if capacity.members:
        return sum(platform.capacities[name].max_gpus // node_gpus for name in capacity.members if name in platform.capacities)
    return capacity.max_gpus // node_gpus


@dataclass(frozen=True)
class Standing:
    """What a workload keeps running at all times, as its config sets it."""

    key: str
    """The key that sets it, e.g. replicas or autoscaling.min_replicas."""
    value: int
    described: str
    """In words, e.g. '3 copies of 8 GPUs'."""
    gpus: int
    gpus_per_copy: int | None = None
    """Where every copy is alike: the most copies that fit follows from it."""
    admitted_whole: bool = False
    """Kueue admits all of them or none (a Job's pods)."""


def capacity_fit_issues(
    workload: GpuWorkloadParams, placement: Placement, platform: Platform, *, gang: tuple[str, int, int], standing: Standing
) -> list[ConfigIssue]:
    """One gang (a pod, or a multi-node group whole) and the copies that must always run fit the capacity's whole nodes;
    otherwise they stay Pending, or queued in Kueue, for ever. Every pod takes a divisor of its node's GPUs (checked
    before), so GPUs compared with the whole nodes' GPUs tell whether they fit.
    gang: the key that sizes one gang, its value there, and the gang's GPUs."""
    capacity, instance = placement.capacity, placement.instance
    nodes = whole_nodes(capacity, platform, instance.gpus)
    room = nodes * instance.gpus
    held = f"{room} GPUs: {nodes} x {placement.instance_type}"
    forever = "it would wait in the queue forever" if workload.queue else "its pods would stay Pending forever"
    gang_key, gang_value, gang_gpus = gang
    raise_it = f"raise the capacity of '{workload.node_pool}' (gpu_limit, or the block's instances)"
    if gang_gpus > room:
        return [
            ConfigIssue(
                gang_key,
                f"one gang needs {gang_gpus} GPUs, more than '{workload.node_pool}' can ever hold ({held}): {forever}",
                value=gang_value,
                allowed=f"at most {room} GPUs in one gang",
                fix=f"{raise_it}, or shrink the group",
            )
        ]
    if standing.gpus <= room:
        return []
    most = room // standing.gpus_per_copy if standing.gpus_per_copy else None
    return [
        ConfigIssue(
            standing.key,
            f"{standing.described} need {standing.gpus} GPUs at once, more than '{workload.node_pool}' can ever hold ({held}): "
            + (
                "Kueue admits them all at once or not at all, so they would wait in the queue forever"
                if workload.queue and standing.admitted_whole
                else "the copies beyond it would wait in the queue forever"
                if workload.queue
                else "the pods beyond it would stay Pending forever"
            ),
            value=standing.value,
            allowed=f"at most {most}" if most is not None else f"at most {room} GPUs in all",
            fix=f"lower {standing.key}" + (f" to {most} or fewer" if most is not None else "") + f", or {raise_it}",
        )
    ]
