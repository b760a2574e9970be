"""vLLM OpenAI-compatible server: Deployment, Service, PodDisruptionBudget, optional autoscaler."""

from __future__ import annotations

from typing import TYPE_CHECKING

from blueprints.common.placement import placement_for
from blueprints.contract import GpuBlueprint
from blueprints.vllm.chart import vllm_chart
from blueprints.vllm.params import VllmWorkload
from core.platform import Platform

if TYPE_CHECKING:
    import cdk8s
    from constructs import Construct


class Vllm(GpuBlueprint[VllmWorkload]):
    params = VllmWorkload
    serves_openai = True

    def render(self, scope: Construct, workload: VllmWorkload, platform: Platform) -> cdk8s.Chart:
        return vllm_chart(scope, workload, placement_for(platform, workload))


BLUEPRINT = Vllm()
