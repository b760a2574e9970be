"""How much of the internet an allow-list of public CIDRs may admit: one rule for every endpoint the kit exposes.

An allow-list in front of a public endpoint (the EKS API, the model gateway) names offices, VPNs, NAT gateways and
CI runners, not the internet: an entry wider than a /16 (65,536 addresses), or a list adding up to more than sixteen
such blocks, puts the endpoint in reach of networks no team controls (0.0.0.0/1 + 128.0.0.0/1 is the whole internet
in two lines, each of them "only" a /1). A larger estate belongs on a private path: a VPN, Direct Connect, or a
front door (CloudFront, an ALB with a WAF) that is itself the only allowed source.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Network, collapse_addresses

from core.issues import ConfigIssue

WIDEST_PUBLIC_PREFIX = 16
MOST_PUBLIC_ADDRESSES = 16 * 2**16


@dataclass(frozen=True)
class PublicEndpoint:
    """The words the issues use for one endpoint."""

    key: str
    """The config key of the allow-list, e.g. cluster.public_access_cidrs."""
    opens: str
    """What an entry opens, e.g. "the Kubernetes API"."""
    allowed: str
    """What belongs in the list."""
    narrow_fix: str
    """What to do with one entry that is too wide."""
    total_fix: str
    """What to do with a list that adds up to too much."""


def public_cidr_issues(cidrs: list[IPv4Network], endpoint: PublicEndpoint) -> list[ConfigIssue]:
    """Each entry at most a /16; once every entry passes, the list (overlaps merged) at most sixteen /16s."""
    issues = []
    for index, cidr in enumerate(cidrs):
        if cidr.prefixlen < WIDEST_PUBLIC_PREFIX:
            share = "the whole internet" if cidr.prefixlen == 0 else f"{cidr.num_addresses:,} addresses"
            issues.append(
                ConfigIssue(
                    f"{endpoint.key}[{index}]",
                    f"opens {endpoint.opens} to {share}; the kit allows at most a /{WIDEST_PUBLIC_PREFIX} per entry",
                    value=str(cidr),
                    allowed=endpoint.allowed,
                    fix=endpoint.narrow_fix,
                )
            )
    total = sum(block.num_addresses for block in collapse_addresses(cidrs))
    if not issues and total > MOST_PUBLIC_ADDRESSES:
        issues.append(
            ConfigIssue(
                endpoint.key,
                f"together these entries open {endpoint.opens} to {total:,} addresses; the kit "
                f"allows at most {MOST_PUBLIC_ADDRESSES:,} (sixteen /{WIDEST_PUBLIC_PREFIX}s)",
                value=[str(c) for c in cidrs],
                allowed=endpoint.allowed,
                fix=endpoint.total_fix,
            )
        )
    return issues
