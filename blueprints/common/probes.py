"""Probes timed for servers that spend minutes loading weights before they answer."""

from __future__ import annotations

from blueprints.common.k8s_types import ContainerProbes, Lifecycle, Probe


def http_probes(*, port: int | str, ready_path: str, live_path: str | None = None, startup_minutes: int) -> ContainerProbes:
    """Startup allows startup_minutes; readiness gates traffic every 10 s; liveness restarts a hung server."""

    def get(path: str) -> Probe:
        return {"httpGet": {"path": path, "port": port}}

    return {
        "startupProbe": {**get(ready_path), "periodSeconds": 10, "timeoutSeconds": 5, "failureThreshold": startup_minutes * 6},
        "readinessProbe": {**get(ready_path), "periodSeconds": 10, "timeoutSeconds": 5, "failureThreshold": 3},
        "livenessProbe": {**get(live_path or ready_path), "periodSeconds": 30, "timeoutSeconds": 10, "failureThreshold": 5},
    }


def graceful_stop(seconds: int = 15) -> Lifecycle:
    """Keep serving while endpoints drop the pod, then let in-flight requests finish."""
    return {"preStop": {"sleep": {"seconds": seconds}}}
