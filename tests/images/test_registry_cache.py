"""Image references rewritten to the account's ECR in the cluster's region, as Docker and ECR read them."""

from __future__ import annotations

import pytest

from core.registry_cache import DERIVED_HOST, UPSTREAMS, RegistryCache, parse, pull_through_prefix, rewrite_objects
from infra.images.chart_images import CHART_IMAGES, chart_values

CACHE = RegistryCache(kit="llm-kit", account="111122223333", region="eu-west-1", enabled=True)
HOST = "111122223333.dkr.ecr.eu-west-1.amazonaws.com"


@pytest.mark.parametrize(
    "written,pulled",
    [
        # Docker Hub: a one-word name is an official image under library/, which the cache rule must be given.
        ("python:3.12.14-slim-bookworm", f"{HOST}/llm-kit/dhub/library/python:3.12.14-slim-bookworm"),
        ("docker.io/library/redis:8.2.9-alpine3.22", f"{HOST}/llm-kit/dhub/library/redis:8.2.9-alpine3.22"),
        ("vllm/vllm-openai:v0.30.0", f"{HOST}/llm-kit/dhub/vllm/vllm-openai:v0.30.0"),
        ("quay.io/inference-perf/inference-perf:v0.6.1", f"{HOST}/llm-kit/quay/inference-perf/inference-perf:v0.6.1"),
        ("registry.k8s.io/kubectl:v1.35.7", f"{HOST}/llm-kit/k8s/kubectl:v1.35.7"),
        ("public.ecr.aws/karpenter/controller:1.14.1", f"{HOST}/llm-kit/ecrp/karpenter/controller:1.14.1"),
        ("ghcr.io/llm-d/llm-d-router-endpoint-picker:v0.10.0", f"{HOST}/llm-kit/ghcr/llm-d/llm-d-router-endpoint-picker:v0.10.0"),
        # NGC has no cache rule: the kit's copies.
        ("nvcr.io/nvidia/tritonserver:26.08-vllm-python-py3", f"{HOST}/llm-kit/ngc/nvidia/tritonserver:26.08-vllm-python-py3"),
        # The kit's own images, and private ECR, and a digest kept as written.
        (f"{DERIVED_HOST}/vllm-efa:v0.30.0-efa1.50.0-0123456789ab", f"{HOST}/llm-kit/vllm-efa:v0.30.0-efa1.50.0-0123456789ab"),
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com/team/model:v1", "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/model:v1"),
        ("quay.io/x/y@sha256:" + "a" * 64, f"{HOST}/llm-kit/quay/x/y@sha256:" + "a" * 64),
        # A registry with no rule stays as written (and the summary says so).
        ("example.com:5000/private/image:1", "example.com:5000/private/image:1"),
    ],
)
def test_references_are_rewritten_as_ecr_names_them(written, pulled):
    assert CACHE.rewrite(written) == pulled


def test_with_the_cache_off_only_the_kits_own_images_move():
    off = RegistryCache(kit="llm-kit", account="111122223333", region="eu-west-1", enabled=False)
    assert off.rewrite("vllm/vllm-openai:v0.30.0") == "vllm/vllm-openai:v0.30.0"
    assert off.rewrite(f"{DERIVED_HOST}/vllm-efa:t") == f"{HOST}/llm-kit/vllm-efa:t"
    assert chart_values("karpenter", off) == {}


def test_china_regions_use_their_own_domain():
    assert (
        RegistryCache(kit="k", account="1" * 12, region="cn-north-1", enabled=True).host
        == "111111111111.dkr.ecr.cn-north-1.amazonaws.com.cn"
    )


def test_every_cache_prefix_fits_ecrs_limit_for_the_longest_kit_name():
    # AWS::ECR::PullThroughCacheRule EcrRepositoryPrefix: 2 to 30 characters; config.name is at most 24.
    longest = "a" * 24
    for upstream in UPSTREAMS.values():
        assert len(pull_through_prefix(longest, upstream)) <= 30, upstream.host


def test_objects_are_rewritten_wherever_a_container_names_an_image_and_left_alone_otherwise():
    objects = [
        {
            "kind": "Deployment",
            "spec": {
                "template": {
                    "spec": {
                        "initContainers": [{"name": "a", "image": "python:3.12"}],
                        "containers": [{"name": "b", "image": "quay.io/a/b:1"}],
                    }
                }
            },
        },
        # Dynamo's mainContainer names its image the same way.
        {
            "kind": "DynamoGraphDeployment",
            "spec": {"services": {"w": {"extraPodSpec": {"mainContainer": {"image": "nvcr.io/nvidia/ai-dynamo/vllm-runtime:1.4.2"}}}}},
        },
        {"kind": "ConfigMap", "data": {"note": "image: python:3.12"}},
    ]
    out = rewrite_objects(objects, CACHE)
    assert out[0]["spec"]["template"]["spec"]["initContainers"][0]["image"] == f"{HOST}/llm-kit/dhub/library/python:3.12"
    assert out[0]["spec"]["template"]["spec"]["containers"][0]["image"] == f"{HOST}/llm-kit/quay/a/b:1"
    assert (
        out[1]["spec"]["services"]["w"]["extraPodSpec"]["mainContainer"]["image"]
        == f"{HOST}/llm-kit/ngc/nvidia/ai-dynamo/vllm-runtime:1.4.2"
    )
    assert out[2] == objects[2] and objects[0]["spec"]["template"]["spec"]["initContainers"][0]["image"] == "python:3.12"


@pytest.mark.parametrize("chart", sorted(CHART_IMAGES))
def test_every_chart_image_the_kit_knows_points_at_the_cache(chart):
    values = chart_values(chart, CACHE)
    for image in CHART_IMAGES[chart]:
        node = values
        for key in image.path:
            node = node[key]
        named = node if isinstance(node, str) else node.get("repository") or node.get("registry")
        assert isinstance(named, str) and named.startswith(f"{HOST}/llm-kit/"), (chart, image.path, named)
        assert parse(image.upstream).host in UPSTREAMS


def test_the_efa_device_plugin_comes_from_eks_registry_in_the_clusters_region():
    for region, account in (("eu-west-1", "602401143452"), ("af-south-1", "877085696533")):
        values = chart_values("aws-efa-k8s-device-plugin", RegistryCache(region=region, enabled=False))
        assert values["image"]["repository"] == f"{account}.dkr.ecr.{region}.amazonaws.com/eks/aws-efa-k8s-device-plugin"
