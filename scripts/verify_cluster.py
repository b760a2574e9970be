"""Verify a deployed cluster: nodes, GPU and EFA resources, burn-in, Karpenter, device plugins, NodePools, endpoints.

    python -m scripts.verify_cluster                                   # ~/.kube/config, current context
    python -m scripts.verify_cluster --context prod --probe-services --json
    python -m scripts.verify_cluster --endpoint llama=https://llama.example.com/health --timeout 5

Every GPU node must advertise all the GPUs (nvidia.com/gpu) of its instance type and, on EFA pools, all
its EFA devices (vpc.amazonaws.com/efa), per core/instances.py. --endpoint NAME=URL expects
HTTP 200 from a GET; --probe-services does the same through the API server's service proxy for every
Service labelled llm-kit/workload, on the path in its llm-kit/health-path annotation.

Exit codes: 0 no check failed, 1 some check failed, 2 bad kubeconfig, unreachable API server or usage.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import urllib3
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from core.docstrings import first_paragraph
from core.labels import HEALTH_PATH_ANNOTATION, WORKLOAD_LABEL
from scripts import _cluster_checks as checks
from scripts._checks import Check, CheckFn, fail, ok, report, run_checks, skip, warn
from scripts._cluster import Cluster
from scripts.aws_session import ToolError

PROG = "verify_cluster"
KUBECONFIG_FIX = "run `aws eks update-kubeconfig --region REGION --name CLUSTER`, or pass --kubeconfig / --context"


def _http_get(url: str, timeout: float) -> tuple[int | None, str]:
    """(HTTP status, note): status None when no answer came back."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="GET"), timeout=timeout) as response:
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, exc.reason
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        return None, str(getattr(exc, "reason", exc))


def endpoints(cluster: Cluster) -> list[Check]:
    rows = []
    for name, url in cluster.endpoints:
        started = time.monotonic()
        status, note = _http_get(url, cluster.timeout)
        took = f"{(time.monotonic() - started) * 1000:.0f} ms"
        row = f"endpoint[{name}]"
        if status == 200:
            rows.append(ok(row, f"GET {url}: 200 in {took}"))
        elif status is None:
            rows.append(
                fail(
                    row,
                    f"GET {url} got no answer ({note})",
                    "check the URL, that a Service or Ingress exposes the workload, and network access from here",
                )
            )
        else:
            rows.append(
                fail(
                    row,
                    f"GET {url} answered {status} {note}".rstrip(),
                    "kubectl logs the workload's pods; a model that is still loading answers 503 until it is ready",
                )
            )
    return rows


def _port(service: Any) -> str | None:
    ports = service.spec.ports or []
    chosen = next((p for p in ports if p.name == "http"), ports[0] if ports else None)
    return None if chosen is None else str(chosen.name or chosen.port)


def probed_services(cluster: Cluster) -> list[Check]:
    if not cluster.probe_services:
        return []
    services = cluster.core.list_service_for_all_namespaces(label_selector=WORKLOAD_LABEL, _request_timeout=cluster.timeout).items
    if not services:
        return [warn("services", f"no Service has the label {WORKLOAD_LABEL}", "deploy a workload, or drop --probe-services")]
    rows = []
    for service in services:
        namespace, name = service.metadata.namespace, service.metadata.name
        row = f"service[{namespace}/{name}]"
        path = (service.metadata.annotations or {}).get(HEALTH_PATH_ANNOTATION)
        port = _port(service)
        if not path or port is None:
            rows.append(skip(row, f"no {HEALTH_PATH_ANNOTATION} annotation or no port"))
            continue
        try:
            cluster.core.connect_get_namespaced_service_proxy_with_path(
                f"{name}:{port}", namespace, path.lstrip("/"), _request_timeout=cluster.timeout
            )
        except ApiException as exc:
            rows.append(
                fail(
                    row,
                    f"GET {path} through the API server proxy answered {exc.status} {exc.reason}",
                    f"kubectl -n {namespace} get endpoints {name} (are any pods "
                    f"ready?); kubectl -n {namespace} logs -l {WORKLOAD_LABEL}={name}",
                )
            )
            continue
        rows.append(ok(row, f"GET {path} on port {port}: 200"))
    return rows


