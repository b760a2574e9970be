"""The charts' values, rendered by Helm itself (Helm 4's Go SDK through helm-python, offline): without values a chart
gives dist/ back exactly; each value changes the fields it names and nothing else; values.schema.json makes Helm
refuse a wrong value; facts the synth could not know are required values."""

from __future__ import annotations

import copy

import helm_python as helm
import pytest
import yaml

from assembly.app import render_workloads
from assembly.delivery import prepare
from assembly.kit import KIT
from assembly.version import kit_version
from blueprints.helm import semver, write_charts
from blueprints.dist import NOT_READY, write_dist
from tests.helpers import DEFAULT_CONFIG, REPO

ACCOUNT = "123456789012"
AMP = "https://aps-workspaces.us-west-2.amazonaws.com/workspaces/ws-0123"
EXAMPLES = REPO / "config" / "examples"


def deliver(path, folder, account=None):
    config = KIT.load(path)
    delivery = prepare(config, render_workloads(config), account)
    write_dist(delivery.objects, folder / "dist", delivery.unknowns)
    write_charts(delivery.objects, folder / "charts", version=semver(kit_version()), hints=delivery.hints)
    return delivery


@pytest.fixture(scope="module")
def known(tmp_path_factory):
    """The default config and three examples whose blueprints differ, delivered with the account known."""
    folder = tmp_path_factory.mktemp("known")
    examples = ("dynamo-disaggregated-p5", "gateway-two-models", "capacity-platform", "triton-vllm-g6e")
    for path in (DEFAULT_CONFIG, *(EXAMPLES / f"{name}.yaml" for name in examples)):
        deliver(path, folder / path.stem, ACCOUNT)
    return folder


@pytest.fixture(scope="module")
def unknown(tmp_path_factory):
    folder = tmp_path_factory.mktemp("unknown")
    deliver(DEFAULT_CONFIG, folder)
    return folder


def dist_objects(folder, name):
    return list(yaml.safe_load_all((folder / "dist" / name / "manifest.yaml").read_text()))


def render(folder, name, values=None, namespace="inference"):
    with helm.Chart.load(str(folder / "charts" / name)) as chart:
        return {
            (o["kind"], o["metadata"]["name"]): o
            for o in (yaml.safe_load(t) for _, t in sorted(chart.render(values or {}, name=name, namespace=namespace).items()))
        }


def by_key(objects):
    return {(o["kind"], o["metadata"]["name"]): o for o in objects}


def containers(pod_spec):
    return pod_spec["containers"]


@pytest.mark.parametrize(
    ("config", "workload"),
    [
        ("default", "llama-8b"),
        ("dynamo-disaggregated-p5", "llama-70b"),
        ("capacity-platform", "llama-405b"),
        ("capacity-platform", "nightly-summaries"),
        ("triton-vllm-g6e", "llama-8b-triton"),
    ],
)
def test_without_values_a_chart_gives_dist_back_exactly(known, config, workload):
    folder = known / config
    assert render(folder, workload) == by_key(dist_objects(folder, workload))
    assert "{account}" not in (folder / "dist" / workload / "manifest.yaml").read_text()
    assert not (folder / "dist" / workload / "README.md").exists()


def test_each_value_changes_only_the_fields_it_names(known):
    folder = known / "default"
    dist = by_key(dist_objects(folder, "llama-8b"))
    values = {
        "image": {"repository": "registry.example.com/vllm/vllm-openai", "tag": "v0.30.1"},
        "replicaCount": 3,
        "model": {"uri": "s3://other-bucket/models/Qwen/Qwen2.5-7B-Instruct/"},
        "resources": {
            "requests": {"nvidia.com/gpu": "1", "cpu": "4", "memory": "20Gi"},
            "limits": {"nvidia.com/gpu": "1", "memory": "20Gi"},
        },
        "nodeSelector": {"llm-kit/pool": "gpu-other"},
        "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "llm", "effect": "NoSchedule"}],
        "extraArgs": ["--max-num-seqs", "64", "--kv-cache-dtype=fp8"],
        "labels": {"team": "search"},
        "annotations": {"owner": "search@example.com"},
        "podLabels": {"cost-center": "ml"},
        "podAnnotations": {"sidecar.example.com/inject": "false"},
    }
    got = render(folder, "llama-8b", values)
    expected = copy.deepcopy(dist)
    deployment = expected[("Deployment", "llama-8b")]
    pod = deployment["spec"]["template"]
    server = containers(pod["spec"])[0]
    server["image"] = "registry.example.com/vllm/vllm-openai:v0.30.1"
    deployment["spec"]["replicas"] = 3
    assert server["args"][0].startswith("s3://llm-kit-models-123456789012-us-west-2/")
    server["args"][0] = "s3://other-bucket/models/Qwen/Qwen2.5-7B-Instruct/"
    server["args"] += ["--max-num-seqs", "64", "--kv-cache-dtype=fp8"]
    server["resources"] = values["resources"]
    # Helm merges a map of values into the chart's default map (a list replaces it): the pool changes, the rest stays.
    pod["spec"]["nodeSelector"]["llm-kit/pool"] = "gpu-other"
    pod["spec"]["tolerations"] = values["tolerations"]
    pod["metadata"]["labels"]["cost-center"] = "ml"
    pod["metadata"]["annotations"]["sidecar.example.com/inject"] = "false"
    for obj in expected.values():
        obj["metadata"]["labels"]["team"] = "search"
        obj["metadata"].setdefault("annotations", {})["owner"] = "search@example.com"
    assert got == expected


