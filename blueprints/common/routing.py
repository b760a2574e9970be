"""The request path of a vLLM workload: its route on the kit's Gateway, its InferencePool and endpoint picker, and
its KEDA autoscaler (blueprints/common/autoscaling.py). Blueprints call these; docs/routing.md explains the path.

Client -> Gateway (Envoy, NLB) -> the workload's AIGatewayRoute (matches the request's model name) -> InferencePool
-> endpoint picker (ext_proc: scores every ready replica on prefix-cache match, KV-cache use and queue depth) ->
the chosen vLLM pod.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import yaml

from blueprints.common import autoscaling as keda
from blueprints.common import objects, rollout
from blueprints.common.lora import lora_of
from blueprints.common.params import RouteSettings
from blueprints.common.routing_params import Autoscaling, EndpointPicker, Routing
from core.isolation import NetworkFacts, cidr_peer, gateway_proxy_peer
from core.issues import ConfigIssue
from core.labels import BLUEPRINT_LABEL, PART_OF, SYSTEM_POOL_LABEL, WORKLOAD_LABEL
from core.platform import Platform
from core.requirements import ControllerChart, CrdBundle, PinnedFile, Requirements
from core.routing import (
    MODEL_RULE,
    PROXY_NAMESPACE,
    RATE_LIMIT_REDIS_URL,
    TEAM_HEADER,
    bedrock_backend_name,
    fallback_retry_policy,
    redis_auth_env,
    route_spec,
    rule_groups,
    team_policy,
)
from core.images import IMAGES
from core.versions import AI_GATEWAY, AI_GATEWAY_CRDS, ENVOY_GATEWAY, INFERENCE_EXTENSION

if TYPE_CHECKING:
    import cdk8s

AI_GATEWAY_NAMESPACE = "envoy-ai-gateway-system"
PICKER_LABEL = "llm-kit/endpoint-picker"
EXT_PROC_PORT = 9002
HEALTH_PORT = 9003
PICKER_METRICS_PORT = 9090
PICKER_USER = IMAGES["endpoint-picker"].run_as  # the picker image's USER (its record: llm-d-router Dockerfile.epp)
_READ = ("get", "watch", "list")
# The picker's rights, exactly what its own chart grants at llm-d/llm-d-router v0.10.0 with the values the kit's
# objects match (one replica, metrics without token review): config/charts/llm-d-router-gateway/templates/rbac.yaml
# (objectives, model rewrites and pools) and config/charts/routerlib/templates/_rbac.yaml (pods). The chart's
# ClusterRole for TokenReviews and SubjectAccessReviews comes only with monitoring.prometheus.enabled (metrics auth;
# the kit passes --metrics-endpoint-auth=false), and its leader-election Role only with more than one replica
# (_leader-election-rbac.yaml). The picker watches InferenceObjective and InferenceModelRewrite only where their CRDs
# are installed (pkg/epp/server/controller_config.go asks discovery); the kit installs neither, the chart grants both.
PICKER_RULES = (
    {"apiGroups": ["inference.networking.x-k8s.io"], "resources": ["inferenceobjectives", "inferencemodelrewrites"], "verbs": list(_READ)},
    {"apiGroups": ["llm-d.ai"], "resources": ["inferenceobjectives", "inferencemodelrewrites"], "verbs": list(_READ)},
    {"apiGroups": ["inference.networking.k8s.io"], "resources": ["inferencepools"], "verbs": list(_READ)},
    {"apiGroups": [""], "resources": ["pods"], "verbs": list(_READ)},
)

# Envoy Gateway as Envoy AI Gateway v1.1.0 needs it: the Backend API, its extension server on every translation
# hook, and InferencePool as a backend kind the extension resolves (manifests/envoy-gateway-values.yaml and
# examples/inference-pool/envoy-gateway-values-addon.yaml at ai-gateway v1.1.0).
_ENVOY_GATEWAY_VALUES = {
    "config": {
        "envoyGateway": {
            "gateway": {"controllerName": "gateway.envoyproxy.io/gatewayclass-controller"},
            # The rate limiter authenticates to the Redis: Envoy Gateway v1.8.3 has no password field for it but
            # merges this env into the rate limiter's container (ratelimit/resource.go expectedRateLimitContainerEnv),
            # and envoyproxy/ratelimit reads REDIS_AUTH (src/settings/settings.go). The chart's own image for the
            # rate limiter merges in beside it (templates/_helpers.tpl eg.default-envoy-gateway-config).
            "provider": {
                "type": "Kubernetes",
                "kubernetes": {"rateLimitDeployment": {"container": {"env": [redis_auth_env("REDIS_AUTH")]}}},
            },
            "extensionApis": {"enableEnvoyPatchPolicy": True, "enableBackend": True},
            "extensionManager": {
                "hooks": {
                    "xdsTranslator": {
                        "translation": {kind: {"includeAll": True} for kind in ("listener", "route", "cluster", "secret")},
                        "post": ["Translation", "Cluster", "Route"],
                    }
                },
                "service": {"fqdn": {"hostname": f"ai-gateway-controller.{AI_GATEWAY_NAMESPACE}.svc.cluster.local", "port": 1063}},
                "backendResources": [{"group": "inference.networking.k8s.io", "kind": "InferencePool", "version": "v1"}],
            },
            # The global rate-limit service (teams' token budgets) keeps its counters in the gateway's Redis.
            "rateLimit": {"backend": {"type": "Redis", "redis": {"url": RATE_LIMIT_REDIS_URL}}},
        }
    },
    "deployment": {"pod": {"nodeSelector": SYSTEM_POOL_LABEL}},
}
ENVOY_GATEWAY_CONTROLLER = ControllerChart(
    name="envoy-gateway",
    chart="gateway-helm",
    pin=ENVOY_GATEWAY,
    release="eg",
    namespace=PROXY_NAMESPACE,
    values=_ENVOY_GATEWAY_VALUES,
    crds=("gateways.gateway.networking.k8s.io", "httproutes.gateway.networking.k8s.io"),
)
AI_GATEWAY_CRDS_CONTROLLER = ControllerChart(
    name="ai-gateway-crds",
    chart="ai-gateway-crds-helm",
    pin=AI_GATEWAY_CRDS,
    release="aieg-crd",
    namespace=AI_GATEWAY_NAMESPACE,
    crds=("aigatewayroutes.aigateway.envoyproxy.io",),
)
AI_GATEWAY_CONTROLLER = ControllerChart(
    name="ai-gateway",
    chart="ai-gateway-helm",
    pin=AI_GATEWAY,
    release="aieg",
    namespace=AI_GATEWAY_NAMESPACE,
    # Token usage metrics carry the team (the x-team-id header the API-key check sets) as label team_id.
    values={"controller": {"nodeSelector": SYSTEM_POOL_LABEL, "metricsRequestHeaderAttributes": f"{TEAM_HEADER}:team.id"}},
    after=("ai-gateway-crds", "envoy-gateway"),
)
# The InferencePool CRD has no chart. The extension's release manifests.yaml is `kustomize build config/crd` of these
# two files (its Makefile, target artifacts); the kit fetches the files themselves at the release tag, whose bytes
# the SHA-256 digests pin (read from the tag's tree, commit 992e5c29): a moved tag or a changed file is refused.
_INFERENCE_CRDS = (
    f"https://raw.githubusercontent.com/kubernetes-sigs/gateway-api-inference-extension/{INFERENCE_EXTENSION}/config/crd/bases"
)
INFERENCE_POOL_CRDS = CrdBundle(
    name="inference-extension",
    files=(
        PinnedFile(
            f"{_INFERENCE_CRDS}/inference.networking.k8s.io_inferencepools.yaml",
            "55e0dbf39c50c4bbdd60106493a4573df4bb44479f9ce46762f1af718883e5cd",
        ),
        PinnedFile(
            f"{_INFERENCE_CRDS}/inference.networking.x-k8s.io_inferencepoolimports.yaml",
            "7b4de9107843796e2c1f1b7251dde9842c947a295da047eebe65477e2b379cf9",
        ),
    ),
    crds=("inferencepools.inference.networking.k8s.io", "inferencepoolimports.inference.networking.x-k8s.io"),
)


GATEWAY_REQUIREMENTS = Requirements(
    controllers=(ENVOY_GATEWAY_CONTROLLER, AI_GATEWAY_CRDS_CONTROLLER, AI_GATEWAY_CONTROLLER),
    crd_bundles=(INFERENCE_POOL_CRDS,),
    gateway=True,
)
"""The gateway itself: what a routed workload needs, and what gateway.bedrock needs with no routed workload."""


def requirements(routing: RouteSettings | None, autoscaling: Autoscaling | None, platform: Platform) -> Requirements:
    """The gateway when the workload is routed through it (any blueprint's routing), KEDA when it autoscales."""
    parts = []
    if routing is not None and routing.gateway:
        parts.append(GATEWAY_REQUIREMENTS)
    if autoscaling is not None:
        parts.append(keda.requirements(platform))
    return Requirements.union(parts)


def fallback_issues(fallback: str, gateway: bool, platform: Platform, gateway_fix: str) -> list[ConfigIssue]:
    """A Bedrock fallback needs the gateway route it fails over inside, and a model of gateway.bedrock to name."""
    if not gateway:
        return [
            ConfigIssue(
                "routing.fallback",
                "fails over to Bedrock inside the gateway, but routing.gateway is false: the workload gets no route, so no request would "
                "ever fall back",
                value=fallback,
                allowed="a fallback only beside routing.gateway: true",
                fix=gateway_fix,
            )
        ]
    if platform.routing.bedrock_id(fallback) is None:
        known = ", ".join(name for name, _ in platform.routing.bedrock) or "none"
        return [
            ConfigIssue(
                "routing.fallback",
                "names no model of gateway.bedrock",
                value=fallback,
                allowed=known,
                fix="add it under gateway.bedrock, or remove fallback",
            )
        ]
    return []


def issues(
    routing: Routing | None, autoscaling: Autoscaling | None, replicas_set: bool, prefix_caching: bool, platform: Platform
) -> list[ConfigIssue]:
    found = []
    if routing is not None and routing.fallback is not None:
        fix = "set routing.gateway: true with endpoint_picker: null, or remove fallback"
        found += fallback_issues(routing.fallback, routing.gateway, platform, gateway_fix=fix)
        if routing.gateway and routing.endpoint_picker is not None:
            found.append(
                ConfigIssue(
                    "routing.endpoint_picker",
                    "a route cannot fail over from an InferencePool (Envoy AI Gateway takes a pool alone in a rule), so with a fallback "
                    "the picker is not used",
                    fix="set endpoint_picker: null to keep the fallback, or remove fallback to keep KV-aware routing",
                )
            )
    elif routing is not None and routing.gateway and routing.endpoint_picker is None:
        found.append(
            ConfigIssue(
                "routing.endpoint_picker",
                "the gateway routes a model to its InferencePool, and a pool needs its endpoint picker",
                fix="keep endpoint_picker (its defaults weigh prefix cache 3, KV cache 2, queue 2), or set routing.gateway: false and call "
                "the workload's Service",
            )
        )
    picker = routing.endpoint_picker if routing is not None else None
    if picker is not None and picker.prefix_cache_weight and not prefix_caching:
        found.append(
            ConfigIssue(
                "routing.endpoint_picker.prefix_cache_weight",
                "routes prompts to the replica that holds their prefix, but enable_prefix_caching is false: no replica keeps any",
                value=picker.prefix_cache_weight,
                fix="set enable_prefix_caching: true, or prefix_cache_weight: 0",
            )
        )
    if autoscaling is not None:
        found.extend(keda.issues(autoscaling, replicas_set, platform))
    return found


def describe(workload: Any, copies: str) -> tuple[str, str]:
    """(replica count, request path) of a routed or autoscaled workload, for the synth summary."""
    scaling, routing = workload.autoscaling, workload.routing
    if scaling is not None:
        copies = f"{scaling.min_replicas}-{scaling.max_replicas} (KEDA: {scaling.signal} {scaling.target:g})"
    path = ""
    if routing is not None and routing.gateway:
        picker = routing.endpoint_picker
        path = (
            f"; gateway, picker prefix {picker.prefix_cache_weight}/kv {picker.kv_cache_weight}/queue {picker.queue_weight}"
            if picker
            else "; gateway"
        )
    return copies, path


def serving_clients(name: str, routing: RouteSettings | None, gateway_namespace: str) -> tuple[dict[str, Any], ...]:
    """Who calls a workload's serving port on its request path: the gateway's proxies when it is routed, and its
    endpoint picker, which reads each pod's metrics on that port (picker_config), when it has one."""
    if routing is None or not routing.gateway:
        return ()
    proxies = gateway_proxy_peer(gateway_namespace)
    if routing.fallback is None and routing.endpoint_picker is not None:
        return proxies, {"podSelector": {"matchLabels": {PICKER_LABEL: name}}}
    return (proxies,)


def picker_labels(name: str, blueprint: str) -> dict[str, str]:
    """The picker's pods carry no workload label: neither the pool nor the workload's policies select them."""
    return {"app.kubernetes.io/name": f"{name}-epp", "app.kubernetes.io/part-of": PART_OF, BLUEPRINT_LABEL: blueprint, PICKER_LABEL: name}


def picker_config(picker: EndpointPicker, lora_affinity_weight: int = 0) -> str:
    """The EndpointPickerConfig (llm-d-router v0.10.0): the three scorers with the config's weights, the vLLM metrics
    they read (queue, KV-cache use) scraped from each pod's serving port; with LoRA adapters, the lora-affinity-scorer
    too (it reads vllm:lora_requests_info through the same metrics extractor, blueprints/common/lora.py)."""
    weights = {
        "queue-scorer": picker.queue_weight,
        "kv-cache-utilization-scorer": picker.kv_cache_weight,
        "prefix-cache-scorer": picker.prefix_cache_weight,
        "lora-affinity-scorer": lora_affinity_weight,
    }
    scorers = [name for name, weight in weights.items() if weight]
    config = {
        "apiVersion": "llm-d.ai/v1alpha1",
        "kind": "EndpointPickerConfig",
        "plugins": [
            *({"type": name} for name in scorers),
            {"type": "metrics-data-source", "parameters": {"scheme": "http", "path": "/metrics", "insecureSkipVerify": True}},
            {"type": "core-metrics-extractor"},
        ],
        "schedulingProfiles": [{"name": "default", "plugins": [{"pluginRef": name, "weight": weights[name]} for name in scorers]}],
    }
    return yaml.safe_dump(config, sort_keys=False)


def picker_args(name: str, namespace: str) -> list[str]:
    return [
        "--pool-name", name,
        "--pool-namespace", namespace,
        "--pool-group", "inference.networking.k8s.io",
        "--config-file", "/config/config.yaml",
        "--grpc-port", str(EXT_PROC_PORT),
        "--grpc-health-port", str(HEALTH_PORT),
        "--metrics-port", str(PICKER_METRICS_PORT),
        "--zap-encoder", "json",
        # Envoy AI Gateway speaks TLS to the picker (without verifying it): serving stays TLS.
        "--secure-serving=true",
        "--tracing=false",
        # Scraped like every pod of the kit (its NetworkPolicy admits only the scraper), no token review.
        "--metrics-endpoint-auth=false",
    ]  # fmt: skip


def pool_spec(name: str, selector: dict[str, str], port: int) -> dict[str, Any]:
    return {
        "selector": {"matchLabels": selector},
        "targetPorts": [{"number": port}],
        # Envoy AI Gateway v1.1.0 always fails closed, whatever the pool says; say so here too.
        "endpointPickerRef": {"name": f"{name}-epp", "port": {"number": EXT_PROC_PORT}, "failureMode": "FailClose"},
    }


def add_gateway_route(
    chart: cdk8s.Chart,
    name: str,
    blueprint: str,
    served_name: str,
    selector: dict[str, str],
    port: int,
    picker: EndpointPicker,
    platform: Platform,
    adapters: tuple[str, ...] = (),
    lora_affinity_weight: int = 0,
) -> None:
    """The InferencePool, its endpoint picker (account, rights, config, Deployment, Service, NetworkPolicy) and the route."""
    labels = objects.labels(name, blueprint, "routing")
    epp = f"{name}-epp"
    own = picker_labels(name, blueprint)
    api = objects.api_object
    api(
        chart,
        "inference-pool",
        api_version="inference.networking.k8s.io/v1",
        kind="InferencePool",
        name=name,
        labels_=labels,
        body={"spec": pool_spec(name, selector, port)},
    )
    api(chart, "epp-account", api_version="v1", kind="ServiceAccount", name=epp, labels_=own, body={})
    api(
        chart,
        "epp-role",
        api_version="rbac.authorization.k8s.io/v1",
        kind="Role",
        name=epp,
        labels_=own,
        body={"rules": [dict(rule) for rule in PICKER_RULES]},
    )
    binding = {
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": epp},
        "subjects": [{"kind": "ServiceAccount", "name": epp, "namespace": platform.namespace}],
    }
    api(chart, "epp-binding", api_version="rbac.authorization.k8s.io/v1", kind="RoleBinding", name=epp, labels_=own, body=binding)
    api(
        chart,
        "epp-config",
        api_version="v1",
        kind="ConfigMap",
        name=epp,
        labels_=own,
        body={"data": {"config.yaml": picker_config(picker, lora_affinity_weight if adapters else 0)}},
    )
    container = {
        "name": "epp",
        "image": IMAGES["endpoint-picker"].reference,
        "args": picker_args(name, platform.namespace),
        "env": [
            {"name": "NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        ],
        "ports": [
            {"name": "grpc", "containerPort": EXT_PROC_PORT},
            {"name": "grpc-health", "containerPort": HEALTH_PORT},
            {"name": "metrics", "containerPort": PICKER_METRICS_PORT},
        ],
        "livenessProbe": {"grpc": {"port": HEALTH_PORT, "service": "inference-extension"}, "initialDelaySeconds": 5, "periodSeconds": 10},
        "readinessProbe": {"grpc": {"port": HEALTH_PORT, "service": "inference-extension"}, "periodSeconds": 2},
        "resources": {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"memory": "4Gi"}},
        "volumeMounts": [{"name": "config", "mountPath": "/config", "readOnly": True}],
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": PICKER_USER,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
    }
    pod = {
        "serviceAccountName": epp,
        "securityContext": {"runAsNonRoot": True, "runAsUser": PICKER_USER, "seccompProfile": {"type": "RuntimeDefault"}},
        "nodeSelector": SYSTEM_POOL_LABEL,
        "terminationGracePeriodSeconds": 130,
        "containers": [container],
        "volumes": [{"name": "config", "configMap": {"name": epp}}],
    }
    selector_labels = {PICKER_LABEL: name}
    deployment = {
        "spec": {
            "replicas": 1,
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": selector_labels},
            "template": {"metadata": {"labels": own, "annotations": objects.scrape_annotations(PICKER_METRICS_PORT)}, "spec": pod},
        }
    }
    api(chart, "epp-deployment", api_version="apps/v1", kind="Deployment", name=epp, labels_=own, body=deployment)
    ports = [
        {"name": "grpc-ext-proc", "port": EXT_PROC_PORT, "targetPort": EXT_PROC_PORT, "appProtocol": "kubernetes.io/h2c"},
        {"name": "http-metrics", "port": PICKER_METRICS_PORT, "targetPort": PICKER_METRICS_PORT},
    ]
    api(
        chart,
        "epp-service",
        api_version="v1",
        kind="Service",
        name=epp,
        labels_=own,
        body={"spec": {"type": "ClusterIP", "selector": selector_labels, "ports": ports}},
    )
    if platform.network.enforced:
        api(
            chart,
            "epp-network-policy",
            api_version="networking.k8s.io/v1",
            kind="NetworkPolicy",
            name=epp,
            labels_=own,
            body={"spec": picker_policy(name, port, platform.network, platform.namespace)},
        )
    backends = [{"group": "inference.networking.k8s.io", "kind": "InferencePool", "name": name}]
    add_route(chart, name, labels, served_name, backends, platform, adapters)


def add_route(
    chart: cdk8s.Chart,
    name: str,
    labels: dict[str, str],
    served_name: str,
    backends: list[dict],
    platform: Platform,
    adapters: tuple[str, ...] = (),
) -> None:
    """The AIGatewayRoute for one model name and its LoRA adapters' (Envoy AI Gateway makes it an HTTPRoute of the
    same name), counting each request's tokens for the rate limits and the audit log; with teams, each rule admits
    only the teams that list its names (core/routing.py rule_groups)."""
    groups = rule_groups((served_name, *adapters), platform.routing.teams_for)
    spec = route_spec(served_name, backends, tuple((rule, names) for rule, names, _ in groups))
    objects.api_object(
        chart, "route", api_version="aigateway.envoyproxy.io/v1beta1", kind="AIGatewayRoute", name=name, labels_=labels, body={"spec": spec}
    )
    if platform.routing.teams:
        for rule, _, teams in groups:
            suffix = "" if rule == MODEL_RULE else f"-{rule}"
            policy = team_policy(name, teams, rule)
            objects.api_object(
                chart,
                f"route-teams{suffix}",
                api_version="gateway.envoyproxy.io/v1alpha1",
                kind="SecurityPolicy",
                name=f"{name}{suffix}",
                labels_=labels,
                body={"spec": policy},
            )


def add_fallback_route(
    chart: cdk8s.Chart,
    name: str,
    blueprint: str,
    served_name: str,
    port: int,
    fallback: str,
    platform: Platform,
    local: list[dict] | None = None,
    adapters: tuple[str, ...] = (),
) -> None:
    """The workload's Service first, the Bedrock model when it fails: an Envoy Gateway Backend for the Service, an
    AIServiceBackend on it, and the gateway's Bedrock backend (written with the gateway) at the next priority.
    local: the priority-0 backends where a rollout splits them (blueprints/common/rollout.py)."""
    labels = objects.labels(name, blueprint, "routing")
    local = local or [{"name": rollout.service_backend(chart, "local", f"{name}-local", labels, name, port, platform), "priority": 0}]
    backends = [*local, bedrock_fallback(fallback, platform)]
    add_route(chart, name, labels, served_name, backends, platform, adapters)
    add_fallback_retries(chart, name, labels)


def bedrock_fallback(fallback: str, platform: Platform) -> dict:
    """The backend a route falls back to when its own fails: the gateway's Bedrock backend, at priority 1."""
    return {"name": bedrock_backend_name(fallback), "priority": 1, "modelNameOverride": platform.routing.bedrock_id(fallback)}


def add_fallback_retries(chart: cdk8s.Chart, name: str, labels: dict[str, str]) -> None:
    """Retries on this route only, merged into the Gateway's rate limits (core/routing.py fallback_retry_policy): what
    moves a failed request on to the fallback backend."""
    objects.api_object(
        chart,
        "route-retry",
        api_version="gateway.envoyproxy.io/v1alpha1",
        kind="BackendTrafficPolicy",
        name=name,
        labels_=labels,
        body={"spec": fallback_retry_policy(name)},
    )


def picker_policy(name: str, port: int, network: NetworkFacts, gateway_namespace: str) -> dict[str, Any]:
    """The gateway's proxies call the picker (no other pod of their namespace); it reads the pool through the API
    and the pods' metrics."""
    ingress = [{"from": [gateway_proxy_peer(gateway_namespace)], "ports": [{"protocol": "TCP", "port": EXT_PROC_PORT}]}]
    if network.metrics_from:
        ingress.append({"from": [dict(peer) for peer in network.metrics_from], "ports": [{"protocol": "TCP", "port": PICKER_METRICS_PORT}]})
    egress = [
        {"to": [cidr_peer(cidr) for cidr in network.api_server], "ports": [{"protocol": "TCP", "port": 443}]},
        {"to": [{"podSelector": {"matchLabels": {WORKLOAD_LABEL: name}}}], "ports": [{"protocol": "TCP", "port": port}]},
    ]
    return {
        "podSelector": {"matchLabels": {PICKER_LABEL: name}},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": ingress,
        "egress": egress,
    }


def add_request_path(
    chart: cdk8s.Chart, blueprint: str, workload: Any, platform: Platform, *, pool_selector: dict[str, str], scale_target: dict[str, str]
) -> None:
    """A workload's route, pool and picker (routing.gateway) and its autoscaler (autoscaling), then a check that the
    pool reaches the pods it must: its selector picks the serving pods and they expose its target port."""
    routing, autoscaling = workload.routing, workload.autoscaling
    lora = lora_of(workload)
    adapters = tuple(lora.names) if lora is not None else ()
    # A rollout's weighted split replaces the route's backends with both versions' Services (blueprints/common/rollout.py).
    split = (
        rollout.split_backends(chart, workload, objects.labels(workload.name, blueprint, "routing"), platform)
        if routing is not None and routing.gateway
        else []
    )
    if routing is not None and routing.gateway and routing.fallback is not None:
        add_fallback_route(
            chart, workload.name, blueprint, workload.public_model_name, workload.port, routing.fallback, platform, split or None, adapters
        )
    elif split:
        add_route(chart, workload.name, objects.labels(workload.name, blueprint, "routing"), workload.public_model_name, split, platform)
    elif routing is not None and routing.gateway and routing.endpoint_picker is not None:
        add_gateway_route(
            chart,
            workload.name,
            blueprint,
            workload.public_model_name,
            pool_selector,
            workload.port,
            routing.endpoint_picker,
            platform,
            adapters,
            lora.affinity_weight if lora is not None else 0,
        )
    if autoscaling is not None:
        keda.add_autoscaler(chart, workload.name, blueprint, scale_target, autoscaling, platform)
    rendered = chart.to_json()
    pods = [template for obj in rendered for template in pod_templates(obj)]
    for pool in (obj for obj in rendered if obj["kind"] == "InferencePool"):
        problems = pool_reaches(pool, pods)
        if problems:
            raise AssertionError("; ".join(problems))


def pod_templates(obj: dict) -> list[dict]:
    """The pod templates of a workload object: a Deployment's, or a LeaderWorkerSet's leader and worker templates."""
    if obj["kind"] == "Deployment":
        return [obj["spec"]["template"]]
    if obj["kind"] == "LeaderWorkerSet":
        group = obj["spec"]["leaderWorkerTemplate"]
        return [group["leaderTemplate"], group["workerTemplate"]]
    return []


def pool_reaches(pool: dict, pods: list[dict]) -> list[str]:
    """What is wrong between an InferencePool and the pod templates of its workload: no pod its selector picks, or a
    picked pod without the target port. Empty when the pool reaches every replica it should."""
    selector = pool["spec"]["selector"]["matchLabels"]
    ports = {entry["number"] for entry in pool["spec"]["targetPorts"]}
    picked = [pod for pod in pods if selector.items() <= pod["metadata"].get("labels", {}).items()]
    if not picked:
        return [f"InferencePool {pool['metadata']['name']}: selector {selector} picks no pod of the workload"]
    problems = []
    for pod in picked:
        exposed = {port["containerPort"] for container in pod["spec"]["containers"] for port in container.get("ports", [])}
        if not ports <= exposed:
            problems.append(
                f"InferencePool {pool['metadata']['name']}: target ports {sorted(ports)} not all served by the picked pods (they expose "
                f"{sorted(exposed)})"
            )
    return problems