CHECKS: list[tuple[str, CheckFn]] = [
    ("nodes", checks.nodes_ready),
    ("pools", checks.gpu_pools),
    ("burn-in", checks.burn_in),
    ("karpenter", checks.karpenter),
    ("device-plugins", checks.device_plugins),
    ("nodepools", checks.nodepools),
    ("endpoints", endpoints),
    ("services", probed_services),
]


def guard(name: str, exc: Exception) -> Check | None:
    if isinstance(exc, ApiException):
        if exc.status == 403:
            return warn(
                name,
                f"not checked: forbidden ({exc.reason})",
                "give your identity RBAC read access (get, list) to nodes, deployments, daemonsets, services and nodepools",
            )
        return warn(
            name, f"not checked: the API answered {exc.status} {exc.reason}", "re-run; if it persists, check this by hand with kubectl"
        )
    if isinstance(exc, (urllib3.exceptions.HTTPError, OSError)):
        return warn(name, f"not checked: request failed ({exc})", "re-run with a larger --timeout")
    return None


def connect(kubeconfig: Path, context: str | None, timeout: float) -> tuple[Any, str]:
    """An API client for the kubeconfig, after a /version call proved the server answers and accepts us."""
    where = f"{kubeconfig}" + (f" (context {context})" if context else "")
    try:
        api = k8s_config.new_client_from_config(config_file=str(kubeconfig), context=context)
    except (ConfigException, OSError, ValueError, TypeError) as exc:
        reason = str(exc).splitlines()[0].rstrip(".") if str(exc) else type(exc).__name__
        raise ToolError(f"cannot use kubeconfig {where}: {reason}; {KUBECONFIG_FIX}") from None
    host = getattr(getattr(api, "configuration", None), "host", "the API server")
    try:
        version = k8s.VersionApi(api).get_code(_request_timeout=timeout)
    except ApiException as exc:
        if exc.status == 401:
            raise ToolError(
                f"{host} rejected the credentials (401); {KUBECONFIG_FIX}, and check your principal is in cluster.admin_principal_arns"
            ) from None
        raise ToolError(
            f"{host} answered {exc.status} {exc.reason} to GET /version; check the context points at the kit's cluster"
        ) from None
    except (urllib3.exceptions.HTTPError, ConfigException, OSError) as exc:
        raise ToolError(
            f"cannot reach the Kubernetes API at {host} ({type(exc).__name__}); the endpoint is private by default: "
            "run from inside the VPC, or add your CIDR to cluster.public_access_cidrs and deploy"
        ) from None
    return api, f"{host} (Kubernetes {getattr(version, 'git_version', '?')})"


def parse_endpoint(value: str) -> tuple[str, str]:
    name, sep, url = value.partition("=")
    if not sep or not name or not url.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError(f"{value!r} is not NAME=URL with an http:// or https:// URL")
    return name, url


def default_kubeconfig() -> Path:
    first = os.environ.get("KUBECONFIG", "").split(os.pathsep)[0]
    return Path(first or "~/.kube/config").expanduser()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=PROG, description=first_paragraph(__doc__))
    parser.add_argument(
        "--kubeconfig", type=Path, default=default_kubeconfig(), help="default: the first file in $KUBECONFIG, else ~/.kube/config"
    )
    parser.add_argument("--context", help="kubeconfig context (default: the current one)")
    parser.add_argument(
        "--endpoint", type=parse_endpoint, action="append", default=[], metavar="NAME=URL", help="GET URL and expect 200; repeatable"
    )
    parser.add_argument(
        "--probe-services", action="store_true", help=f"GET each {WORKLOAD_LABEL} Service's {HEALTH_PATH_ANNOTATION} through the API server"
    )
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per request (default 10)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    if args.timeout <= 0:
        parser.error("--timeout must be more than 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        api, server = connect(args.kubeconfig, args.context, args.timeout)
    except ToolError as exc:
        if args.json:
            print(json.dumps({"ok": False, "error": str(exc)}, indent=2))
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    cluster = Cluster(k8s.CoreV1Api(api), k8s.AppsV1Api(api), k8s.CustomObjectsApi(api), args.timeout, args.endpoint, args.probe_services)
    rows = run_checks(CHECKS, cluster, guard)
    return report(rows, prog=PROG, as_json=args.json, header={"server": server, "context": args.context})


if __name__ == "__main__":
    sys.exit(main())
