"""What the kit's Gateway is built from: its load balancer, its teams' budgets and its Amazon Bedrock models.

Plain records, so the Gateway objects (infra/routing/gateway.py, teams.py), the Bedrock access (bedrock.py) and the
showback rules (infra/observability/rules/showback.py) never read the config; infra/stacks/routing_props.py maps
gateway.* onto them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from ipaddress import IPv4Network
from typing import Literal

GatewayScheme = Literal["internal", "internet-facing"]
# Kubernetes object names (RFC 1123 labels): team names become header values and label values, Bedrock model names
# become object names.
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
# A foundation model id, or a cross-Region inference profile id (the model id behind a geography prefix).
_BEDROCK_MODEL_ID = re.compile(r"^([a-z]{2,4}\.)?[a-z0-9-]+\.[\w.:-]+$")
_CERTIFICATE_ARN = re.compile(r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}$")


def _check_name(owner: str, value: str) -> None:
    if not _NAME.match(value):
        raise ValueError(
            f"{owner}: got {value!r}; a lowercase RFC 1123 label (a-z, 0-9 and '-', at most 63 characters) is allowed; rename it"
        )


def _check_positive(owner: str, value: float | None) -> None:
    if value is not None and not (math.isfinite(value) and value > 0):
        raise ValueError(f"{owner}: got {value!r}; a finite number above 0 or None is allowed; set a positive value or leave it out")


@dataclass(frozen=True, kw_only=True)
class TeamBudget:
    """A team that calls the Gateway with its own key, and the tokens it may spend."""

    name: str
    """The team's client id (the x-team-id the key check sets); usage and cost are reported under it."""
    tokens_per_minute: int | None = None
    """Tokens (prompt and completion) per minute over all its models. Default: None, no per-minute limit."""
    tokens_per_day: int | None = None
    """Tokens per day over all its models; an alert fires at 80%. Default: None, no daily limit and no alert."""

    def __post_init__(self) -> None:
        _check_name("TeamBudget.name", self.name)
        for field, value in (("tokens_per_minute", self.tokens_per_minute), ("tokens_per_day", self.tokens_per_day)):
            if value is not None and value < 1:
                raise ValueError(
                    f"TeamBudget.{field}: got {value}; a whole number of tokens from 1, or None, is allowed; raise it or leave it out"
                )


@dataclass(frozen=True, kw_only=True)
class BedrockRoute:
    """A model served by Amazon Bedrock behind the Gateway, called by its name like a local model."""

    name: str
    """The name clients send as "model"; also the name of its AIServiceBackend and route."""
    model_id: str
    """The Bedrock model id, or a cross-Region inference profile id (us., eu., global. ...)."""
    input_usd_per_million: float
    """Price per million input tokens, for the showback rules."""
    output_usd_per_million: float
    """Price per million output tokens, for the showback rules."""

    def __post_init__(self) -> None:
        _check_name("BedrockRoute.name", self.name)
        if not _BEDROCK_MODEL_ID.match(self.model_id):
            raise ValueError(
                f"BedrockRoute.model_id: got {self.model_id!r}; a Bedrock model id (provider.model) or an inference profile id"
                " (geography.provider.model) is allowed; copy the id from the Bedrock console"
            )
        for field, value in (
            ("input_usd_per_million", self.input_usd_per_million),
            ("output_usd_per_million", self.output_usd_per_million),
        ):
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(
                    f"BedrockRoute.{field}: got {value!r}; a finite price of 0 or more is allowed; copy it from the Bedrock pricing page"
                )


@dataclass(frozen=True, kw_only=True)
class GatewaySettings:
    """The Gateway's load balancer, teams and Bedrock models, as the Gateway objects and the showback rules read them."""

    scheme: GatewayScheme = "internal"
    """internal: a Network Load Balancer inside the VPC; internet-facing: a public one. Default: "internal", so
    nothing is reachable from the internet unless asked for."""
    source_cidrs: tuple[str, ...] = ()
    """IPv4 ranges allowed to connect to the load balancer. Default: (), meaning the VPC's own range."""
    certificate_arn: str | None = None
    """An ACM certificate: the load balancer ends TLS on port 443. Default: None, plain HTTP on port 80."""
    teams: tuple[TeamBudget, ...] = ()
    """Teams with keys and budgets. Default: (), the Gateway asks for no key."""
    bedrock: tuple[BedrockRoute, ...] = ()
    """Models served by Amazon Bedrock through the Gateway. Default: (), none."""
    gpu_hour_usd: float | None = None
    """What one GPU-hour costs, to share local models' cost between teams by their tokens. Default: None, usage is
    reported in tokens only."""
    log_paths: bool = False
    """Also write each request's path and upstream model id to the access log. Default: False, the log holds what
    the audit needs and no more."""

    def __post_init__(self) -> None:
        for cidr in self.source_cidrs:
            try:
                IPv4Network(cidr)
            except ValueError:
                raise ValueError(
                    f"GatewaySettings.source_cidrs: got {cidr!r}; IPv4 ranges such as '198.51.100.0/24' are allowed; fix the range"
                ) from None
        if self.certificate_arn is not None and not _CERTIFICATE_ARN.match(self.certificate_arn):
            raise ValueError(
                f"GatewaySettings.certificate_arn: got {self.certificate_arn!r}; an ACM certificate ARN"
                " (arn:aws:acm:<region>:<account>:certificate/<id>) is allowed; copy it from ACM"
            )
        for owner, names in (("teams", [team.name for team in self.teams]), ("bedrock", [model.name for model in self.bedrock])):
            twice = sorted({name for name in names if names.count(name) > 1})
            if twice:
                raise ValueError(
                    f"GatewaySettings.{owner}: got {', '.join(twice)} more than once; each name once is allowed; merge the entries"
                )
        _check_positive("GatewaySettings.gpu_hour_usd", self.gpu_hour_usd)

    @property
    def listener_port(self) -> int:
        """TLS ends at the load balancer: Envoy listens on the port the load balancer forwards."""
        return 443 if self.certificate_arn else 80
