"""The image build's spec against CodeBuild's documented build spec structure, and what the build does."""

from __future__ import annotations

import re
from dataclasses import replace

import jsonschema
import pytest

from core.derived_images import DERIVED
from infra.images.build import BUILD_ACCOUNT, build_key, buildspec, plan

# CodeBuild user guide, "Build specification reference" (version 0.2): the top-level sections, env's sections, the
# four phases and what a phase holds. A key outside these is an error CodeBuild reports when the build starts.
PHASE = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "run-as": {"type": "string"},
        "on-failure": {"enum": ["ABORT", "CONTINUE", "RETRY"]},
        "runtime-versions": {"type": "object"},
        "commands": {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}},
        "finally": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["commands"],
}
BUILDSPEC_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["version", "phases"],
    "properties": {
        "version": {"enum": ["0.1", "0.2"]},
        "run-as": {"type": "string"},
        "env": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "shell": {"enum": ["bash", "/bin/sh", "sh"]},
                "variables": {"type": "object", "additionalProperties": {"type": "string"}},
                "parameter-store": {"type": "object", "additionalProperties": {"type": "string"}},
                # secret-id:json-key:version-stage:version-id, the secret id being a name or an ARN.
                "secrets-manager": {
                    "type": "object",
                    "additionalProperties": {"type": "string", "pattern": r"^(arn:[^:]+:secretsmanager:[^:]+:[^:]+:secret:)?[^:]+:[^:]+$"},
                },
                "exported-variables": {"type": "array", "items": {"type": "string"}},
                "git-credential-helper": {"enum": ["yes", "no"]},
            },
        },
        "proxy": {"type": "object"},
        "batch": {"type": "object"},
        "phases": {
            "type": "object",
            "additionalProperties": False,
            "properties": {name: PHASE for name in ("install", "pre_build", "build", "post_build")},
        },
        "reports": {"type": "object"},
        "artifacts": {"type": "object"},
        "cache": {"type": "object"},
    },
}
NGC = "nvcr.io/nvidia/cloud-native/dcgm:4.5.2-1-ubuntu22.04"
SECRET = "arn:aws:secretsmanager:us-west-2:111122223333:secret:ecr-pullthroughcache/ngc"


def _plan(cache=True, derived=("nccl-tests-efa",), ngc=(NGC,)):
    return plan("llm-kit", "us-west-2", cache, set(derived), set(ngc), SECRET)


@pytest.mark.parametrize("cache", [True, False], ids=["cache", "no-cache"])
def test_the_spec_has_codebuilds_documented_shape(cache):
    spec = buildspec(_plan(cache))
    jsonschema.validate(spec, BUILDSPEC_SCHEMA)
    # A wrong key is caught: the schema is not a formality.
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**spec, "phases": {**spec["phases"], "postbuild": {"commands": ["true"]}}}, BUILDSPEC_SCHEMA)


def test_an_image_built_on_another_brings_its_base_into_the_build_first():
    build = _plan(derived=("nccl-tests-efa",))
    assert [image.name for image in build.derived] == ["vllm-efa", "nccl-tests-efa"]
    commands = buildspec(build)["phases"]["build"]["commands"]
    serving, tests = commands[-2], commands[-1]
    assert f"--build-arg BASE_IMAGE=$REGISTRY/llm-kit/vllm-efa:{DERIVED['vllm-efa'].tag()}" in tests
    assert f"--tag $REGISTRY/llm-kit/nccl-tests-efa:{DERIVED['nccl-tests-efa'].tag()}" in tests
    # The public base comes through the account's Docker Hub cache rule.
    assert "--build-arg BASE_IMAGE=$REGISTRY/llm-kit/dhub/vllm/vllm-openai:v0.30.0" in serving
    # An image whose tag is already there is not built again (the repositories' tags are immutable).
    assert serving.startswith(
        f"if ! aws ecr describe-images --repository-name llm-kit/vllm-efa --image-ids imageTag={DERIVED['vllm-efa'].tag()}"
    )
    # Build arguments with spaces survive the shell.
    assert "--build-arg NVCC_GENCODE='-gencode=arch=compute_80,code=sm_80 " in tests


def test_without_the_cache_the_base_comes_from_docker_hub_and_nothing_is_copied():
    build = _plan(cache=False)
    spec = buildspec(build)
    assert build.copies == () and "secrets-manager" not in spec["env"]
    assert "--build-arg BASE_IMAGE=vllm/vllm-openai:v0.30.0" in spec["phases"]["build"]["commands"][0]


def test_ngc_images_are_copied_with_the_ngc_key_one_platform_at_a_time():
    spec = buildspec(_plan(derived=()))
    assert spec["env"]["secrets-manager"] == {"NGC_USERNAME": f"{SECRET}:username", "NGC_TOKEN": f"{SECRET}:accessToken"}
    assert any("docker login nvcr.io" in command for command in spec["phases"]["pre_build"]["commands"])
    [copy] = spec["phases"]["build"]["commands"]
    target = "$REGISTRY/llm-kit/ngc/nvidia/cloud-native/dcgm:4.5.2-1-ubuntu22.04"
    assert f"docker pull --platform linux/amd64 {NGC}" in copy and f"docker push {target}" in copy


def test_the_build_always_tells_the_waiting_deploy_how_it_ended():
    post = buildspec(_plan())["phases"]["post_build"]["commands"]
    signal = post[-1]
    assert '"$CODEBUILD_BUILD_SUCCEEDING" = 1' in signal and "STATUS=SUCCESS" in signal and "STATUS=FAILURE" in signal
    assert 'curl -sS -X PUT -H "Content-Type:"' in signal and signal.endswith('"$WAIT_HANDLE_URL"; fi')
    # The sizes to record in core/derived_images.py, for every image built.
    assert sum("imageSizeInBytes" in command for command in post) == 2


def test_the_build_key_follows_what_the_build_makes():
    one, two = _plan(), _plan(derived=("vllm-efa",))
    assert build_key(buildspec(one)) == build_key(buildspec(replace(one)))
    assert build_key(buildspec(one)) != build_key(buildspec(two))
    assert re.fullmatch(r"[0-9a-f]{16}", build_key(buildspec(one)))
    assert BUILD_ACCOUNT == "${ACCOUNT}"
