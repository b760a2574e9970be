"""Who can reach the gateway and what they must show: the checks on its exposure, keys and transport.

- An internet-facing gateway asks every caller for a team's key, unless the config acknowledges that it asks for
  none (gateway.allow_unauthenticated); its source_cidrs get the same cap as the EKS API's public allow-list.
- Teams' keys travel in every request, so teams need TLS: the load balancer terminates it with certificate_arn
  (infra/routing/gateway.py). An internal test may acknowledge plain HTTP instead (gateway.allow_plaintext).
- An acknowledgement that the config no longer needs is refused too: left in place, it would silently apply the day
  the config changes back.
"""

from __future__ import annotations

from config.model import PlatformConfig
from config.public_cidrs import WIDEST_PUBLIC_PREFIX, PublicEndpoint, public_cidr_issues
from core.issues import ConfigIssue

PUBLIC_GATEWAY = PublicEndpoint(
    key="gateway.source_cidrs",
    opens="the model endpoints",
    allowed=f"the CIDRs of your clients' offices, VPNs or NAT gateways, each /{WIDEST_PUBLIC_PREFIX} or narrower",
    narrow_fix="replace it with the narrow CIDRs that call the models; to serve the public, keep scheme: internal behind "
    "CloudFront (a VPC origin) or an ALB with a WAF",
    total_fix="keep only the networks that call the models, or keep scheme: internal and reach it through a VPN, "
    "Direct Connect or a CloudFront VPC origin",
)


def gateway_exposure_issues(config: PlatformConfig) -> list[ConfigIssue]:
    gateway = config.gateway
    public = gateway.scheme == "internet-facing"
    issues = []
    if public:
        issues += public_cidr_issues(gateway.source_cidrs, PUBLIC_GATEWAY)
        if not gateway.teams and not gateway.allow_unauthenticated:
            issues.append(
                ConfigIssue(
                    "gateway.teams",
                    "an internet-facing gateway with no teams asks callers for no API key: anyone in source_cidrs could "
                    "call every model, with no token budget and no team in the audit log",
                    value=[],
                    fix="add teams (then issue their keys with python -m scripts.team_keys sync), or set "
                    "gateway.allow_unauthenticated: true if the open endpoint is intended, or set scheme: internal",
                )
            )
    if gateway.teams and gateway.certificate_arn is None and not gateway.allow_plaintext:
        issues.append(
            ConfigIssue(
                "gateway.certificate_arn",
                f"{len(gateway.teams)} team(s) send their API key with every request, and without a certificate the "
                "gateway listens on plain HTTP: the keys would cross the network in clear",
                value=None,
                fix="request or import a certificate in ACM in this region and give its ARN (the load balancer then "
                "serves TLS on port 443), or, for an internal test only, set gateway.allow_plaintext: true",
            )
        )
    if gateway.allow_unauthenticated and (gateway.teams or not public):
        reason = (
            "the gateway has teams, so every call needs a key"
            if gateway.teams
            else "it acknowledges an internet-facing gateway without keys, and this one is internal"
        )
        issues.append(
            ConfigIssue(
                "gateway.allow_unauthenticated",
                f"has no effect: {reason}; left in place it would silently apply after a later change",
                value=True,
                fix="remove it",
            )
        )
    if gateway.allow_plaintext and (public or gateway.certificate_arn is not None or not gateway.teams):
        if public:
            reason = "an internet-facing gateway serves only TLS; plain HTTP is for an internal test"
        elif gateway.certificate_arn is not None:
            reason = "certificate_arn is set, so the gateway serves TLS"
        else:
            reason = "the gateway has no teams, so no key travels"
        issues.append(
            ConfigIssue(
                "gateway.allow_plaintext",
                f"has no effect: {reason}; left in place it would silently apply after a later change",
                value=True,
                fix="remove it",
            )
        )
    return issues
