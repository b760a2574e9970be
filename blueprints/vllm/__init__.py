"""vLLM's OpenAI-compatible server on one node: Deployment, Service, PodDisruptionBudget."""

from __future__ import annotations

from typing import TYPE_CHECKING

from blueprints.common import routing
from blueprints.common.placement import Placement
from blueprints.contract import GpuBlueprint
from blueprints.common.identity import server_identity
from blueprints.common.model_source import model_mount
from blueprints.vllm.chart import IMAGE_KEY, serve_args, vllm_chart
from blueprints.vllm.params import VllmWorkload
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

    def checks(self, workload: VllmWorkload, platform: Platform) -> list[ConfigIssue]:
        replicas_set = "replicas" in workload.model_fields_set
        return super().checks(workload, platform) + routing.issues(workload.routing, workload.autoscaling, replicas_set, workload.enable_prefix_caching, platform)

    def engine_command_lines(self, workload: VllmWorkload, placement: Placement) -> list[list[str]]:
        return [serve_args(workload, model_mount(workload.model, server_identity(IMAGE_KEY, workload.run_as_user).hf_home))]

    def requirements(self, workload: VllmWorkload, platform: Platform) -> Requirements:
        return routing.requirements(workload.routing, workload.autoscaling, platform)

    def summary(self, workload: VllmWorkload) -> str:
        copies, path = routing.describe(workload, str(workload.replicas))
        return f"{self.name} on {workload.node_pool}, {copies} x {workload.gpus_per_pod()} GPUs{path}"

    def render(self, scope: Construct, workload: VllmWorkload, platform: Platform) -> cdk8s.Chart:
        chart = super().render(scope, workload, platform)
        target = {"apiVersion": "apps/v1", "kind": "Deployment", "name": workload.name}
        routing.add_request_path(chart, self.name, workload, platform, pool_selector={WORKLOAD_LABEL: workload.name}, scale_target=target)
        return chart

    def chart(self, scope: Construct, workload: VllmWorkload, placement: Placement) -> cdk8s.Chart:
        return vllm_chart(scope, workload, placement)


BLUEPRINT = Vllm()
