"""Every external version the kit depends on, in one place, but the images': each image's pin sits in its record
(core/pinned_images.py), under the same convention and CHECKED_ON.

Checked on 2026-11-23 (the program packages on 2026-11-29); every pin's newest patch checked on 2026-12-05. Bump here, run the
tests, and note the date. Each pin carries one line: "newest patch of X.Y as of <CHECKED_ON>: <version>; notes read
<from>..<to>: <the line that mattered>" (tests/test_pins.py holds the format); a newer patch left behind says "kept" and why.
"""

from dataclasses import dataclass
from typing import Literal, get_args

CHECKED_ON = "2026-12-05"

# CDK CLI: also pinned in package.json. The npm 'latest' tag (3.x) rejects aws-cdk-lib 2.275 assemblies.
# newest patch of 2.1148 as of 2026-12-05: 2.1148.1 (npm view aws-cdk versions; 2.1149.0 and 3.0.0 are later minors); notes read
# 2.1148.1..2.1148.1: already the newest patch
AWS_CDK_CLI = "2.1148.1"

# The kubectl Lambda layer (aws-cdk.lambda-layer-kubectl-v35) serves both versions within kubectl's +-1 skew.
KubernetesVersion = Literal["1.34", "1.35"]
SUPPORTED_KUBERNETES_VERSIONS: tuple[str, ...] = get_args(KubernetesVersion)


@dataclass(frozen=True)
class HelmPin:
    repository: str
    version: str


# Karpenter v1.14: matches the CRDs the manifests are validated against (shared/crds, 2026-08-21).
# newest patch of 1.14 as of 2026-12-05: 1.14.1 (aws/karpenter-provider-aws tags); notes read 1.14.1..1.14.1: already the newest patch
KARPENTER = HelmPin("oci://public.ecr.aws/karpenter/karpenter", "1.14.1")
# Bottlerocket's NVIDIA variants ship the NVIDIA device plugin; AL2023 NVIDIA nodes get this chart.
# newest patch of 0.20 as of 2026-12-05: 0.20.0 (NVIDIA/k8s-device-plugin tags); notes read 0.20.0..0.20.0: already the newest patch
NVIDIA_DEVICE_PLUGIN = HelmPin("https://nvidia.github.io/k8s-device-plugin", "0.20.0")
# vpc.amazonaws.com/efa on EFA nodes of either AMI family.
# newest patch of v0.5 as of 2026-12-05: v0.5.30 (aws/eks-charts gh-pages index.yaml, app v0.5.20); notes read v0.5.30..v0.5.30:
# already the newest patch
EFA_DEVICE_PLUGIN = HelmPin("https://aws.github.io/eks-charts", "v0.5.30")

# Karpenter AMI aliases (family@version). Pinned: 'latest' would drift every node on each release.
# Newer releases: aws ssm get-parameter --name /aws/service/bottlerocket/aws-k8s-1.35-nvidia/x86_64/latest/image_version
AMI_VERSIONS = {
    # newest patch of v1.65 as of 2026-12-05: v1.65.0 (bottlerocket-os/bottlerocket release 2026-09-03; no v1.65.x patch published;
    # 1.66-1.68 are later minors); notes read v1.65.0..v1.65.0: already the newest patch
    "bottlerocket": "v1.65.0",
    # newest patch of al2023 (dated releases) as of 2026-12-05: v20260818 (awslabs/amazon-eks-ami PR 2815 builds on it); notes read
    # v20260724..v20260724: kept, the releases after v20260724 are not in the repository snapshot read here, and nodeadm's
    # behaviour (the containerd spec merge, DESIGN.md) is what a bump must be checked against
    "al2023": "v20260724",
}

# Images: one record each, the pin with its dated note beside what the image carries, its size and its user, in
# core/pinned_images.py (public images) and core/derived_images.py (the kit's builds); core.images.IMAGES holds both.

