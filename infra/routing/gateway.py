"""The Gateway and its class, as plain objects for the workloads stack (the controllers come from the cluster stack).

Envoy Gateway turns the Gateway into an Envoy Deployment and a LoadBalancer Service in its own namespace; the
Gateway's infrastructure annotations reach that Service, where EKS's cloud controller reads them: a Network Load
Balancer, internal unless the config says otherwise, admitting only the source ranges the config names (internal:
the VPC), with TLS from ACM when a certificate is given.
"""

from __future__ import annotations

from typing import Any

from core.routing import GATEWAY_CLASS, GATEWAY_NAME, RATE_LIMIT_REDIS
from infra.routing.redis_auth import redis_policy
from infra.routing.settings import GatewaySettings
from infra.routing.teams import ENVOY_PROXY, TeamsFor, team_objects

CONTROLLER = "gateway.envoyproxy.io/gatewayclass-controller"
ANNOTATION = "service.beta.kubernetes.io/"


def load_balancer_annotations(settings: GatewaySettings, vpc_cidr: str) -> dict[str, str]:
    sources = list(settings.source_cidrs) or [vpc_cidr]
    annotations = {
        f"{ANNOTATION}aws-load-balancer-type": "nlb",
        f"{ANNOTATION}load-balancer-source-ranges": ",".join(sources),
    }
    if settings.scheme == "internal":
        annotations[f"{ANNOTATION}aws-load-balancer-internal"] = "true"
    if settings.certificate_arn:
        annotations[f"{ANNOTATION}aws-load-balancer-ssl-cert"] = settings.certificate_arn
        annotations[f"{ANNOTATION}aws-load-balancer-ssl-ports"] = "443"
        annotations[f"{ANNOTATION}aws-load-balancer-ssl-negotiation-policy"] = "ELBSecurityPolicy-TLS13-1-2-2021-06"
    return annotations


def gateway_objects(
    namespace: str,
    labels: dict[str, str],
    settings: GatewaySettings,
    *,
    vpc_cidr: str,
    region: str,
    teams_for: TeamsFor,
    isolate: bool = True,
) -> list[dict[str, Any]]:
    """isolate: cluster.network_policies.enabled; the Redis then admits the rate limiter alone."""
    # TLS ends at the load balancer: Envoy's listener is plain HTTP on the port the load balancer forwards.
    port = settings.listener_port
    return [
        {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "GatewayClass",
            "metadata": {"name": GATEWAY_CLASS, "labels": labels},
            "spec": {"controllerName": CONTROLLER},
        },
        {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "Gateway",
            "metadata": {"name": GATEWAY_NAME, "namespace": namespace, "labels": labels},
            "spec": {
                "gatewayClassName": GATEWAY_CLASS,
                "infrastructure": {
                    "annotations": load_balancer_annotations(settings, vpc_cidr),
                    # The proxies' service account, access log and buffers (infra/routing/teams.py).
                    "parametersRef": {"group": "gateway.envoyproxy.io", "kind": "EnvoyProxy", "name": ENVOY_PROXY},
                },
                "listeners": [{"name": "http", "protocol": "HTTP", "port": port, "allowedRoutes": {"namespaces": {"from": "Same"}}}],
            },
        },
        *team_objects(namespace, labels, settings, region=region, teams_for=teams_for),
        *([redis_policy({"app.kubernetes.io/name": RATE_LIMIT_REDIS}, labels)] if isolate else []),
    ]
