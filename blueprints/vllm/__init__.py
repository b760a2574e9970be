"""vLLM's OpenAI-compatible server on one node: Deployment, Service, PodDisruptionBudget."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from blueprints.common import checks, lora, rollout, routing
from blueprints.common.placement import Placement
from blueprints.contract import VLLM_SERVE, GpuBlueprint
from blueprints.common.identity import server_identity
from blueprints.common.model_source import model_mount
from blueprints.vllm.chart import IMAGE_KEY, serve_args, vllm_chart
from blueprints.vllm.params import VllmWorkload
from core.isolation import WorkloadTraffic
from core.issues import ConfigIssue
from core.labels import WORKLOAD_LABEL
from core.platform import Platform
from core.requirements import Requirements

if TYPE_CHECKING:
    import cdk8s
    from constructs import Construct


class Vllm(GpuBlueprint[VllmWorkload]):
    params = VllmWorkload
    serves_openai = True
    image_key = "vllm"
    images = ("vllm",)
    engine_command = VLLM_SERVE

    @property
    def example(self) -> VllmWorkload:
        # Llama 3.1 8B on one L40S (g6e.2xlarge), streamed from the kit's bucket: the default config's shape.
        return VllmWorkload.model_validate(
            {
                "name": "example-vllm",
                "blueprint": "vllm",
                "node_pool": "gpu-l40s",
                "instance_type": "g6e.2xlarge",
                "model": {"type": "s3", "uri": "s3://{bucket}/models/meta-llama/Llama-3.1-8B-Instruct/"},
                "max_model_len": 16384,
            }
        )

    def checks(self, workload: VllmWorkload, platform: Platform) -> list[ConfigIssue]:
        replicas_set = "replicas" in workload.model_fields_set
        # An adapter's folder must be where the model-reader role may read, as the model's (checks.model_source_issues).
        adapters = lora.issues(
            workload.lora,
            platform,
            model_name=workload.public_model_name,
            check_source=lambda source: checks.model_source_issues(source, platform),
        )
        return (
            super().checks(workload, platform)
            + routing.issues(workload.routing, workload.autoscaling, replicas_set, workload.enable_prefix_caching, platform)
            + adapters
        )

    def traffic(self, workload: VllmWorkload, platform: Platform) -> WorkloadTraffic:
        """The adapters' init container reads S3 over HTTPS, whatever the model's source."""
        traffic = super().traffic(workload, platform)
        return replace(traffic, https_out=True) if workload.lora is not None else traffic

    def engine_command_lines(self, workload: VllmWorkload, placement: Placement) -> list[list[str]]:
        return [serve_args(workload, model_mount(workload.model, server_identity(IMAGE_KEY, workload.run_as_user).hf_home))]

    def requirements(self, workload: VllmWorkload, platform: Platform) -> Requirements:
        return routing.requirements(workload.routing, workload.autoscaling, platform)

    def summary(self, workload: VllmWorkload) -> str:
        copies, path = routing.describe(workload, str(workload.replicas))
        adapters = f"; {len(workload.lora.adapters)} LoRA adapters" if workload.lora is not None else ""
        return f"{self.name} on {workload.node_pool}, {copies} x {workload.gpus_per_pod()} GPUs{path}{adapters}{rollout.describe(workload)}"

    def render(self, scope: Construct, workload: VllmWorkload, platform: Platform) -> cdk8s.Chart:
        if workload.lora is not None:
            workload = workload.model_copy(update={"lora": workload.lora.in_bucket(platform.storage.bucket_name)})
        chart = super().render(scope, workload, platform)
        target = {"apiVersion": "apps/v1", "kind": "Deployment", "name": workload.name}
        routing.add_request_path(chart, self.name, workload, platform, pool_selector={WORKLOAD_LABEL: workload.name}, scale_target=target)
        return chart

    def chart(self, scope: Construct, workload: VllmWorkload, placement: Placement) -> cdk8s.Chart:
        return vllm_chart(scope, workload, placement)


BLUEPRINT = Vllm()
