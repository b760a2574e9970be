"""Upgrades as the plan sees them, on real synths of the FSx example (cluster, FSx and bucket): one Kubernetes minor,
a controller chart, the node AMI release or a serving image replaces neither the cluster nor the storage; skipping
a minor or going back one is refused."""

from __future__ import annotations

import copy
import json
import shutil
import sys
from pathlib import Path

import pytest
import yaml

import core.versions
from assembly.plan_assembly import read_assembly
from assembly.plan_diff import NONE
from assembly.plan_engine import build
from assembly.plan_upgrades import check
from core.versions import KARPENTER, UPGRADES, HelmPin, MinorUpgrade
from tests.helpers import REPO, synth

pytestmark = pytest.mark.e2e  # every test here reads whole synthesized apps

EXAMPLE = REPO / "config" / "examples" / "dynamo-disaggregated-p5.yaml"
KEPT = ("AWS::EKS::Cluster", "AWS::FSx::FileSystem", "AWS::S3::Bucket")


def _synth(folder: Path, edit=None) -> Path:
    data = yaml.safe_load(EXAMPLE.read_text())
    data["cluster"]["kubernetes_version"] = "1.34"
    if edit:
        edit(data)
    folder.mkdir(parents=True)
    config = folder / "kit.yaml"
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    synth(config, folder / "cdk.out")
    return folder / "cdk.out"


@pytest.fixture(scope="module")
def sides(tmp_path_factory):
    return tmp_path_factory.mktemp("plan-upgrades")


@pytest.fixture(scope="module")
def base(sides):
    return _synth(sides / "base")


def _pin_everywhere(monkeypatch, old, new):
    """Replace a pin in every loaded module that imported it by name."""
    for module in list(sys.modules.values()):
        for name, value in list(vars(module).items()) if module else ():
            if value is old:
                monkeypatch.setattr(module, name, new)


def _kept(plan):
    """The cluster, the file system and the bucket: present, and none of them replaced or deleted."""
    found = {change.type: change for change in plan.cfn.changes if change.type in KEPT}
    for change in found.values():
        assert change.action in ("modify", "follow") and change.replacement == NONE, (change.path, change.reasons)
    assert not plan.gates, [gate.message for gate in plan.gates]
    assert not plan.cfn.blocked, plan.cfn.blocked
    return found


def test_the_example_holds_what_must_be_kept(base):
    types = {body["Type"] for template in read_assembly(base).templates.values() for body in template.resources.values()}
    assert set(KEPT) <= types


def test_one_kubernetes_minor_up_replaces_nothing_that_is_kept(base, sides):
    new = _synth(sides / "k8s", lambda d: d["cluster"].update(kubernetes_version="1.35"))
    plan = build(read_assembly(base), read_assembly(new))
    cluster = _kept(plan)["AWS::EKS::Cluster"]
    assert cluster.changed == ["Version"]
    [version] = plan.versions
    assert (version.old, version.new, version.refused) == ("1.34", "1.35", [])
    assert any("update-nodegroup-version" in note for note in version.notes)
    assert any("unpinned EKS add-ons" in note for note in version.notes)
    assert plan.exit_code == 0


def test_a_controller_chart_bump_replaces_nothing_that_is_kept(base, sides, monkeypatch):
    pinned = KARPENTER.version
    _pin_everywhere(monkeypatch, KARPENTER, HelmPin(KARPENTER.repository, "1.15.0"))
    new = _synth(sides / "chart")
    plan = build(read_assembly(base), read_assembly(new))
    _kept(plan)
    [chart] = [c for c in plan.kube.charts if c.chart == "karpenter"]
    assert (chart.old_version, chart.new_version) == (pinned, "1.15.0")
    assert any("Helm does not upgrade CRDs in crds/" in note for note in chart.notes)
    assert plan.exit_code == 0


