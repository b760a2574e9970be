"""NVIDIA Dynamo with vLLM workers: a DynamoGraphDeployment (frontend plus aggregated or prefill/decode
workers) run by the Dynamo operator, which the cluster stack installs while such a workload is enabled."""

from __future__ import annotations

from typing import TYPE_CHECKING

from blueprints.common import model_fit
from blueprints.common.checks import Standing
from blueprints.common.k8s_types import Affinity, NodeSelectorTerm
from blueprints.common.placement import Placement, Transport
from blueprints.contract import GpuBlueprint
from blueprints.dynamo.chart import dynamo_chart
from blueprints.dynamo.components import FRONTEND_PORT, GRAPH_LABEL, WORKER_SYSTEM_PORT, worker_args, worker_identity, worker_model
from blueprints.dynamo.params import AGGREGATED_ONLY, DISAGGREGATED_ONLY, DynamoWorkload
from core.isolation import WorkloadTraffic
from core.issues import ConfigIssue
from core.model_sources import S3Source
from core.labels import SYSTEM_POOL_LABEL
from core.platform import Platform
from core.requirements import ControllerChart, ControllerFlows, Requirements
from core.versions import DYNAMO_PLATFORM

if TYPE_CHECKING:
    import cdk8s
    from constructs import Construct


def _on_system_nodes() -> Affinity:
    [(key, value)] = SYSTEM_POOL_LABEL.items()
    term: NodeSelectorTerm = {"matchExpressions": [{"key": key, "operator": "In", "values": [value]}]}
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}}}


# The Dynamo platform: the operator and CRDs behind DynamoGraphDeployment. Since 1.4.0 the chart installs no NATS
# (global.nats.install defaults to false, deploy/helm/charts/platform/README.md "Bundled NATS disabled by default"),
# and the graphs need none (Dynamo.traffic): no nats values, no NATS flows.
PLATFORM_CONTROLLER = ControllerChart(
    name="dynamo",
    chart="dynamo-platform",
    pin=DYNAMO_PLATFORM,
    release="dynamo-platform",
    namespace="dynamo-system",
    values={
        # The operator's Deployment reads affinity (not nodeSelector); keep it on the system nodes.
        "dynamo-operator": {"controllerManager": {"affinity": _on_system_nodes()}},
    },
    crds=("dynamographdeployments.nvidia.com",),
    flows=(
        ControllerFlows(
            read_at="1.4.2",
            pods={"control-plane": "controller-manager"},
            webhook_ports=(9443,),
            evidence="ai-dynamo/dynamo deploy/helm/charts/platform: the operator's manager serves its webhooks on 9443 "
            "(components/operator/templates/deployment.yaml, pods labelled control-plane: controller-manager); read at "
            "the stored 1.3.x chart, the 1.4.2 chart's own sources were not reachable",
        ),
    ),
)


