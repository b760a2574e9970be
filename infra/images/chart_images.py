"""The images each third-party chart deploys, by the values that name them, at the chart versions core/versions.py
pins; install_chart merges the rewritten values in (infra/images/wiring.py) so those pods pull from the account's ECR.

Read in each chart's values.yaml and image template at its pinned tag (2026-12-05):
- karpenter 1.14.1 (aws/karpenter-provider-aws charts/karpenter): controller.image.{repository,tag,digest}; the
  release script sets tag and digest at publish (hack/release/common.sh), the template appends @digest when one is
  set. The digest is cleared: pull-through caching is documented for tags, which the kit pins exactly.
- nvidia-device-plugin 0.20.0 (NVIDIA/k8s-device-plugin): image.repository, tag defaulting to v<appVersion>.
- aws-efa-k8s-device-plugin v0.5.30 (aws/eks-charts): image.repository is EKS's registry in us-west-2; EKS
  replicates its add-on images to a registry in every region (EKS user guide, add-ons-images), so the cluster's
  region's registry is named instead: private ECR in the region, no cache rule needed.
- lws 0.10.0 (kubernetes-sigs/lws charts/lws): image.manager.{repository,tag}, registry.k8s.io/lws/lws.
- kueue 0.19.2 (kubernetes-sigs/kueue charts/kueue): controllerManager.manager.image.{repository,tag}; the packaged
  chart names registry.k8s.io/kueue (hack/helm-chart-package.sh).
- keda 2.20.2 (kedacore/charts keda): image.{keda,metricsApiServer,webhooks}.registry (ghcr.io), repository kedacore/*.
- gateway-helm v1.8.3 (envoyproxy/gateway): global.images.{envoyGateway,ratelimit,envoyProxy}.image, full references;
  the proxy's default is api/v1alpha1/shared_types.go DefaultEnvoyProxyImage, the rate limiter's DefaultRateLimitImage.
- ai-gateway-helm v1.1.0 (envoyproxy/ai-gateway): controller.image.repository, extProc.image.repository, tag the
  chart's appVersion.
- dcgm-exporter 4.8.2 (NVIDIA/dcgm-exporter deployment): image.{repository,tag}, tag 4.5.3-4.8.2-distroless.
- kube-state-metrics 8.4.0 and kube-prometheus-stack 88.5.3 (prometheus-community/helm-charts): every image as
  {registry, repository, tag}; the kit replaces the registry alone, so the charts' tags stay. Grafana's chart
  (12.11.1, a dependency not vendored in that repository) uses the same layout for image and sidecar.image.
- kuberay-operator 1.7.1 (ray-project/kuberay helm-chart/kuberay-operator, read at v1.7.0): image.{repository,tag},
  quay.io/kuberay/operator tagged v<chart version>.
- dynamo-platform 1.4.2 (ai-dynamo/dynamo deploy/helm/charts/platform): dynamo-operator.controllerManager.manager.image.
  Its NATS subchart is not installed (`global.nats.install` is false since 1.4.0), so it pulls nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from core.registry_cache import RegistryCache, parse
from core.versions import DYNAMO_PLATFORM, EFA_DEVICE_PLUGIN, KARPENTER, KUBERAY, KUEUE, LEADER_WORKER_SET, NVIDIA_DEVICE_PLUGIN, PROGRAMS

Style = Literal["repository", "registry", "image"]


@dataclass(frozen=True)
class ChartImage:
    path: tuple[str, ...]
    """Where the image's values live in the chart's values."""
    upstream: str
    """The image as the chart pulls it (the tag, where the chart leaves it to its own values, may be omitted)."""
    style: Style
    """repository: set repository (and tag); registry: set registry only; image: set the full reference."""
    extra: tuple[tuple[str, str], ...] = ()
    """Other keys set beside, e.g. the digest cleared."""


def _ref(host_and_path: str, tag: str | None = None) -> str:
    return f"{host_and_path}:{tag}" if tag else host_and_path


# Envoy Gateway v1.8.3's default proxy image (api/v1alpha1/shared_types.go DefaultEnvoyProxyImage); the kit's own
# EnvoyProxy names it too (infra/routing/teams.py), since that object replaces the chart's default spec.
ENVOY_PROXY_IMAGE = "docker.io/envoyproxy/envoy:distroless-v1.38.3"

CHART_IMAGES: dict[str, tuple[ChartImage, ...]] = {
    "karpenter": (
        ChartImage(
            ("controller", "image"), _ref("public.ecr.aws/karpenter/controller", KARPENTER.version), "repository", (("digest", ""),)
        ),
    ),
    "nvidia-device-plugin": (
        ChartImage(("image",), _ref("nvcr.io/nvidia/k8s-device-plugin", f"v{NVIDIA_DEVICE_PLUGIN.version}"), "repository"),
    ),
    "lws": (ChartImage(("image", "manager"), _ref("registry.k8s.io/lws/lws", f"v{LEADER_WORKER_SET.version}"), "repository"),),
    "kueue": (
        ChartImage(("controllerManager", "manager", "image"), _ref("registry.k8s.io/kueue/kueue", f"v{KUEUE.version}"), "repository"),
    ),
    "keda": tuple(
        ChartImage(("image", part), f"ghcr.io/kedacore/{name}", "registry")
        for part, name in (("keda", "keda"), ("metricsApiServer", "keda-metrics-apiserver"), ("webhooks", "keda-admission-webhooks"))
    ),
    "gateway-helm": (
        ChartImage(("global", "images", "envoyGateway", "image"), "docker.io/envoyproxy/gateway:v1.8.3", "image"),
        ChartImage(("global", "images", "ratelimit", "image"), "docker.io/envoyproxy/ratelimit:1e50889b", "image"),
        ChartImage(("global", "images", "envoyProxy", "image"), ENVOY_PROXY_IMAGE, "image"),
    ),
    "ai-gateway-helm": (
        ChartImage(("controller", "image"), "docker.io/envoyproxy/ai-gateway-controller:v1.1.0", "repository"),
        ChartImage(("extProc", "image"), "docker.io/envoyproxy/ai-gateway-extproc:v1.1.0", "repository"),
    ),
    "dcgm-exporter": (ChartImage(("image",), "nvcr.io/nvidia/k8s/dcgm-exporter:4.5.3-4.8.2-distroless", "repository"),),
    "kube-state-metrics": (ChartImage(("image",), "registry.k8s.io/kube-state-metrics/kube-state-metrics", "registry"),),
    "kube-prometheus-stack": (
        ChartImage(("alertmanager", "alertmanagerSpec", "image"), "quay.io/prometheus/alertmanager", "registry"),
        ChartImage(("prometheusOperator", "image"), "quay.io/prometheus-operator/prometheus-operator", "registry"),
        ChartImage(
            ("prometheusOperator", "prometheusConfigReloader", "image"),
            "quay.io/prometheus-operator/prometheus-config-reloader",
            "registry",
        ),
        ChartImage(("prometheusOperator", "admissionWebhooks", "patch", "image"), "ghcr.io/jkroepke/kube-webhook-certgen", "registry"),
        ChartImage(("prometheus", "prometheusSpec", "image"), "quay.io/prometheus/prometheus", "registry"),
        ChartImage(("kube-state-metrics", "image"), "registry.k8s.io/kube-state-metrics/kube-state-metrics", "registry"),
        ChartImage(("prometheus-node-exporter", "image"), "quay.io/prometheus/node-exporter", "registry"),
        ChartImage(("grafana", "image"), "docker.io/grafana/grafana", "registry"),
        ChartImage(("grafana", "sidecar", "image"), "quay.io/kiwigrid/k8s-sidecar", "registry"),
    ),
    "kuberay-operator": (ChartImage(("image",), _ref("quay.io/kuberay/operator", f"v{KUBERAY.version}"), "repository"),),
    "dynamo-platform": (
        ChartImage(
            ("dynamo-operator", "controllerManager", "manager", "image"),
            _ref("nvcr.io/nvidia/ai-dynamo/kubernetes-operator", PROGRAMS["ai-dynamo"]),
            "repository",
        ),
    ),
}
assert DYNAMO_PLATFORM.version == PROGRAMS["ai-dynamo"]

# EKS's add-on registries (EKS user guide, "View Amazon container image registries for Amazon EKS add-ons", read
# 2026-12-05): 602401143452 except in these regions.
EKS_REGISTRY_ACCOUNTS = {
    "af-south-1": "877085696533",
    "ap-east-1": "800184023465",
    "ap-south-2": "900889452093",
    "ap-southeast-3": "296578399912",
    "ap-southeast-4": "491585149902",
    "ap-southeast-5": "151610086707",
    "ap-southeast-7": "121268973566",
    "ca-west-1": "761377655185",
    "eu-central-2": "900612956339",
    "eu-south-1": "590381155156",
    "eu-south-2": "455263428931",
    "il-central-1": "066635153087",
    "me-central-1": "759879836304",
    "me-south-1": "558608220178",
    "cn-north-1": "918309763551",
    "cn-northwest-1": "961992271922",
}


# aws/eks-charts stable/aws-efa-k8s-device-plugin at chart v0.5.30: appVersion and image.tag "v0.5.20".
EFA_DEVICE_PLUGIN_IMAGE_TAG = "v0.5.20"
assert EFA_DEVICE_PLUGIN.version == "v0.5.30", "read the new chart's image tag and update EFA_DEVICE_PLUGIN_IMAGE_TAG"


def efa_device_plugin_image(region: str) -> str:
    account = EKS_REGISTRY_ACCOUNTS.get(region, "602401143452")
    domain = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"{account}.dkr.ecr.{region}.{domain}/eks/aws-efa-k8s-device-plugin"


def chart_values(chart: str, cache: RegistryCache) -> dict:
    """The values that point one chart's images at the cache; {} for a chart that deploys none, or with the cache off."""
    if chart == "aws-efa-k8s-device-plugin":
        # In-region whether or not the cache is on: EKS keeps the image in every region.
        return {"image": {"repository": efa_device_plugin_image(cache.region), "tag": EFA_DEVICE_PLUGIN_IMAGE_TAG}}
    if not cache.enabled:
        return {}
    values: dict = {}
    for image in CHART_IMAGES.get(chart, ()):
        node = values
        for key in image.path[:-1]:
            node = node.setdefault(key, {})
        node[image.path[-1]] = _leaf(image, cache)
    return values


def _leaf(image: ChartImage, cache: RegistryCache):
    ref = parse(image.upstream)
    rewritten = cache.rewrite(image.upstream)
    if image.style == "image":
        return rewritten
    repository = rewritten.rsplit(":", 1)[0] if ref.tag else rewritten
    if image.style == "registry":
        return {"registry": repository[: len(repository) - len(ref.path) - 1]}
    leaf = {"repository": repository, **dict(image.extra)}
    if ref.tag:
        leaf["tag"] = ref.tag
    return leaf


def chart_upstreams(chart: str) -> tuple[str, ...]:
    return tuple(image.upstream for image in CHART_IMAGES.get(chart, ()))
