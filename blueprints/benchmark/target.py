"""What a benchmark needs to know about where it runs and what it loads, resolved once from the platform."""

from __future__ import annotations

from dataclasses import dataclass

from blueprints.benchmark.params import BenchmarkWorkload
from core.model_sources import HfSource, S3Source
from core.platform import Platform

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


def resolve_target(platform: Platform, benchmark: BenchmarkWorkload) -> BenchmarkTarget:
    """Every OpenAI-serving blueprint exposes a Service named after its workload (Dynamo's points at its frontend)."""
    target = platform.endpoints[benchmark.target]
    source = target.model
    if isinstance(source, S3Source):
        source = source.in_bucket(platform.storage.bucket_name)
    tokenizer, tokenizer_uri, secret = benchmark.tokenizer, None, None
    if tokenizer is None:
        if isinstance(source, HfSource):
            tokenizer, secret = source.repo_id, source.token_secret_name
        elif isinstance(source, S3Source):
            tokenizer, tokenizer_uri = TOKENIZER_DIR, source.uri
        else:
            # Benchmark.checks refuses this first: the pod mounts no FSx volume to read the tokenizer from.
            raise ValueError(
                f"benchmark {benchmark.name}: its target {benchmark.target} loads no tokenizer the pod can read; set tokenizer"
            )
    return BenchmarkTarget(
        namespace=platform.namespace,
        az_id=platform.az_id,
        region=platform.region,
        bucket=platform.storage.bucket_name,
        workload=target.workload,
        service=target.service,
        port=target.port,
        model_name=target.model_name,
        tokenizer=tokenizer,
        tokenizer_uri=tokenizer_uri,
        hf_token_secret=secret,
    )