# What the kit builds into its own images (images/, core/derived_images.py, docs/images.md), fetched by the build in
# the account, never where the kit is synthesized. Checked 2026-12-05.
# The EFA installer: 1.50.0 (2026-08-21) carries libfabric 2.6.0amzn1.0, rdma-core 64.0, Open MPI and aws-ofi-nccl
# 1.21.1 (docs.aws.amazon.com AWSEC2 efa-changelog), which is tested with NCCL 2.31.2 and supports NCCL 2.17.1 and
# later (aws/aws-ofi-nccl v1.21.1 release notes); the serving image's NCCL is 2.30.7. SHA256 of the tarball as
# published at efa-installer.amazonaws.com, as several public builds pin it; a pre-release tarball of the same name
# carried aws-ofi-nccl 1.20.0, which this digest excludes. 1.51.0 (2026-10-22, aws-ofi-nccl 1.22.0) kept: no source
# read here records its digest.
EFA_INSTALLER = ("1.50.0", "fa6dff8593d866866c13cb4640d9059835cd4efa427971f100ab40c97bef2841")
# NVIDIA/nccl-tests: the release AWS's own CUDA 13 / NCCL 2.30 nccl-tests image builds (awslabs/awsome-distributed-training
# micro-benchmarks/nccl-tests/buildspec.yaml at 0edaf152), with its commit so a moved tag fails the build.
NCCL_TESTS = ("v2.18.3", "f727aa2a540fef911de9d7bfd8852bc5d2c69815")

# The programs whose inputs the kit writes, as Python packages at the versions inside the pinned images. The contract
# checks (contracts/, docs/contracts.md) install exactly these and let each program judge what the kit emits.
PROGRAMS = {
    # vllm serve in the vllm image (core/pinned_images.py; the image's tag is the vLLM release).
    # newest patch of 0.30 as of 2026-12-05: 0.30.0 (PyPI); notes read 0.30.0..0.30.0: already the newest patch
    "vllm": "0.30.0",
    # dynamo.vllm and dynamo.frontend in the dynamo-vllm, dynamo-vllm-efa and dynamo-frontend images.
    # newest patch of 1.4 as of 2026-12-05: 1.4.2 (PyPI); notes read 1.4.2..1.4.2: already the newest patch
    "ai-dynamo": "1.4.2",
    # The vLLM inside the Dynamo runtime images: ai-dynamo 1.4.2's vllm extra pins it, and dynamo.vllm's parser is vLLM's.
    # newest patch of 0.26 as of 2026-12-05: 0.26.0 (PyPI); notes read 0.26.0..0.26.0: already the newest patch (and the image decides)
    "vllm-in-dynamo": "0.26.0",
    # The load generator in the inference-perf image: its config model.
    # newest patch of 0.6 as of 2026-12-05: 0.6.1 (kubernetes-sigs/inference-perf tags); notes read 0.6.1..0.6.1: already the newest patch
    "inference-perf": "0.6.1",
    # Triton's model-config protobuf (model_config.proto); Triton 26.08 is server 2.72, and 2.73's proto reads every 2.72 field.
    # newest patch of 2.73 as of 2026-12-05: 2.73.0 (PyPI); notes read 2.73.0..2.73.0: already the newest patch
    "tritonclient": "2.73.0",
    # Ray Serve (serveConfigV2's schema, Ray Serve LLM's LLMConfig) in the ray-llm image (the image's tag is the Ray release).
    # newest patch of 2.60 as of 2026-12-05: 2.60.0 (PyPI); notes read 2.60.0..2.60.0: already the newest patch
    "ray": "2.60.0",
    # The vLLM inside the ray-llm image: the ray 2.60.0 wheel's llm extra pins vllm[audio]==0.29.0, and the image installs
    # the llm lock compiled from it. newest patch of 0.29 as of 2026-12-05: 0.29.0 (PyPI); notes read 0.29.0..0.29.0:
    # already the newest patch (and the image decides)
    "vllm-in-ray-llm": "0.29.0",
}
# promtool, from Debian 12's prometheus package (the kit's rule files are Prometheus rules; AMP reads the same format).
# newest patch of 2.42 as of 2026-12-05: 2.42.0+ds-5+deb12u1 (apt-cache policy prometheus, bookworm/main); notes read
# 2.42.0+ds-5+deb12u1..2.42.0+ds-5+deb12u1: already the newest patch
PROMTOOL_DEBIAN_PACKAGE = ("prometheus", "2.42.0+ds-5+deb12u1")

