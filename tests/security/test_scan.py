"""The scan reads every object the kit deploys (manifests, charts, and the objects inside the CloudFormation
templates), names each finding by the object it is about whatever path a scanner reports, and fails on any finding
the baseline does not name."""

import json
from pathlib import Path

import pytest
import yaml

from security import embedded
from security import stage as staging
from security.findings import too_broad
from security.scan import BASELINE, Accepted, Finding, judge, load_baseline, main, parse_checkov, parse_trivy
from security.values import check_patch, check_values

# A privileged miner in a namespace of its own, inside a KubernetesManifest the way aws-eks-v2 writes it: the
# manifest a JSON string joined around CloudFormation tokens.
MINER = {
    "apiVersion": "apps/v1",
    "kind": "DaemonSet",
    "metadata": {"name": "miner", "namespace": "mining", "labels": {"app.kubernetes.io/name": "miner"}},
    "spec": {
        "selector": {"matchLabels": {"app": "miner"}},
        "template": {
            "metadata": {"labels": {"app": "miner"}},
            "spec": {
                "hostNetwork": True,
                "containers": [{"name": "miner", "image": "example.com/miner:1", "securityContext": {"privileged": True}}],
            },
        },
    },
}


def joined(body: list, token_field: str = "role") -> dict:
    """body as JSON, with the string value of token_field replaced by a Ref, as Fn::Join carries it."""
    text = json.dumps(body)
    before, after = text.split(f'"{token_field}": "TOKEN"')
    return {"Fn::Join": ["", [before + f'"{token_field}": "', {"Ref": "NodeRole12AB34CD"}, '"' + after]]}


def template() -> dict:
    node_class = {"apiVersion": "karpenter.k8s.aws/v1", "kind": "EC2NodeClass", "metadata": {"name": "gpu"}, "spec": {"role": "TOKEN"}}
    return {
        "Resources": {
            "NodeRole12AB34CD": {"Type": "AWS::IAM::Role", "Properties": {}},
            "ClustermanifestMinerAB12CD34": {"Type": embedded.MANIFEST, "Properties": {"Manifest": json.dumps([MINER])}},
            "ClustermanifestNodePoolEF56AB78": {"Type": embedded.MANIFEST, "Properties": {"Manifest": joined([node_class])}},
            "ClusterchartMinerChart12345678": {
                "Type": embedded.HELM_CHART,
                "Properties": {
                    "Chart": "miner",
                    "Repository": "https://charts.example.com",
                    "Namespace": "mining",
                    "Release": "miner",
                    "Values": {
                        "Fn::Join": [
                            "",
                            [
                                '{"queue":"',
                                {"Fn::GetAtt": ["Queue1234ABCD", "QueueName"]},
                                '","securityContext":{"privileged":true},"image":{"repository":"example.com/miner","tag":"latest"}}',
                            ],
                        ]
                    },
                },
            },
            "ScalePatch": {
                "Type": embedded.PATCH,
                "Properties": {"ResourceName": "deployments.apps/miner", "ResourceNamespace": "mining", "ApplyPatchJson": "{}"},
            },
        }
    }


@pytest.fixture
def output(tmp_path) -> Path:
    folder = tmp_path / "out"
    (folder / "cdk.out").mkdir(parents=True)
    (folder / "cdk.out" / "kit-cluster.template.json").write_text(json.dumps(template(), indent=1))
    return folder


def test_objects_inside_a_template_are_extracted_with_tokens_rendered():
    objects = list(embedded.manifest_objects(template(), "cdk.out/kit-cluster.template.json"))
    assert [(body["kind"], origin.resource) for body, origin in objects] == [
        ("DaemonSet", "ClustermanifestMinerAB12CD34"),
        ("EC2NodeClass", "ClustermanifestNodePoolEF56AB78"),
    ]
    assert objects[1][0]["spec"]["role"] == "NodeRole12AB34CD"
    [release] = embedded.releases(template(), "cdk.out/kit-cluster.template.json", Path("."))
    assert (release.subject, release.values["queue"]) == ("HelmChart/mining/miner", "Queue1234ABCD.QueueName")


