"""The optional CDK Pipelines deployment: one pipeline stack whose Deploy stage holds the kit's stacks."""

import json

import pytest

from tests.helpers import assert_rejected, only, resources, synth, write_config

CONNECTION = "arn:aws:codeconnections:us-west-2:111122223333:connection/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
PIPELINE = {"enabled": True, "connection_arn": CONNECTION, "repository": "acme/llm-serving", "config_path": "config/prod.yaml"}


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pipeline")
    templates = synth(write_config(folder, {"account": "111122223333", "pipeline": PIPELINE}), folder / "out")
    return templates, folder / "out"


def _stages(template):
    body = only(template, "AWS::CodePipeline::Pipeline")["Properties"]
    return {stage["Name"]: stage["Actions"] for stage in body["Stages"]}


@pytest.mark.e2e
def test_the_app_holds_only_the_pipeline_and_the_stage_keeps_the_stack_names(pipeline):
    templates, out = pipeline
    assert list(templates) == ["llm-kit-pipeline"]
    deploy = _stages(templates["llm-kit-pipeline"])["Deploy"]
    deployed = [a["Configuration"]["StackName"] for a in deploy if a["Name"].endswith(".Deploy")]
    # The image registry (cache rules, repositories) and the image build stand beside the others (docs/images.md).
    assert sorted(deployed) == sorted(
        ["llm-kit-network", "llm-kit-registry", "llm-kit-images", "llm-kit-storage", "llm-kit-cluster", "llm-kit-workloads"]
    )
    assert deployed.index("llm-kit-registry") < deployed.index("llm-kit-cluster") and deployed.index("llm-kit-images") < deployed.index(
        "llm-kit-workloads"
    )
    assert len([p for p in out.glob("assembly-*/*.template.json") if not p.name.endswith(".nested.template.json")]) == 6


@pytest.mark.e2e
def test_source_is_the_repository_branch_through_the_connection(pipeline):
    [source] = _stages(pipeline[0]["llm-kit-pipeline"])["Source"]
    assert source["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"
    assert source["Configuration"]["FullRepositoryId"] == "acme/llm-serving"
    assert source["Configuration"]["BranchName"] == "main"
    assert source["Configuration"]["ConnectionArn"] == CONNECTION


@pytest.mark.e2e
def test_synth_runs_the_tests_and_the_main_job_with_the_config(pipeline):
    template = pipeline[0]["llm-kit-pipeline"]
    synth_project = next(p["Properties"] for name, p in resources(template, "AWS::CodeBuild::Project").items() if "Synth" in name)
    spec = json.loads(synth_project["Source"]["BuildSpec"])
    assert spec["phases"]["build"]["commands"] == ["./kit test", "./kit synth"]
    assert spec["artifacts"]["base-directory"] == "cdk.out"
    env = {v["Name"]: v["Value"] for v in synth_project["Environment"]["EnvironmentVariables"]}
    assert env["KIT_CONFIG"] == "config/prod.yaml"


@pytest.mark.e2e
def test_deploy_waits_for_an_approval_and_the_key_rotates(pipeline):
    template = pipeline[0]["llm-kit-pipeline"]
    first = _stages(template)["Deploy"][0]
    assert first["ActionTypeId"]["Provider"] == "Manual"
    assert only(template, "AWS::KMS::Key")["Properties"]["EnableKeyRotation"] is True


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"account": "111122223333", "pipeline": {"enabled": True, "repository": "acme/x"}},
            ["pipeline.connection_arn", "is required when the pipeline is enabled"],
        ),
        ({"pipeline": {**PIPELINE}}, ["account", "must be named"]),
        (
            {"account": "111122223333", "pipeline": {**PIPELINE, "connection_arn": "arn:aws:s3:::bucket"}},
            ["pipeline.connection_arn", "got: 'arn:aws:s3:::bucket'"],
        ),
    ],
    ids=["no-connection", "no-account", "not-a-connection-arn"],
)
def test_incomplete_pipeline_config_is_explained(tmp_path, overrides, expected):
    assert_rejected(tmp_path, overrides, expected)


@pytest.mark.e2e
def test_pipeline_roles_are_scoped_and_every_wildcard_has_its_own_reason(pipeline):
    templates, out = pipeline
    template = templates["llm-kit-pipeline"]
    projects = {name for name, body in resources(template, "AWS::CodeBuild::Project").items()}
    for name, policy in resources(template, "AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if "codebuild:StartBuild" in actions:
                # Only the pipeline's own projects, never '*'.
                targets = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
                assert {ref["Fn::GetAtt"][0] for ref in targets} <= projects, name
            if "cloudformation:DescribeStacks" in actions:
                assert statement["Resource"] != "*"
    report = json.loads((out / "validation-report.json").read_text())
    acknowledged = [v for v in report["pluginReports"][0]["suppressedViolations"] if v["ruleName"].startswith("AwsSolutions-IAM5[")]
    pipeline_only = [v for v in acknowledged if "/Deploy/" not in v["violatingConstructs"][0]["constructPath"]]
    assert pipeline_only, "the pipeline's wildcards should be acknowledged one by one"
    # Each acknowledgment names its exact finding; different kinds of wildcard carry different reasons.
    reasons = {v["ruleName"]: v["reason"] for v in pipeline_only}
    assert len(set(reasons.values())) >= 6
    assert "codebuild:StartBuild" not in json.dumps(reasons)


def test_an_unreviewed_pipeline_wildcard_fails_the_synth():
    from infra.stacks.pipeline import wildcard_reason

    assert "bootstrap-role" in wildcard_reason("Resource::arn:*:iam::111122223333:role/*")
    with pytest.raises(ValueError, match="has not reviewed: Action::codebuild:\\*"):
        wildcard_reason("Action::codebuild:*")