def test_a_node_ami_release_replaces_nothing_that_is_kept_and_drifts_the_pool(base, sides):
    def bump(data):
        for pool in data["node_pools"]:
            pool["ami_version"] = "v1.66.0"

    plan = build(read_assembly(base), read_assembly(_synth(sides / "ami", bump)))
    _kept(plan)
    [node_class] = [o for o in plan.kube.objects if o.kind == "EC2NodeClass"]
    assert node_class.changed == ["spec.amiSelectorTerms[0].alias"]
    assert any(note.startswith("Karpenter drifts every node of this class: NodePool p5-efa") for note in node_class.notes)
    assert plan.exit_code == 0


def test_a_serving_image_replaces_nothing_that_is_kept(base, sides):
    image = "nvcr.io/nvidia/ai-dynamo/vllm-runtime:1.4.3-efa"
    plan = build(
        read_assembly(base),
        read_assembly(_synth(sides / "image", lambda d: d["workloads"][0].update(image=image, image_provides=["efa-libfabric"]))),
    )
    _kept(plan)
    changed = [o for o in plan.kube.objects if o.action == "modify" and any("image" in path for path in o.changed)]
    assert [o.kind for o in changed] == ["DynamoGraphDeployment"]
    assert plan.exit_code == 0


def _with_version(source: Path, target: Path, version: str) -> Path:
    """A copy of a synthesized cdk.out whose EKS cluster says another version: a minor the config cannot name."""
    shutil.copytree(source, target)
    for path in target.glob("*.template.json"):
        template = json.loads(path.read_text())
        for body in template.get("Resources", {}).values():
            if body["Type"] == "AWS::EKS::Cluster":
                body["Properties"]["Version"] = version
                path.write_text(json.dumps(template))
    return target


def test_skipping_a_minor_is_refused(base, sides):
    # The config supports only core.versions.SUPPORTED_KUBERNETES_VERSIONS (two minors), so the far side is the
    # synthesized 1.34 template with its cluster's Version edited to 1.36; the upgrade table is given a 1.36 entry so
    # that the refusal can only come from the skip.
    far = _with_version(base, sides / "skip", "1.36")
    table = {**UPGRADES, "1.36": MinorUpgrade("test", charts={}, addons={})}
    [version] = check(read_assembly(base), read_assembly(far), table)
    assert version.refused == [
        "cluster version 1.34 -> 1.36 skips a minor: EKS updates the control plane one minor at a time; deploy 1.35 first, then 1.36"
    ]
    assert build(read_assembly(base), read_assembly(far), upgrades=table).exit_code == 1


def test_going_back_a_minor_is_refused(base, sides):
    older = _with_version(base, sides / "down", "1.33")
    [version] = check(read_assembly(base), read_assembly(older))
    assert "EKS cannot downgrade a cluster" in version.refused[0]


def test_a_minor_without_an_upgrade_entry_is_refused(base, sides):
    table = {key: value for key, value in UPGRADES.items() if key != "1.35"}
    new = _with_version(base, sides / "no-entry", "1.35")
    [version] = check(read_assembly(base), read_assembly(new), table)
    assert "1.35 has no entry in core/versions.py UPGRADES" in version.refused[0]


def test_a_chart_below_the_minors_least_version_is_refused(base, sides):
    table = copy.deepcopy(UPGRADES)
    table["1.35"] = MinorUpgrade("test", charts={"karpenter": "99.0.0"}, addons={})
    new = _with_version(base, sides / "old-chart", "1.35")
    [version] = check(read_assembly(base), read_assembly(new), table)
    assert version.refused == [
        f"chart karpenter {KARPENTER.version} is older than 99.0.0, the least its project supports on this Kubernetes minor "
        "(core/versions.py UPGRADES): bump its pin first"
    ]


def test_every_supported_minor_has_an_upgrade_entry_the_pins_meet():
    assert set(core.versions.SUPPORTED_KUBERNETES_VERSIONS) <= set(UPGRADES)
    pins = {"karpenter": KARPENTER.version, "gateway-helm": core.versions.ENVOY_GATEWAY.version, "keda": core.versions.KEDA.version}
    for minor, entry in UPGRADES.items():
        for chart, least in entry.charts.items():
            have = tuple(int(p) for p in pins[chart].lstrip("v").split("."))
            assert have >= tuple(int(p) for p in least.lstrip("v").split(".")), (minor, chart)
