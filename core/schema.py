"""The base of every config model, and the field types several of them share."""

from __future__ import annotations

from ipaddress import IPv4Network
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class StrictModel(BaseModel):
    """Unknown keys are errors, and a parsed config cannot be changed."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


InstanceType = Annotated[
    str,
    Field(pattern=r"^[a-z][a-z0-9-]*\.[a-z0-9-]+$", description="An EC2 instance type such as m7i.xlarge.", examples=["m7i.xlarge"]),
]
KubeName = Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=40, examples=["gpu-h100"])]
"""A short Kubernetes object name (node pools, workloads): it prefixes other names, so at most 40 characters."""
KubernetesName = Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", examples=["inference"])]
"""A Kubernetes object name of up to 63 characters (namespaces, Secrets, claims)."""
LabelKey = Annotated[str, Field(pattern=r"^([a-z0-9.-]+/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$", max_length=316)]
LabelValue = Annotated[str, Field(max_length=63)]
ImageRef = Annotated[str, Field(pattern=r"^[\w.\-/:@]+$")]
_OCTET = r"(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
# The pattern is for editors (JSON Schema); the model itself parses with ipaddress, which also checks the host bits.
# The retention periods CloudWatch Logs accepts.
LogRetentionDays = Literal[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]
Ipv4Cidr = Annotated[
    IPv4Network, Field(json_schema_extra={"pattern": rf"^{_OCTET}(\.{_OCTET}){{3}}/(3[0-2]|[12]?\d)$"}, examples=["10.0.0.0/16"])
]
