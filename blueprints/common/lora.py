"""Many LoRA adapters on one base model: vLLM's multi-LoRA serving, adapters staged to S3.

vLLM 0.30.0 serves adapters named with `--lora-modules name=path` (vllm/entrypoints/launchers/cli_args.py
LoRAParserAction), loads them all when it starts and refuses to start if one fails
(entrypoints/openai/models/serving.py init_static_loras), keeps `--max-cpu-loras` of them in host memory and batches
requests of up to `--max-loras` of them at once in GPU buffers sized for `--max-lora-rank` (config/lora.py: ranks
1, 8, 16, 32, 64, 128, 256, 320, 512; max_cpu_loras at least max_loras). A path is read from the local file system;
anything else is taken for a Hugging Face repo id (lora/utils.py get_adapter_absolute_path), and no LoRA resolver
of 0.30.0 reads S3 (plugins/lora_resolvers: a local directory and the Hub only). So an init container, from the
server's own image (which carries boto3) with the pod's model-reader identity, copies each adapter's folder from
the model bucket into an emptyDir before vLLM starts; each file's SHA-256 is checked against the one
scripts/stage_model.py stored with it.

Clients call an adapter by its name like any model: the gateway routes it to the base's replicas (core/routing.py
route rules), teams list it like a model, and the endpoint picker's lora-affinity-scorer (llm-d-router v0.10.0
pkg/epp/framework/plugins/scheduling/scorer/loraaffinity) prefers a replica where the adapter is already loaded,
from vLLM's vllm:lora_requests_info.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from blueprints.common.k8s_types import Container, SecurityContext, Volume, VolumeMount
from blueprints.common.params import HasLora, WorkloadParams
from core.issues import ConfigIssue
from core.model_catalog import local_adapters
from core.model_fit import LoraShape
from core.model_sources import S3Source
from core.platform import Platform
from core.routing import MAX_RULES, rule_groups
from core.schema import StrictModel

ADAPTER_DIR = "/adapters"
SYNC_PROGRAM = Path(__file__).with_name("lora_sync.py")
VOLUME = "lora-adapters"
PROGRAM_VOLUME = "lora-sync"
LoraRank = Literal[1, 8, 16, 32, 64, 128, 256, 320, 512]
"""vLLM 0.30.0's MaxLoRARanks (config/lora.py)."""
RANKS: tuple[int, ...] = (1, 8, 16, 32, 64, 128, 256, 320, 512)
DEFAULT_MAX_LORAS = 4
AdapterName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$", examples=["support-bot"])]


class Adapter(StrictModel):
    name: AdapterName
    """The model name clients send for this adapter, and the name teams list in gateway.teams[].models."""
    uri: Annotated[str, Field(examples=["s3://{bucket}/models/adapters/support-bot/"])]
    """The adapter's folder in the model bucket (adapter_config.json and its weights), as scripts/stage_model.py
    --adapter staged it; {bucket} stands for the kit's bucket."""
    rank: LoraRank | None = None
    """The adapter's LoRA rank (adapter_config.json 'r'). Default: what stage_model recorded in config/models.yaml."""

    @property
    def source(self) -> S3Source:
        return S3Source(type="s3", uri=self.uri if self.uri.endswith("/") else self.uri + "/")


class Lora(StrictModel):
    """LoRA adapters served beside the base model by the same replicas."""

    adapters: Annotated[list[Adapter], Field(min_length=1, max_length=256)]
    max_loras: Annotated[int | None, Field(ge=1, le=256)] = None
    """Adapters one batch may mix (--max-loras): each takes GPU memory for its slot whether used or not. Default: the
    number of adapters, at most 4."""
    max_lora_rank: LoraRank | None = None
    """The largest rank a slot holds (--max-lora-rank). Default: the highest rank among the adapters, else 16."""
    max_cpu_loras: Annotated[int | None, Field(ge=1, le=1024)] = None
    """Adapters kept loaded in host memory (--max-cpu-loras); others are read again from the pod's disk when called.
    Default: every adapter."""
    affinity_weight: Annotated[int, Field(ge=0, le=100)] = 2
    """Weight of the endpoint picker's lora-affinity-scorer (routing.endpoint_picker): prefer a replica that has the
    requested adapter loaded, else one with a free slot. 0 leaves it out."""

    @model_validator(mode="after")
    def _valid(self) -> Lora:
        for name in {a.name for a in self.adapters if [b.name for b in self.adapters].count(a.name) > 1}:
            raise ValueError(f"two adapters are named '{name}': each adapter is a model name of its own")
        for adapter in self.adapters:
            try:
                adapter.source
            except ValueError as err:
                raise ValueError(f"adapter '{adapter.name}': uri {err}") from None
        return self

    def ranks(self) -> dict[str, int | None]:
        """Each adapter's rank: given, else recorded by stage_model, else unknown."""
        recorded = local_adapters()
        found = {}
        for adapter in self.adapters:
            entry = recorded.get(adapter.uri) or recorded.get(adapter.uri.rstrip("/") + "/") or {}
            found[adapter.name] = adapter.rank or entry.get("rank")
        return found

    @property
    def slots(self) -> int:
        return self.max_loras or min(len(self.adapters), DEFAULT_MAX_LORAS)

    @property
    def rank(self) -> int:
        if self.max_lora_rank is not None:
            return self.max_lora_rank
        known = [rank for rank in self.ranks().values() if rank]
        return next((r for r in RANKS if r >= max(known)), RANKS[-1]) if known else 16

    @property
    def cpu_slots(self) -> int:
        return self.max_cpu_loras or max(len(self.adapters), self.slots)

    def shape(self) -> LoraShape:
        return LoraShape(max_loras=self.slots, max_rank=self.rank)

    @property
    def names(self) -> list[str]:
        return [adapter.name for adapter in self.adapters]

    def in_bucket(self, bucket_name: str) -> Lora:
        """The same adapters with {bucket} replaced by the kit's model bucket (as the model's URI, core/model_sources.py)."""
        adapters = [adapter.model_copy(update={"uri": adapter.source.in_bucket(bucket_name).uri}) for adapter in self.adapters]
        return self.model_copy(update={"adapters": adapters})


