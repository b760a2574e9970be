"""What the kit's image build does, as a CodeBuild build spec (version 0.2; the CodeBuild user guide's "Build
specification reference"): copy the NGC images the config uses into the kit's repositories, build the derived
images whose tag is not there yet, print what was pushed, and signal the deploy that waits for it.

Everything the build needs is in the spec, so the spec's hash is the build's key: a changed Dockerfile, pin or NGC
image changes a tag, the spec, the key, and the trigger's parameters (infra/stacks/images.py), and the build runs again.
Tags already in a repository are skipped (the repositories' tags are immutable), so an unchanged image is never
rebuilt.

Shell variables the project sets: REGISTRY (the account's ECR in the region) and ACCOUNT. WAIT_HANDLE_URL comes with
each build the deploy starts; a build started by hand signals nothing.
"""

from __future__ import annotations

import hashlib
import json
import shlex
from dataclasses import dataclass

from core.derived_images import DerivedImage, build_order
from core.registry_cache import RegistryCache, parse

BUILD_ACCOUNT = "${ACCOUNT}"
"""How the spec names the account: the project's ACCOUNT variable, expanded by the build's shell."""


@dataclass(frozen=True)
class Copy:
    source: str
    repository: str
    tag: str


@dataclass(frozen=True)
class BuildPlan:
    kit: str
    region: str
    cache: bool
    derived: tuple[DerivedImage, ...]
    copies: tuple[Copy, ...]
    ngc_secret_arn: str | None = None
    """The NGC secret, by name or ARN as configured; needed only for copies."""

    def registry_cache(self) -> RegistryCache:
        return RegistryCache(kit=self.kit, account=BUILD_ACCOUNT, region=self.region, enabled=self.cache)

    def image(self, image: DerivedImage) -> str:
        return f"$REGISTRY/{self.kit}/{image.name}:{image.tag()}"

    def base(self, image: DerivedImage) -> str:
        """Where the build pulls a derived image's base: the kit's own repository, or the public base through the cache."""
        resolved = self.registry_cache().rewrite(image.base_reference())
        return resolved.replace(self.registry_cache().host, "$REGISTRY", 1)


def plan(kit: str, region: str, cache: bool, derived_names: set[str], ngc_references: set[str], ngc_secret_arn: str | None) -> BuildPlan:
    """derived_names: the kit's images the config runs (with the images they are built on); ngc_references: the NGC
    images it pulls, copied only while the cache is on."""
    needed = set(derived_names)
    for image in build_order():
        if image.name in needed and image.base in {d.name for d in build_order()}:
            needed.add(image.base)
    ordered = tuple(image for image in build_order() if image.name in needed)
    copies = tuple(Copy(ref, f"{kit}/ngc/{parse(ref).path}", parse(ref).tag or "latest") for ref in sorted(ngc_references)) if cache else ()
    return BuildPlan(kit, region, cache, ordered, copies, ngc_secret_arn if copies else None)


def _exists(repository: str, tag: str) -> str:
    return f"aws ecr describe-images --repository-name {repository} --image-ids imageTag={tag} > /dev/null 2>&1"


def buildspec(build: BuildPlan) -> dict:
    pre = ['aws ecr get-login-password --region "$AWS_REGION" | docker login --username AWS --password-stdin "$REGISTRY"']
    env: dict = {"variables": {"DOCKER_BUILDKIT": "1"}}
    if build.copies:
        env["secrets-manager"] = {"NGC_USERNAME": f"{build.ngc_secret_arn}:username", "NGC_TOKEN": f"{build.ngc_secret_arn}:accessToken"}
        pre.append('printf "%s" "$NGC_TOKEN" | docker login nvcr.io --username "$NGC_USERNAME" --password-stdin')
    commands = []
    for copy in build.copies:
        target = f"$REGISTRY/{copy.repository}:{copy.tag}"
        # The nodes are x86_64: one platform is copied, pulled, tagged and pushed, then dropped to keep the disk free.
        commands.append(
            f"if ! {_exists(copy.repository, copy.tag)}; then docker pull --platform linux/amd64 {copy.source} "
            f"&& docker tag {copy.source} {target} "
            f"&& docker push {target} && docker image rm {copy.source} {target}; fi"
        )
    for image in build.derived:
        args = " ".join(f"--build-arg {name}={shlex.quote(value)}" for name, value in image.args)
        repository = f"{build.kit}/{image.name}"
        commands.append(
            f"if ! {_exists(repository, image.tag())}; then docker build --build-arg BASE_IMAGE={build.base(image)} {args} "
            f"--tag {build.image(image)} --file images/{image.name}/Dockerfile images/{image.name} && docker push {build.image(image)}; fi"
        )
    report = [
        f"aws ecr describe-images --repository-name {build.kit}/{image.name} --image-ids imageTag={image.tag()} "
        "--query 'imageDetails[0].[imageTags[0],imageDigest,imageSizeInBytes]' --output text || true"
        for image in build.derived
    ]
    signal = (
        'if [ -n "${WAIT_HANDLE_URL:-}" ]; then '
        'if [ "$CODEBUILD_BUILD_SUCCEEDING" = 1 ]; then STATUS=SUCCESS; else STATUS=FAILURE; fi; '
        'curl -sS -X PUT -H "Content-Type:" --data-binary '
        '"{\\"Status\\":\\"$STATUS\\",\\"Reason\\":\\"image build $CODEBUILD_BUILD_ID\\",'
        '\\"UniqueId\\":\\"$CODEBUILD_BUILD_ID\\",\\"Data\\":\\"$STATUS\\"}" '
        '"$WAIT_HANDLE_URL"; fi'
    )
    return {
        "version": "0.2",
        "env": env,
        "phases": {
            "pre_build": {"commands": pre},
            "build": {"commands": commands or ["echo nothing to build"]},
            # post_build runs whether build passed or failed; it tells the waiting deploy which.
            "post_build": {"commands": [*report, signal]},
        },
    }


# A first build's time, for the deploy-time model (a model, not a measurement): CodeBuild's provisioning; pulling
# the 10.5 GB base, the installer and pushing 10.8 GB; compiling nccl-tests for six architectures; one NGC copy.
EXPECTED_SECONDS = "llm-kit:expected-seconds"
"""The metadata key under which a resource carries its own time estimate (assembly/deploy_time.py reads it)."""
SECONDS = {"start": 120, "vllm-efa": 900, "nccl-tests-efa": 600, "copy": 300}


def expected_seconds(build: BuildPlan) -> int:
    return SECONDS["start"] + sum(SECONDS.get(image.name, 900) for image in build.derived) + SECONDS["copy"] * len(build.copies)


def build_key(spec: dict) -> str:
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]
