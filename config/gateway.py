"""Config of the kit's Gateway: one entry point for every workload that routes through it."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from core.schema import Ipv4Cidr, KubernetesName, LogRetentionDays, StrictModel

AcmCertificateArn = Annotated[
    str,
    Field(
        pattern=r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}$",
        examples=["arn:aws:acm:us-west-2:111122223333:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"],
    ),
]


class Team(StrictModel):
    """A team that calls models through the gateway with its own API key (kept in a Secret, never in the config)."""

    name: KubernetesName
    """The team's client id: the gateway forwards it as x-team-id, and usage and cost are reported under it."""
    models: Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)]
    """What the team may call: names of routed workloads (their served model names) and of gateway.bedrock models."""
    tokens_per_minute: Annotated[int | None, Field(ge=1)] = None
    """Tokens (prompt and completion) per minute over all its models; requests beyond get 429 until the minute ends."""
    tokens_per_day: Annotated[int | None, Field(ge=1)] = None
    """Tokens per day over all its models; an alert fires at 80%."""


class BedrockModel(StrictModel):
    """A model served by Amazon Bedrock behind the same gateway: called by its name like a local model."""

    name: KubernetesName
    """The name clients send as "model"."""
    model_id: Annotated[str, Field(pattern=r"^([a-z]{2,4}\.)?[a-z0-9-]+\.[\w.:-]+$", examples=["anthropic.claude-3-5-haiku-20241022-v1:0"])]
    """The Bedrock model id (a foundation model), or a cross-region inference profile id (us., eu., apac. ...)."""
    input_usd_per_million: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    """Price per million input tokens, for the showback rules (copy it from the Bedrock pricing page and date it)."""
    output_usd_per_million: Annotated[float, Field(ge=0, allow_inf_nan=False)]


class Audit(StrictModel):
    """The gateway's audit log: one record per request in a CloudWatch Logs group the kit keeps on destroy."""

    log_retention_days: LogRetentionDays = 90
    """How long CloudWatch keeps the gateway's audit log (team, model, tokens, latency, status of every request)."""
    log_paths: bool = False
    """Also log each request's path and the model id sent upstream (a Bedrock fallback's). Prompt and completion text
    are never logged: the proxies' access log does not see request bodies."""


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
    teams: list[Team] = []
    """Who may call which model, with what token budget. With no team, the gateway asks for no key (internal use).
    Teams need certificate_arn: their keys travel with every request."""
    allow_unauthenticated: bool = False
    """Acknowledge an internet-facing gateway with no teams: everyone in source_cidrs may call every model with no
    key, budget or audit record of who called. Without it, an internet-facing gateway needs teams."""
    allow_plaintext: bool = False
    """Acknowledge teams' API keys over plain HTTP (an internal gateway without certificate_arn), for an internal
    test: anyone on the network path can read the keys. Without it, teams need certificate_arn."""
    bedrock: list[BedrockModel] = []
    """Models served by Amazon Bedrock through the gateway: for teams that list them, and as workloads' fallback."""
    gpu_hour_usd: Annotated[float | None, Field(gt=0, allow_inf_nan=False)] = None
    """What one GPU-hour costs you (your blended price), to share local models' cost between teams by their tokens.
    Without it, usage is reported in tokens only."""
    audit: Audit = Audit()
