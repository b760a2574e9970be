"""In-cluster controllers that enabled workloads require (pinned Helm charts), installed generically."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_eks_v2 as eks
from constructs import Construct, IDependable

from core.requirements import ControllerChart
from infra.cluster.helm import install_chart


@dataclass(frozen=True, kw_only=True)
class ControllersProps:
    """The controller charts the enabled workloads require, and what they wait for."""

    cluster: eks.Cluster
    """The cluster the charts are installed on."""
    charts: tuple[ControllerChart, ...]
    """The charts (core.requirements), each once by name; a chart's `after` names others of these."""
    after: IDependable
    """What must exist before any chart installs (nodes to run on, the default StorageClass)."""

    def __post_init__(self) -> None:
        names = [spec.name for spec in self.charts]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"ControllersProps.charts: got {twice} more than once; each controller once; merge the requirements")
        for spec in self.charts:
            missing = [first for first in spec.after if first not in names]
            if missing:
                raise ValueError(
                    f"ControllersProps.charts: controller {spec.name} is installed after {missing}, which no enabled workload"
                    " requires; only controllers among the charts; require them too or drop them from `after`"
                )


class Controllers(Construct):
    """Each required controller chart, installed once and in the order their `after` gives."""

    def __init__(self, scope: Construct, construct_id: str, props: ControllersProps) -> None:
        super().__init__(scope, construct_id)
        self.charts: dict[str, eks.HelmChart] = {}
        for spec in sorted(props.charts, key=lambda c: c.name):
            chart = install_chart(
                props.cluster,
                f"Controller-{spec.name}",
                chart=spec.chart,
                pin=spec.pin,
                release=spec.release,
                namespace=spec.namespace,
                pod_security=spec.pod_security,
                wait=True,
                values=_plain(spec.values),
                flows=spec.flows,
            )
            chart.node.add_dependency(props.after)
            self.charts[spec.name] = chart
        for spec in props.charts:
            for first in spec.after:
                self.charts[spec.name].node.add_dependency(self.charts[first])


def _plain(value):
    """Mappings and sequences as plain dicts and lists: jsii serialises nothing else."""
    if isinstance(value, dict) or hasattr(value, "items"):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value