def test_a_token_the_extraction_cannot_render_stops_the_scan():
    bad = {"Resources": {"M": {"Type": embedded.MANIFEST, "Properties": {"Manifest": {"Fn::Join": ["", ["[", {"Fn::Base64": "x"}, "]"]]}}}}}
    with pytest.raises(embedded.Unrenderable, match="M: its Manifest"):
        list(embedded.manifest_objects(bad, "t.json"))


@pytest.mark.e2e
def test_the_default_configs_templates_carry_the_objects_the_workloads_and_cluster_apply(default_out, default_templates, tmp_path):
    stage = staging.build(default_out, tmp_path / "stage")
    subjects = {subject for path, subject in stage.subjects.items() if path.startswith("objects/templates/")}
    # The server from the workload's nested stack, the namespace from the workloads stack, the storage class and the
    # GPU node pools from the cluster stack: none of them is in a file the scanners were given before.
    assert {"Deployment/inference/llama-8b", "Namespace/inference", "StorageClass/gp3-encrypted", "NodePool/gpu-l40s"} <= subjects
    charts = {(release.chart, release.version) for release in stage.releases}
    assert ("karpenter", "1.14.1") in charts and all(version for _, version in charts)


def test_a_custom_resources_pod_templates_are_scanned_as_pods_named_by_the_resource(tmp_path):
    lws = {
        "apiVersion": "leaderworkerset.x-k8s.io/v1",
        "kind": "LeaderWorkerSet",
        "metadata": {"name": "big", "namespace": "inference", "labels": {"llm-kit/blueprint": "vllm-multinode"}},
        "spec": {
            "leaderWorkerTemplate": {
                "workerTemplate": {
                    "metadata": {"labels": {"role": "worker"}},
                    "spec": {"containers": [{"name": "w", "image": "vllm/vllm-openai:v1"}]},
                }
            }
        },
    }
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "manifest.yaml").write_text(yaml.safe_dump(lws))
    stage = staging.build(tmp_path, tmp_path / "stage")
    pods = [path for path in stage.subjects if yaml.safe_load((stage.root / path).read_text())["kind"] == "Pod"]
    assert [stage.subjects[path] for path in pods] == ["LeaderWorkerSet/inference/big"]
    assert stage.context[pods[0]] == ((("llm-kit/blueprint", "vllm-multinode"), ("role", "worker")), ("vllm/vllm-openai:v1",))


def test_findings_are_named_by_object_whatever_path_the_scanner_reports(output, tmp_path):
    stage = staging.build(output, tmp_path / "stage")
    [miner] = [path for path, subject in stage.subjects.items() if subject == "DaemonSet/mining/miner"]
    template_path = "cloudformation/cdk.out__kit-cluster.template.json"
    [(first, last, resource)] = [span for span in stage.resource_lines[template_path] if span[2] == "AWS::IAM::Role.NodeRole12AB34CD"]
    checkov = [
        {
            "check_type": "kubernetes",
            "results": {"failed_checks": [{"check_id": "CKV_K8S_16", "resource": "x", "check_name": "privileged", "file_path": path}]},
        }
        for path in (f"/{miner}", str(stage.root / miner), miner)
    ]
    checkov.append(
        {
            "check_type": "cloudformation",
            "results": {
                "failed_checks": [{"check_id": "CKV_AWS_1", "resource": resource, "check_name": "c", "file_path": f"/{template_path}"}]
            },
        }
    )
    findings = parse_checkov(checkov, stage)
    # An absolute path, checkov's folder-rooted one and a relative one all keep their finding and name the object.
    assert [f.subject for f in findings] == ["DaemonSet/mining/miner"] * 3 + ["AWS::IAM::Role.NodeRole"]
    assert findings[0].where == "cdk.out/kit-cluster.template.json ClustermanifestMinerAB12CD34"
    trivy = {
        "Results": [
            {"Target": template_path, "Misconfigurations": [{"ID": "AWS-0001", "Title": "t", "CauseMetadata": {"StartLine": first + 1}}]},
            {"Target": "/elsewhere/manifest.yaml", "Misconfigurations": [{"ID": "KSV-0017", "Message": "privileged"}]},
        ]
    }
    cfn, stray = parse_trivy(trivy, stage)
    assert (cfn.subject, cfn.where) == ("AWS::IAM::Role.NodeRole", "cdk.out/kit-cluster.template.json")
    # A file outside the stage is still reported, under a subject no baseline entry may name.
    assert stray.subject == "file//elsewhere/manifest.yaml" and too_broad("file/*")


