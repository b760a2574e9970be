"""The S3 bucket that holds model weights, and the bucket its access logs go to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from constructs import Construct

from core.naming import BUCKET_NAME_RULES, bucket_name_problems
from infra import nag

# Without this flag aws-s3 grants log delivery through an ACL, which BUCKET_OWNER_ENFORCED forbids.
ACCESS_LOGS_BY_BUCKET_POLICY = "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy"


def _private_bucket(scope: Construct, construct_id: str, **props: Any) -> s3.Bucket:
    """SSE-S3 rather than KMS: FSx data repository associations, Mountpoint and the Run:ai streamer read it
    without key grants, and server access logs can only be delivered to SSE-S3 buckets."""
    return s3.Bucket(
        scope,
        construct_id,
        encryption=s3.BucketEncryption.S3_MANAGED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        enforce_ssl=True,
        minimum_tls_version=1.2,
        versioned=True,
        removal_policy=cdk.RemovalPolicy.RETAIN,
        auto_delete_objects=False,
        lifecycle_rules=[s3.LifecycleRule(id="abort-incomplete-uploads", abort_incomplete_multipart_upload_after=cdk.Duration.days(7))],
        **props,
    )


@dataclass(frozen=True, kw_only=True)
class ModelBucketProps:
    """The bucket of model weights: created private and versioned, or an existing one used as it is."""

    bucket_name: str
    """The bucket's name; may hold the account as a token (the kit's own name for a created bucket)."""
    create: bool = True
    """False: use the existing bucket of that name as it is. Default: True, the kit owns its model bucket."""
    access_logs: bool = True
    """Server access logs of a created bucket to a separate log bucket. Default: True, as cdk-nag (S1) asks."""

    def __post_init__(self) -> None:
        # A name holding a token (the account of an environment-agnostic stack) is checked when it resolves.
        problems = [] if cdk.Token.is_unresolved(self.bucket_name) else bucket_name_problems(self.bucket_name)
        if problems:
            raise ValueError(
                f"ModelBucketProps.bucket_name: got {self.bucket_name!r}, which {'; '.join(problems)}; {BUCKET_NAME_RULES} is"
                " allowed; choose another name"
            )


class ModelBucket(Construct):
    """A new private bucket (with a separate access-log bucket), or an existing bucket used as it is."""

    def __init__(self, scope: Construct, construct_id: str, props: ModelBucketProps) -> None:
        super().__init__(scope, construct_id)
        if not props.create:
            self.bucket: s3.IBucket = s3.Bucket.from_bucket_name(self, "Existing", props.bucket_name)
            return
        self.node.set_context(ACCESS_LOGS_BY_BUCKET_POLICY, True)
        self.log_bucket: s3.Bucket | None = None
        logging: dict[str, Any] = {}
        if props.access_logs:
            self.log_bucket = _private_bucket(self, "AccessLogs")
            logging = {"server_access_logs_bucket": self.log_bucket, "server_access_logs_prefix": "model-bucket/"}
        self.bucket = _private_bucket(self, "Bucket", bucket_name=props.bucket_name, **logging)
        if not props.access_logs:
            nag.acknowledge(self.bucket, "S1", "Server access logs were turned off with storage.access_logs: false in the config.")
