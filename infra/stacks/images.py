"""Two stacks for images, beside the cluster's lifecycle rather than inside it (docs/images.md says why):

<name>-registry  the pull-through cache rules and the kit's repositories. Seconds to deploy; the cluster stack
                 depends on it, because its controllers' images are pulled through the rules from the first node.
<name>-images    the CodeBuild project, the build trigger and a wait condition the build signals. It deploys while
                 the cluster stack does (tens of minutes each) and the workloads stack waits for it, so no server
                 starts before its image exists, and a cluster replaced or destroyed does not rebuild the images.

Repositories: tags immutable (a tag names one build forever), scan on push, a lifecycle rule that keeps the newest
images of each repository. They go with the stack (emptied first): a later deploy builds again.
"""

from __future__ import annotations

from dataclasses import replace

import aws_cdk as cdk
from aws_cdk import aws_cloudformation as cfn
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import custom_resources as cr
from constructs import Construct

from config.images import secret_arn
from config.model import PlatformConfig
from core.derived_images import IMAGES_DIR
from core.registry_cache import UPSTREAMS, pull_through_prefix
from infra import nag
from infra.images.build import EXPECTED_SECONDS, BuildPlan, build_key, buildspec, expected_seconds

KEEP_IMAGES = 10
"""Images a repository keeps: enough to roll back a few pin changes."""
BUILD_TIMEOUT = cdk.Duration.hours(3)
"""The first build pulls and pushes some 11 GB per image and copies the NGC images the config uses."""


def _secret(config: PlatformConfig, scope: Construct, reference: str) -> str:
    return secret_arn(reference, partition=cdk.Aws.PARTITION, region=config.region, account=cdk.Stack.of(scope).account)


class RegistryStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: PlatformConfig, build: BuildPlan, **kwargs) -> None:
        super().__init__(
            scope, construct_id, description=f"{config.name}: pull-through cache rules and the kit's image repositories", **kwargs
        )
        cache = config.images.pull_through_cache
        self.rules: list[ecr.CfnPullThroughCacheRule] = []
        if cache.enabled:
            for upstream in UPSTREAMS.values():
                if upstream.via != "pull-through":
                    continue
                credential = _secret(config, self, getattr(cache, f"{upstream.secret}_secret")) if upstream.secret else None
                self.rules.append(
                    ecr.CfnPullThroughCacheRule(
                        self,
                        f"Cache-{upstream.short}",
                        ecr_repository_prefix=pull_through_prefix(config.name, upstream),
                        upstream_registry=upstream.upstream_registry,
                        upstream_registry_url=upstream.upstream_url,
                        credential_arn=credential,
                    )
                )
        self.repositories = {
            image.name: _repository(self, f"Repository-{image.name}", f"{config.name}/{image.name}") for image in build.derived
        }
        # One repository per copied NGC repository: two tags of one image (vllm-runtime 1.4.2 and 1.4.2-efa) share it.
        copied = sorted({copy.repository for copy in build.copies})
        self.repositories |= {name: _repository(self, f"Copy-{name.replace('/', '-')}", name) for name in copied}


def _repository(scope: Construct, construct_id: str, name: str) -> ecr.Repository:
    repository = ecr.Repository(
        scope,
        construct_id,
        repository_name=name,
        image_tag_mutability=ecr.TagMutability.IMMUTABLE,
        image_scan_on_push=True,
        encryption=ecr.RepositoryEncryption.AES_256,
        removal_policy=cdk.RemovalPolicy.DESTROY,
        empty_on_delete=True,
    )
    repository.add_lifecycle_rule(description=f"keep the newest {KEEP_IMAGES} images", max_image_count=KEEP_IMAGES)
    return repository


class ImagesStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: PlatformConfig, build: BuildPlan, **kwargs) -> None:
        super().__init__(scope, construct_id, description=f"{config.name}: the kit's image build (CodeBuild) and the wait for it", **kwargs)
        account = cdk.Stack.of(self).account
        ngc = config.images.pull_through_cache.ngc_secret
        # The build names the NGC secret as configured (CodeBuild takes a secret's name or ARN), so the spec holds no
        # CDK token and its hash, the build's key, moves only with what the build does.
        build = replace(build, ngc_secret_arn=ngc if build.copies else None)
        spec = buildspec(build)
        self.build_key = build_key(spec)
        sources = s3_assets.Asset(self, "Dockerfiles", path=str(IMAGES_DIR))
        project = codebuild.Project(
            self,
            "Build",
            description=f"{config.name}: builds images/ and copies NGC images into the kit's repositories",
            source=codebuild.Source.s3(bucket=sources.bucket, path=sources.s3_object_key),
            build_spec=codebuild.BuildSpec.from_object(spec),
            environment=codebuild.BuildEnvironment(
                build_image=codebuild.LinuxBuildImage.STANDARD_7_0,
                compute_type=codebuild.ComputeType.LARGE,
                # Docker builds need the daemon CodeBuild runs only in privileged mode.
                privileged=True,
            ),
            environment_variables={
                "REGISTRY": codebuild.BuildEnvironmentVariable(value=f"{account}.dkr.ecr.{config.region}.{cdk.Aws.URL_SUFFIX}"),
                "ACCOUNT": codebuild.BuildEnvironmentVariable(value=account),
            },
            timeout=BUILD_TIMEOUT,
        )
        self._grant(project, config, build)
        # A new handle and condition per key: CloudFormation waits again only when the build has something new to do.
        handle = cfn.CfnWaitConditionHandle(self, f"BuildDone-{self.build_key}")
        start = cr.AwsCustomResource(
            self,
            "StartBuild",
            on_update=self._start(project, handle),
            on_create=self._start(project, handle),
            policy=cr.AwsCustomResourcePolicy.from_statements(
                [iam.PolicyStatement(actions=["codebuild:StartBuild"], resources=[project.project_arn])]
            ),
            install_latest_aws_sdk=False,
        )
        self.done = cfn.CfnWaitCondition(
            self, f"Built-{self.build_key}", handle=handle.ref, timeout=str(int(BUILD_TIMEOUT.to_seconds())), count=1
        )
        self.done.node.add_dependency(start)
        # How long the deploy waits here on a first build (assembly/deploy_time.py reads it).
        self.done.cfn_options.metadata = {EXPECTED_SECONDS: expected_seconds(build)}
        self._acknowledge(project, start)

    def _start(self, project: codebuild.Project, handle: cfn.CfnWaitConditionHandle) -> cr.AwsSdkCall:
        return cr.AwsSdkCall(
            service="CodeBuild",
            action="startBuild",
            parameters={
                "projectName": project.project_name,
                "environmentVariablesOverride": [
                    {"name": "WAIT_HANDLE_URL", "value": handle.ref, "type": "PLAINTEXT"},
                    {"name": "KIT_BUILD_KEY", "value": self.build_key, "type": "PLAINTEXT"},
                ],
            },
            physical_resource_id=cr.PhysicalResourceId.of(self.build_key),
        )

    def _grant(self, project: codebuild.Project, config: PlatformConfig, build: BuildPlan) -> None:
        stack = cdk.Stack.of(self)
        kit_repositories = stack.format_arn(service="ecr", resource="repository", resource_name=f"{config.name}/*")
        project.add_to_role_policy(iam.PolicyStatement(actions=["ecr:GetAuthorizationToken"], resources=["*"]))
        project.add_to_role_policy(
            iam.PolicyStatement(
                actions=[
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:DescribeImages",
                    "ecr:InitiateLayerUpload",
                    "ecr:UploadLayerPart",
                    "ecr:CompleteLayerUpload",
                    "ecr:PutImage",
                ],
                resources=[kit_repositories],
            )
        )
        if config.images.pull_through_cache.enabled:
            # The base image comes through the Docker Hub rule; the first pull creates its repository.
            docker_hub = stack.format_arn(
                service="ecr", resource="repository", resource_name=f"{pull_through_prefix(config.name, UPSTREAMS['docker.io'])}/*"
            )
            project.add_to_role_policy(
                iam.PolicyStatement(actions=["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"], resources=[docker_hub])
            )
        if build.copies:
            # By name, the ARN ends in the six characters Secrets Manager appends.
            project.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["secretsmanager:GetSecretValue"],
                    resources=[f"{_secret(config, self, config.images.pull_through_cache.ngc_secret)}*"],
                )
            )

    def _acknowledge(self, project: codebuild.Project, start: cr.AwsCustomResource) -> None:
        nag.acknowledge(
            project,
            "CB3",
            "Privileged mode runs the Docker daemon that builds the kit's images; the project builds only the Dockerfiles of this "
            "stack's asset.",
        )
        nag.acknowledge(
            project, "CB4", "The project stores no artifacts; its output are images in ECR (encrypted at rest) and logs in CloudWatch."
        )
        nag.acknowledge_policy_wildcards(
            project,
            lambda finding: (
                "ecr:GetAuthorizationToken takes no resource; the repository wildcards stop at the kit's own prefix, and CodeBuild "
                "names log streams and report groups per build"
                if "ecr" in finding or "logs" in finding or "codebuild" in finding or finding == "Resource::*"
                else "The NGC secret's ARN ends in a suffix Secrets Manager adds"
            ),
        )
        nag.acknowledge_policy_wildcards(
            start, "AwsCustomResource's function may start builds of this one project only; its own log wildcard is CDK's."
        )
        nag.acknowledge_managed_policies(
            self,
            {
                "service-role/AWSLambdaBasicExecutionRole": "AwsCustomResource's function (CDK's singleton) writes its own CloudWatch "
                "logs only."
            },
        )
        nag.acknowledge(self, "L1", "AwsCustomResource's runtime is chosen by aws-cdk-lib and moves with its upgrades.")
