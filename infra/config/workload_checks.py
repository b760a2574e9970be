"""Cross-field checks of the workloads against the node pools and storage they use."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from infra.config.errors import ConfigIssue
from infra.config.model import KitConfig
from infra.config.sources import FsxSource, S3Source
from infra.gpu.instance_types import INSTANCE_TYPES


def workload_issues(config: KitConfig) -> list[ConfigIssue]:
    from blueprints.context import pool_instance_types

    issues: list[ConfigIssue] = []
    for name, count in Counter(w.name for w in config.workloads).items():
        if count > 1:
            issues.append(ConfigIssue("workloads", f"the workload name '{name}' is used more than once", value=name, fix="give each workload its own name"))
    pools = [p.name for p in config.node_pools] + [g.name for g in config.capacity_block_node_groups]
    for index, workload in enumerate(config.workloads):
        path = f"workloads[{index}]"
        issues += [replace(issue, path=f"{path}.{issue.path}" if issue.path else path) for issue in workload.config_checks(config)]
        if not workload.runs_on_gpus:
            continue
        found = pool_instance_types(config, workload.node_pool)
        if found is None:
            issues.append(
                ConfigIssue(
                    f"{path}.node_pool",
                    "no node pool or capacity-block node group has this name",
                    value=workload.node_pool,
                    allowed=", ".join(pools) or "(none configured)",
                    fix="name one of the pools, or add the pool under node_pools",
                )
            )
            continue
        types, pool_efa = found
        instance_type = workload.instance_type or types[0]
        if workload.instance_type and workload.instance_type not in types:
            issues.append(ConfigIssue(f"{path}.instance_type", f"is not one of pool '{workload.node_pool}''s instance types", value=workload.instance_type, allowed=", ".join(types), fix="pick one of them"))
            continue
        instance = INSTANCE_TYPES.get(instance_type)
        if instance is None:
            continue  # reported on the pool itself
        gpus = workload.gpus_per_pod()
        if gpus > instance.gpus:
            issues.append(
                ConfigIssue(
                    path,
                    f"a pod needs {gpus} GPUs but {instance_type} has {instance.gpus}",
                    value=gpus,
                    allowed=f"at most {instance.gpus} GPUs per pod on {instance_type}",
                    fix="lower tensor_parallel_size, or run the model across nodes with the vllm-multinode blueprint",
                )
            )
        elif instance.gpus % gpus:
            issues.append(
                ConfigIssue(path, f"{gpus} GPUs per pod leave GPUs of a {instance.gpus}-GPU {instance_type} unusable", value=gpus, allowed=f"a divisor of {instance.gpus}", fix="pick a tensor parallel size that divides the node's GPUs")
            )
        if workload.efa and not pool_efa:
            issues.append(ConfigIssue(f"{path}.efa", f"node pool '{workload.node_pool}' has no EFA", value=True, fix="set efa: true on the pool (an EFA-capable type), or drop efa here"))
        issues += _model_source(config, path, workload)
        for subpath, message, fix in workload.extra_checks(instance, pool_efa):
            issues.append(ConfigIssue(f"{path}.{subpath}" if subpath else path, message, fix=fix))
    return issues


def _model_source(config: KitConfig, path: str, workload) -> list[ConfigIssue]:
    source = workload.model
    if isinstance(source, FsxSource) and not config.storage.fsx.enabled:
        return [ConfigIssue(f"{path}.model", "reads from FSx for Lustre, which is switched off", value=source.model_dump(), fix="set storage.fsx.enabled: true, or use an s3 or hf model source")]
    if isinstance(source, S3Source):
        from infra.storage.refs import model_bucket_name

        bucket = model_bucket_name(config)
        prefix = config.storage.models_prefix
        own_bucket = config.storage.model_bucket.existing_bucket_name is None
        if own_bucket and not source.bucket.startswith(f"{config.name}-models-"):
            return [ConfigIssue(f"{path}.model.uri", "the model-reader role can read only the kit's model bucket", value=source.uri, allowed=f"s3://{config.name}-models-<account>-{config.region}/{prefix}...", fix="stage the model there (scripts/stage_model.py), or name your bucket in storage.model_bucket.existing_bucket_name")]
        if not own_bucket and source.bucket != bucket:
            return [ConfigIssue(f"{path}.model.uri", "the model-reader role can read only the configured model bucket", value=source.uri, allowed=f"s3://{bucket}/{prefix}...", fix="stage the model in that bucket")]
        if not source.key_prefix.startswith(prefix):
            return [ConfigIssue(f"{path}.model.uri", f"is outside the model prefix '{prefix}' the model-reader role may read", value=source.uri, fix=f"stage the model under {prefix}")]
    return []
