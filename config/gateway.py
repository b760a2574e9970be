"""Config of the kit's Gateway: one entry point for every workload that routes through it."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from core.schema import Ipv4Cidr, StrictModel

AcmCertificateArn = Annotated[
    str,
    Field(pattern=r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}$", examples=["arn:aws:acm:us-west-2:111122223333:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"]),
]


class Gateway(StrictModel):
    """Installed only while an enabled workload sets routing.gateway (Envoy Gateway with Envoy AI Gateway)."""

    scheme: Literal["internal", "internet-facing"] = "internal"
    """internal: a Network Load Balancer reachable from inside the VPC (and what is peered or connected to it).
    internet-facing: a public one, which needs source_cidrs and certificate_arn."""
    source_cidrs: list[Ipv4Cidr] = []
    """Who may connect to the load balancer. internal: default the VPC's CIDR. internet-facing: required."""
    certificate_arn: AcmCertificateArn | None = None
    """An ACM certificate in the config's region: the load balancer terminates TLS on port 443. Required for
    internet-facing; without it an internal gateway listens on plain HTTP port 80."""