# In-cluster controllers that only some blueprints need.
# newest patch of 0.10 as of 2026-12-05: 0.10.0 (kubernetes-sigs/lws tags); notes read 0.10.0..0.10.0: already the newest patch
LEADER_WORKER_SET = HelmPin("oci://registry.k8s.io/lws/charts/lws", "0.10.0")
# Dynamo platform: the operator (it applies its own CRDs); no NATS since 1.4.0 (global.nats.install false), discovery
# goes through the Kubernetes API.
# NGC publishes the chart as https://helm.ngc.nvidia.com/nvidia/ai-dynamo/charts/dynamo-platform-1.4.2.tgz; that
# charts/ path holds tarballs, not a repository index. The HelmChart construct runs `helm upgrade --install ...
# dynamo-platform --repo <repository> --version <version>`, so the pin names the repository whose index.yaml lists it.
# newest patch of 1.4 as of 2026-12-05: 1.4.2 (PyPI ai-dynamo, released with the chart); notes read 1.4.2..1.4.2: already the newest patch
DYNAMO_PLATFORM = HelmPin("https://helm.ngc.nvidia.com/nvidia/ai-dynamo", "1.4.2")
# KubeRay operator (RayService, RayCluster, RayJob, RayCronJob CRDs from the chart's crds/, installed before its templates).
# The CRD the manifests are validated against (shared/crds/ray.io_rayservices.yaml) is v1.7.0's. v1.7.1 is the version
# bump of ray-project/kuberay PR 5318 (2026-09-18); the mirror read here ends at v1.7.0 (chart, controllers, CRDs).
# newest patch of 1.7 as of 2026-12-05: 1.7.1 (ray-project/kuberay PR 5318); notes read 1.7.0..1.7.1: no release notes
# in the sources at hand; the chart's values and templates read at v1.7.0 and release-1.7
KUBERAY = HelmPin("https://ray-project.github.io/kuberay-helm", "1.7.1")

# Inference routing (checked 2026-11-29; docs/routing.md). Envoy AI Gateway v1.1.0 needs Envoy Gateway v1.8.1 or later
# in 1.8 (site/versioned_docs/version-1.1: egMinVersion 1.8.1, compatibility "v1.8.1+ (Envoy Proxy v1.38.x)"; go.mod
# and its e2e matrix pin v1.8.1) and is the extension that lets a route point at an InferencePool (plain Envoy
# Gateway rejects the kind). Envoy Gateway is pinned to the newest 1.8 patch, v1.8.3 (2026-07-20, Envoy 1.38.3):
# v1.8.1 drops `cost` from shared global rate-limit rules, which the teams' token budgets are; v1.8.2's release
# notes: "Fixed shared global rate limit rules with a `cost` field not working as expected" (gateway issue 9244;
# internal/xds/translator/ratelimit.go now writes shared rules with a cost per domain with their hits_addend).
# v1.8.2 also moved to Envoy 1.38.3 (CVE fixes) and made apiKeyAuth.extractFrom stricter (one source kind per entry,
# as the kit writes); v1.8.3 fixes a controller panic (a data race in status updates) and backend TLS capped at 1.2.
# Envoy Gateway's chart brings the Gateway API CRDs it was tested with (v1.5.1, whose HTTPRoute has the rule names the
# team policies attach to); the kit's Gateway API objects are validated against v1.6.1 as well.
# newest patch of 1.8 as of 2026-12-05: v1.8.3 (envoyproxy/gateway tags); notes read v1.8.1..v1.8.3: v1.8.2 "Fixed shared
# global rate limit rules with a `cost` field not working as expected"
ENVOY_GATEWAY = HelmPin("oci://docker.io/envoyproxy/gateway-helm", "v1.8.3")
# newest patch of 1.1 as of 2026-12-05: v1.1.0 (envoyproxy/ai-gateway tags; both charts); notes read v1.1.0..v1.1.0: already
# the newest patch
AI_GATEWAY_CRDS = HelmPin("oci://docker.io/envoyproxy/ai-gateway-crds-helm", "v1.1.0")
# newest patch of 1.1 as of 2026-12-05: v1.1.0 (as AI_GATEWAY_CRDS); notes read v1.1.0..v1.1.0: already the newest patch
AI_GATEWAY = HelmPin("oci://docker.io/envoyproxy/ai-gateway-helm", "v1.1.0")
# The InferencePool CRD (inference.networking.k8s.io/v1) at Gateway API Inference Extension v1.6.0, applied by the kit.
# newest patch of 1.6 as of 2026-12-05: v1.6.0 (kubernetes-sigs/gateway-api-inference-extension tags); notes read v1.6.0..v1.6.0:
# already the newest patch
INFERENCE_EXTENSION = "v1.6.0"
# Kueue v0.19.2 (2026-08-20): GPU queues, gang admission and topology-aware placement; the CRDs validated against
# (shared/crds) are this release's. The chart installs the CRDs itself (templates, so an uninstall removes them).
# newest patch of 0.19 as of 2026-12-05: 0.19.2 (kubernetes-sigs/kueue tags); notes read 0.19.2..0.19.2: already the newest patch
KUEUE = HelmPin("oci://registry.k8s.io/kueue/charts/kueue", "0.19.2")
# The chart release whose image (appVersion 3.2.1, the fluent-bit image) ships the gateway's audit log: aws/eks-charts
# aws-for-fluent-bit 0.2.0 (2026-02-03). The kit writes the DaemonSet itself and no longer installs the chart, whose
# ClusterRole grants nodes/proxy cluster-wide with no value to turn it off (infra/routing/audit.py); a bump of the image
# follows this chart's appVersion.
# newest patch of 0.2 as of 2026-12-05: 0.2.0 (aws/eks-charts gh-pages index.yaml); notes read 0.2.0..0.2.0: already the newest patch
AUDIT_LOG_SHIPPER = HelmPin("https://aws.github.io/eks-charts", "0.2.0")
# KEDA 2.20.2 (chart 2.20.2): ScaledObjects on PromQL from AMP (SigV4 through Pod Identity) or in-cluster Prometheus.
# newest patch of 2.20 as of 2026-12-05: 2.20.2 (kedacore/charts and kedacore/keda tags); notes read 2.20.2..2.20.2: already
# the newest patch
KEDA = HelmPin("https://kedacore.github.io/charts", "2.20.2")

