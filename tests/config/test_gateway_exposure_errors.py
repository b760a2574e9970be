"""Who may reach the gateway and how keys travel: what the config checks refuse, with the key path and a fix."""

import pytest

from assembly.kit import KIT
from tests.helpers import assert_rejected, write_config

CERT = "arn:aws:acm:us-west-2:111122223333:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
ROUTED = {"name": "llama-8b", "blueprint": "vllm", "node_pool": "gpu-l40s", "model": {"type": "hf", "repo_id": "org/model"}, "routing": {}}
TEAM = {"name": "search", "models": ["llama-8b"]}
PUBLIC = {"scheme": "internet-facing", "certificate_arn": CERT, "source_cidrs": ["198.51.100.0/24"]}


def _load(tmp_path, gateway):
    return KIT.load(write_config(tmp_path, {"gateway": gateway, "workloads": [ROUTED]}))


@pytest.mark.parametrize(
    "gateway",
    [
        {**PUBLIC, "teams": [TEAM]},
        {**PUBLIC, "allow_unauthenticated": True},
        {"teams": [TEAM], "certificate_arn": CERT},
        {"teams": [TEAM], "allow_plaintext": True},
        # An internal load balancer's ranges are private networks: a corporate /8 is no share of the internet.
        {"source_cidrs": ["10.0.0.0/8"]},
    ],
    ids=[
        "public-with-teams",
        "public-acknowledged-open",
        "internal-teams-tls",
        "internal-teams-plaintext-acknowledged",
        "internal-wide-private-range",
    ],
)
def test_accepted(tmp_path, gateway):
    assert _load(tmp_path, gateway).gateway.scheme == gateway.get("scheme", "internal")


@pytest.mark.parametrize(
    ("gateway", "expected"),
    [
        (
            PUBLIC,
            ["gateway.teams", "asks callers for no API key", "no team in the audit log", "got: []", "gateway.allow_unauthenticated: true"],
        ),
        (
            {**PUBLIC, "teams": [TEAM], "source_cidrs": ["0.0.0.0/1", "128.0.0.0/1"]},
            [
                "gateway.source_cidrs[0]",
                "gateway.source_cidrs[1]",
                "opens the model endpoints to 2,147,483,648 addresses",
                "at most a /16 per entry",
                "CloudFront",
            ],
        ),
        (
            {**PUBLIC, "teams": [TEAM], "source_cidrs": [f"{n}.0.0.0/16" for n in range(20, 37)]},
            ["gateway.source_cidrs (line", "together these entries open the model endpoints to 1,114,112 addresses", "sixteen /16s"],
        ),
        (
            {"teams": [TEAM]},
            [
                "gateway.certificate_arn",
                "1 team(s) send their API key with every request",
                "keys would cross the network in clear",
                "gateway.allow_plaintext: true",
            ],
        ),
        (
            {"teams": [TEAM], "certificate_arn": CERT, "allow_plaintext": True},
            ["gateway.allow_plaintext", "has no effect: certificate_arn is set", "got: True", "fix: remove it"],
        ),
        (
            {"allow_plaintext": True},
            ["gateway.allow_plaintext", "has no effect: the gateway has no teams"],
        ),
        (
            {**PUBLIC, "teams": [TEAM], "allow_plaintext": True},
            ["gateway.allow_plaintext", "an internet-facing gateway serves only TLS"],
        ),
        (
            {**PUBLIC, "teams": [TEAM], "allow_unauthenticated": True},
            ["gateway.allow_unauthenticated", "has no effect: the gateway has teams"],
        ),
        (
            {"allow_unauthenticated": True},
            ["gateway.allow_unauthenticated", "this one is internal"],
        ),
    ],
    ids=[
        "public-without-keys",
        "public-to-half-the-internet-twice",
        "public-to-seventeen-slash-16s",
        "teams-over-plain-http",
        "plaintext-acknowledged-with-tls",
        "plaintext-acknowledged-without-teams",
        "plaintext-acknowledged-on-public",
        "open-acknowledged-with-teams",
        "open-acknowledged-on-internal",
    ],
)
def test_refused(tmp_path, gateway, expected):
    assert_rejected(tmp_path, {"gateway": gateway, "workloads": [ROUTED]}, expected)


def test_the_api_endpoint_and_the_gateway_share_one_cap(tmp_path):
    """The same two lines, refused on both allow-lists by the one rule (config/public_cidrs.py)."""
    halves = ["0.0.0.0/1", "128.0.0.0/1"]
    rendered = assert_rejected(
        tmp_path,
        {"cluster": {"public_access_cidrs": halves}, "gateway": {**PUBLIC, "teams": [TEAM], "source_cidrs": halves}, "workloads": [ROUTED]},
        [],
    )
    for key, opens in (("cluster.public_access_cidrs", "the Kubernetes API"), ("gateway.source_cidrs", "the model endpoints")):
        for index in (0, 1):
            assert (
                f"{key}[{index}] (line" in rendered
                and f"opens {opens} to 2,147,483,648 addresses; the kit allows at most a /16 per entry" in rendered
            )
