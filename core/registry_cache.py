"""Where every image the kit emits is pulled from: the account's ECR, in the cluster's region.

Public registries reach ECR through pull-through cache rules (infra/stacks/images.py creates one per registry): an
image `quay.io/prometheus/prometheus:v3.5.0` is pulled as
`<account>.dkr.ecr.<region>.amazonaws.com/<kit>/quay/prometheus/prometheus:v3.5.0`; ECR fetches it from the upstream
on the first pull and serves it from the region after that. ECR supports a fixed set of upstreams (ECR user guide,
"Sync an upstream registry", read 2026-12-05): ECR Public, registry.k8s.io and Quay without credentials; Docker Hub
and GitHub's registry only with credentials in a Secrets Manager secret whose name starts with
`ecr-pullthroughcache/`. NVIDIA's NGC (nvcr.io) is not among them, so the kit copies the NGC images it uses into
repositories of its own (the image build copies them, with the NGC key from a secret) under `<kit>/ngc/`.

Images the kit builds itself (images/, core/derived_images.py) are written as `kit.invalid/<name>:<tag>` by the
blueprints; `.invalid` is a reserved top-level domain (RFC 2606), so a reference that escaped the rewrite fails at
pull time instead of reaching some registry. They always resolve to the kit's repositories, cache or no cache.

A pull-through prefix is at most 30 characters (AWS::ECR::PullThroughCacheRule EcrRepositoryPrefix); the kit's
name is at most 24, so each upstream gets a short name of at most 4.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

DERIVED_HOST = "kit.invalid"
"""The host of the kit's own images before they are resolved to its repositories."""

Via = Literal["pull-through", "mirror"]


@dataclass(frozen=True)
class Upstream:
    host: str
    short: str
    """The path segment under the kit's name: <kit>/<short>/<upstream path>."""
    via: Via
    upstream_registry: str | None = None
    """AWS::ECR::PullThroughCacheRule UpstreamRegistry, for the pull-through upstreams."""
    upstream_url: str | None = None
    secret: str | None = None
    """Which configured secret the upstream needs: images.pull_through_cache.<secret>_secret."""


UPSTREAMS: dict[str, Upstream] = {
    "docker.io": Upstream("docker.io", "dhub", "pull-through", "docker-hub", "registry-1.docker.io", secret="docker_hub"),
    "quay.io": Upstream("quay.io", "quay", "pull-through", "quay", "quay.io"),
    "registry.k8s.io": Upstream("registry.k8s.io", "k8s", "pull-through", "k8s", "registry.k8s.io"),
    "public.ecr.aws": Upstream("public.ecr.aws", "ecrp", "pull-through", "ecr-public", "public.ecr.aws"),
    "ghcr.io": Upstream("ghcr.io", "ghcr", "pull-through", "github-container-registry", "ghcr.io", secret="github"),
    "nvcr.io": Upstream("nvcr.io", "ngc", "mirror", secret="ngc"),
}
# Docker's own spellings of Docker Hub.
HOST_ALIASES = {"index.docker.io": "docker.io", "registry-1.docker.io": "docker.io"}
PRIVATE_ECR = re.compile(r"^\d{12}\.dkr\.ecr(-fips)?\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$")
ACCOUNT_FIELD = "{account}"


@dataclass(frozen=True)
class ImageReference:
    host: str
    path: str
    tag: str | None
    digest: str | None

    def __str__(self) -> str:
        return f"{self.host}/{self.path}" + (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")


def parse(reference: str) -> ImageReference:
    """An image reference as Docker reads it: a first segment with a dot, a colon or 'localhost' is a registry host,
    anything else is on Docker Hub, where a one-segment name lives under library/."""
    name, _, digest = reference.partition("@")
    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        host, remainder = first, rest
    else:
        host, remainder = "docker.io", name
    host = HOST_ALIASES.get(host, host)
    path, sep, tag = remainder.rpartition(":")
    if not sep or "/" in tag:
        path, tag = remainder, ""
    if host == "docker.io" and "/" not in path:
        path = f"library/{path}"
    return ImageReference(host, path, tag or None, digest or None)


def ecr_host(account: str, region: str) -> str:
    return f"{account}.dkr.ecr.{region}.amazonaws.com" + (".cn" if region.startswith("cn-") else "")


def pull_through_prefix(kit: str, upstream: Upstream) -> str:
    return f"{kit}/{upstream.short}"


def derived(name: str, tag: str) -> str:
    """How blueprints and infra write one of the kit's own images before it is resolved."""
    return f"{DERIVED_HOST}/{name}:{tag}"


@dataclass(frozen=True)
class RegistryCache:
    """Rewrites image references for one kit in one account and region. account: twelve digits, '{account}' where
    the config leaves it to the credentials (the workloads stack fills it in), or a CDK token inside a stack."""

    kit: str = "llm-kit"
    account: str = ACCOUNT_FIELD
    region: str = "us-west-2"
    enabled: bool = False

    @property
    def host(self) -> str:
        return ecr_host(self.account, self.region)

    def repository(self, path: str) -> str:
        """A repository of the kit's own, without the registry host: its derived images and its NGC copies."""
        return f"{self.kit}/{path}"

    def source(self, reference: str) -> tuple[str, str]:
        """(what the kit pulls, where it comes from in words) for one reference as written."""
        ref = parse(reference)
        if ref.host == DERIVED_HOST:
            return self._resolve(ref, self.repository(ref.path)), "built by the kit (CodeBuild), the kit's repository"
        if PRIVATE_ECR.match(ref.host):
            return reference, "private ECR as written"
        upstream = UPSTREAMS.get(ref.host)
        if not self.enabled or upstream is None:
            return reference, f"{ref.host} directly" + ("" if upstream else " (no pull-through rule for this registry)")
        how = "pull-through cache" if upstream.via == "pull-through" else "copied by the kit's image build"
        return self._resolve(ref, f"{self.kit}/{upstream.short}/{ref.path}"), f"{how} of {ref.host}"

    def rewrite(self, reference: str) -> str:
        return self.source(reference)[0]

    def _resolve(self, ref: ImageReference, path: str) -> str:
        return f"{self.host}/{path}" + (f":{ref.tag}" if ref.tag else "") + (f"@{ref.digest}" if ref.digest else "")

    def is_regional(self, reference: str) -> bool:
        """Whether a resolved reference is pulled from this account's ECR in this region (a cache, a copy, or the kit's own)."""
        return parse(reference).host == self.host


CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")


def rewrite_objects(objects: Iterable[dict], cache: RegistryCache) -> list[dict]:
    """The objects with every container image rewritten (pod templates at any depth, and custom resources that name
    a container's image under an `image` key, as Dynamo's mainContainer does). The input is left as it was."""
    return [_rewrite(obj, cache) for obj in objects]


def _rewrite(node: Any, cache: RegistryCache) -> Any:
    """A JSON value with its images rewritten: a dict stays a dict, a list a list."""
    if isinstance(node, dict):
        return {
            key: cache.rewrite(value) if key == "image" and isinstance(value, str) else _rewrite(value, cache)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rewrite(item, cache) for item in node]
    return node


def images_in(objects: Iterable[dict]) -> list[str]:
    """Every string under an `image` key, in document order."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "image" and isinstance(value, str):
                    found.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(list(objects))
    return found
