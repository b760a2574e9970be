"""Every external version the kit depends on, in one place.

Checked on 2026-11-23 (the program packages on 2026-11-29). Bump here, run the tests, and note the date.
"""

from dataclasses import dataclass

CHECKED_ON = "2026-11-23"

# CDK CLI: also pinned in package.json. The npm 'latest' tag (3.x) rejects aws-cdk-lib 2.275 assemblies.
AWS_CDK_CLI = "2.1148.1"

# The kubectl Lambda layer (aws-cdk.lambda-layer-kubectl-v35) serves both versions within kubectl's +-1 skew.
SUPPORTED_KUBERNETES_VERSIONS = ("1.34", "1.35")


@dataclass(frozen=True)
class HelmPin:
    repository: str
    version: str


# Karpenter v1.14: matches the CRDs the manifests are validated against (shared/crds, 2026-08-21).
KARPENTER = HelmPin("oci://public.ecr.aws/karpenter/karpenter", "1.14.1")
# Bottlerocket's NVIDIA variants ship the NVIDIA device plugin; AL2023 NVIDIA nodes get this chart.
NVIDIA_DEVICE_PLUGIN = HelmPin("https://nvidia.github.io/k8s-device-plugin", "0.20.0")
# vpc.amazonaws.com/efa on EFA nodes of either AMI family.
EFA_DEVICE_PLUGIN = HelmPin("https://aws.github.io/eks-charts", "v0.5.30")

# Karpenter AMI aliases (family@version). Pinned: 'latest' would drift every node on each release.
# Newer releases: aws ssm get-parameter --name /aws/service/bottlerocket/aws-k8s-1.35-nvidia/x86_64/latest/image_version
AMI_VERSIONS = {"bottlerocket": "v1.65.0", "al2023": "v20260724"}

# Serving images. vLLM: OpenAI-compatible server; Triton: with the vLLM backend; Dynamo: vLLM runtime.
IMAGES = {
    # Benchmark load generator (kubernetes-sigs/inference-perf release v0.6.1, 2026-07-23); it also fetches the dataset (boto3).
    "inference-perf": "quay.io/inference-perf/inference-perf:v0.6.1",
    "vllm": "vllm/vllm-openai:v0.30.0",
    "triton": "nvcr.io/nvidia/tritonserver:26.08-vllm-python-py3",
    "dynamo-vllm": "nvcr.io/nvidia/ai-dynamo/vllm-runtime:1.4.2",
    # The same runtime with AWS's libfabric and EFA provider inside, which NIXL's LIBFABRIC backend needs (NGC: experimental).
    "dynamo-vllm-efa": "nvcr.io/nvidia/ai-dynamo/vllm-runtime:1.4.2-efa",
    # Dynamo's HTTP frontend alone: a small image for the CPU-only frontend pods.
    "dynamo-frontend": "nvcr.io/nvidia/ai-dynamo/dynamo-frontend:1.4.2",
    # The endpoint picker (prefix-cache, KV-cache and queue scorers). Gateway API Inference Extension v1.6.0 moved it to
    # llm-d/llm-d-router; v0.10.0 (2026-08-17) is the first release after it, built on the extension's v1 API.
    "endpoint-picker": "ghcr.io/llm-d/llm-d-router-endpoint-picker:v0.10.0",
    # kubectl alone (no shell), for the Job that applies CRDs published only as a release file (infra/cluster/crd_bundles.py).
    "kubectl": "registry.k8s.io/kubectl:v1.35.0",
    # GPU burn-in (infra/gpu/burn_in.py). DCGM's full image (nv-hostengine, dcgmi and the CUDA diagnostic plugins;
    # the exporter's image lacks the plugins). The tag NVIDIA's GPU Operator v26.3.3 deploys beside dcgm-exporter
    # 4.5.3-4.8.2 (deployments/gpu-operator/values.yaml; its bundle pins the ubi9 twin, 4.5.2-1-ubi9@sha256:d7558fa7...).
    # No 4.5.3 DCGM image appears in NVIDIA's sources; the DCGM repo's docker/Makefile still names 4.4.1-2.
    "dcgm": "nvcr.io/nvidia/cloud-native/dcgm:4.5.2-1-ubuntu22.04",
    # nccl-tests built by AWS with the EFA installer (libfabric, aws-ofi-nccl) and NCCL 2.27.7, CUDA 12.8 (runs on
    # R570 and later drivers): awslabs/awsome-distributed-training micro-benchmarks/nccl-tests (buildspec.yaml at
    # 0877e0e3 names this tag; the tag's versions stayed in buildspec.yaml until 2f47e27f, so a rebuild under the same
    # tag may carry the EFA installer's own aws-ofi-nccl instead: NCCL_NET_PLUGIN=ofi finds either).
    "nccl-tests": "public.ecr.aws/hpc-cloud/nccl-tests:cuda12.8.1-efa1.43.2-ofiv1.16.3-ncclv2.27.7-1-testsv2.16.9",
    # The capacity-block reconciler (infra/gpu/capacity_block_reconciler.py): a Python standard library, nothing else.
    "python": "docker.io/library/python:3.12.12-slim-bookworm",
    # The gateway's rate-limit counters (Envoy AI Gateway v1.1.0's token rate-limit example runs this tag).
    "redis": "docker.io/library/redis:8.2.4-alpine3.22",
}

