"""Install a pinned Helm chart through the cluster's kubectl provider, the same way everywhere."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_eks_v2 as eks

from core.versions import HelmPin


def install_chart(
    cluster: eks.Cluster,
    construct_id: str,
    *,
    chart: str,
    pin: HelmPin,
    namespace: str,
    values: dict,
    release: str | None = None,
    wait: bool = False,
    timeout_minutes: int | None = None,
) -> eks.HelmChart:
    """release defaults to the chart name; the namespace is created when missing."""
    return cluster.add_helm_chart(
        construct_id,
        chart=chart,
        repository=pin.repository,
        version=pin.version,
        release=release or chart,
        namespace=namespace,
        create_namespace=namespace != "kube-system",
        wait=wait,
        timeout=cdk.Duration.minutes(timeout_minutes) if timeout_minutes else None,
        values=values,
    )
