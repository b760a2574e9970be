"""One model across several nodes: a LeaderWorkerSet group per model copy, one pod per node (tensor parallel in a
node, pipeline parallel across nodes). The cluster stack installs the LeaderWorkerSet controller while one is enabled."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from blueprints.common import model_fit, rollout, routing
from blueprints.common.placement import Placement, Transport
from blueprints.contract import VLLM_SERVE, GpuBlueprint
from blueprints.common.identity import server_identity
from blueprints.common.model_source import model_mount
from blueprints.vllm_multinode.chart import (
    GROUP_INDEX_LABEL,
    LWS_API_VERSION,
    LWS_NAME_LABEL,
    MASTER_PORT,
    group_set_name,
    serve_args,
    vllm_multinode_chart,
)
from blueprints.vllm_multinode.params import VllmMultinodeWorkload
from core.isolation import WorkloadTraffic
from core.issues import ConfigIssue
from core.labels import SYSTEM_POOL_LABEL, WORKLOAD_LABEL
from core.platform import Platform
from core.requirements import ControllerChart, ControllerFlows, Requirements
from core.versions import LEADER_WORKER_SET

if TYPE_CHECKING:
    import cdk8s
    from constructs import Construct

# LeaderWorkerSet: groups of pods (one leader, N-1 workers) scheduled and restarted as a unit.
LWS_RELEASE = "lws"
LWS_CONTROLLER = ControllerChart(
    name="lws",
    chart="lws",
    pin=LEADER_WORKER_SET,
    release=LWS_RELEASE,
    namespace="lws-system",
    values={"nodeSelector": SYSTEM_POOL_LABEL},
    crds=("leaderworkersets.leaderworkerset.x-k8s.io",),
    flows=(
        # The manager's webhooks on 9443; its metrics (8443) are scraped by nothing of the kit.
        ControllerFlows(
            read_at="0.10.0",
            pods={"control-plane": "controller-manager", "app.kubernetes.io/name": "lws", "app.kubernetes.io/instance": LWS_RELEASE},
            webhook_ports=(9443,),
            evidence="kubernetes-sigs/lws v0.10.0 charts/lws: manager/deployment.yaml (webhook service.port 9443, metrics "
            "8443), webhook/service.yaml (443 -> 9443), _helpers.tpl lws.selectorLabels",
        ),
    ),
)


class VllmMultinode(GpuBlueprint[VllmMultinodeWorkload]):
    params = VllmMultinodeWorkload
    serves_openai = True
    image_key = "vllm"
    images = ("vllm", "vllm-efa")
    engine_command = VLLM_SERVE
    """Leader and workers alike: a worker's `vllm serve --headless` takes the same parser."""

    @property
    def example(self) -> VllmMultinodeWorkload:
        # Llama 3.1 405B over two p5.48xlarge (TP 8 x PP 2, EFA between them): the smallest model that needs two nodes.
        return VllmMultinodeWorkload.model_validate(
            {
                "name": "example-vllm-multinode",
                "blueprint": "vllm-multinode",
                "node_pool": "gpu-h100-efa",
                "model": {"type": "s3", "uri": "s3://{bucket}/models/meta-llama/Llama-3.1-405B-Instruct/", "streamer_concurrency": 64},
                "nodes": 2,
                "tensor_parallel_size": 8,
                "max_model_len": 32768,
                "gpu_memory_utilization": 0.92,
                "memory_gib_per_gpu": 160,
                "shm_size_gib": 64,
            }
        )

    def gang_gpus(self, workload: VllmMultinodeWorkload) -> int:
        return workload.nodes * workload.gpus_per_pod()

    def gang_key(self, workload: VllmMultinodeWorkload) -> tuple[str, int]:
        return "nodes", workload.nodes

    def serving_shapes(self, workload: VllmMultinodeWorkload) -> list[model_fit.Shape]:
        # One pipeline stage per node (--pipeline-parallel-size is the group size).
        return [model_fit.Shape("nodes", workload.tensor_parallel_size, workload.nodes, value=workload.nodes)]

    def queue_checks(self, workload: VllmMultinodeWorkload, placement: Placement, platform: Platform) -> list[ConfigIssue]:
        found = super().queue_checks(workload, placement, platform)
        if workload.queue is None and platform.scheduling.teams:
            # Outside Kueue, a group's pods are scheduled one by one: two groups can each hold half the GPUs and wait forever.
            teams = ", ".join(team for team, _ in platform.scheduling.teams)
            found.append(
                ConfigIssue(
                    "queue",
                    "with GPU queues in use, a multi-node group must join one, so that it is admitted whole (all its pods or none)",
                    allowed=teams,
                    fix="set queue to the team that runs it",
                )
            )
        return found

    def engine_command_lines(self, workload: VllmMultinodeWorkload, placement: Placement) -> list[list[str]]:
        model = model_mount(workload.model, server_identity("vllm", workload.run_as_user).hf_home)
        return [serve_args(workload, model, leader=True), serve_args(workload, model, leader=False)]

    def image_key_for(self, workload: VllmMultinodeWorkload, efa: bool) -> str:
        # Over EFA the kit's own build of the pinned image, with aws-ofi-nccl (images/vllm-efa/Dockerfile).
        return "vllm-efa" if efa else "vllm"

    def transport(self, workload: VllmMultinodeWorkload) -> Transport:
        # Pipeline stages on different nodes hand activations to each other through NCCL.
        return "nccl"

    def placement_checks(self, workload: VllmMultinodeWorkload, placement: Placement, platform: Platform) -> list[ConfigIssue]:
        instance = placement.instance
        issues = []
        if workload.nodes < 2:
            issues.append(
                ConfigIssue(
                    "nodes",
                    f"is {workload.nodes}, but a multi-node group needs at least 2 nodes",
                    fix="set nodes: 2 or more, or serve a model that fits one node with blueprint: vllm",
                )
            )
        if workload.port == MASTER_PORT:
            issues.append(
                ConfigIssue(
                    "port",
                    f"is the port the leader's torch.distributed store listens on (--master-port {MASTER_PORT}): the API server and the "
                    "store cannot share it",
                    value=workload.port,
                    allowed=f"any port from 1024 to 65535 but {MASTER_PORT}",
                    fix="keep the default 8000, or pick another port",
                )
            )
        if workload.tensor_parallel_size != instance.gpus:
            issues.append(
                ConfigIssue(
                    "tensor_parallel_size",
                    f"is {workload.tensor_parallel_size}, but each pod takes a whole node and shards the model over all of its "
                    f"{instance.gpus} GPUs",
                    fix=f"set tensor_parallel_size: {instance.gpus} and split the model across nodes with nodes",
                )
            )
        return issues

    def checks(self, workload: VllmMultinodeWorkload, platform: Platform) -> list[ConfigIssue]:
        replicas_set = "replicas" in workload.model_fields_set
        return super().checks(workload, platform) + routing.issues(
            workload.routing, workload.autoscaling, replicas_set, workload.enable_prefix_caching, platform
        )

    def requirements(self, workload: VllmMultinodeWorkload, platform: Platform) -> Requirements:
        return Requirements.union(
            [Requirements(controllers=(LWS_CONTROLLER,)), routing.requirements(workload.routing, workload.autoscaling, platform)]
        )

    def render(self, scope: Construct, workload: VllmMultinodeWorkload, platform: Platform) -> cdk8s.Chart:
        """The pool picks the groups' leaders (the only pods that serve); KEDA scales the number of groups."""
        chart = super().render(scope, workload, platform)
        leaders = {WORKLOAD_LABEL: workload.name, "app.kubernetes.io/component": "leader"}
        target = {"apiVersion": LWS_API_VERSION, "kind": "LeaderWorkerSet", "name": group_set_name(workload.name)}
        routing.add_request_path(chart, self.name, workload, platform, pool_selector=leaders, scale_target=target)
        return chart

    def traffic(self, workload: VllmMultinodeWorkload, platform: Platform) -> WorkloadTraffic:
        """The leader serves; within one group (leader and workers) every port is open, for torch.distributed's
        store and NCCL's sockets. Two groups never talk to each other."""
        copies = workload.autoscaling.max_replicas if workload.autoscaling else workload.replicas
        groups = tuple({LWS_NAME_LABEL: group_set_name(workload.name), GROUP_INDEX_LABEL: str(index)} for index in range(copies))
        return replace(super().traffic(workload, platform), groups=groups)

    def chart(self, scope: Construct, workload: VllmMultinodeWorkload, placement: Placement) -> cdk8s.Chart:
        return vllm_multinode_chart(scope, workload, placement)

    def weight_shards(self, workload: VllmMultinodeWorkload) -> int:
        return workload.nodes

    def summary(self, workload: VllmMultinodeWorkload) -> str:
        copies, path = routing.describe(workload, str(workload.replicas))
        shape = f"{copies} x {workload.nodes} nodes x {workload.tensor_parallel_size} GPUs"
        return f"vllm-multinode on {workload.node_pool}, {shape}{path}{rollout.describe(workload)}"


BLUEPRINT = VllmMultinode()
