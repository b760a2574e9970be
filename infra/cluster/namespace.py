"""The workloads namespace: its Pod Security Admission level and the policies every pod in it starts from; and the
default deny and DNS every namespace the kit isolates starts from (infra/cluster/platform_policies.py for the others).

Default deny in both directions; then DNS (CoreDNS in kube-system) and the EKS Pod Identity Agent on the node
for every pod. Each workload's own policies (blueprints/common/network_policy.py) add what it declares.
"""

from __future__ import annotations

from typing import Any

from core.kueue_facts import MANAGED_NAMESPACE_LABEL
from core.isolation import POD_IDENTITY_AGENT, POD_IDENTITY_PORT, PodSecurityLevel, cidr_peer, pod_security_labels

API = "networking.k8s.io/v1"
DNS_PEER = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
}


def _policy(name: str, namespace: str, labels: dict[str, str], spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": API, "kind": "NetworkPolicy", "metadata": {"name": name, "namespace": namespace, "labels": labels}, "spec": spec}


def workloads_namespace(
    namespace: str, labels: dict[str, str], *, pod_security: PodSecurityLevel, isolate: bool, queued: bool = False
) -> list[dict[str, Any]]:
    """queued: Kueue manages the namespace's labelled Jobs, LeaderWorkerSets and Deployments (scheduling.teams)."""
    managed = {MANAGED_NAMESPACE_LABEL: "true"} if queued else {}
    objects: list[dict[str, Any]] = [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": namespace, "labels": {**labels, **pod_security_labels(pod_security), **managed}},
        }
    ]
    if not isolate:
        return objects
    every_pod = {"podSelector": {}}
    objects += [
        *default_deny_and_dns(namespace, labels),
        _policy(
            "allow-pod-identity",
            namespace,
            labels,
            {
                **every_pod,
                "policyTypes": ["Egress"],
                "egress": [{"to": [cidr_peer(POD_IDENTITY_AGENT)], "ports": [{"protocol": "TCP", "port": POD_IDENTITY_PORT}]}],
            },
        ),
    ]
    return objects


def default_deny_and_dns(namespace: str, labels: dict[str, str]) -> list[dict[str, Any]]:
    """Every namespace the kit isolates starts here: nothing in or out, then DNS (CoreDNS in kube-system) for every pod."""
    every_pod = {"podSelector": {}}
    return [
        _policy("default-deny", namespace, labels, {**every_pod, "policyTypes": ["Ingress", "Egress"]}),
        _policy(
            "allow-dns",
            namespace,
            labels,
            {
                **every_pod,
                "policyTypes": ["Egress"],
                "egress": [{"to": [DNS_PEER], "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}],
            },
        ),
    ]
