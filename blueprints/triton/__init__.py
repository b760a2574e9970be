"""NVIDIA Triton Inference Server with the vLLM backend: model repository ConfigMap, Deployment, Service, PodDisruptionBudget."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from blueprints.common.placement import Placement
from blueprints.contract import GpuBlueprint
from blueprints.triton.chart import PORTS, triton_chart
from blueprints.triton.params import MODEL_NAME, TritonWorkload
from blueprints.triton.repository import KIT_ENGINE_KEYS
from core.isolation import WorkloadTraffic
from core.issues import ConfigIssue
from core.platform import Platform

if TYPE_CHECKING:
    import cdk8s
    from constructs import Construct


class Triton(GpuBlueprint[TritonWorkload]):
    params = TritonWorkload
    # Triton's HTTP port speaks KServe v2, not the OpenAI API.
    serves_openai = False
    image_key = "triton"
    images = ("triton",)

    @property
    def example(self) -> TritonWorkload:
        # Llama 3.1 8B from the Hub on one L40S (g6e.2xlarge), behind Triton's vLLM backend.
        return TritonWorkload.model_validate(
            {
                "name": "example-triton",
                "blueprint": "triton",
                "node_pool": "gpu-l40s",
                "instance_type": "g6e.2xlarge",
                "model": {"type": "hf", "repo_id": "meta-llama/Llama-3.1-8B-Instruct", "token_secret_name": "hf-token"},
                "max_model_len": 16384,
            }
        )

    def placement_checks(self, workload: TritonWorkload, placement: Placement, platform: Platform) -> list[ConfigIssue]:
        issues = []
        if not re.match(MODEL_NAME, workload.repository_model_name):
            issues.append(
                ConfigIssue(
                    "triton_model_name",
                    f"'{workload.repository_model_name}' (from served_model_name) cannot name a Triton model directory",
                    fix="set triton_model_name to letters, digits, '_', '.' or '-'",
                )
            )
        if workload.kv_offload is not None:
            issues.append(
                ConfigIssue(
                    "kv_offload",
                    "Triton's vLLM backend (vLLM 0.27.1 in the pinned image) is not checked by the kit for KV offloading",
                    fix="remove kv_offload, or serve the model with blueprint: vllm",
                )
            )
        clashes = sorted(set(workload.extra_args) & KIT_ENGINE_KEYS)
        if clashes:
            issues.append(
                ConfigIssue(
                    "extra_args",
                    f"sets {', '.join(clashes)}, which the blueprint writes from its own keys",
                    fix="use the workload keys (model, tensor_parallel_size, max_model_len, ...) instead",
                )
            )
        return issues

    def traffic(self, workload: TritonWorkload, platform: Platform) -> WorkloadTraffic:
        """HTTP and gRPC for clients, a separate metrics port for the scraper."""
        base = super().traffic(workload, platform)
        return WorkloadTraffic(serving_ports=(PORTS["http"], PORTS["grpc"]), metrics_ports=(PORTS["metrics"],), https_out=base.https_out)

    def chart(self, scope: Construct, workload: TritonWorkload, placement: Placement) -> cdk8s.Chart:
        return triton_chart(scope, workload, placement)


BLUEPRINT = Triton()
