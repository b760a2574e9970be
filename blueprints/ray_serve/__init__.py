"""Ray Serve LLM with the vLLM engine as a RayService: the KubeRay operator (installed while such a workload is enabled)
runs a Ray cluster whose head sits on the system nodes and whose GPU workers Ray's autoscaler adds on the kit's pools;
Ray Serve scales the model's replicas on requests in flight. docs/blueprints.md explains it."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from blueprints.common import model_fit, objects
from blueprints.common import routing as request_path
from blueprints.common.checks import Standing
from blueprints.common.network_policy import API as NETWORK_POLICY_API
from blueprints.common.placement import Placement, placement_for
from blueprints.contract import GpuBlueprint
from blueprints.ray_serve import routing
from blueprints.ray_serve.chart import BLUEPRINT as NAME, HEAD_COMPONENT, METRICS_PORT, Group, ray_serve_chart, serve_service
from blueprints.ray_serve.checks import group_issues, placement_issues, replica_room
from blueprints.ray_serve.operator import DASHBOARD_PORT, kuberay_controller, operator_peer
from blueprints.ray_serve.params import RayServeWorkload
from blueprints.ray_serve.serve_config import SERVE_PORT
from core.cold_start import WARMUP_SECONDS, WARMUP_SECONDS_PER_GB_PER_GPU, Budget, WeightSource, budget, image_gb, weights_gb_from_name
from core.images import provided_by
from core.instances import known
from core.isolation import WorkloadTraffic, cidr_peer
from core.issues import ConfigIssue
from core.labels import WORKLOAD_LABEL
from core.model_sources import HfSource, S3Source
from core.platform import Endpoint, Platform
from core.requirements import Requirements

if TYPE_CHECKING:
    import cdk8s
    from constructs import Construct

# Ray Serve LLM downloads an S3 model with boto3, up to 20 files at once for large shards (ray 2.60.0
# cloud_filesystem/s3_filesystem.py _calculate_optimal_workers: 10 to 20 for files above 10 MB), once per node.
S3_DOWNLOAD_STREAMS = 10


class RayServe(GpuBlueprint[RayServeWorkload]):
    params = RayServeWorkload
    serves_openai = True
    port = SERVE_PORT
    image_key = "ray-llm"
    images = ("ray-llm",)

    @property
    def example(self) -> RayServeWorkload:
        # Llama 3.1 8B from the Hub, Ray Serve LLM on one L40S worker (g6e.2xlarge), served through the gateway.
        return RayServeWorkload.model_validate(
            {
                "name": "example-ray-serve",
                "blueprint": "ray-serve",
                "node_pool": "gpu-l40s",
                "instance_type": "g6e.2xlarge",
                "model": {"type": "hf", "repo_id": "meta-llama/Llama-3.1-8B-Instruct", "token_secret_name": "hf-token"},
                "max_model_len": 16384,
            }
        )

    def groups(self, workload: RayServeWorkload, platform: Platform) -> list[Group]:
        """The worker groups as rendered: the workload's own pool first, then worker_groups, in the order Ray's
        autoscaler prefers them (priority counts down; none is written for a single group)."""
        several = bool(workload.worker_groups)
        primary = self.placement(workload, platform)
        found = [
            Group(
                workload.node_pool,
                primary,
                workload.gpus_per_pod(),
                workload.min_workers,
                workload.primary_max_workers(),
                workload.replicas_per_worker(),
                len(workload.worker_groups) if several else None,
            )
        ]
        for index, extra in enumerate(workload.worker_groups):
            placement = placement_for(platform, workload.as_group(extra))
            gpus = extra.gpus_per_worker or workload.replica_gpus()
            found.append(
                Group(
                    extra.node_pool,
                    placement,
                    gpus,
                    extra.min_workers,
                    extra.max_workers,
                    workload.replicas_per_worker(gpus),
                    len(workload.worker_groups) - 1 - index,
                )
            )
        return found

    def checks(self, workload: RayServeWorkload, platform: Platform) -> list[ConfigIssue]:
        found = super().checks(workload, platform) + routing.issues(workload.routing, platform)
        for index, extra in enumerate(workload.worker_groups):
            found += group_issues(workload, extra, index, platform)
        if any(issue.path.startswith(("node_pool", "instance_type", "worker_groups")) or issue.path == "" for issue in found):
            return found  # the room of the pools below needs known pools of fitting pods
        pools = [
            (workload.node_pool, workload.instance_type),
            *((group.node_pool, group.instance_type) for group in workload.worker_groups),
        ]
        if all(name in platform.capacities and known(instance or platform.capacities[name].instance_types[0]) for name, instance in pools):
            found += replica_room(workload, self.groups(workload, platform), platform)
        return found

    def placement_checks(self, workload: RayServeWorkload, placement: Placement, platform: Platform) -> list[ConfigIssue]:
        return placement_issues(workload, placement, platform)

    def queue_checks(self, workload: RayServeWorkload, placement: Placement, platform: Platform) -> list[ConfigIssue]:
        if workload.queue is None:
            return []
        return [
            ConfigIssue(
                "queue",
                "the kit's Kueue runs without its RayService integration (infra/scheduling/kueue.py FRAMEWORKS), and Ray's autoscaler "
                "adds and removes the worker pods itself: no quota would account for them",
                value=workload.queue,
                fix="remove queue; bound the workload with max_workers and its pools' gpu_limit",
            )
        ]

    def flag_checks(self, workload: RayServeWorkload, placement: Placement) -> list[ConfigIssue]:
        return []  # extra_args is refused here (placement_issues); engine_kwargs are checked by name

    def image_checks(self, workload: RayServeWorkload, placement: Placement) -> list[ConfigIssue]:
        """The shared checks, except the streamer: Ray downloads an S3 model with boto3 (serve_config.py). A custom
        image must carry Ray (and Ray Serve LLM with its vLLM)."""
        found = [
            issue
            for issue in super().image_checks(workload, placement)
            if not (issue.path == "model" and isinstance(workload.model, S3Source))
        ]
        if workload.image is not None and "ray" not in provided_by(self.image_key, workload.image, workload.image_provides):
            found.append(
                ConfigIssue(
                    "image",
                    "KubeRay starts every pod with `ray start`, and Ray Serve LLM serves the model: a custom image must carry both",
                    value=workload.image,
                    allowed="an image with ray[serve,llm] and vLLM, declared with image_provides: [ray]",
                    fix="declare image_provides: [ray] if the image carries them, or remove image to use the pinned ray-llm image",
                )
            )
        return found

    def startup_checks(self, workload: RayServeWorkload, placement: Placement, platform: Platform) -> list[ConfigIssue]:
        """startup_timeout_minutes becomes Ray Serve LLM's engine start timeout: shorter than the load, and the replica
        is abandoned and started again, forever."""
        budget_ = self.cold_start(workload, platform, placement)
        inside, given = budget_.in_container_seconds, workload.startup_timeout_minutes
        if given is None or inside is None or given * 60 >= inside:
            return []
        return [
            ConfigIssue(
                "startup_timeout_minutes",
                f"is shorter than downloading, loading and warming up the model is estimated to take ({inside // 60}m{inside % 60:02d}s): "
                "Ray Serve LLM would give up on each replica (RAYLLM_ENGINE_START_TIMEOUT_S) and start it again, forever",
                value=given,
                fix=f"remove it (the kit then allows {budget_.probe_minutes()} minutes), or raise it; if the model is smaller than its "
                "name says, set model_size_gib",
            )
        ]

    def cold_start(self, workload: RayServeWorkload, platform: Platform, placement: Placement | None = None) -> Budget:
        """As every server's (core/cold_start.py), counted per replica: its GPUs share the warm-up. An S3 model is
        downloaded once per node with boto3 (not streamed per rank) before vLLM loads it from the node's disk."""
        placement = placement or placement_for(platform, workload)
        model = workload.model
        if not isinstance(model, S3Source):
            base = super().cold_start(workload, platform, placement)
            weights = workload.model_size_gib or weights_gb_from_name(
                model.repo_id if isinstance(model, HfSource) else model.sub_path, workload.quantization
            )
            return replace(base, warmup_seconds=self._warmup(workload, weights))
        weights = workload.model_size_gib or weights_gb_from_name(model.uri, workload.quantization)
        estimate = budget(
            image_gb=image_gb(self.image_key),
            parallel_pull=placement.capacity.parallel_pull,
            weights_gb=weights,
            source=WeightSource("s3", streams=S3_DOWNLOAD_STREAMS, label="S3 (Ray's download to the node's disk)"),
            node_launch=not placement.capacity.standing_nodes,
            gpus=1,  # one download per node, whatever its GPUs
        )
        return replace(estimate, warmup_seconds=self._warmup(workload, weights))

    @staticmethod
    def _warmup(workload: RayServeWorkload, weights: float | None) -> int:
        """core/cold_start.py's warm-up, with the weights spread over one replica's GPUs."""
        return round(WARMUP_SECONDS + WARMUP_SECONDS_PER_GB_PER_GPU * (weights or 0) / workload.replica_gpus())

    def serving_shapes(self, workload: RayServeWorkload) -> list[model_fit.Shape]:
        """One engine per replica: tensor x pipeline GPUs, however many replicas share a worker pod."""
        return [model_fit.Shape("tensor_parallel_size", workload.tensor_parallel_size, workload.pipeline_parallel_size)]

    def standing(self, workload: RayServeWorkload) -> Standing:
        """The replicas that must run are checked against every worker group together (checks.replica_room); the shared
        check keeps only its one-pod test."""
        scaling = workload.autoscaling
        return Standing(
            "autoscaling.min_replicas", scaling.min_replicas, f"{scaling.min_replicas} replicas of {workload.replica_gpus()} GPUs", 0
        )

    def gang_key(self, workload: RayServeWorkload) -> tuple[str, int]:
        return (
            ("gpus_per_worker", workload.gpus_per_pod())
            if workload.gpus_per_worker
            else ("tensor_parallel_size", workload.tensor_parallel_size)
        )

    def requirements(self, workload: RayServeWorkload, platform: Platform) -> Requirements:
        return Requirements.union(
            [
                Requirements(controllers=(kuberay_controller(platform.namespace),)),
                request_path.requirements(workload.routing, None, platform),
            ]
        )

    def endpoint(self, workload: RayServeWorkload, platform: Platform) -> Endpoint:
        return replace(super().endpoint(workload, platform), service=serve_service(workload.name), port=SERVE_PORT)

    def traffic(self, workload: RayServeWorkload, platform: Platform) -> WorkloadTraffic:
        """Serve on 8000 (the gateway's proxies, callers), Ray's metrics on 8080 (vLLM's among them, through Ray's
        metrics agent); the head and every worker of the cluster talk on any port (GCS 6379, dashboard 8265, client
        10001, the raylets', object managers' and workers' own ports, NCCL), and to no other pod."""
        base = super().traffic(workload, platform)
        return WorkloadTraffic(
            serving_ports=(SERVE_PORT,),
            metrics_ports=(METRICS_PORT,),
            https_out=base.https_out,
            clients=base.clients,
            groups=({WORKLOAD_LABEL: workload.name},),
        )

    def render(self, scope: Construct, workload: RayServeWorkload, platform: Platform) -> cdk8s.Chart:
        if isinstance(workload.model, S3Source):
            workload = workload.model_copy(update={"model": workload.model.in_bucket(platform.storage.bucket_name)})
        groups = self.groups(workload, platform)
        chart = ray_serve_chart(scope, workload, groups, groups[0].placement.startup_minutes, platform.namespace)
        if platform.network.enforced:
            add_head_policy(chart, workload.name, platform)
        routing.add_route(
            chart, workload.name, NAME, workload.public_model_name, serve_service(workload.name), SERVE_PORT, workload.routing, platform
        )
        return chart

    def chart(self, scope: Construct, workload: RayServeWorkload, placement: Placement) -> cdk8s.Chart:
        raise NotImplementedError("ray-serve renders through render(): its worker groups may sit on several pools")

    def summary(self, workload: RayServeWorkload) -> str:
        scaling = workload.autoscaling
        pools = ", ".join([workload.node_pool, *(group.node_pool for group in workload.worker_groups)])
        path = "; gateway" if workload.routing is not None and workload.routing.gateway else ""
        return (
            f"ray-serve on {pools}: {scaling.min_replicas}-{scaling.max_replicas} replicas x {workload.replica_gpus()} GPUs "
            f"(Ray Serve: {scaling.target_ongoing_requests:g} requests in flight per replica){path}"
        )


def add_head_policy(chart: cdk8s.Chart, name: str, platform: Platform) -> None:
    """What the head needs beyond the workload's policies: the KubeRay operator calls its dashboard (Serve's REST API)
    and its Serve proxy's health; its autoscaler sidecar calls the Kubernetes API."""
    head = {WORKLOAD_LABEL: name, "app.kubernetes.io/component": HEAD_COMPONENT}
    ports = [{"protocol": "TCP", "port": port} for port in (DASHBOARD_PORT, SERVE_PORT)]
    spec = {
        "podSelector": {"matchLabels": head},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [{"from": [operator_peer()], "ports": ports}],
        "egress": [{"to": [cidr_peer(cidr) for cidr in platform.network.api_server], "ports": [{"protocol": "TCP", "port": 443}]}],
    }
    objects.api_object(
        chart,
        "network-policy-head",
        api_version=NETWORK_POLICY_API,
        kind="NetworkPolicy",
        name=f"{name}-head",
        labels_=objects.labels(name, NAME),
        body={"spec": spec},
    )


BLUEPRINT = RayServe()