def test_a_kit_chart_is_rendered_by_trivy_and_its_findings_name_the_object_it_gives_in_dist(tmp_path):
    server = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "chat", "namespace": "inference", "labels": {"app.kubernetes.io/component": "server"}},
    }
    (tmp_path / "dist" / "chat").mkdir(parents=True)
    (tmp_path / "dist" / "chat" / "manifest.yaml").write_text(yaml.safe_dump(server))
    (tmp_path / "charts" / "chat" / "templates").mkdir(parents=True)
    (tmp_path / "charts" / "chat" / "Chart.yaml").write_text("apiVersion: v2\nname: chat\nversion: 0.1.0\n")
    (tmp_path / "charts" / "chat" / "templates" / "deployment-chat.yaml").write_text(
        "kind: Deployment\nmetadata:\n  namespace: {{ .Release.Namespace }}\n"
    )
    stage = staging.build(tmp_path, tmp_path / "stage")
    report = {
        "Results": [
            {"Target": "helm/charts/chat/templates/deployment-chat.yaml", "Misconfigurations": [{"ID": "KSV-0011", "Message": "cpu"}]}
        ]
    }
    [finding] = parse_trivy(report, stage)
    assert (finding.subject, finding.where, finding.labels) == (
        "Deployment/inference/chat",
        "charts/chat/templates/deployment-chat.yaml",
        (("app.kubernetes.io/component", "server"),),
    )
    assert stage.objects == {"manifests": 1, "charts": 1}


def test_chart_values_and_patches_are_checked_as_data():
    [release] = embedded.releases(template(), "cdk.out/kit-cluster.template.json", Path("."))
    assert {f.check for f in check_values(release)} == {"KIT-PRIVILEGED", "KIT-UNPINNED-IMAGE", "KIT-UNPINNED-CHART"}
    [patch] = embedded.patches(template(), "t.json")
    assert [f.subject for f in check_patch(patch)] == ["KubernetesPatch/mining/deployments.apps/miner"]


def test_a_new_finding_on_a_new_resource_fails_the_scan_and_is_named(output, capsys):
    def scanners(root: Path):
        """Stands in for checkov: reports CKV_K8S_16 on every staged object with a privileged container, by the
        absolute path checkov gives for a folder it was handed by absolute path."""
        failed = [
            {"check_id": "CKV_K8S_16", "resource": "?", "check_name": "Container should not be privileged", "file_path": str(path)}
            for path in sorted(root.rglob("*.yaml"))
            if "privileged: true" in path.read_text()
        ]
        return [{"check_type": "kubernetes", "results": {"failed_checks": failed}}], {"Results": []}

    assert main([str(output)], runner=scanners) == 1
    err = capsys.readouterr().err
    assert "checkov CKV_K8S_16 [DaemonSet/mining/miner]" in err
    assert "kit KIT-PRIVILEGED [HelmChart/mining/miner] securityContext.privileged: true" in err
    assert "kit KIT-PATCHED-POD-SPEC [KubernetesPatch/mining/deployments.apps/miner]" in err