def lora_of(workload: WorkloadParams) -> Lora | None:
    """The workload's adapters; None for blueprints without LoRA too."""
    return workload.lora if isinstance(workload, HasLora) else None


def served_adapters(workload: WorkloadParams) -> list[str]:
    """The adapter names a workload serves besides its model name (none for blueprints without LoRA)."""
    lora = lora_of(workload)
    return lora.names if lora is not None else []


def engine_args(lora: Lora | None) -> list[str]:
    if lora is None:
        return []
    modules = [f"{adapter.name}={ADAPTER_DIR}/{adapter.name}" for adapter in lora.adapters]
    return [
        "--enable-lora",
        "--max-loras", str(lora.slots),
        "--max-lora-rank", str(lora.rank),
        "--max-cpu-loras", str(lora.cpu_slots),
        "--lora-modules", *modules,
    ]  # fmt: skip


def sync_init_container(lora: Lora, image: str, security_context: SecurityContext, region: str) -> Container:
    """Copies every adapter folder from S3 into the adapters volume before the server starts (URIs in_bucket)."""
    plan = [{"name": adapter.name, "bucket": adapter.source.bucket, "prefix": adapter.source.key_prefix} for adapter in lora.adapters]
    return {
        "name": "lora-sync",
        "image": image,
        "command": ["python3", "/lora-sync/lora_sync.py"],
        "env": [
            {"name": "ADAPTERS", "value": json.dumps(plan)},
            {"name": "TARGET", "value": ADAPTER_DIR},
            {"name": "AWS_REGION", "value": region},
        ],
        "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"memory": "2Gi"}},
        "volumeMounts": [{"name": VOLUME, "mountPath": ADAPTER_DIR}, {"name": PROGRAM_VOLUME, "mountPath": "/lora-sync", "readOnly": True}],
        "securityContext": security_context,
    }


def volumes(config_map: str) -> list[Volume]:
    return [{"name": VOLUME, "emptyDir": {}}, {"name": PROGRAM_VOLUME, "configMap": {"name": config_map}}]


def server_mount() -> VolumeMount:
    return {"name": VOLUME, "mountPath": ADAPTER_DIR, "readOnly": True}


def sync_files() -> dict[str, str]:
    return {"lora_sync.py": SYNC_PROGRAM.read_text()}


def issues(
    lora: Lora | None, platform: Platform, *, model_name: str, check_source: Callable[[S3Source], list[ConfigIssue]]
) -> list[ConfigIssue]:
    """check_source(S3Source) -> issues at model.uri, the kit's check of where the model-reader role may read."""
    if lora is None:
        return []
    found: list[ConfigIssue] = []
    if lora.max_cpu_loras is not None and lora.max_cpu_loras < lora.slots:
        found.append(
            ConfigIssue(
                "lora.max_cpu_loras",
                f"is below max_loras ({lora.slots}): vLLM refuses to start (max_cpu_loras must be >= max_loras, vllm/config/lora.py)",
                value=lora.max_cpu_loras,
                allowed=f"at least {lora.slots}",
                fix=f"raise max_cpu_loras to {lora.slots} or more, or lower max_loras",
            )
        )
    for index, (name, rank) in enumerate(lora.ranks().items()):
        if rank is not None and rank > lora.rank:
            found.append(
                ConfigIssue(
                    f"lora.adapters[{index}]",
                    f"adapter '{name}' has rank {rank}, above max_lora_rank {lora.rank}: vLLM fails to load it and the server does not "
                    "start",
                    value=rank,
                    allowed=f"adapters of rank at most max_lora_rank ({lora.rank})",
                    fix=f"set lora.max_lora_rank: {next(r for r in RANKS if r >= rank)}, or leave max_lora_rank out to size it from the "
                    "adapters",
                )
            )
        if name == model_name:
            found.append(
                ConfigIssue(
                    f"lora.adapters[{index}].name",
                    "is the base model's own name: clients could not tell them apart",
                    value=name,
                    fix="give the adapter a name of its own",
                )
            )
    groups = rule_groups((model_name, *lora.names), platform.routing.teams_for)
    if len(groups) > MAX_RULES:
        found.append(
            ConfigIssue(
                "lora.adapters",
                f"the base model and its adapters fall into {len(groups)} sets of teams, and the gateway route holds at most {MAX_RULES} "
                "rules (one per set, for each set's team policy)",
                value=len(lora.adapters),
                allowed=f"adapters whose teams (gateway.teams[].models) form at most {MAX_RULES} distinct sets, the base model's included",
                fix="give teams the same adapters in larger groups, or split the adapters over two workloads",
            )
        )
    for index, adapter in enumerate(lora.adapters):
        for issue in check_source(adapter.source):
            found.append(
                replace(
                    issue,
                    path=f"lora.adapters[{index}].uri",
                    value=adapter.uri,
                    fix=(issue.fix or "").replace("stage the model", "stage the adapter (scripts/stage_model.py --adapter)"),
                )
            )
    return found
