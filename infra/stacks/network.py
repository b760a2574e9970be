"""Network stack: the single-zone VPC, its endpoints and flow logs."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from infra.config.model import KitConfig
from infra.network.endpoints import VpcEndpoints
from infra.network.refs import NetworkRefs
from infra.network.vpc import SingleZoneVpc


class NetworkStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: KitConfig, **kwargs) -> None:
        super().__init__(scope, construct_id, description=f"{config.name}: single-zone VPC in {config.placement.az_id}", **kwargs)
        vpc = SingleZoneVpc(self, "Network", config=config)
        self.refs: NetworkRefs = vpc.refs(config)
        VpcEndpoints(self, "Endpoints", config=config, network=self.refs, route_subnets=self.refs.node_subnets)
