"""Offline batch inference: `vllm run-batch` over request files in S3, results back to S3, at batch priority."""

from __future__ import annotations

from typing import TYPE_CHECKING

from blueprints.common.checks import Standing
from blueprints.common.placement import Placement
from blueprints.contract import EngineCommand, GpuBlueprint
from blueprints.common.identity import server_identity
from blueprints.common.model_source import model_mount
from blueprints.vllm_batch.chart import COMMAND, FIXED_ARGS, IMAGE_KEY, run_batch_args, vllm_batch_chart
from blueprints.vllm_batch.inputs import input_issues
from blueprints.vllm_batch.params import BATCH_PREFIX, VllmBatchWorkload
from core.isolation import WorkloadTraffic
from core.issues import ConfigIssue
from core.platform import Platform
from core.requirements import Requirements, S3Access

if TYPE_CHECKING:
    import cdk8s
    from constructs import Construct


class VllmBatch(GpuBlueprint[VllmBatchWorkload]):
    params = VllmBatchWorkload
    image_key = "vllm"
    images = ("vllm",)
    engine_command = EngineCommand("run-batch", container_command=COMMAND, leading_args=FIXED_ARGS)

    # A batch workload runs in a team's queue (so real-time serving can preempt it): one team with room on the pool.
    example_platform = {"scheduling": {"teams": [{"name": "research", "gpus": {"gpu-l40s": 4}}]}}

    @property
    def example(self) -> VllmBatchWorkload:
        # One request file through Llama 3.1 8B on one L40S (g6e.2xlarge), model and file in the kit's bucket.
        return VllmBatchWorkload.model_validate(
            {
                "name": "example-vllm-batch",
                "blueprint": "vllm-batch",
                "node_pool": "gpu-l40s",
                "instance_type": "g6e.2xlarge",
                "model": {"type": "s3", "uri": "s3://{bucket}/models/meta-llama/Llama-3.1-8B-Instruct/"},
                "queue": "research",
                "inputs": [f"s3://{{bucket}}/{BATCH_PREFIX}example/requests-000.jsonl"],
                "max_model_len": 16384,
            }
        )

    def checks(self, workload: VllmBatchWorkload, platform: Platform) -> list[ConfigIssue]:
        issues = super().checks(workload, platform) + input_issues(workload.inputs, workload.name)
        if workload.replicas == 0:
            # The Job's parallelism is min(replicas, files): 0 runs no pod, and the Job never finishes.
            issues.append(
                ConfigIssue(
                    "replicas",
                    "is the number of files worked on at once: 0 would run none, and the Job would never finish",
                    value=0,
                    allowed="1 or more",
                    fix="set replicas to 1 or more, or enabled: false to leave the batch out",
                )
            )
        return issues

    def engine_command_lines(self, workload: VllmBatchWorkload, placement: Placement) -> list[list[str]]:
        model = model_mount(workload.model, server_identity(IMAGE_KEY, workload.run_as_user).hf_home)
        return [[*FIXED_ARGS, *run_batch_args(workload, model.location, model)]]

    def standing(self, workload: VllmBatchWorkload) -> Standing:
        """The Job runs min(replicas, files) pods at once, and Kueue admits them together."""
        at_once = min(workload.replicas, len(workload.inputs))
        gpus = workload.gpus_per_pod()
        return Standing(
            "replicas",
            workload.replicas,
            f"{at_once} files at once on {gpus} GPU{'s' if gpus > 1 else ''} each",
            at_once * gpus,
            gpus_per_copy=gpus,
            admitted_whole=True,
        )

    def placement_checks(self, workload: VllmBatchWorkload, placement: Placement, platform: Platform) -> list[ConfigIssue]:
        issues = []
        if workload.queue is None:
            issues.append(
                ConfigIssue(
                    "queue",
                    "a batch workload runs in a team's queue, so that real-time serving can preempt it and it resumes afterwards",
                    fix="set queue to a team of scheduling.teams (add one if there is none)",
                )
            )
        for index, uri in enumerate(workload.inputs):
            bucket = uri.removeprefix("s3://").split("/", 1)[0]
            if not platform.storage.bucket_matches(bucket):
                issues.append(
                    ConfigIssue(
                        f"inputs[{index}]",
                        f"the batch role reads only the {BATCH_PREFIX} prefix of the model bucket",
                        value=uri,
                        allowed=f"s3://{platform.storage.bucket_name}/{BATCH_PREFIX}<file>.jsonl, or s3://{{bucket}}/{BATCH_PREFIX}<file>.jsonl",
                        fix=f"upload the file there (aws s3 cp requests.jsonl s3://{platform.storage.bucket_name}/{BATCH_PREFIX})",
                    )
                )
        return issues

    def requirements(self, workload: VllmBatchWorkload, platform: Platform) -> Requirements:
        models = platform.storage.models_prefix
        results = f"{BATCH_PREFIX}{workload.name}/results/"
        access = S3Access(
            role="BatchAccess",
            description=f"Batch Jobs of {platform.name}: read inputs and weights, write results",
            service_account=workload.name,
            read_prefixes=(BATCH_PREFIX, models),
            write_prefixes=(results,),
            reasons={
                BATCH_PREFIX: "Read-only: request files uploaded under the batch/ prefix at any time.",
                models: "Read-only: the weights the batch engine streams, under the model prefix.",
                results: "Each input file's results are written under batch/<workload>/results/, named after the file.",
            },
        )
        return Requirements(s3_access=(access,))

    def traffic(self, workload: VllmBatchWorkload, platform: Platform) -> WorkloadTraffic:
        """Nothing calls it; HTTPS out for S3 (inputs, weights, results) and the Hub when the model is there."""
        return WorkloadTraffic(https_out=True)

    def summary(self, workload: VllmBatchWorkload) -> str:
        return (
            f"{self.name} on {workload.node_pool}, {len(workload.inputs)} files, "
            f"{workload.replicas} at once x {workload.gpus_per_pod()} GPUs, {workload.priority} priority"
        )

    def render(self, scope: Construct, workload: VllmBatchWorkload, platform: Platform) -> cdk8s.Chart:
        # {bucket} in the inputs is the kit's model bucket, as in model URIs.
        inputs = [uri.replace("{bucket}", platform.storage.bucket_name) for uri in workload.inputs]
        return super().render(scope, workload.model_copy(update={"inputs": inputs}), platform)

    def chart(self, scope: Construct, workload: VllmBatchWorkload, placement: Placement) -> cdk8s.Chart:
        # The checks keep every input in the model bucket: its results go there too.
        bucket = workload.inputs[0].removeprefix("s3://").split("/", 1)[0]
        return vllm_batch_chart(scope, workload, placement, bucket)


BLUEPRINT = VllmBatch()
