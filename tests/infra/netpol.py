"""A small evaluator of Kubernetes NetworkPolicies (networking.k8s.io/v1) over synthesized objects, for flow tests.

A connection passes when the source's egress and the destination's ingress both allow it. A pod no policy selects
for a direction (Ingress or Egress in its policyTypes) is open in that direction. Peers: podSelector alone means
pods of the policy's namespace; namespaceSelector alone every pod of the matching namespaces; both, the matching pods
there; ipBlock matches by address, pods included (the VPC CNI's agent matches addresses; pods have VPC addresses).
Endpoints outside the pod network (the API server's interfaces, the internet, the Pod Identity agent) have no
namespace: only ipBlock peers match them, and only the pod's side of the connection is evaluated.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from ipaddress import ip_address, ip_network
from typing import Any


@dataclass(frozen=True)
class Endpoint:
    name: str
    ip: str
    namespace: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)


def selects(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """A LabelSelector; an empty one selects everything."""
    selector = selector or {}
    if any(labels.get(key) != value for key, value in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        present = key in labels
        ok = {
            "In": present and labels.get(key) in values,
            "NotIn": not present or labels.get(key) not in values,
            "Exists": present,
            "DoesNotExist": not present,
        }[operator]
        if not ok:
            return False
    return True


class Policies:
    def __init__(self, objects: Iterable[dict[str, Any]]) -> None:
        objects = list(objects)
        self.policies = [o for o in objects if o["kind"] == "NetworkPolicy"]
        self.namespace_labels = {
            o["metadata"]["name"]: {**o["metadata"].get("labels", {}), "kubernetes.io/metadata.name": o["metadata"]["name"]}
            for o in objects
            if o["kind"] == "Namespace"
        }

    def labels_of(self, namespace: str) -> dict[str, str]:
        return self.namespace_labels.get(namespace, {"kubernetes.io/metadata.name": namespace})

    def selecting(self, pod: Endpoint, direction: str) -> list[dict[str, Any]]:
        found = []
        for policy in self.policies:
            spec = policy["spec"]
            types = spec.get("policyTypes") or ["Ingress", *(["Egress"] if "egress" in spec else [])]
            if policy["metadata"]["namespace"] == pod.namespace and direction in types and selects(spec["podSelector"], pod.labels):
                found.append(policy)
        return found

    def _peer_matches(self, peer: Mapping[str, Any], other: Endpoint, policy_namespace: str) -> bool:
        if "ipBlock" in peer:
            block = peer["ipBlock"]
            address = ip_address(other.ip)
            return address in ip_network(block["cidr"]) and not any(address in ip_network(cidr) for cidr in block.get("except", []))
        if other.namespace is None:
            return False
        if "namespaceSelector" in peer:
            if not selects(peer["namespaceSelector"], self.labels_of(other.namespace)):
                return False
        elif other.namespace != policy_namespace:
            return False
        return selects(peer.get("podSelector"), other.labels)

    @staticmethod
    def _port_matches(ports: list[dict[str, Any]] | None, port: int, protocol: str) -> bool:
        if not ports:
            return True
        for entry in ports:
            if entry.get("protocol", "TCP") != protocol:
                continue
            number = entry.get("port")
            if number is None:
                return True
            if not isinstance(number, int):
                raise AssertionError(f"named port {number!r}: the evaluator reads numbers only")
            if number <= port <= entry.get("endPort", number):
                return True
        return False

    def allows_direction(self, pod: Endpoint, other: Endpoint, port: int, protocol: str, direction: str) -> bool:
        selecting = self.selecting(pod, direction)
        if not selecting:
            return True
        key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
        for policy in selecting:
            for rule in policy["spec"].get(key, []):
                peers = rule.get(peers_key)
                peer_ok = not peers or any(self._peer_matches(peer, other, policy["metadata"]["namespace"]) for peer in peers)
                if peer_ok and self._port_matches(rule.get("ports"), port, protocol):
                    return True
        return False

    def allows(self, source: Endpoint, destination: Endpoint, port: int, protocol: str = "TCP") -> tuple[bool, bool]:
        """(the source's egress allows it, the destination's ingress allows it)."""
        egress = source.namespace is None or self.allows_direction(source, destination, port, protocol, "Egress")
        ingress = destination.namespace is None or self.allows_direction(destination, source, port, protocol, "Ingress")
        return egress, ingress
