"""The registry and images stacks: cache rules, repositories, the build project, its trigger and the wait for it,
and who waits for whom."""

from __future__ import annotations

import json

import pytest

from core.derived_images import DERIVED
from tests.helpers import REPO, resources, synth

pytestmark = pytest.mark.e2e  # every test here reads whole synthesized apps

EXAMPLE = REPO / "config" / "examples" / "capacity-platform.yaml"
KIT = "llm-capacity"


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    return tmp_path_factory.mktemp("images")


@pytest.fixture(scope="module")
def templates(out):
    return synth(EXAMPLE, out)


def test_one_cache_rule_per_public_registry_with_credentials_where_ecr_requires_them(templates):
    rules = {
        r["Properties"]["EcrRepositoryPrefix"]: r["Properties"]
        for r in resources(templates[f"{KIT}-registry"], "AWS::ECR::PullThroughCacheRule").values()
    }
    assert set(rules) == {f"{KIT}/{short}" for short in ("dhub", "quay", "k8s", "ecrp", "ghcr")}
    assert {p["UpstreamRegistryUrl"] for p in rules.values()} == {
        "registry-1.docker.io",
        "quay.io",
        "registry.k8s.io",
        "public.ecr.aws",
        "ghcr.io",
    }
    # Docker Hub and GitHub's registry only with a secret; the others without.
    with_secret = {prefix.split("/")[1]: p["CredentialArn"] for prefix, p in rules.items() if "CredentialArn" in p}
    assert set(with_secret) == {"dhub", "ghcr"}
    assert "secret:ecr-pullthroughcache/docker-hub" in json.dumps(with_secret["dhub"])


def test_the_kits_repositories_keep_tags_immutable_scan_on_push_and_expire_old_images(templates):
    repos = {
        r["Properties"]["RepositoryName"]: r["Properties"] for r in resources(templates[f"{KIT}-registry"], "AWS::ECR::Repository").values()
    }
    assert {f"{KIT}/vllm-efa", f"{KIT}/nccl-tests-efa", f"{KIT}/ngc/nvidia/cloud-native/dcgm"} <= set(repos)
    for name, props in repos.items():
        assert props["ImageTagMutability"] == "IMMUTABLE", name
        assert props["ImageScanningConfiguration"] == {"ScanOnPush": True}, name
        rules = json.loads(props["LifecyclePolicy"]["LifecyclePolicyText"])["rules"]
        assert rules[0]["selection"]["countType"] == "imageCountMoreThan", name
        assert props["EmptyOnDelete"] is True, name


def test_the_build_runs_docker_in_codebuild_from_this_stacks_dockerfiles(templates):
    images = templates[f"{KIT}-images"]
    [project] = resources(images, "AWS::CodeBuild::Project").values()
    env = project["Properties"]["Environment"]
    assert env["PrivilegedMode"] is True and env["ComputeType"] == "BUILD_GENERAL1_LARGE"
    assert project["Properties"]["Source"]["Type"] == "S3"
    spec = json.dumps(project["Properties"]["Source"]["BuildSpec"])
    for image in DERIVED.values():
        assert image.tag() in spec
    assert {variable["Name"] for variable in env["EnvironmentVariables"]} == {"REGISTRY", "ACCOUNT"}


def test_a_build_is_started_per_key_and_the_stack_waits_for_its_signal(templates):
    images = templates[f"{KIT}-images"]
    [handle_id] = resources(images, "AWS::CloudFormation::WaitConditionHandle")
    [condition] = resources(images, "AWS::CloudFormation::WaitCondition").values()
    assert condition["Properties"]["Handle"] == {"Ref": handle_id}
    assert int(condition["Properties"]["Timeout"]) == 3 * 3600 and condition["Properties"]["Count"] == 1
    [start] = [r for r in images["Resources"].values() if r["Type"] == "Custom::AWS"]
    create = json.dumps(start["Properties"]["Create"])
    assert "startBuild" in create and "WAIT_HANDLE_URL" in create and handle_id in create
    # The key is in the names, so a changed build gets a new handle and condition.
    key = handle_id.removeprefix("BuildDone")[:16]
    assert any(name.startswith(f"Built{key}") for name in resources(images, "AWS::CloudFormation::WaitCondition"))


def test_the_workloads_wait_for_the_images_and_the_cluster_for_the_cache_rules(out, templates):
    artifacts = json.loads((out / "manifest.json").read_text())["artifacts"]
    assert f"{KIT}-images" in artifacts[f"{KIT}-workloads"]["dependencies"]
    assert f"{KIT}-registry" in artifacts[f"{KIT}-cluster"]["dependencies"]
    assert f"{KIT}-registry" in artifacts[f"{KIT}-images"]["dependencies"]
    # The build runs beside the cluster: neither waits for the other.
    assert (
        f"{KIT}-images" not in artifacts[f"{KIT}-cluster"]["dependencies"]
        and f"{KIT}-cluster" not in artifacts[f"{KIT}-images"]["dependencies"]
    )


def test_nodes_may_pull_through_the_kits_cache_rules_only(templates):
    policies = resources(templates[f"{KIT}-cluster"], "AWS::IAM::Policy")
    [pull] = [p for name, p in policies.items() if name.startswith("ImagePullThrough")]
    [statement] = pull["Properties"]["PolicyDocument"]["Statement"]
    assert sorted(statement["Action"]) == ["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"]
    text = json.dumps(statement["Resource"])
    for short in ("dhub", "quay", "k8s", "ecrp", "ghcr"):
        assert f"repository/{KIT}/{short}/*" in text
    # Every node role: the system nodes, Karpenter's nodes.
    assert len(pull["Properties"]["Roles"]) == 2


def test_two_tags_of_one_ngc_image_share_one_copied_repository(tmp_path):
    """contracts/configs/engines.yaml runs Dynamo over TCP and over EFA: vllm-runtime:1.4.2 and :1.4.2-efa, one repository."""
    templates = synth(REPO / "contracts" / "configs" / "engines.yaml", tmp_path)
    names = [r["Properties"]["RepositoryName"] for r in resources(templates["contracts-registry"], "AWS::ECR::Repository").values()]
    runtime = [name for name in names if name.endswith("ai-dynamo/vllm-runtime")]
    assert runtime == ["contracts/ngc/nvidia/ai-dynamo/vllm-runtime"], names
    assert len(names) == len(set(names))
