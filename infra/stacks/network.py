"""Network stack: the single-zone VPC, its endpoints and flow logs."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from config.model import PlatformConfig
from infra.network.endpoints import VpcEndpoints, VpcEndpointsProps
from infra.network.refs import ExistingVpcProps, NetworkRefs
from infra.network.vpc import SingleZoneVpc, SingleZoneVpcProps


def vpc_props(config: PlatformConfig) -> SingleZoneVpcProps:
    network = config.network
    return SingleZoneVpcProps(
        az_id=config.placement.az_id,
        control_plane_az_id=config.placement.control_plane_az_id,
        vpc_cidr=network.vpc_cidr,
        node_subnet_prefix=network.node_subnet_prefix,
        nat_gateways=network.nat_gateways,
        flow_logs_retention_days=network.flow_logs.retention_days if network.flow_logs.enabled else None,
    )


def existing_vpc_props(config: PlatformConfig) -> ExistingVpcProps:
    existing = config.network.existing_vpc
    if existing is None:
        raise ValueError("existing_vpc_props: network.existing_vpc is not set; call it only for a config that names a VPC")
    return ExistingVpcProps(
        vpc_id=existing.vpc_id,
        cidr=str(existing.cidr),
        node_subnet_ids=tuple(existing.node_subnet_ids),
        control_plane_subnet_ids=tuple(existing.control_plane_subnet_ids),
        az_id=config.placement.az_id,
        control_plane_az_id=config.placement.control_plane_az_id,
    )


class NetworkStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: PlatformConfig, **kwargs) -> None:
        super().__init__(scope, construct_id, description=f"{config.name}: single-zone VPC in {config.placement.az_id}", **kwargs)
        vpc = SingleZoneVpc(self, "Network", vpc_props(config))
        self.refs: NetworkRefs = vpc.refs
        endpoints = VpcEndpointsProps(
            network=self.refs, route_subnets=tuple(self.refs.node_subnets), interface_endpoints=tuple(config.network.interface_endpoints)
        )
        VpcEndpoints(self, "Endpoints", endpoints)
