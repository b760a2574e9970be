"""Every image reference every output holds, for the default config and every example: the manifests and chart values
in the CloudFormation templates and the workloads in dist/ all pull from the account's ECR in the cluster's region,
through a pull-through cache rule, the kit's copies of NGC images, or the kit's own repositories."""

from __future__ import annotations

import json

import pytest

from assembly.app import build_app, render_workloads
from assembly.image_summary import chart_images, classify, written_images
from assembly.kit import KIT
from blueprints.render import write_dist
from core.cfn_text import flatten
from core.derived_images import DERIVED
from core.images import IMAGES, ImageRecord
from core.registry_cache import UPSTREAMS, images_in, parse
from infra.images.chart_images import CHART_IMAGES
from tests.helpers import DEFAULT_CONFIG, REPO, TOKEN, nested_templates, read_templates

pytestmark = pytest.mark.e2e  # every test here reads whole synthesized apps

CONFIGS = [DEFAULT_CONFIG, *sorted((REPO / "config" / "examples").glob("*.yaml"))]
# Charts that deploy no image of their own: CRDs only, and the kit's own chart that writes one Secret.
NO_IMAGES = {"ai-gateway-crds-helm", "redis-auth"}
SHORTS = {upstream.short for upstream in UPSTREAMS.values()}


def _record_key(reference: str) -> tuple[str, str | None]:
    """An image's name and tag, which survive the pull-through cache's and the kit's repositories' renaming."""
    ref = parse(reference)
    return ref.path.rsplit("/", 1)[-1], ref.tag or ref.digest


RECORDS_BY_NAME: dict[tuple[str, str | None], ImageRecord] = {_record_key(record.reference): record for record in IMAGES.values()}


def users_off_their_records(objects: object) -> list[str]:
    """Containers of a known image whose user (theirs, else the pod's) is not the run_as of the image's record."""
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("containers"), list):
                pod_user = (node.get("securityContext") or {}).get("runAsUser")
                for container in [*node["containers"], *node.get("initContainers", [])]:
                    record = RECORDS_BY_NAME.get(_record_key(container["image"]))
                    user = (container.get("securityContext") or {}).get("runAsUser", pod_user)
                    if record is not None and user is not None and user != record.run_as:
                        found.append(f"{container['name']} ({record.key}) runs as {user}, its record says {record.run_as}")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(objects)
    return found


def test_each_record_is_found_by_its_name_and_tag_and_a_user_off_the_record_is_caught():
    assert len(RECORDS_BY_NAME) == len(IMAGES)  # no two records share a name and tag
    redis = IMAGES["redis"]
    pod = {"securityContext": {"runAsUser": redis.run_as}, "containers": [{"name": "redis", "image": redis.reference}]}
    assert users_off_their_records([pod]) == []
    pod["containers"][0]["securityContext"] = {"runAsUser": redis.run_as + 1}
    assert users_off_their_records([pod]) == [f"redis (redis) runs as {redis.run_as + 1}, its record says {redis.run_as}"]


def _regional(reference: str, kit: str, region: str, account: str) -> bool:
    ref = parse(reference)
    if ref.host != f"{account}.dkr.ecr.{region}.amazonaws.com":
        # EKS's own add-on registry in the cluster's region (the EFA device plugin): in-region, another account.
        return ref.host.endswith(f".dkr.ecr.{region}.amazonaws.com") and ref.path.startswith("eks/")
    owner, _, rest = ref.path.partition("/")
    first = rest.partition("/")[0]
    return owner == kit and (first in SHORTS or first in DERIVED) and bool(ref.tag or ref.digest or first in SHORTS)


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_every_image_every_output_names_comes_from_ecr_in_the_region(path, tmp_path):
    config = KIT.load(path)
    objects = render_workloads(config)
    build_app(config, outdir=str(tmp_path / "cdk.out"), workload_objects=objects).synth()
    write_dist(objects, tmp_path / "dist")
    account = config.account or TOKEN
    templates = {**read_templates(tmp_path / "cdk.out"), **nested_templates(tmp_path / "cdk.out")}
    seen = 0
    for stack, template in templates.items():
        for name, body in template.get("Resources", {}).items():
            if body["Type"] == "Custom::AWSCDK-EKS-KubernetesResource":
                manifest = json.loads(flatten(body["Properties"]["Manifest"], TOKEN))
                images = images_in(manifest)
                assert users_off_their_records(manifest) == [], f"{path.name}: {stack}/{name}"
            elif body["Type"] == "Custom::AWSCDK-EKS-HelmChart":
                chart = body["Properties"].get("Chart") or "redis-auth"
                assert chart in CHART_IMAGES or chart in NO_IMAGES or chart == "aws-efa-k8s-device-plugin", (
                    f"{stack}/{name}: chart {chart} deploys images the kit does not know"
                )
                images = chart_images(chart, json.loads(flatten(body["Properties"].get("Values", "{}"), TOKEN) or "{}"))
            else:
                continue
            for image in images:
                seen += 1
                assert _regional(image, config.name, config.region, account), f"{path.name}: {stack}/{name} pulls {image}"
    assert users_off_their_records(list(objects.values())) == [], f"{path.name}: dist/"
    for manifest in sorted((tmp_path / "dist").glob("*/manifest.yaml")):
        for image in images_in([json.loads(json.dumps(o)) for o in objects[manifest.parent.name]]):
            seen += 1
            assert _regional(image, config.name, config.region, config.account or "{account}"), (
                f"{path.name}: dist/{manifest.parent.name} pulls {image}"
            )
    assert seen > 0
    # The summary reads the same outputs and names a source for each.
    sources = {classify(image, config.name)[0] for image in written_images(tmp_path / "cdk.out", tmp_path / "dist")}
    assert not [source for source in sources if "directly" in source or "as written" in source], sources


def test_with_the_cache_off_public_images_are_pulled_as_written_and_the_kits_own_from_its_repository(tmp_path):
    from tests.helpers import write_config

    config = KIT.load(
        write_config(
            tmp_path,
            {
                "images": {"pull_through_cache": {"enabled": False}},
                "workloads": [
                    {
                        "name": "big",
                        "blueprint": "vllm-multinode",
                        "node_pool": "gpu-h100-efa",
                        "nodes": 2,
                        "tensor_parallel_size": 8,
                        "memory_gib_per_gpu": 160,
                        "model": {"type": "s3", "uri": "s3://{bucket}/models/meta-llama/Llama-3.1-405B-Instruct/"},
                    },
                ],
            },
        )
    )
    images = images_in(render_workloads(config)["big"])
    assert images and all(image.startswith("{account}.dkr.ecr.us-west-2.amazonaws.com/llm-kit/vllm-efa:") for image in images)
    build_app(config, outdir=str(tmp_path / "cdk.out")).synth()
    templates = read_templates(tmp_path / "cdk.out")
    # No cache rules; the repository for the kit's own image still exists, and the build still runs.
    registry = templates["llm-kit-registry"]["Resources"].values()
    assert not [r for r in registry if r["Type"] == "AWS::ECR::PullThroughCacheRule"]
    assert [r["Properties"]["RepositoryName"] for r in registry if r["Type"] == "AWS::ECR::Repository"] == ["llm-kit/vllm-efa"]
    charts = {
        body["Properties"]["Chart"]: body
        for body in templates["llm-kit-cluster"]["Resources"].values()
        if body["Type"] == "Custom::AWSCDK-EKS-HelmChart"
    }
    assert chart_images("karpenter", json.loads(flatten(charts["karpenter"]["Properties"]["Values"], TOKEN))) == [
        CHART_IMAGES["karpenter"][0].upstream
    ]