# The programs whose inputs the kit writes, as Python packages at the versions inside the pinned images. The contract
# checks (contracts/, docs/contracts.md) install exactly these and let each program judge what the kit emits.
PROGRAMS = {
    # vllm serve in IMAGES["vllm"] (the image's tag is the vLLM release).
    "vllm": "0.30.0",
    # dynamo.vllm and dynamo.frontend in IMAGES["dynamo-vllm"], ["dynamo-vllm-efa"] and ["dynamo-frontend"].
    "ai-dynamo": "1.4.2",
    # The vLLM inside the Dynamo runtime images: ai-dynamo 1.4.2's vllm extra pins it, and dynamo.vllm's parser is vLLM's.
    "vllm-in-dynamo": "0.26.0",
    # The load generator in IMAGES["inference-perf"]: its config model.
    "inference-perf": "0.6.1",
    # Triton's model-config protobuf (model_config.proto); Triton 26.08 is server 2.72, and 2.73's proto reads every 2.72 field.
    "tritonclient": "2.73.0",
}
# promtool, from Debian 12's prometheus package (the kit's rule files are Prometheus rules; AMP reads the same format).
PROMTOOL_DEBIAN_PACKAGE = ("prometheus", "2.42.0+ds-5+deb12u1")

# In-cluster controllers that only some blueprints need.
LEADER_WORKER_SET = HelmPin("oci://registry.k8s.io/lws/charts/lws", "0.10.0")
# Dynamo platform: the operator (it applies its own CRDs) and NATS; discovery goes through the Kubernetes API.
# NGC publishes the chart as https://helm.ngc.nvidia.com/nvidia/ai-dynamo/charts/dynamo-platform-1.4.2.tgz; that
# charts/ path holds tarballs, not a repository index. The HelmChart construct runs `helm upgrade --install ...
# dynamo-platform --repo <repository> --version <version>`, so the pin names the repository whose index.yaml lists it.
DYNAMO_PLATFORM = HelmPin("https://helm.ngc.nvidia.com/nvidia/ai-dynamo", "1.4.2")

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
ENVOY_GATEWAY = HelmPin("oci://docker.io/envoyproxy/gateway-helm", "v1.8.3")
AI_GATEWAY_CRDS = HelmPin("oci://docker.io/envoyproxy/ai-gateway-crds-helm", "v1.1.0")
AI_GATEWAY = HelmPin("oci://docker.io/envoyproxy/ai-gateway-helm", "v1.1.0")
# The InferencePool CRD (inference.networking.k8s.io/v1) at Gateway API Inference Extension v1.6.0, applied by the kit.
INFERENCE_EXTENSION = "v1.6.0"
# Kueue v0.19.2 (2026-08-20): GPU queues, gang admission and topology-aware placement; the CRDs validated against
# (shared/crds) are this release's. The chart installs the CRDs itself (templates, so an uninstall removes them).
KUEUE = HelmPin("oci://registry.k8s.io/kueue/charts/kueue", "0.19.2")
# Ships the gateway's audit log to CloudWatch Logs: aws/eks-charts aws-for-fluent-bit 0.2.0 (2026-02-03) runs
# aws-for-fluent-bit 3.2.1, whose Fluent Bit takes EKS Pod Identity credentials.
AUDIT_LOG_SHIPPER = HelmPin("https://aws.github.io/eks-charts", "0.2.0")
# KEDA 2.20.2 (chart 2.20.2): ScaledObjects on PromQL from AMP (SigV4 through Pod Identity) or in-cluster Prometheus.
KEDA = HelmPin("https://kedacore.github.io/charts", "2.20.2")

# Observability (checked 2026-11-23 against the charts' Chart.yaml).
# dcgm-exporter chart 4.8.2 = exporter 4.5.3-4.8.2 (NVIDIA/dcgm-exporter tag 4.5.3-4.8.2).
DCGM_EXPORTER = HelmPin("https://nvidia.github.io/dcgm-exporter/helm-charts", "4.8.2")
# kube-prometheus-stack 88.5.3 bundles kube-state-metrics 8.4.0 (app 2.20.0) and prometheus-operator v0.93.1.
KUBE_PROMETHEUS_STACK = HelmPin("https://prometheus-community.github.io/helm-charts", "88.5.3")
KUBE_STATE_METRICS = HelmPin("https://prometheus-community.github.io/helm-charts", "8.4.0")
