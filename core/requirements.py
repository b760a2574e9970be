"""What a workload may ask of the cluster: the infra layer reads these generically and never names a blueprint."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from core.isolation import PodSecurityLevel, least_strict
from core.versions import HelmPin


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

    @staticmethod
    def union(parts: Iterable[Requirements]) -> Requirements:
        """Every controller once (by name, first wins), every access in order, the least strict pod security."""
        controllers: dict[str, ControllerChart] = {}
        access: list[S3Access] = []
        levels: list[PodSecurityLevel] = []
        for part in parts:
            for controller in part.controllers:
                controllers.setdefault(controller.name, controller)
            access += part.s3_access
            levels.append(part.pod_security)
        return Requirements(controllers=tuple(controllers[name] for name in sorted(controllers)), s3_access=tuple(access), pod_security=least_strict(levels))