# Observability (checked 2026-11-23 against the charts' Chart.yaml).
# dcgm-exporter chart 4.8.2 = exporter 4.5.3-4.8.2 (NVIDIA/dcgm-exporter tag 4.5.3-4.8.2).
# newest patch of 4.8 as of 2026-12-05: 4.8.2 (NVIDIA/dcgm-exporter tags, 4.5.3-4.8.2); notes read 4.8.2..4.8.2: already the newest patch
DCGM_EXPORTER = HelmPin("https://nvidia.github.io/dcgm-exporter/helm-charts", "4.8.2")
# kube-prometheus-stack 88.5.3 bundles kube-state-metrics 8.4.0 (app 2.20.0) and prometheus-operator v0.93.1.
# newest patch of 88.5 as of 2026-12-05: 88.5.3 (prometheus-community/helm-charts tags); notes read 88.5.3..88.5.3: already the newest patch
KUBE_PROMETHEUS_STACK = HelmPin("https://prometheus-community.github.io/helm-charts", "88.5.3")
# newest patch of 8.4 as of 2026-12-05: 8.4.0 (prometheus-community/helm-charts tags); notes read 8.4.0..8.4.0: already the newest patch
KUBE_STATE_METRICS = HelmPin("https://prometheus-community.github.io/helm-charts", "8.4.0")


# Upgrades (docs/upgrades.md; `./kit plan` checks a change of cluster.kubernetes_version against this, checked
# 2026-12-05). EKS moves the control plane one minor per update and never back (awsdocs/amazon-eks-user-guide
# latest/ug/clusters/update-cluster.adoc). Per minor: the least chart version whose project supports it, and the
# least version of an EKS add-on pinned in cluster.addon_versions. Where no source states a least version for a
# minor (LWS, Kueue, the device plugins, CoreDNS, the VPC CNI), the minor has no entry: nothing is checked.
@dataclass(frozen=True)
class MinorUpgrade:
    checked_on: str
    charts: dict[str, str]
    addons: dict[str, str]


