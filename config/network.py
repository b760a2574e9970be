"""Config of the single-zone placement and the VPC."""

from __future__ import annotations

import re
from ipaddress import IPv4Network
from typing import Annotated, Literal

from pydantic import Field, field_validator

from core.regions import az_id_prefix
from core.schema import Ipv4Cidr, LogRetentionDays, StrictModel

AzId = Annotated[str, Field(pattern=r"^[a-z]{2,6}\d-az\d{1,2}$", examples=["usw2-az2"])]

InterfaceEndpoint = Literal["ecr.api", "ecr.dkr", "sts", "ec2", "logs", "ssm", "elasticloadbalancing", "autoscaling"]
# Images and model weights are pulled through these so that they stay off the NAT gateway.
DEFAULT_INTERFACE_ENDPOINTS: tuple[InterfaceEndpoint, ...] = ("ecr.api", "ecr.dkr", "sts", "ec2", "logs")
NO_NAT_REQUIRED_ENDPOINTS: tuple[InterfaceEndpoint, ...] = ("ecr.api", "ecr.dkr", "sts", "ec2")

_AZ_NAME = re.compile(r"^([a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d)([a-z])$")


def _id_form(region: str) -> str:
    try:
        prefix = az_id_prefix(region)
    except ValueError:
        return "like usw2-az2 in us-west-2"
    return f"in {region} they read {prefix}-az1, {prefix}-az2, ..."


class PlacementSettings(StrictModel):
    az_id: AzId
    """AZ ID (e.g. usw2-az2; the same zone in every account, unlike AZ names) of the one zone for every node, the GPU
    capacity (capacity blocks are sold per AZ ID) and FSx for Lustre."""
    control_plane_az_id: AzId
    """AZ ID of a second zone of the same region, used only for the EKS control plane's network interfaces: EKS requires two."""

    @field_validator("az_id", "control_plane_az_id", mode="before")
    @classmethod
    def _an_id_not_a_name(cls, value: object) -> object:
        found = _AZ_NAME.match(value) if isinstance(value, str) else None
        if found:
            region = found.group(1)
            raise ValueError(
                f"{value} is an AZ name, which points at a different physical zone in each account; the kit needs the zone's AZ ID "
                f"({_id_form(region)}). Yours: aws ec2 describe-availability-zones --region {region} "
                f"--zone-names {value} --query 'AvailabilityZones[].ZoneId'"
            )
        return value


class FlowLogs(StrictModel):
    enabled: bool = True
    """Send VPC flow logs (all traffic) to CloudWatch Logs."""
    retention_days: LogRetentionDays = 90
    """How long CloudWatch keeps the flow logs."""


class ExistingVpc(StrictModel):
    vpc_id: Annotated[str, Field(pattern=r"^vpc-[0-9a-f]{8,17}$", examples=["vpc-0123456789abcdef0"])]
    """The VPC to deploy into; the kit then creates no network resources of its own."""
    cidr: Ipv4Cidr
    """The VPC's primary CIDR, used for security-group rules (no lookups are made at synth)."""
    node_subnet_ids: Annotated[list[Annotated[str, Field(pattern=r"^subnet-[0-9a-f]{8,17}$")]], Field(min_length=1)]
    """Private subnets in placement.az_id for every node; tag them kubernetes.io/role/internal-elb=1."""
    control_plane_subnet_ids: Annotated[list[Annotated[str, Field(pattern=r"^subnet-[0-9a-f]{8,17}$")]], Field(min_length=2)]
    """Private subnets in placement.az_id and placement.control_plane_az_id for the EKS control plane."""
    control_plane_subnet_cidrs: list[Ipv4Cidr] | None = Field(default=None, examples=[["10.20.240.0/28", "10.20.240.16/28"]])
    """The IPv4 ranges of control_plane_subnet_ids, one per subnet (aws ec2 describe-subnets --subnet-ids ... --query
    'Subnets[].CidrBlock'). The EKS endpoint's and the AMP scraper's interfaces live there, so the NetworkPolicies admit
    these ranges (not the whole VPC) to webhooks and metrics ports; no node may use these subnets. Required while
    cluster.network_policies.enabled."""


class Network(StrictModel):
    vpc_cidr: Ipv4Cidr = IPv4Network("10.0.0.0/16")
    """CIDR of the VPC the kit creates (prefix /16 to /22)."""
    node_subnet_prefix: Annotated[int, Field(ge=16, le=26)] = 17
    """Prefix length of the node subnet in placement.az_id. Size it for every GPU pod IP plus one primary interface per node."""
    nat_gateways: Annotated[int, Field(ge=0, le=1)] = 1
    """NAT gateways in placement.az_id (0 or 1; the nodes live in one zone, so a second one would not add resilience)."""
    interface_endpoints: list[InterfaceEndpoint] = list(DEFAULT_INTERFACE_ENDPOINTS)
    """Interface VPC endpoints in the node zone. The S3 gateway endpoint is always created."""
    flow_logs: FlowLogs = FlowLogs()
    """VPC flow logs, which cdk-nag (VPC7) and most audits require."""
    existing_vpc: ExistingVpc | None = None
    """Deploy into an existing VPC, named by IDs (nothing is looked up at synth)."""
