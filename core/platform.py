"""The facts a blueprint gets about the platform it runs on, resolved once from the whole config.

The config layer builds everything but the endpoints; the assembly adds those from each blueprint's contract,
so a blueprint (the benchmark, say) can check and reach another workload without knowing its blueprint.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from core.capacity import GpuCapacity
from core.isolation import NetworkFacts
from core.routing import RoutingFacts
from core.kueue_facts import SchedulingFacts
from core.model_sources import ACCOUNT_FIELD, KIT_BUCKET_FIELD, ModelSource
from core.registry_cache import RegistryCache

ACCOUNT_PLACEHOLDER = ACCOUNT_FIELD


@dataclass(frozen=True)
class StorageFacts:
    bucket_name: str
    """The model bucket as pods name it; '{account}' stands for the account when the config leaves it to the credentials."""
    creates_bucket: bool
    """False when the config names an existing bucket."""
    models_prefix: str
    fsx_enabled: bool
    fsx_capacity_gib: int = 0
    fsx_throughput_mb_s: float = 0.0
    """The file system's baseline throughput: capacity in TiB times its per-TiB throughput."""
    fsx_file_system_path: str = ""
    """storage.fsx.file_system_path: the folder of the file system that holds the bucket's models."""

    def bucket_matches(self, bucket: str) -> bool:
        """Whether `bucket` is the model bucket the kit's roles may read: exactly, or for any account where the
        config leaves the account to the credentials."""
        if bucket in (KIT_BUCKET_FIELD, self.bucket_name):
            return True
        if ACCOUNT_PLACEHOLDER not in self.bucket_name:
            return False
        pattern = re.escape(self.bucket_name).replace(re.escape(ACCOUNT_PLACEHOLDER), r"\d{12}")
        return re.fullmatch(pattern, bucket) is not None


@dataclass(frozen=True)
class Endpoint:
    """How other workloads reach one workload: its Service, port and served model name."""

    workload: str
    blueprint: str
    enabled: bool
    serves_openai: bool
    service: str
    port: int
    model_name: str
    model: ModelSource | None = None
    fsx_kv_directory: str | None = None
    """The folder of its KV-cache tier on the FSx volume, which no other workload's folders may overlap."""


@dataclass(frozen=True)
class Platform:
    name: str
    region: str
    account: str | None
    az_id: str
    namespace: str
    """storage.workloads_namespace: every workload, the model claims and the model-reader service account live here."""
    capacities: Mapping[str, GpuCapacity]
    storage: StorageFacts
    network: NetworkFacts = NetworkFacts()
    routing: RoutingFacts = RoutingFacts()
    scheduling: SchedulingFacts = SchedulingFacts()
    endpoints: Mapping[str, Endpoint] = field(default_factory=dict)
    openai_blueprints: tuple[str, ...] = ()
    """Every registered blueprint whose Service speaks the OpenAI API, for messages that say what would do."""
    registry: RegistryCache = RegistryCache()
    """Where every image is pulled from: the account's ECR in the region (core/registry_cache.py)."""
