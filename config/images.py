"""images: where the nodes pull images from, and the checks that go with it (docs/images.md).

By default every image comes from the account's ECR in the cluster's region: public registries through pull-through
cache rules, NGC through copies the kit's image build makes, and the kit's own images from its repositories
(core/registry_cache.py). Docker Hub and GitHub's registry take credentials from Secrets Manager, and so does the
NGC copy: the user creates the three secrets (names starting with ecr-pullthroughcache/, as ECR requires, in the
cluster's account and region) before the first deploy; the kit only names them.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from core.image_matrix import mismatch
from core.instances import known
from core.issues import ConfigIssue
from core.registry_cache import ACCOUNT_FIELD, RegistryCache
from core.schema import StrictModel
from core.versions import AMI_VERSIONS

# A secret name, or its ARN. AWS::ECR::PullThroughCacheRule CredentialArn: secret:ecr-pullthroughcache/[a-zA-Z0-9/_+=.@-]+
SECRET_PATTERN = r"^(arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:)?ecr-pullthroughcache/[A-Za-z0-9/_+=.@-]+$"
SecretRef = Annotated[str, Field(pattern=SECRET_PATTERN, examples=["ecr-pullthroughcache/docker-hub"])]


class PullThroughCache(StrictModel):
    enabled: bool = True
    """Pull every image from the account's ECR in the cluster's region. Off: nodes pull from the public registries
    through the NAT gateway (the kit's own images still come from its repositories)."""
    docker_hub_secret: SecretRef = "ecr-pullthroughcache/docker-hub"
    """Secrets Manager secret with Docker Hub credentials, JSON {"username": ..., "accessToken": ...}: a name (in the
    cluster's account and region) or its ARN. ECR caches Docker Hub only with credentials."""
    github_secret: SecretRef = "ecr-pullthroughcache/github"
    """The same for ghcr.io: a GitHub user and a personal access token (classic) that can read packages."""
    ngc_secret: SecretRef = "ecr-pullthroughcache/ngc"
    """The same for nvcr.io: username $oauthtoken and an NGC API key. ECR has no cache rule for NGC; the kit's image
    build copies the NGC images it uses into its own repositories with it."""


class Images(StrictModel):
    pull_through_cache: PullThroughCache = PullThroughCache()
    """Where nodes pull images from (docs/images.md)."""


def registry_cache(config, account: str | None = None) -> RegistryCache:
    """The config's image rewrite. account: the account as the caller writes it (a CDK token in a stack); else the
    config's, else '{account}', which the workloads stack fills in."""
    return RegistryCache(
        kit=config.name,
        account=account or config.account or ACCOUNT_FIELD,
        region=config.region,
        enabled=config.images.pull_through_cache.enabled,
    )


def secret_arn(reference: str, *, partition: str, region: str, account: str) -> str:
    """The ARN a cache rule or the build names: as given, or built from a name (without the suffix Secrets Manager
    adds, which ECR and CodeBuild resolve)."""
    return reference if reference.startswith("arn:") else f"arn:{partition}:secretsmanager:{region}:{account}:secret:{reference}"


def image_issues(config) -> list[ConfigIssue]:
    """A secret given by ARN must be in the cluster's account and region: ECR reads cache credentials only there."""
    issues = []
    cache = config.images.pull_through_cache
    for field in ("docker_hub_secret", "github_secret", "ngc_secret"):
        reference = getattr(cache, field)
        if not reference.startswith("arn:"):
            continue
        _, _, _, region, account, _ = reference.split(":", 5)
        if region != config.region or (config.account and account != config.account):
            where = f"{config.account or 'the deploying account'} in {config.region}"
            issues.append(
                ConfigIssue(
                    f"images.pull_through_cache.{field}",
                    f"names a secret in account {account}, region {region}; ECR reads "
                    "pull-through credentials only from the registry's own account and region",
                    value=reference,
                    allowed=f"a secret in {where}",
                    fix=f"create the secret in {config.region} of that account and name it here (its name alone will do)",
                )
            )
    return issues + burn_in_driver_issues(config)


def burn_in_driver_issues(config) -> list[ConfigIssue]:
    """The burn-in's all-reduce runs the kit's nccl-tests image (the serving image's CUDA) on the pool's AMI."""
    issues = []
    for index, pool in enumerate(config.node_pools):
        settings = pool.burn_in
        if (
            settings is None
            or not settings.all_reduce
            or all((facts := known(kind)) is None or facts.gpus < 2 for kind in pool.instance_types)
        ):
            continue
        found = mismatch("nccl-tests-efa", pool.ami_family, pool.ami_version)
        if found is not None:
            issues.append(
                ConfigIssue(
                    f"node_pools[{index}].ami_version",
                    f"{found.describe()}; the burn-in's all-reduce would fail on every node and cordon it",
                    value=pool.ami_version,
                    allowed=f"an AMI release with NVIDIA driver {found.needed} or later",
                    fix=f"remove ami_version (the kit pins {pool.ami_family}@{AMI_VERSIONS[pool.ami_family]}), or pin a newer release",
                )
            )
    return issues