UPGRADES = {
    "1.34": MinorUpgrade(
        checked_on="2026-12-05",
        # karpenter: aws/karpenter-provider-aws v1.14.1 website/content/en/docs/upgrading/compatibility.md (1.34: >= 1.6).
        # gateway-helm: envoyproxy/gateway site/content/en/news/releases/matrix.md (v1.7 and v1.8: Kubernetes v1.32-v1.35).
        # keda: kedacore/keda-docs content/docs/2.20/operate/cluster.md (v2.19 is the first tested on v1.34).
        charts={"karpenter": "1.6.0", "gateway-helm": "v1.7.0", "keda": "2.19.0"},
        # kube-proxy: EKS's add-on builds follow the cluster's minor (the user guide's managing-kube-proxy table lists
        # v1.34.x-eksbuild for 1.34); a pinned kube-proxy moves with the control plane.
        addons={"kube-proxy": "v1.34.0"},
    ),
    "1.35": MinorUpgrade(
        checked_on="2026-12-05",
        # karpenter 1.35: >= 1.9 (same compatibility.md); keda: v2.20 is the first tested on v1.35 (2.20/operate/cluster.md).
        charts={"karpenter": "1.9.0", "gateway-helm": "v1.7.0", "keda": "2.20.0"},
        addons={"kube-proxy": "v1.35.0"},
    ),
}


@dataclass(frozen=True)
class ChartCrds:
    in_crds_dir: bool
    """The chart ships its CRDs in crds/: Helm installs them once and never upgrades them (helm/helm-www
    content/en/docs/chart_best_practices/custom_resource_definitions.md, "Some caveats")."""
    upgrade: str
    """What a chart bump needs for its CRDs."""


# How each chart the kit installs ships its CRDs, read in the charts' sources.
CHART_CRDS = {
    # charts/karpenter/crds/ at v1.14.1; upgrade-guide.md "CRD Upgrades" recommends the karpenter-crd chart.
    "karpenter": ChartCrds(
        True,
        "apply the new version's CRDs first: helm upgrade --install karpenter-crd oci://public.ecr.aws/karpenter/karpenter-crd "
        "--version <new> --namespace kube-system",
    ),
    # charts/gateway-helm/charts/crds/crds/ at v1.8.3; install-helm.md applies the gateway-crds-helm chart server-side.
    "gateway-helm": ChartCrds(
        True,
        "apply the new version's CRDs first: helm template eg oci://docker.io/envoyproxy/gateway-crds-helm --version <new> "
        "--set crds.gatewayAPI.enabled=true --set crds.envoyGateway.enabled=true | kubectl apply --server-side -f -",
    ),
    # charts/lws/crds/ at v0.10.0.
    "lws": ChartCrds(
        True,
        "apply the new version's CRDs first: helm show crds oci://registry.k8s.io/lws/charts/lws --version <new> "
        "| kubectl apply --server-side -f -",
    ),
    # charts/kube-prometheus-stack/charts/crds/crds/ (a subchart's crds/: prometheus-operator's CRDs).
    "kube-prometheus-stack": ChartCrds(
        True, "apply the prometheus-operator CRDs of the new chart's operator version first (kubectl apply --server-side)"
    ),
    # deploy/helm/charts/platform/components/operator/crds/; a pre-upgrade Job applies them only with
    # dynamo-operator.upgradeCRD, which the kit does not set (components/operator/templates/upgrade-crd.yaml).
    "dynamo-platform": ChartCrds(
        True, "apply the new release's nvidia.com CRDs first (the operator subchart's crds/), or set dynamo-operator.upgradeCRD"
    ),
    # CRDs as templates: helm upgrade upgrades them with the release (manifests/charts/ai-gateway-crds-helm/templates/ at v1.1.0).
    "ai-gateway-crds-helm": ChartCrds(False, "its CRDs are templates: helm upgrade upgrades them"),
    "keda": ChartCrds(False, "its CRDs are templates (keda/templates/crds/): helm upgrade upgrades them"),
    "kueue": ChartCrds(False, "its CRDs are templates (charts/kueue/templates/crd/ at v0.19.2): helm upgrade upgrades them"),
    # No CRDs (ai-gateway-helm at v1.1.0 has none of its own; the device plugin's NFD subchart is off: no gfd/nfd values).
    "ai-gateway-helm": ChartCrds(False, "no CRDs of its own (ai-gateway-crds-helm carries them)"),
    "dcgm-exporter": ChartCrds(False, "no CRDs"),
    "nvidia-device-plugin": ChartCrds(False, "no CRDs"),
    "aws-efa-k8s-device-plugin": ChartCrds(False, "no CRDs"),
    "kube-state-metrics": ChartCrds(False, "no CRDs"),
    "aws-for-fluent-bit": ChartCrds(False, "no CRDs"),
}
