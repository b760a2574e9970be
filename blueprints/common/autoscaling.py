"""A vLLM workload's KEDA autoscaler: the controller it needs, the config mistakes it refuses, and the ScaledObject
(with its TriggerAuthentication on AMP) that scales the workload on its own serving signal. docs/routing.md explains it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from blueprints.common import objects
from blueprints.common.routing_params import Autoscaling
from core.issues import ConfigIssue
from core.labels import SYSTEM_POOL_LABEL
from core.platform import Platform
from core.requirements import ControllerChart, MetricsReader, Requirements
from core.versions import KEDA

if TYPE_CHECKING:
    import cdk8s

KEDA_NAMESPACE = "keda"
KEDA_OPERATOR = "keda-operator"
KEDA_CONTROLLER = ControllerChart(name="keda", chart="keda", pin=KEDA, release="keda", namespace=KEDA_NAMESPACE, values={"nodeSelector": SYSTEM_POOL_LABEL}, crds=("scaledobjects.keda.sh",))


def requirements(platform: Platform) -> Requirements:
    readers = (MetricsReader(KEDA_NAMESPACE, KEDA_OPERATOR),) if platform.routing.metrics_backend == "amp" else ()
    return Requirements(controllers=(KEDA_CONTROLLER,), metrics_readers=readers)


def issues(autoscaling: Autoscaling, replicas_set: bool, platform: Platform) -> list[ConfigIssue]:
    found = []
    if platform.routing.metrics_query_url is None:
        found.append(
            ConfigIssue(
                "autoscaling",
                f"KEDA reads vLLM's metrics with PromQL, and observability.metrics '{platform.routing.metrics_backend}' serves none",
                fix="set observability.metrics to amp or in-cluster, or remove autoscaling",
            )
        )
    if autoscaling.min_replicas == 0:
        found.append(
            ConfigIssue(
                "autoscaling.min_replicas",
                "scale to zero would drop requests: nothing in front of the workload holds them while the first replica starts "
                "(minutes for a GPU node and the weights), and with no replica the signal itself disappears",
                value=0,
                allowed="1 or more",
                fix="set min_replicas: 1",
            )
        )
    if replicas_set:
        found.append(ConfigIssue("replicas", "autoscaling owns the replica count; a fixed count beside it would be reset on every deploy", fix="remove replicas (autoscaling.min_replicas is the floor)"))
    return found


def scaling_query(autoscaling: Autoscaling, namespace: str, name: str) -> tuple[str, str]:
    """(PromQL, KEDA metric type). Per-replica signals are summed over the workload and compared as AverageValue,
    so the HPA computes replicas = ceil(total / target); time to first token is one value for the whole workload."""
    match = f'namespace="{namespace}",llm_kit_workload="{name}"'
    if autoscaling.signal == "requests_waiting":
        return f"sum(vllm:num_requests_waiting{{{match}}})", "AverageValue"
    if autoscaling.signal == "kv_cache_usage":
        return f"sum(vllm:kv_cache_usage_perc{{{match}}})", "AverageValue"
    return f"histogram_quantile(0.9, sum by (le) (rate(vllm:time_to_first_token_seconds_bucket{{{match}}}[2m])))", "Value"


def add_autoscaler(chart: cdk8s.Chart, name: str, blueprint: str, target: dict[str, str], autoscaling: Autoscaling, platform: Platform) -> None:
    """A ScaledObject on the workload's own vLLM signal; for AMP, KEDA signs its queries with its Pod Identity role."""
    labels = objects.labels(name, blueprint, "autoscaling")
    query, metric_type = scaling_query(autoscaling, platform.namespace, name)
    url = platform.routing.metrics_query_url
    metadata = {"serverAddress": url, "query": query, "threshold": f"{autoscaling.target:g}", "ignoreNullValues": "false"}
    trigger: dict[str, Any] = {"type": "prometheus", "metricType": metric_type, "metadata": metadata}
    if platform.routing.metrics_backend == "amp":
        metadata["awsRegion"] = platform.region
        auth = f"{name}-amp"
        objects.api_object(chart, "trigger-auth", api_version="keda.sh/v1alpha1", kind="TriggerAuthentication", name=auth, labels_=labels, body={"spec": {"podIdentity": {"provider": "aws"}}})
        trigger["authenticationRef"] = {"name": auth}
    behavior = {
        "scaleUp": {"stabilizationWindowSeconds": autoscaling.scale_up_seconds, "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}]},
        "scaleDown": {"stabilizationWindowSeconds": autoscaling.scale_down_seconds, "policies": [{"type": "Pods", "value": 1, "periodSeconds": 300}]},
    }
    spec = {
        "scaleTargetRef": target,
        "minReplicaCount": autoscaling.min_replicas,
        "maxReplicaCount": autoscaling.max_replicas,
        "pollingInterval": 15,
        "cooldownPeriod": autoscaling.scale_down_seconds,
        "advanced": {"horizontalPodAutoscalerConfig": {"behavior": behavior}},
        "triggers": [trigger],
    }
    objects.api_object(chart, "scaled-object", api_version="keda.sh/v1alpha1", kind="ScaledObject", name=name, labels_=labels, body={"spec": spec})
