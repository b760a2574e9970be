"""Namespaces that Kubernetes or the kit's platform own. No workload namespace and no team namespace may be one of
them: the kit writes default-deny NetworkPolicies and Pod Security labels into its workload namespaces, which would
cut off or loosen the controllers that live there.

tests/architecture/test_namespaces.py keeps this list whole: every namespace constant in core, infra and blueprints,
and every controller chart a registered blueprint installs, must be here.
"""

from __future__ import annotations

KUBERNETES = ("default", "kube-system", "kube-public", "kube-node-lease")
"""Kubernetes' own (Karpenter and the S3 CSI driver run in kube-system)."""

PLATFORM = (
    "amazon-cloudwatch",
    "capacity-blocks",
    "crd-bundles",
    "dynamo-system",
    "envoy-ai-gateway-system",
    "envoy-gateway-system",
    "gateway-audit",
    "gpu-burn-in",
    "keda",
    "kuberay-system",
    "kueue-system",
    "lws-system",
    "monitoring",
)
"""The kit's controllers, jobs and exporters."""

RESERVED = frozenset(KUBERNETES + PLATFORM)
