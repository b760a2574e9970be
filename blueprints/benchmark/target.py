"""What a benchmark needs to know about where it runs and what it loads, resolved once from the whole config."""

from __future__ import annotations

from dataclasses import dataclass

from infra.config.model import KitConfig
from infra.config.sources import HfSource, S3Source

DEFAULT_PORT = 8000
TOKENIZER_DIR = "/work/tokenizer"


@dataclass(frozen=True)
class BenchmarkTarget:
    namespace: str
    az_id: str
    region: str
    bucket: str
    """The model bucket; '{account}' stands for the account when the config leaves it to the credentials."""
    workload: str
    service: str
    port: int
    model_name: str
    tokenizer: str
    tokenizer_uri: str | None = None
    """S3 folder the pod fetches tokenizer files from into TOKENIZER_DIR."""
    hf_token_secret: str | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.service}.{self.namespace}.svc.cluster.local:{self.port}"


def bucket_for_pod(config: KitConfig) -> str:
    existing = config.storage.model_bucket.existing_bucket_name
    return existing or f"{config.name}-models-{config.account or '{account}'}-{config.region}"


def resolve_target(config: KitConfig, benchmark) -> BenchmarkTarget:
    """Every OpenAI-serving blueprint exposes a Service named after its workload (Dynamo's points at its frontend)."""
    target = next(w for w in config.workloads if w.name == benchmark.target)
    source = target.model
    tokenizer, tokenizer_uri, secret = benchmark.tokenizer, None, None
    if tokenizer is None and isinstance(source, HfSource):
        tokenizer, secret = source.repo_id, source.token_secret_name
    elif tokenizer is None and isinstance(source, S3Source):
        tokenizer, tokenizer_uri = TOKENIZER_DIR, source.uri
    return BenchmarkTarget(
        namespace=config.storage.workloads_namespace,
        az_id=config.placement.az_id,
        region=config.region,
        bucket=bucket_for_pod(config),
        workload=target.name,
        service=target.name,
        port=getattr(target, "port", DEFAULT_PORT),
        model_name=target.public_model_name,
        tokenizer=tokenizer,
        tokenizer_uri=tokenizer_uri,
        hf_token_secret=secret,
    )
