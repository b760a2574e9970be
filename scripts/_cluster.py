"""The cluster the verification checks read: Kubernetes API clients, with answers shared between checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kubernetes.client.exceptions import ApiException


@dataclass
class Cluster:
    core: Any
    apps: Any
    custom: Any
    timeout: float = 10.0
    endpoints: list[tuple[str, str]] = field(default_factory=list)
    probe_services: bool = False
    _memo: dict[str, Any] = field(default_factory=dict)

    def nodes(self) -> list[Any]:
        if "nodes" not in self._memo:
            self._memo["nodes"] = self.core.list_node(_request_timeout=self.timeout).items
        return self._memo["nodes"]

    def nodepools(self) -> list[dict[str, Any]]:
        """Karpenter NodePools as {name, ready condition, node template labels}; ApiException 404 without the CRD."""
        if "nodepools" not in self._memo:
            answer = self.custom.list_cluster_custom_object("karpenter.sh", "v1", "nodepools", _request_timeout=self.timeout)
            self._memo["nodepools"] = [_nodepool(item) for item in answer.get("items", [])]
        return self._memo["nodepools"]

    def known_nodepools(self) -> list[dict[str, Any]]:
        """The NodePools, or none when the API cannot list them (the nodepools check reports why)."""
        try:
            return self.nodepools()
        except ApiException:
            return []


def _nodepool(item: dict[str, Any]) -> dict[str, Any]:
    conditions = item.get("status", {}).get("conditions", [])
    labels = item.get("spec", {}).get("template", {}).get("metadata", {}).get("labels", {})
    return {
        "name": item["metadata"]["name"],
        "ready": next((c for c in conditions if c.get("type") == "Ready"), None),
        "template_labels": labels,
    }
