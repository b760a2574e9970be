"""Helm charts of the workloads: Chart.yaml, versioning, lint (Helm's Go SDK, offline), and templates that
render back to exactly the objects in dist/, with the release namespace filled in (values: test_helm_values.py)."""

import re

import helm_python as helm
import pytest
import yaml

from assembly.app import render_workloads
from assembly.delivery import prepare
from assembly.version import kit_version
from blueprints.helm import image_tag, semver, write_charts
from blueprints.dist import write_dist
from assembly import synth as synth_command
from assembly.kit import KIT
from core.images import IMAGES
from tests.helpers import DEFAULT_CONFIG, write_config

DYNAMO = {
    "name": "chat",
    "blueprint": "dynamo",
    "node_pool": "gpu-h100-efa",
    "model": {"type": "hf", "repo_id": "meta-llama/Llama-3.1-70B-Instruct"},
    "mode": "disaggregated",
    "tensor_parallel_size": 4,
}
# SemVer 2 with the build metadata that names the templates.
CHART_VERSION = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?\+[0-9a-f]{10}$")
HELM_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Charts and dist/ of the default config plus a Dynamo workload (its JSON arguments hold literal braces)."""
    folder = tmp_path_factory.mktemp("charts")
    config = KIT.load(write_config(folder, {"workloads": [*yaml.safe_load(DEFAULT_CONFIG.read_text())["workloads"], DYNAMO]}))
    delivery = prepare(config, render_workloads(config), "123456789012")
    write_dist(delivery.objects, folder / "dist", delivery.unknowns)
    write_charts(delivery.objects, folder / "charts", version=semver(kit_version()), hints=delivery.hints)
    return folder, delivery.objects, delivery.hints


WORKLOADS = ["llama-8b", "chat"]


@pytest.mark.parametrize("name", WORKLOADS)
def test_chart_yaml_names_the_workload_and_versions_it(built, name):
    folder, _, _ = built
    chart = yaml.safe_load((folder / "charts" / name / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2" and chart["name"] == name and HELM_NAME.match(name)
    assert chart["type"] == "application"
    assert CHART_VERSION.match(chart["version"]) and chart["version"].startswith(semver(kit_version()) + "+")
    expected_app = {"llama-8b": image_tag(IMAGES["vllm"].reference), "chat": image_tag(IMAGES["dynamo-vllm-efa"].reference)}[name]
    assert chart["appVersion"] == expected_app
    assert (folder / "charts" / name / "README.md").read_text().startswith(f"# {name}\n")


@pytest.mark.parametrize("name", WORKLOADS)
def test_helm_lint_is_clean(built, name):
    folder, _, _ = built
    report = helm.lint(str(folder / "charts" / name), strict=True, namespace="inference", kube_version="v1.35.0")
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= 2] == [], report["messages"]


@pytest.mark.parametrize("name", WORKLOADS)
def test_templates_render_to_the_dist_objects_in_the_release_namespace(built, name):
    folder, _, _ = built
    dist = list(yaml.safe_load_all((folder / "dist" / name / "manifest.yaml").read_text()))
    with helm.Chart.load(str(folder / "charts" / name)) as chart:
        same = [yaml.safe_load(text) for _, text in sorted(chart.render({}, name=name, namespace="inference").items())]
        elsewhere = [yaml.safe_load(text) for _, text in sorted(chart.render({}, name=name, namespace="team-a").items())]
    key = lambda obj: (obj["kind"], obj["metadata"]["name"])  # noqa: E731
    assert sorted(same, key=key) == sorted(dist, key=key)
    for obj in elsewhere:
        assert obj["metadata"]["namespace"] == "team-a"
        obj["metadata"]["namespace"] = "inference"
    assert sorted(elsewhere, key=key) == sorted(dist, key=key)


def test_template_files_are_named_after_kind_and_object(built):
    folder, objects, hints = built
    names = sorted(p.name for p in (folder / "charts" / "chat" / "templates").iterdir())
    assert names == sorted(f"{o['kind'].lower()}-{o['metadata']['name']}.yaml" for o in objects["chat"])
    assert "namespace: {{ .Release.Namespace }}\n" in (folder / "charts" / "chat" / "templates" / "service-chat.yaml").read_text()


def test_the_same_objects_give_byte_identical_charts_and_a_change_a_new_version(built, tmp_path):
    folder, objects, hints = built
    write_charts(objects, tmp_path / "again", version=semver(kit_version()), hints=hints)
    for path in (folder / "charts").rglob("*"):
        if path.is_file():
            assert (tmp_path / "again" / path.relative_to(folder / "charts")).read_bytes() == path.read_bytes()
    changed = {"chat": [{**objects["chat"][0], "metadata": {**objects["chat"][0]["metadata"], "labels": {"team": "a"}}}]}
    write_charts(changed, tmp_path / "changed", version=semver(kit_version()), hints=hints)
    before = yaml.safe_load((folder / "charts" / "chat" / "Chart.yaml").read_text())["version"]
    after = yaml.safe_load((tmp_path / "changed" / "chat" / "Chart.yaml").read_text())["version"]
    assert before != after and before.split("+")[0] == after.split("+")[0]


@pytest.mark.parametrize(
    ("pep440", "expected"),
    [("0.1.0", "0.1.0"), ("1.2", "1.2.0"), ("1.2.3rc1", "1.2.3-rc.1"), ("2.0.0.dev4", "2.0.0-dev.4"), ("1.0b2", "1.0.0-beta.2")],
)
def test_kit_versions_become_semver(pep440, expected):
    assert semver(pep440) == expected


def test_a_kit_version_without_a_semver_form_is_refused():
    with pytest.raises(ValueError, match="MAJOR.MINOR.PATCH"):
        semver("2024.1.post1+local")


@pytest.mark.e2e
def test_synth_swaps_the_charts_in_and_keeps_the_folder_readme(tmp_path, capsys):
    charts = tmp_path / "charts"
    (charts / "retired-workload").mkdir(parents=True)
    (charts / "README.md").write_text("kept")
    config = write_config(tmp_path)
    assert (
        synth_command.main(
            ["--config", str(config), "--outdir", str(tmp_path / "out"), "--dist", str(tmp_path / "dist"), "--charts", str(charts)]
        )
        == 0
    )
    assert sorted(p.name for p in charts.iterdir()) == ["README.md", "llama-8b"]
    assert (charts / "README.md").read_text() == "kept"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".charts-")]
