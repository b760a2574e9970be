"""gateway.* mapped to the records and props of infra/routing (the Gateway objects, Bedrock access)."""

from __future__ import annotations

from aws_cdk import aws_eks_v2 as eks

from config.gateway import Gateway
from config.model import PlatformConfig
from core.requirements import Requirements
from infra.routing.bedrock import BedrockAccessProps
from infra.routing.settings import BedrockRoute, GatewaySettings, TeamBudget


def gateway_settings(gateway: Gateway) -> GatewaySettings:
    return GatewaySettings(
        scheme=gateway.scheme,
        source_cidrs=tuple(str(cidr) for cidr in gateway.source_cidrs),
        certificate_arn=gateway.certificate_arn,
        teams=tuple(
            TeamBudget(name=team.name, tokens_per_minute=team.tokens_per_minute, tokens_per_day=team.tokens_per_day)
            for team in gateway.teams
        ),
        bedrock=tuple(
            BedrockRoute(
                name=model.name,
                model_id=model.model_id,
                input_usd_per_million=model.input_usd_per_million,
                output_usd_per_million=model.output_usd_per_million,
            )
            for model in gateway.bedrock
        ),
        gpu_hour_usd=gateway.gpu_hour_usd,
        log_paths=gateway.audit.log_paths,
    )


def bedrock_access_props(config: PlatformConfig, requirements: Requirements, cluster: eks.ICluster) -> BedrockAccessProps | None:
    """None unless the gateway is installed and serves Bedrock models."""
    if not (requirements.gateway and config.gateway.bedrock):
        return None
    return BedrockAccessProps(cluster=cluster, model_ids=tuple(model.model_id for model in config.gateway.bedrock))
