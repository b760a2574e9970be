"""What dist/ and charts/ hand over: the workloads' objects with everything the synth knows filled in.

`cdk deploy` fills deploy-time facts into the objects itself (the account in the model bucket's name, the AMP
workspace an autoscaler queries). A manifest applied with kubectl, kustomize or GitOps, or a chart installed with
Helm, has no CloudFormation to do that: here the account is filled in where the synth knows it (the config's
`account:`, or the caller's with `./kit synth --resolve-account`), and what stays unknown is said plainly: dist/
marks such a workload as not ready to apply (a README beside its manifest and a first line saying so), and its chart
takes the fact as a value that Helm requires.
"""

from __future__ import annotations

from dataclasses import dataclass

from assembly.kit import KIT, KitConfig
from blueprints.chart_values import ChartHints, Unknown
from blueprints.common.params import GpuWorkloadParams, WorkloadParams
from config.model import PlatformConfig
from core.model_sources import ACCOUNT_FIELD, FsxSource, HfSource, S3Source
from core.placeholders import fill
from core.routing import AMP_QUERY_URL


@dataclass(frozen=True)
class Delivery:
    objects: dict[str, list[dict]]
    """Each enabled workload's objects, with the known facts filled in."""
    hints: dict[str, ChartHints]
    unknowns: dict[str, tuple[Unknown, ...]]
    """Per workload, the facts its objects still need; empty where it applies as is."""
    account: str | None


def unknown_facts(config: PlatformConfig) -> dict[str, Unknown]:
    """The deploy-time facts by token, with how to find each out for this config."""
    cluster_stack = f"{config.name}-cluster"
    return {
        ACCOUNT_FIELD: Unknown(
            ACCOUNT_FIELD,
            "the AWS account the kit deploys to, which the model bucket's name (and an image registry's) carries",
            "set account: in the config, or run ./kit synth --resolve-account with credentials for the account you deploy to",
        ),
        AMP_QUERY_URL: Unknown(
            AMP_QUERY_URL,
            "the address of the AMP workspace the autoscaler queries",
            f"once the {cluster_stack} stack is deployed, it is its PrometheusWorkspaceEndpoint output without the trailing slash: "
            f"aws cloudformation describe-stacks --region {config.region} --stack-name {cluster_stack} "
            "--query \"Stacks[0].Outputs[?OutputKey=='PrometheusWorkspaceEndpoint'].OutputValue\" --output text",
        ),
    }


def prepare(config: KitConfig, objects: dict[str, list[dict]], account: str | None = None) -> Delivery:
    """The objects for dist/ and charts/. account: the caller's (from --resolve-account), else the config's."""
    account = account or config.account
    facts = unknown_facts(config)
    platform = KIT.platform(config)
    bucket = platform.storage.bucket_name
    filled: dict[str, list[dict]] = {}
    hints: dict[str, ChartHints] = {}
    unknowns: dict[str, tuple[Unknown, ...]] = {}
    by_name = {workload.name: workload for workload in config.workloads}
    for name, items in objects.items():
        items = fill(items, ACCOUNT_FIELD, account) if account else items
        left = tuple(fact for token, fact in facts.items() if _mentions(items, token))
        filled[name] = items
        unknowns[name] = left
        known_bucket = bucket.replace(ACCOUNT_FIELD, account) if account else bucket
        hints[name] = _hints(by_name[name], bucket, known_bucket, account, items, left)
    return Delivery(filled, hints, unknowns, account)


def _hints(
    workload: WorkloadParams, bucket: str, known_bucket: str, account: str | None, items: list[dict], left: tuple[Unknown, ...]
) -> ChartHints:
    source = workload.model if isinstance(workload, GpuWorkloadParams) else None
    location = kind = None
    if isinstance(source, S3Source):
        location = source.in_bucket(bucket).uri
        location = location.replace(ACCOUNT_FIELD, account) if account else location
        kind = "s3"
    elif isinstance(source, HfSource):
        location, kind = source.repo_id, "hf"
    elif isinstance(source, FsxSource):
        # The server is given the folder as mounted: the one string in the objects that ends with the sub_path.
        ends = {text for text in _strings(items) if text.startswith("/") and text.rstrip("/").endswith("/" + source.sub_path.rstrip("/"))}
        location, kind = (ends.pop(), "fsx") if len(ends) == 1 else (None, None)
    return ChartHints(model_location=location, model_kind=kind, bucket=known_bucket, unknowns=left)


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


def _mentions(value, token: str) -> bool:
    return any(token in text for text in _strings(value))
