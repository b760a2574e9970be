"""A vLLM workload's KEDA autoscaler: the controller it needs, the config mistakes it refuses, and the ScaledObject
(with its TriggerAuthentication on AMP) that scales the workload on its own serving signal. docs/routing.md explains it.

What KEDA 2.20.2 does with an answer (kedacore/keda v2.20.2, pkg/scalers/prometheus_scaler.go, ExecutePromQuery):
an empty vector, NaN or +-Inf is an error unless `ignoreNullValues` is true, when it reads 0; more than one element is
always an error. An erroring trigger gives the HorizontalPodAutoscaler no metric, and the HPA then keeps the replica
count where it is. So every query here answers exactly one finite sample in every state of the workload (idle is 0,
which scales down to min_replicas), and every ScaledObject has a `fallback` for the errors that remain (the metrics
backend down or refusing).
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
"""The operator runs every scaler (the metrics server asks it over gRPC), so its service account holds the AMP role."""
TTFT_RANGE = (0.01, 30.0)
"""Seconds a p90 time-to-first-token target may ask for: below 10 ms no LLM answers; above half a minute the target
is no interactive promise (scale offline work on requests_waiting), and it is most likely milliseconds."""
KV_TARGET_MAX = 0.9
"""The HPA leaves the count alone while usage/target is within 10% of 1 (kube-controller-manager's default
--horizontal-pod-autoscaler-tolerance 0.1): above a 0.9 target even a full cache (1.0) would add no replica."""
FALLBACK_FAILURES = 3
"""Failed reads in a row before the fallback applies. KEDA counts one per metric request of the HPA (every 15 s by
default), so about 45 s of errors (pkg/fallback/fallback.go GetMetricsWithFallback)."""
POLICY_NAME = "llm-kit-keda-aws-identity"


def controller(namespace: str) -> ControllerChart:
    """KEDA's chart on the system nodes, with an admission policy that keeps its AWS identity to the workloads
    namespace (see identity_policy)."""
    values = {"nodeSelector": SYSTEM_POOL_LABEL, "extraObjects": identity_policy(namespace)}
    return ControllerChart(
        name="keda", chart="keda", pin=KEDA, release="keda", namespace=KEDA_NAMESPACE, values=values, crds=("scaledobjects.keda.sh",)
    )


def requirements(platform: Platform) -> Requirements:
    # The chart waits for the operator's Pod Identity association: credentials reach only pods started after it exists.
    readers = (MetricsReader(KEDA_NAMESPACE, KEDA_OPERATOR, controller="keda"),) if platform.routing.metrics_backend == "amp" else ()
    return Requirements(controllers=(controller(platform.namespace),), metrics_readers=readers)


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
    found.extend(target_issues(autoscaling))
    if replicas_set:
        found.append(
            ConfigIssue(
                "replicas",
                "autoscaling owns the replica count; a fixed count beside it would be reset on every deploy",
                fix="remove replicas (autoscaling.min_replicas is the floor)",
            )
        )
    return found


def target_issues(autoscaling: Autoscaling) -> list[ConfigIssue]:
    target, signal = autoscaling.target, autoscaling.signal
    low, high = TTFT_RANGE
    if signal == "time_to_first_token" and not low <= target <= high:
        reading = (
            f"{target:g} s is {target / 60:.1f} minutes: most likely milliseconds written as seconds"
            if target > high
            else f"{target:g} s is below what any model answers in"
        )
        return [
            ConfigIssue(
                "autoscaling.target",
                f"time_to_first_token's target is the workload's p90 time to first token in seconds; {reading}",
                value=target,
                allowed=f"{low:g} to {high:g} (seconds)",
                fix=f"write seconds, e.g. target: {target / 1000:g} for {target:g} ms"
                if target > high
                else "write seconds, e.g. target: 0.5 for 500 ms",
            )
        ]
    if signal == "kv_cache_usage" and KV_TARGET_MAX < target < 1:
        return [
            ConfigIssue(
                "autoscaling.target",
                "the autoscaler ignores a usage within 10% of the target, so above 0.9 even a full KV cache would add no replica",
                value=target,
                allowed=f"above 0, at most {KV_TARGET_MAX:g}",
                fix="set target: 0.8 or lower",
            )
        ]
    if target < 0.001:
        # KEDA writes the threshold in thousandths (pkg/scalers/scaler.go quantityFromFloat64, "%.3f"): below 0.001 it
        # becomes 0, a target the HorizontalPodAutoscaler API refuses.
        return [
            ConfigIssue(
                "autoscaling.target",
                "KEDA passes the target on in thousandths; this one would become 0",
                value=target,
                allowed="0.001 or more",
                fix="raise target",
            )
        ]
    return []


def rate_window(scrape_interval_seconds: int) -> str:
    """The range rate() looks back over: two minutes, or four scrapes where scrapes are rarer (rate() needs two
    samples in the range, and a range of one scrape interval often holds one)."""
    seconds = max(120, 4 * scrape_interval_seconds)
    return f"{seconds // 60}m" if seconds % 60 == 0 else f"{seconds}s"


def signal_query(signal: str, namespace: str, name: str, scrape_interval_seconds: int = 30) -> str:
    """The workload's signal as PromQL, before the guard that gives idle and missing series a value.

    Per-replica gauges are summed over the workload, each series kept only while it is a number (`>= 0` drops NaN);
    with no series left the sum is empty. The p90 time to first token is NaN over a window without requests (every
    bucket's rate is 0) and empty without series."""
    match = f'namespace="{namespace}",llm_kit_workload="{name}"'
    if signal == "requests_waiting":
        return f"sum(vllm:num_requests_waiting{{{match}}} >= 0)"
    if signal == "kv_cache_usage":
        return f"sum(vllm:kv_cache_usage_perc{{{match}}} >= 0)"
    window = rate_window(scrape_interval_seconds)
    return f"histogram_quantile(0.9, sum by (le) (rate(vllm:time_to_first_token_seconds_bucket{{{match}}}[{window}])))"


def scaling_query(autoscaling: Autoscaling, namespace: str, name: str, scrape_interval_seconds: int = 30) -> tuple[str, str]:
    """(PromQL, KEDA metric type). Exactly one finite sample always: `>= 0` drops NaN (a comparison with NaN is false),
    `or vector(0)` answers 0 when nothing is left, and histogram_quantile never answers +Inf for q=0.9 over vLLM's
    buckets (a quantile in the +Inf bucket is the largest finite bound). Per-replica signals are compared as
    AverageValue, so the HPA asks for ceil(total / target) replicas; time to first token is one value for the whole
    workload (Value: ceil(ready replicas * value / target))."""
    query = signal_query(autoscaling.signal, namespace, name, scrape_interval_seconds)
    if autoscaling.signal == "time_to_first_token":
        return f"({query} >= 0) or vector(0)", "Value"
    return f"{query} or vector(0)", "AverageValue"


def fallback(autoscaling: Autoscaling) -> dict[str, Any]:
    """While the trigger errors, at least fallback_replicas (default min_replicas) and never fewer than now.

    KEDA 2.20.2 (pkg/fallback/fallback.go doFallback) answers the HPA target * replicas after failureThreshold failed
    reads; with currentReplicasIfHigher, replicas is max(current, fallback.replicas). For a Value trigger it divides
    by the ready replicas, and with none ready it cannot answer: the count then stays where it is."""
    replicas = autoscaling.fallback_replicas or autoscaling.min_replicas
    return {"failureThreshold": FALLBACK_FAILURES, "replicas": replicas, "behavior": "currentReplicasIfHigher"}


def add_autoscaler(
    chart: cdk8s.Chart, name: str, blueprint: str, target: dict[str, str], autoscaling: Autoscaling, platform: Platform
) -> None:
    """A ScaledObject on the workload's own vLLM signal; for AMP, KEDA signs its queries with its Pod Identity role,
    through a TriggerAuthentication in the workload's own namespace."""
    labels = objects.labels(name, blueprint, "autoscaling")
    query, metric_type = scaling_query(autoscaling, platform.namespace, name, platform.routing.scrape_interval_seconds)
    url = platform.routing.metrics_query_url
    # The query always answers a number, so an empty or NaN answer means the query or the backend is broken: false
    # makes that an error the fallback counts, where true would read it as 0 and scale down.
    metadata = {"serverAddress": url, "query": query, "threshold": f"{autoscaling.target:g}", "ignoreNullValues": "false"}
    trigger: dict[str, Any] = {"type": "prometheus", "metricType": metric_type, "metadata": metadata}
    if platform.routing.metrics_backend == "amp":
        metadata["awsRegion"] = platform.region
        auth = f"{name}-amp"
        identity = {"provider": "aws", "identityOwner": "keda"}
        objects.api_object(
            chart,
            "trigger-auth",
            api_version="keda.sh/v1alpha1",
            kind="TriggerAuthentication",
            name=auth,
            labels_=labels,
            body={"spec": {"podIdentity": identity}},
        )
        trigger["authenticationRef"] = {"name": auth, "kind": "TriggerAuthentication"}
    behavior = {
        "scaleUp": {
            "stabilizationWindowSeconds": autoscaling.scale_up_seconds,
            "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}],
        },
        "scaleDown": {
            "stabilizationWindowSeconds": autoscaling.scale_down_seconds,
            "policies": [{"type": "Pods", "value": 1, "periodSeconds": 300}],
        },
    }
    # No cooldownPeriod: KEDA reads it only when scaling to zero (pkg/scaling/executor/scale_scaledobjects.go),
    # which min_replicas >= 1 rules out; the HPA's scaleDown window paces the way down.
    spec = {
        "scaleTargetRef": target,
        "minReplicaCount": autoscaling.min_replicas,
        "maxReplicaCount": autoscaling.max_replicas,
        "pollingInterval": 15,
        "fallback": fallback(autoscaling),
        "advanced": {"horizontalPodAutoscalerConfig": {"behavior": behavior}},
        "triggers": [trigger],
    }
    objects.api_object(
        chart, "scaled-object", api_version="keda.sh/v1alpha1", kind="ScaledObject", name=name, labels_=labels, body={"spec": spec}
    )


def identity_policy(namespace: str) -> list[dict[str, Any]]:
    """A ValidatingAdmissionPolicy (and its binding) that keeps KEDA's own AWS identity to the workloads namespace.

    In KEDA 2.20.2 three things make the operator sign a request with its own credentials (pkg/scalers/aws/aws_common.go
    GetAwsAuthorization, aws_sigv4.go): a TriggerAuthentication or ClusterTriggerAuthentication with
    `podIdentity.provider: aws` (or the deprecated aws-eks), and, with no authentication at all, a trigger whose
    metadata says `identityOwner: operator`. AMP grants aps:QueryMetrics on the whole workspace, so whoever could
    create such an object in any namespace could read every series through its HPA's status. Outside the workloads
    namespace the policy refuses all three; a ClusterTriggerAuthentication may not hold them anywhere. KEDA's own
    updates (finalizers on objects that predate the policy) pass."""
    aws = "['aws', 'aws-eks']"
    inside = f"request.namespace == '{namespace}'"
    rules = [
        (
            "request.kind.kind != 'ClusterTriggerAuthentication' || !has(object.spec.podIdentity) || "
            f"!(object.spec.podIdentity.provider in {aws})",
            "a ClusterTriggerAuthentication may not use KEDA's AWS identity: any namespace could borrow it",
        ),
        (
            f"{inside} || request.kind.kind != 'TriggerAuthentication' || !has(object.spec.podIdentity) || "
            f"!(object.spec.podIdentity.provider in {aws})",
            f"KEDA's AWS identity is for the workloads namespace ({namespace}) only",
        ),
        (
            f"{inside} || !(request.kind.kind in ['ScaledObject', 'ScaledJob']) || !has(object.spec.triggers) || "
            "!object.spec.triggers.exists(t, has(t.metadata) && 'identityOwner' in t.metadata && "
            "t.metadata['identityOwner'] == 'operator')",
            f"identityOwner: operator signs with KEDA's AWS identity, which is for the workloads namespace ({namespace}) only",
        ),
    ]
    policy = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": POLICY_NAME},
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {
                "resourceRules": [
                    {
                        "apiGroups": ["keda.sh"],
                        "apiVersions": ["*"],
                        "operations": ["CREATE", "UPDATE"],
                        "resources": ["scaledobjects", "scaledjobs", "triggerauthentications", "clustertriggerauthentications"],
                    }
                ]
            },
            "matchConditions": [
                {
                    "name": "not-keda-itself",
                    "expression": f"request.userInfo.username != 'system:serviceaccount:{KEDA_NAMESPACE}:{KEDA_OPERATOR}'",
                }
            ],
            "validations": [{"expression": expression, "message": message} for expression, message in rules],
        },
    }
    binding = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": POLICY_NAME},
        "spec": {"policyName": POLICY_NAME, "validationActions": ["Deny"]},
    }
    return [policy, binding]
