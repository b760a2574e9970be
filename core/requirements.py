"""What a workload may ask of the cluster: the infra layer reads these generically and never names a blueprint."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from core.isolation import PodSecurityLevel, least_strict
from core.versions import HelmPin


@dataclass(frozen=True)
class ControllerFlows:
    """What one kind of a controller chart's pods accept and send beyond their namespace's baseline (default deny,
    DNS, and the Kubernetes API for every pod), as the chart's templates define them at `read_at`. The cluster stack
    turns each into a NetworkPolicy of the chart's namespace (infra/cluster/platform_policies.py)."""

    read_at: str
    """The chart version these labels and ports were read at; an install at another version is refused until they
    are read again."""
    pods: Mapping[str, str]
    """The labels of these pods, as the chart gives them (an `app.kubernetes.io/instance` label holds the release
    name: write the ControllerChart's release); empty: every pod of the namespace."""
    webhook_ports: tuple[int, ...] = ()
    """Container ports the API server calls: admission or conversion webhooks, aggregated APIs."""
    metrics_ports: tuple[int, ...] = ()
    """Container ports the cluster's metrics scrapers read."""
    to_workloads: tuple[tuple[Mapping[str, str], tuple[int, ...]], ...] = ()
    """(labels of pods in the workloads namespace, their ports) these pods call."""
    from_workloads: tuple[int, ...] = ()
    """Container ports that pods of the workloads namespace call on these pods."""
    evidence: str = ""
    """Where the labels and ports were read: repository, tag and files."""


@dataclass(frozen=True)
class ControllerChart:
    """An in-cluster controller installed from a pinned Helm chart while any enabled workload needs it."""

    name: str
    """Unique key; the cluster stack installs it once as Controllers/Controller-<name>."""
    chart: str
    pin: HelmPin
    release: str
    namespace: str
    values: Mapping[str, Any] = field(default_factory=dict)
    crds: tuple[str, ...] = ()
    """The custom resources (plural.group) the chart brings, which the workloads' objects use."""
    pod_security: PodSecurityLevel = "baseline"
    """The strictest Pod Security Standard the chart's pods meet; its namespace enforces it."""
    after: tuple[str, ...] = ()
    """Names of controllers that must be installed first (the CRDs or the extension this one needs)."""
    flows: tuple[ControllerFlows, ...] = ()
    """What the controller's pods need beyond the namespace's baseline, one entry per kind of pod. Required for a
    chart that installs pods into a namespace of the kit: where the cluster isolates namespaces, that namespace denies
    all other traffic, and a chart that declares none is refused at synth."""


@dataclass(frozen=True)
class PinnedFile:
    """A file fetched at deploy time: applied only if its SHA-256 is this one."""

    url: str
    sha256: str


@dataclass(frozen=True)
class CrdBundle:
    """CustomResourceDefinitions a project publishes without a chart: the cluster stack downloads the pinned files in a
    one-off Job, refuses any whose SHA-256 differs, applies them with kubectl, then waits for every CRD it names."""

    name: str
    files: tuple[PinnedFile, ...]
    crds: tuple[str, ...]
    """Every CRD (plural.group) the files hold; the Job may create and update these and no other."""


@dataclass(frozen=True)
class MetricsReader:
    """A service account that queries the kit's Prometheus (AMP: aps:QueryMetrics on the workspace through Pod Identity)."""

    namespace: str
    service_account: str
    controller: str | None = None
    """The controller chart (ControllerChart.name) whose pods run as this account: it installs only after the Pod
    Identity association exists, since credentials reach only pods started after it."""


@dataclass(frozen=True)
class S3Access:
    """AWS access through Pod Identity for named service accounts in the workloads namespace: read and
    write under prefixes of the model bucket. Accesses with the same `role` share one IAM role."""

    role: str
    """Groups the service accounts of one kind of workload under one role (its construct id)."""
    description: str
    service_account: str
    read_prefixes: tuple[str, ...] = ()
    write_prefixes: tuple[str, ...] = ()
    reasons: Mapping[str, str] = field(default_factory=dict)
    """prefix -> why the role needs every object under it (the cdk-nag acknowledgment of its wildcard)."""


@dataclass(frozen=True)
class Requirements:
    controllers: tuple[ControllerChart, ...] = ()
    s3_access: tuple[S3Access, ...] = ()
    pod_security: PodSecurityLevel = "restricted"
    """The level the workloads namespace enforces: the least strict any enabled workload needs."""
    crd_bundles: tuple[CrdBundle, ...] = ()
    metrics_readers: tuple[MetricsReader, ...] = ()
    gateway: bool = False
    """A workload routes through the kit's Gateway: the workloads stack writes it (config gateway:)."""

    @staticmethod
    def union(parts: Iterable[Requirements]) -> Requirements:
        """Every controller once (by name, first wins), every access in order, the least strict pod security."""
        controllers: dict[str, ControllerChart] = {}
        bundles: dict[str, CrdBundle] = {}
        readers: dict[MetricsReader, None] = {}
        access: list[S3Access] = []
        levels: list[PodSecurityLevel] = []
        gateway = False
        for part in parts:
            for controller in part.controllers:
                controllers.setdefault(controller.name, controller)
            for bundle in part.crd_bundles:
                bundles.setdefault(bundle.name, bundle)
            readers.update(dict.fromkeys(part.metrics_readers))
            access += part.s3_access
            levels.append(part.pod_security)
            gateway = gateway or part.gateway
        return Requirements(
            controllers=tuple(controllers[name] for name in sorted(controllers)),
            s3_access=tuple(access),
            pod_security=least_strict(levels),
            crd_bundles=tuple(bundles[name] for name in sorted(bundles)),
            metrics_readers=tuple(readers),
            gateway=gateway,
        )
