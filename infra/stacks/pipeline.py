"""Optional pipeline stack: a self-updating CodePipeline whose Deploy stage holds the kit's stacks.

Every push to the branch runs the tests and the synth in CodeBuild, updates the pipeline itself,
waits for an approval (by default), then deploys network, storage, cluster and workloads.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_iam as iam
from aws_cdk import pipelines
from constructs import Construct, IConstruct

from infra import nag
from infra.cfn import child
from config.model import PlatformConfig
from core.versions import AWS_CDK_CLI


class KitStage(cdk.Stage):
    def __init__(self, scope: Construct, construct_id: str, *, add_stacks: Callable[[Construct], None], **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        add_stacks(self)


class PipelineStack(cdk.Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: PlatformConfig, add_stacks: Callable[[Construct], None], **kwargs
    ) -> None:
        super().__init__(
            scope, construct_id, description=f"{config.name}: CodePipeline that tests, synthesizes and deploys the kit", **kwargs
        )
        settings = config.pipeline
        if settings.repository is None or settings.connection_arn is None:
            # The config checks refuse an enabled pipeline without both (config/checks.py); a caller that skipped them
            # gets the same fix here.
            raise ValueError("PipelineStack: pipeline.repository and pipeline.connection_arn are required; set both to deploy a pipeline")
        source = pipelines.CodePipelineSource.connection(settings.repository, settings.branch, connection_arn=settings.connection_arn)
        synth = pipelines.ShellStep(
            "Synth",
            input=source,
            env={"KIT_CONFIG": settings.config_path, "CI": "true"},
            commands=["./kit test", "./kit synth"],
            primary_output_directory="cdk.out",
        )
        pipeline = pipelines.CodePipeline(
            self,
            "Pipeline",
            pipeline_name=config.name,
            synth=synth,
            cli_version=AWS_CDK_CLI,
            cross_account_keys=True,
            enable_key_rotation=True,
            code_build_defaults=pipelines.CodeBuildOptions(
                build_environment=codebuild.BuildEnvironment(
                    build_image=codebuild.LinuxBuildImage.STANDARD_7_0, compute_type=codebuild.ComputeType.MEDIUM
                )
            ),
        )
        stage = KitStage(self, "Deploy", add_stacks=add_stacks, env=kwargs.get("env"))
        pre = (
            [pipelines.ManualApprovalStep("Approve", comment=f"Deploy {config.name} to {config.account}/{config.region}")]
            if settings.manual_approval
            else []
        )
        pipeline.add_stage(stage, pre=pre)
        pipeline.build_pipeline()
        self._acknowledge(pipeline)

    def _acknowledge(self, pipeline: pipelines.CodePipeline) -> None:
        scope_asset_publishing(pipeline)
        scope_self_mutation(pipeline)
        nag.acknowledge_policy_wildcards(pipeline, wildcard_reason)
        nag.acknowledge(
            pipeline,
            "S1",
            "The artifact bucket of CDK Pipelines holds transient build artifacts only; it is KMS-encrypted, TLS-only and private.",
        )


def _policy(scope: IConstruct, *path: str) -> iam.CfnPolicy:
    node = scope
    for name in path:
        node = node.node.find_child(name)
    return child(node.node.find_child("DefaultPolicy"), "Resource", iam.CfnPolicy)


def _rewrite(policy: iam.CfnPolicy, rewrite: Callable[[dict], dict | None]) -> None:
    """Replace the statements of a generated policy: rewrite returns the new statement, or None to keep it."""
    document = cdk.Stack.of(policy).resolve(policy.policy_document)
    document["Statement"] = [rewrite(statement) or statement for statement in document["Statement"]]
    policy.policy_document = cdk.Stack.of(policy).resolve(document)


def scope_asset_publishing(pipeline: pipelines.CodePipeline) -> None:
    """CDK Pipelines lets the asset-publishing role start, read and stop any CodeBuild build in the account and
    write any CodeBuild log group and report group. It needs only its own projects."""
    stack = cdk.Stack.of(pipeline)
    assets = pipeline.node.try_find_child("Assets")
    if assets is None:
        return
    projects = [child for child in assets.node.children if isinstance(child, codebuild.Project)]
    colon = cdk.ArnFormat.COLON_RESOURCE_NAME
    log_groups = [f"/aws/codebuild/{project.project_name}" for project in projects]
    logs = [
        stack.format_arn(service="logs", resource="log-group", resource_name=f"{group}{suffix}", arn_format=colon)
        for group in log_groups
        for suffix in ("", ":*")
    ]
    reports = [
        stack.format_arn(service="codebuild", resource="report-group", resource_name=f"{project.project_name}-*") for project in projects
    ]

    def rewrite(statement: dict) -> dict | None:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if "codebuild:StartBuild" in actions:
            return {**statement, "Resource": [project.project_arn for project in projects]}
        if "logs:CreateLogStream" in actions:
            return {**statement, "Resource": logs}
        if "codebuild:CreateReport" in actions:
            return {**statement, "Resource": reports}
        return None

    _rewrite(_policy(assets, "FileRole"), rewrite)


def scope_self_mutation(pipeline: pipelines.CodePipeline) -> None:
    """The self-mutation step reads stacks of this account and region only: the pipeline deploys nowhere else."""
    stack = cdk.Stack.of(pipeline)

    def rewrite(statement: dict) -> dict | None:
        if statement["Action"] == "cloudformation:DescribeStacks":
            return {**statement, "Resource": f"arn:{stack.partition}:cloudformation:{stack.region}:{stack.account}:stack/*"}
        return None

    _rewrite(_policy(pipeline, "UpdatePipeline", "SelfMutation", "Role"), rewrite)


# Each wildcard CDK Pipelines leaves in its policies, by the finding text cdk-nag reports, with why it stays.
# A finding that matches none of these fails the synth: a new CDK release's wildcard gets reviewed, not waved through.
_WILDCARDS = (
    (
        r"^Action::s3:(GetObject|GetBucket|List|DeleteObject|Abort)\*$",
        "S3 actions on the pipeline's own artifact bucket only (the statement's resources name it).",
    ),
    (
        r"^Resource::<PipelineArtifactsBucket\w+\.Arn>/\*$",
        "Artifact objects are named by CodePipeline at run time, inside the pipeline's own bucket.",
    ),
    (
        r"^Action::kms:(ReEncrypt|GenerateDataKey)\*$",
        "KMS actions on the artifact bucket's own key only (the statement's resource names it).",
    ),
    (
        r"^Resource::arn:<AWS::Partition>:logs:[\w-]+:\d+:log-group:/aws/codebuild/<\w+>:\*$",
        "Log streams of one CodeBuild project's own log group; CodeBuild names a stream per build.",
    ),
    (
        r"^Resource::arn:<AWS::Partition>:codebuild:[\w-]+:\d+:report-group/<\w+>-\*$",
        "Report groups of one CodeBuild project; CodeBuild names them after the project at run time.",
    ),
    (
        r"^Resource::arn:\*:iam::\d+:role/\*$",
        "Self-mutation assumes only roles tagged aws-cdk:bootstrap-role (deploy, file and image publishing) in this account: the "
        "policy's condition.",
    ),
    (
        r"^Resource::arn:<AWS::Partition>:cloudformation:[\w-]+:\d+:stack/\*$",
        "Self-mutation reads stacks (its own and the CDK bootstrap stack) of this account and region only; names are known only at run "
        "time.",
    ),
    (
        r"^Resource::\*$",
        "s3:ListBucket for the CDK CLI in self-mutation: it finds the bootstrap assets bucket, whose name depends on the bootstrap "
        "qualifier; ListBucket reads key names, no object.",
    ),
)


def wildcard_reason(finding: str) -> str:
    for pattern, reason in _WILDCARDS:
        if re.match(pattern, finding):
            return reason
    raise ValueError(f"CDK Pipelines generated a wildcard the kit has not reviewed: {finding}; scope it or add its reason in {__name__}")
