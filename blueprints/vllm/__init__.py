"""vLLM's OpenAI-compatible server on one node: Deployment, Service, PodDisruptionBudget."""

from __future__ import annotations

from typing import TYPE_CHECKING

from blueprints.common.placement import Placement
from blueprints.contract import GpuBlueprint
from blueprints.vllm.chart import vllm_chart
from blueprints.vllm.params import VllmWorkload
from core.issues import ConfigIssue
from core.platform import Platform

if TYPE_CHECKING:
    import cdk8s
    from constructs import Construct


class Vllm(GpuBlueprint[VllmWorkload]):
    params = VllmWorkload
    serves_openai = True
    image_key = "vllm"

    def placement_checks(self, workload: VllmWorkload, placement: Placement, platform: Platform) -> list[ConfigIssue]:
        if workload.autoscaling is None:
            return []
        return [
            ConfigIssue(
                "autoscaling",
                "needs a custom-metrics adapter serving vLLM's queue depth to the HorizontalPodAutoscaler, and the kit installs none: "
                "the autoscaler would never see its metric and never scale",
                fix="remove autoscaling and set replicas; scale by changing replicas and deploying again",
            )
        ]

    def chart(self, scope: Construct, workload: VllmWorkload, placement: Placement) -> cdk8s.Chart:
        return vllm_chart(scope, workload, placement)


BLUEPRINT = Vllm()
