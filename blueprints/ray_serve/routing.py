"""The gateway route of a Ray Serve workload, and the config mistakes it refuses.

Ray Serve chooses the replica itself (each node's proxy hands the request to a replica through its request router),
so the route has no InferencePool or endpoint picker: it goes to the RayService's serve Service (KubeRay's
`<name>-serve-svc`, port 8000, the healthy proxies of the active cluster) as an Envoy Gateway Backend, the way a
fallback route reaches a vLLM workload's Service (blueprints/common/routing.py add_fallback_route), with the
Bedrock model at the next priority when a fallback is set.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from blueprints.common import objects, rollout
from blueprints.common import routing as request_path
from blueprints.ray_serve.params import RayRouting
from core.issues import ConfigIssue
from core.platform import Platform

if TYPE_CHECKING:
    import cdk8s


def issues(routing: RayRouting | None, platform: Platform) -> list[ConfigIssue]:
    if routing is None or routing.fallback is None:
        return []
    return request_path.fallback_issues(
        routing.fallback, routing.gateway, platform, gateway_fix="set routing.gateway: true, or remove fallback"
    )


def add_route(
    chart: cdk8s.Chart, name: str, blueprint: str, served_name: str, service: str, port: int, routing: RayRouting | None, platform: Platform
) -> None:
    """The Backend for the serve Service, its AIServiceBackend, the AIGatewayRoute (with the teams' policy), and with a
    fallback the Bedrock backend at the next priority and the retries that move a failed request there."""
    if routing is None or not routing.gateway:
        return
    labels = objects.labels(name, blueprint, "routing")
    local = rollout.service_backend(chart, "local", f"{name}-local", labels, service, port, platform)
    backends = [{"name": local, "priority": 0}]
    if routing.fallback is not None:
        backends.append(request_path.bedrock_fallback(routing.fallback, platform))
    request_path.add_route(chart, name, labels, served_name, backends, platform)
    if routing.fallback is not None:
        request_path.add_fallback_retries(chart, name, labels)