class Dynamo(GpuBlueprint[DynamoWorkload]):
    params = DynamoWorkload
    serves_openai = True
    port = FRONTEND_PORT
    image_key = "dynamo-vllm"
    images = ("dynamo-vllm", "dynamo-vllm-efa", "dynamo-frontend")
    # The operator builds the pods and may add containers of its own (multi-node start-up, for one) whose security
    # context the kit does not set; baseline admits them and still refuses host access and privilege.
    pod_security = "baseline"

    @property
    def example(self) -> DynamoWorkload:
        # Llama 3.1 8B from the Hub, one aggregated worker on one L40S (g6e.2xlarge) behind the KV-aware frontend.
        return DynamoWorkload.model_validate(
            {
                "name": "example-dynamo",
                "blueprint": "dynamo",
                "node_pool": "gpu-l40s",
                "instance_type": "g6e.2xlarge",
                "model": {"type": "hf", "repo_id": "meta-llama/Llama-3.1-8B-Instruct", "token_secret_name": "hf-token"},
                "max_model_len": 16384,
            }
        )

    def transport(self, workload: DynamoWorkload) -> Transport | None:
        # Disaggregated: NIXL moves each prompt's KV cache from a prefill worker to a decode worker, across nodes.
        return "nixl" if workload.mode == "disaggregated" else None

    def image_key_for(self, workload: DynamoWorkload, efa: bool) -> str:
        return "dynamo-vllm-efa" if efa else "dynamo-vllm"

    def serving_shapes(self, workload: DynamoWorkload) -> list[model_fit.Shape]:
        if workload.mode == "aggregated":
            return [model_fit.Shape("tensor_parallel_size", workload.tensor_parallel_size)]

        def sized(role: str) -> str:
            own = f"{role}_tensor_parallel_size"
            return own if getattr(workload, own) is not None else "tensor_parallel_size"

        return [model_fit.Shape(sized(role), gpus, role=role) for role, gpus in workload.role_tensor_parallel().items()]

    def engine_command_lines(self, workload: DynamoWorkload, placement: Placement) -> list[list[str]]:
        model = worker_model(workload, worker_identity(workload, placement.efa))
        return [worker_args(workload, role, gpus, model, placement.efa) for role, gpus in workload.role_tensor_parallel().items()]

    def standing(self, workload: DynamoWorkload) -> Standing:
        """Every worker pod runs at all times (the frontend takes no GPU)."""
        tensor_parallel, replicas = workload.role_tensor_parallel(), workload.role_replicas()
        gpus = sum(replicas[role] * tensor_parallel[role] for role in replicas)
        if workload.mode == "aggregated":
            return Standing(
                "workers",
                workload.workers,
                f"{workload.workers} workers of {workload.tensor_parallel_size} GPUs",
                gpus,
                gpus_per_copy=workload.tensor_parallel_size,
            )
        described = " and ".join(
            f"{replicas[role]} {role} worker{'s' if replicas[role] > 1 else ''} of {tensor_parallel[role]} GPUs" for role in replicas
        )
        larger = max(replicas, key=lambda role: replicas[role] * tensor_parallel[role])
        return Standing(f"{larger}_workers", replicas[larger], described, gpus)

    def queue_checks(self, workload: DynamoWorkload, placement: Placement, platform: Platform) -> list[ConfigIssue]:
        if workload.queue is None:
            return []
        # The operator creates the pods from its DynamoGraphDeployment, a kind Kueue v0.19 has no integration for.
        return [
            ConfigIssue(
                "queue",
                "Kueue cannot admit a DynamoGraphDeployment (no integration in v0.19)",
                value=workload.queue,
                fix="remove queue; give Dynamo its own node pool",
            )
        ]

    def placement_checks(self, workload: DynamoWorkload, placement: Placement, platform: Platform) -> list[ConfigIssue]:
        instance = placement.instance
        issues = []
        offload = workload.kv_offload
        if offload is not None and workload.mode == "disaggregated":
            issues.append(
                ConfigIssue(
                    "kv_offload",
                    "disaggregated workers already hand their KV cache to NIXL through --kv-transfer-config; "
                    "vLLM takes one connector there",
                    fix="remove kv_offload, or use mode: aggregated",
                )
            )
        elif offload is not None and offload.tiers():
            issues.append(
                ConfigIssue(
                    "kv_offload",
                    "Dynamo workers take the CPU tier only: the kit runs no janitor beside operator-built pods to bound a file tier",
                    fix="keep cpu_gib and remove nvme and fsx",
                )
            )
        if isinstance(workload.model, S3Source):
            issues.append(
                ConfigIssue(
                    "model",
                    "dynamo.vllm fetches a model that is not a local path through its hub code before vLLM starts, and that code has "
                    "no S3 provider (ai-dynamo 1.4.2): the worker would exit",
                    value=workload.model.uri,
                    allowed="an fsx model (the bucket's model prefix, mirrored by FSx for Lustre) or an hf model",
                    fix="set storage.fsx.enabled: true and model: {type: fsx, sub_path: <the path under the model prefix>}",
                )
            )
        if "replicas" in workload.model_fields_set:
            issues.append(
                ConfigIssue(
                    "replicas",
                    "is not used by the dynamo blueprint",
                    fix="count worker pods with workers (aggregated) or prefill_workers and decode_workers (disaggregated)",
                )
            )
        unused = DISAGGREGATED_ONLY if workload.mode == "aggregated" else AGGREGATED_ONLY
        for key in unused:
            if key in workload.model_fields_set:
                other = "disaggregated" if workload.mode == "aggregated" else "aggregated"
                issues.append(
                    ConfigIssue(
                        key, f"applies only to mode: {other}, and this workload is {workload.mode}", fix=f"drop {key}, or set mode: {other}"
                    )
                )
        for role in ("prefill", "decode"):
            key = f"{role}_tensor_parallel_size"
            gpus = getattr(workload, key)
            if workload.mode != "disaggregated" or gpus is None:
                continue
            if gpus > instance.gpus:
                issues.append(
                    ConfigIssue(
                        key, f"a {role} worker needs {gpus} GPUs but the node has {instance.gpus}", fix=f"pick at most {instance.gpus}"
                    )
                )
            elif instance.gpus % gpus:
                issues.append(
                    ConfigIssue(
                        key,
                        f"{gpus} GPUs per {role} worker leave GPUs of a {instance.gpus}-GPU node unusable",
                        fix=f"pick a divisor of {instance.gpus}",
                    )
                )
        if workload.router_mode == "kv" and not workload.enable_prefix_caching:
            issues.append(
                ConfigIssue(
                    "router_mode",
                    "kv routing sends requests to the worker that cached their prefix, but enable_prefix_caching is false",
                    fix="set enable_prefix_caching: true, or router_mode: round-robin",
                )
            )
        return issues

    def requirements(self, workload: DynamoWorkload, platform: Platform) -> Requirements:
        return Requirements(controllers=(PLATFORM_CONTROLLER,))

    def traffic(self, workload: DynamoWorkload, platform: Platform) -> WorkloadTraffic:
        """The frontend serves; its pods and the workers of the same graph talk on any port (request plane, KV
        events, NIXL); every component registers through the Kubernetes API (discovery).

        Nothing goes to dynamo-system: ai-dynamo 1.4.2's request plane is TCP and its event plane (KV events) ZMQ
        unless DYN_REQUEST_PLANE / DYN_EVENT_PLANE say nats (dynamo/common/configuration/groups/runtime_args.py), the
        subscriber connecting to the publishers, pods of this graph; the runtime connects to NATS only then or when
        NATS_SERVER is set (lib/runtime/src/distributed.rs, DistributedConfig), and the operator sets it only when the
        dynamo-platform chart installs NATS, off by default since 1.4.0 (deploy/helm/charts/platform/README.md)."""
        base = super().traffic(workload, platform)
        return WorkloadTraffic(
            serving_ports=(FRONTEND_PORT,),
            metrics_ports=(FRONTEND_PORT, WORKER_SYSTEM_PORT),
            https_out=base.https_out,
            api_server=True,
            groups=({GRAPH_LABEL: workload.name},),
        )

    def chart(self, scope: Construct, workload: DynamoWorkload, placement: Placement) -> cdk8s.Chart:
        return dynamo_chart(scope, workload, placement)

    def summary(self, workload: DynamoWorkload) -> str:
        gpus = workload.role_tensor_parallel()
        workers = ", ".join(f"{count} {role} x {gpus[role]} GPUs" for role, count in workload.role_replicas().items())
        return f"dynamo {workload.mode} on {workload.node_pool}: {workers}; {workload.frontend_replicas} frontend"


BLUEPRINT = Dynamo()
