"""A benchmark of another workload: an inference-perf Job on a CPU node in the same zone, reports written to S3."""

from __future__ import annotations

from typing import TYPE_CHECKING

from blueprints.benchmark.chart import benchmark_chart
from blueprints.benchmark.params import DATASETS_PREFIX, RESULTS_PREFIX, BenchmarkWorkload
from blueprints.benchmark.target import resolve_target
from blueprints.contract import Blueprint
from core.isolation import WorkloadTraffic
from core.issues import ConfigIssue
from core.model_sources import FsxSource
from core.platform import Platform
from core.requirements import Requirements, S3Access

if TYPE_CHECKING:
    import cdk8s
    from constructs import Construct


class Benchmark(Blueprint[BenchmarkWorkload]):
    params = BenchmarkWorkload
    images = ("inference-perf",)

    @property
    def example(self) -> BenchmarkWorkload:
        # Three concurrency stages against the default config's Llama 3.1 8B server.
        return BenchmarkWorkload.model_validate({"name": "example-benchmark", "blueprint": "benchmark", "target": "llama-8b"})

    def checks(self, workload: BenchmarkWorkload, platform: Platform) -> list[ConfigIssue]:
        issues = []
        servers = {name: e for name, e in platform.endpoints.items() if e.enabled and e.serves_openai}
        target = servers.get(workload.target)
        if target is None:
            other = platform.endpoints.get(workload.target)
            why = (
                "no workload has this name"
                if other is None
                else (
                    "that workload is disabled" if not other.enabled else f"its {other.blueprint} blueprint does not serve the OpenAI API"
                )
            )
            kinds = list(platform.openai_blueprints)
            kinds = ", ".join(kinds[:-1]) + f" or {kinds[-1]}" if len(kinds) > 1 else "".join(kinds) or "OpenAI-serving"
            issues.append(
                ConfigIssue(
                    "target",
                    f"must name an enabled {kinds} workload; {why}",
                    value=workload.target,
                    allowed=", ".join(sorted(servers)) or "(no such workload enabled)",
                    fix="name one of them, or enable the workload you mean",
                )
            )
        if target is not None and workload.tokenizer is None and isinstance(target.model, FsxSource):
            issues.append(
                ConfigIssue(
                    "tokenizer",
                    "the target loads its model from FSx, which the benchmark pod does not mount",
                    fix="name the model's Hugging Face repository in tokenizer",
                )
            )
        if workload.dataset:
            storage = platform.storage
            name, _, key = workload.dataset.removeprefix("s3://").partition("/")
            if not storage.bucket_matches(name) or not key.startswith(DATASETS_PREFIX):
                issues.append(
                    ConfigIssue(
                        "dataset",
                        f"the benchmark role reads only the {DATASETS_PREFIX} prefix of the model bucket",
                        value=workload.dataset,
                        allowed=f"s3://{storage.bucket_name}/{DATASETS_PREFIX}<file>.json",
                        fix=f"upload the file there (aws s3 cp data.json s3://{storage.bucket_name}/{DATASETS_PREFIX})",
                    )
                )
        return issues

    def requirements(self, workload: BenchmarkWorkload, platform: Platform) -> Requirements:
        # Each benchmark Job runs as a service account named after it; they share one role.
        models = platform.storage.models_prefix
        access = S3Access(
            role="BenchmarkAccess",
            description=f"Benchmark Jobs of {platform.name}: read datasets and tokenizers, write results",
            service_account=workload.name,
            read_prefixes=(DATASETS_PREFIX, RESULTS_PREFIX, models),
            write_prefixes=(RESULTS_PREFIX,),
            reasons={
                DATASETS_PREFIX: "Read-only: datasets uploaded under the datasets/ prefix at any time.",
                models: "Read-only: tokenizer files next to model weights under the model prefix.",
                RESULTS_PREFIX: "Each run writes new report objects under benchmarks/<workload>/<timestamp>/ (and checks whether they "
                "exist).",
            },
        )
        return Requirements(s3_access=(access,))

    def traffic(self, workload: BenchmarkWorkload, platform: Platform) -> WorkloadTraffic:
        """Requests to its target only; HTTPS out for the datasets, the tokenizer and the reports in S3."""
        target = resolve_target(platform, workload)
        return WorkloadTraffic(https_out=True, calls=((target.workload, target.port),))

    def render(self, scope: Construct, workload: BenchmarkWorkload, platform: Platform) -> cdk8s.Chart:
        return benchmark_chart(scope, workload, resolve_target(platform, workload))

    def summary(self, workload: BenchmarkWorkload) -> str:
        return f"benchmark of {workload.target} at concurrency {'/'.join(map(str, workload.concurrency))}, CPU only"


BLUEPRINT = Benchmark()