def test_a_finding_the_baseline_names_passes(tmp_path, capsys):
    folder = tmp_path / "out" / "cdk.out"
    folder.mkdir(parents=True)
    bucket = {"Resources": {"ModelsAccessLogs3743BCAB": {"Type": "AWS::S3::Bucket", "Properties": {}}}}
    (folder / "kit-storage.template.json").write_text(json.dumps(bucket, indent=1))

    def scanners(root: Path):
        failed = [
            {
                "check_id": "CKV_AWS_18",
                "resource": "AWS::S3::Bucket.ModelsAccessLogs3743BCAB",
                "check_name": "logging",
                "file_path": "/cloudformation/cdk.out__kit-storage.template.json",
            }
        ]
        return [{"check_type": "cloudformation", "results": {"failed_checks": failed}}], {"Results": []}

    assert main([str(folder.parent)], runner=scanners) == 0
    assert "1 findings in 1 outputs, 1 accepted" in capsys.readouterr().out


def test_an_entry_covers_only_its_scanner_checks_subject_labels_and_images():
    finding = Finding(
        "trivy",
        "KSV-0125",
        "Deployment/inference/chat-epp",
        "registry",
        "dist",
        (("llm-kit/endpoint-picker", "chat"),),
        ("ghcr.io/llm-d/epp:v1",),
    )
    picker = Accepted(
        ("CKV_K8S_43", "KSV-0125"), "Deployment/inference/*-epp", "why", (("llm-kit/endpoint-picker", "*"),), ("ghcr.io/llm-d/*",)
    )
    assert judge([finding], [picker]) == ([], [])
    server_only = Accepted(("KSV-0125",), "Deployment/inference/*", "why", (("app.kubernetes.io/component", "server"),))
    other_registry = Accepted(("KSV-0125",), "Deployment/inference/*-epp", "why", (), ("docker.io/vllm/*",))
    other_namespace = Accepted(("KSV-0125",), "Deployment/kube-system/*-epp", "why", (("llm-kit/endpoint-picker", "*"),))
    other_check = Accepted(("KSV-0011",), "Deployment/inference/*-epp", "why", (("llm-kit/endpoint-picker", "*"),))
    for entry in (server_only, other_registry, other_namespace, other_check):
        assert judge([finding], [entry]) == ([finding], [entry])


def test_a_wildcard_never_crosses_a_part_of_the_subject():
    finding = Finding("checkov", "CKV_K8S_11", "Deployment/inference/chat", "cpu", "dist")
    assert judge([finding], [Accepted(("CKV_K8S_11",), "Deployment/*", "why")])[0] == [finding]


@pytest.mark.parametrize("subject", ["*", "Deployment/*/chat", "Deployment/inference/*", "AWS::Logs::LogGroup.*", "*.Queue", "manifest *"])
def test_a_subject_that_names_no_resource_is_refused(tmp_path, subject):
    path = tmp_path / "baseline.yaml"
    path.write_text(
        yaml.safe_dump(
            [
                {
                    "check": "KSV-0011",
                    "resources": [{"subject": "Deployment/inference/chat"}, {"subject": subject}],
                    "reason": "because " * 10,
                }
            ]
        )
    )
    with pytest.raises(SystemExit, match="name the resources"):
        load_baseline(path)


def test_an_entry_without_a_reason_is_refused(tmp_path):
    path = tmp_path / "baseline.yaml"
    path.write_text(yaml.safe_dump([{"check": "KSV-0011", "subject": "Deployment/inference/chat", "reason": " "}]))
    with pytest.raises(SystemExit, match="a reason"):
        load_baseline(path)


def test_every_baseline_entry_names_its_resources_with_its_own_reason():
    accepted = load_baseline(BASELINE)
    assert accepted
    assert all(not too_broad(a.subject) or a.labels or a.images for a in accepted)
    # No resource pattern is accepted twice for one check, and no two entries share a reason.
    pairs = [(check, a.subject, a.labels, a.images) for a in accepted for check in a.check]
    assert len(set(pairs)) == len(pairs)
    reasons = {a.entry: a.reason for a in accepted}
    assert all(len(reason) > 60 for reason in reasons.values())
    assert len(set(reasons.values())) == len(reasons)