def test_a_node_selector_emptied_with_nulls_or_an_empty_toleration_list_leaves_the_field_out(known):
    defaults = yaml.safe_load((known / "default" / "charts" / "llama-8b" / "values.yaml").read_text())["nodeSelector"]
    got = render(known / "default", "llama-8b", {"nodeSelector": dict.fromkeys(defaults), "tolerations": []})
    spec = got[("Deployment", "llama-8b")]["spec"]["template"]["spec"]
    assert "nodeSelector" not in spec and "tolerations" not in spec


def test_extra_args_reach_every_engine_of_a_multi_node_group(known):
    got = render(known / "capacity-platform", "llama-405b", {"extraArgs": ["--enforce-eager"], "replicaCount": 2})
    group = got[("LeaderWorkerSet", "llama-405b-group")]
    template = group["spec"]["leaderWorkerTemplate"]
    for side in ("leaderTemplate", "workerTemplate"):
        assert containers(template[side]["spec"])[0]["args"][-1] == "--enforce-eager"
    assert group["spec"]["replicas"] == 2


def test_a_batch_jobs_replica_count_is_its_parallelism(known):
    job = next(o for k, o in render(known / "capacity-platform", "nightly-summaries", {"replicaCount": 1}).items() if k[0] == "Job")
    assert job["spec"]["parallelism"] == 1


def test_dynamo_counts_each_component_and_keeps_the_frontend_out_of_the_gpu_values(known):
    folder = known / "dynamo-disaggregated-p5"
    values = yaml.safe_load((folder / "charts" / "llama-70b" / "values.yaml").read_text())
    assert set(values["replicaCount"]) == {"frontend", "prefill", "decode"}
    assert set(values["resources"]) == {"prefill", "decode"}
    got = render(folder, "llama-70b", {"replicaCount": {**values["replicaCount"], "decode": 4}, "extraArgs": ["--enforce-eager"]})
    components = {c["name"]: c for c in got[("DynamoGraphDeployment", "llama-70b")]["spec"]["components"]}
    assert components["decode"]["replicas"] == 4 and components["prefill"]["replicas"] == values["replicaCount"]["prefill"]
    assert containers(components["prefill"]["podTemplate"]["spec"])[0]["args"][-1] == "--enforce-eager"
    assert "--enforce-eager" not in containers(components["frontend"]["podTemplate"]["spec"])[0]["args"]


def test_autoscaling_bounds_and_the_amp_workspace_are_values(known):
    folder = known / "gateway-two-models"
    with pytest.raises(helm.HelmError, match="set autoscaling.prometheusAddress"):
        render(folder, "llama-8b")
    got = render(folder, "llama-8b", {"autoscaling": {"minReplicas": 1, "maxReplicas": 9, "prometheusAddress": AMP}})
    scaled = next(o for k, o in got.items() if k[0] == "ScaledObject")
    assert (scaled["spec"]["minReplicaCount"], scaled["spec"]["maxReplicaCount"]) == (1, 9)
    assert {t["metadata"]["serverAddress"] for t in scaled["spec"]["triggers"]} == {AMP}
    dist = by_key(yaml.safe_load_all((folder / "dist" / "llama-8b" / "manifest.yaml").read_text().replace("{amp-query-url}", AMP)))
    assert render(folder, "llama-8b", {"autoscaling": {"minReplicas": 2, "maxReplicas": 6, "prometheusAddress": AMP}}) == dist
    assert "replicaCount" not in yaml.safe_load((folder / "charts" / "llama-8b" / "values.yaml").read_text())
    assert (folder / "dist" / "llama-8b" / "manifest.yaml").read_text().startswith(NOT_READY)


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"replicaCount": "two"}, "/replicaCount"),
        ({"replicaCnt": 2}, "replicaCnt"),
        ({"extraArgs": [5]}, "/extraArgs/0"),
        ({"image": {"repository": "vllm/vllm-openai", "tag": "v0.30.0 latest"}}, "/image/tag"),
        ({"model": {"uri": "meta-llama/Llama-3.1-8B-Instruct"}}, "/model/uri"),
        ({"labels": {"Bad Key": "x"}}, "Bad Key"),
        ({"labels": {"app.kubernetes.io/name": "other"}}, "app.kubernetes.io/name"),
        ({"podAnnotations": {"prometheus.io/port": "9999"}}, "prometheus.io/port"),
        ({"tolerations": [{"key": "a", "operator": "Sometimes"}]}, "/tolerations/0/operator"),
        ({"resources": {"limits": {"memory": "lots"}}}, "/resources/limits/memory"),
    ],
)
def test_helm_refuses_a_wrong_value(known, values, complaint):
    with pytest.raises(helm.HelmValuesError, match=complaint):
        render(known / "default", "llama-8b", values)


