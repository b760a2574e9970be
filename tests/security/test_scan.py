"""The scan's judgement: findings become stable subjects, the baseline covers them by glob, and anything new fails."""

import pytest
import yaml

from security.scan import BASELINE, Accepted, Finding, judge, load_baseline, parse_checkov, parse_trivy

CHECKOV = [
    {
        "check_type": "cloudformation",
        "results": {
            "failed_checks": [
                {"check_id": "CKV_AWS_158", "resource": "AWS::Logs::LogGroup.NetworkFlowLogs2BEC3212", "check_name": "KMS", "file_path": "/llm-kit-network.template.json"}
            ]
        },
    },
    {
        "check_type": "kubernetes",
        "results": {"failed_checks": [{"check_id": "CKV_K8S_11", "resource": "Deployment.inference.chat", "check_name": "CPU", "file_path": "/dist/chat/manifest.yaml"}]},
    },
]
TRIVY = {
    "Results": [
        {"Target": "llm-p5-cluster.template.json", "Misconfigurations": [{"ID": "AWS-0096", "Title": "SQS"}]},
        {"Target": "charts/chat/templates/deployment-chat.yaml", "Misconfigurations": [{"ID": "KSV-0011", "Title": "CPU"}]},
        {"Target": "dist/chat/manifest.yaml", "Misconfigurations": None},
    ]
}


def test_subjects_drop_cdk_hashes_kit_names_and_file_layout():
    assert [f.subject for f in parse_checkov(CHECKOV)] == ["AWS::Logs::LogGroup.NetworkFlowLogs", "Deployment.inference.chat"]
    assert [f.subject for f in parse_trivy(TRIVY)] == ["cluster template", "manifest chat"]


def test_a_finding_no_entry_covers_is_new_and_an_entry_covering_nothing_is_reported():
    findings = parse_checkov(CHECKOV) + parse_trivy(TRIVY)
    baseline = [
        Accepted("checkov", "CKV_AWS_158", "AWS::Logs::LogGroup.*", "why"),
        Accepted("trivy", "AWS-0096", "cluster template", "why"),
        Accepted("trivy", "KSV-0011", "manifest *", "why"),
        Accepted("trivy", "KSV-0014", "manifest *", "why"),
    ]
    new, unused = judge(findings, baseline)
    assert new == [Finding("checkov", "CKV_K8S_11", "Deployment.inference.chat", "CPU", "/dist/chat/manifest.yaml")]
    assert unused == [baseline[3]]


def test_the_same_check_on_another_subject_is_not_covered():
    [finding] = parse_checkov(CHECKOV[:1])
    new, _ = judge([finding], [Accepted("checkov", "CKV_AWS_158", "AWS::Logs::LogGroup.ControlPlane*", "why")])
    assert new == [finding]


def test_every_baseline_entry_is_specific_and_has_its_own_reason():
    entries = load_baseline()
    assert len({(e.scanner, e.check, e.subject) for e in entries}) == len(entries)
    assert all(len(e.reason) > 40 for e in entries)
    # A reason may refer to another entry's, but most must stand on their own.
    assert len({e.reason for e in entries}) == len(entries)


def test_an_entry_without_a_reason_is_refused(tmp_path):
    path = tmp_path / "baseline.yaml"
    path.write_text(yaml.safe_dump([{"scanner": "trivy", "check": "KSV-0011", "subject": "*", "reason": " "}]))
    with pytest.raises(SystemExit, match="a reason"):
        load_baseline(path)
    assert BASELINE.exists()