def test_an_unknown_account_is_a_required_value_and_dist_says_it_is_not_ready(unknown):
    with pytest.raises(helm.HelmError, match="set accountId"):
        render(unknown, "llama-8b")
    got = render(unknown, "llama-8b", {"accountId": ACCOUNT})
    text = (unknown / "dist" / "llama-8b" / "manifest.yaml").read_text()
    assert text.startswith(NOT_READY) and (unknown / "dist" / "llama-8b" / "kustomization.yaml").read_text().startswith(NOT_READY)
    readme = (unknown / "dist" / "llama-8b" / "README.md").read_text()
    assert "not ready to apply" in readme and "--resolve-account" in readme
    assert got == by_key(yaml.safe_load_all(text.replace("{account}", ACCOUNT)))
    # A model location of one's own needs no account for the model; the image's registry still does.
    with pytest.raises(helm.HelmError, match="set accountId"):
        render(unknown, "llama-8b", {"model": {"uri": "s3://mine/models/x/"}})
    mine = render(
        unknown, "llama-8b", {"model": {"uri": "s3://mine/models/x/"}, "image": {"repository": "vllm/vllm-openai", "tag": "v0.30.0"}}
    )
    server = containers(mine[("Deployment", "llama-8b")]["spec"]["template"]["spec"])[0]
    assert server["args"][0] == "s3://mine/models/x/" and server["image"] == "vllm/vllm-openai:v0.30.0"
    with pytest.raises(helm.HelmValuesError, match="/accountId"):
        render(unknown, "llama-8b", {"accountId": "12345"})


@pytest.mark.parametrize("config", ["default", "dynamo-disaggregated-p5", "capacity-platform"])
def test_helm_lint_is_clean_with_the_schema(known, config):
    for chart in (known / config / "charts").iterdir():
        report = helm.lint(str(chart), strict=True, namespace="inference", kube_version="v1.35.0")
        assert report["errors"] == [], chart.name
        assert [m for m in report["messages"] if m["severity"] >= 2] == [], report["messages"]


def test_every_dist_folder_is_a_kustomization_of_its_manifest(known):
    for folder in (known / "capacity-platform" / "dist").iterdir():
        kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
        assert kustomization == {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": ["manifest.yaml"]}


def test_tritons_engine_arguments_and_model_are_values_and_a_change_rolls_its_pods(known):
    import hashlib
    import json

    folder = known / "triton-vllm-g6e"
    values = yaml.safe_load((folder / "charts" / "llama-8b-triton" / "values.yaml").read_text())
    assert values["model"] == {"uri": "meta-llama/Llama-3.1-8B-Instruct"} and values["engineArgs"]["max_num_seqs"] == 128
    got = render(
        folder,
        "llama-8b-triton",
        {"engineArgs": {"max_num_seqs": 256, "enforce_eager": True}, "model": {"uri": "Qwen/Qwen2.5-7B-Instruct"}},
    )
    repository = got[("ConfigMap", "llama-8b-triton-model-repository")]["data"]
    engine = json.loads(repository["model.json"])
    assert engine["max_num_seqs"] == 256 and engine["enforce_eager"] is True and engine["model"] == "Qwen/Qwen2.5-7B-Instruct"
    assert engine["dtype"] == "auto"  # the rest as the config had it
    annotations = got[("Deployment", "llama-8b-triton")]["spec"]["template"]["metadata"]["annotations"]
    # The same digest the kit writes (blueprints/triton/chart.py), of what Helm rendered: a changed file rolls the pods.
    assert annotations["llm-kit/model-repository-hash"] == hashlib.sha256("".join(repository.values()).encode()).hexdigest()[:16]
    before = by_key(dist_objects(folder, "llama-8b-triton"))
    assert (
        annotations["llm-kit/model-repository-hash"]
        != before[("Deployment", "llama-8b-triton")]["spec"]["template"]["metadata"]["annotations"]["llm-kit/model-repository-hash"]
    )
    with pytest.raises(helm.HelmValuesError, match="invalid propertyName 'model'"):
        render(folder, "llama-8b-triton", {"engineArgs": {"model": "x/y"}})
