"""The S3 bucket that holds model weights, and the bucket its access logs go to."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra import nag
from infra.config.model import KitConfig
from infra.storage.refs import model_bucket_name

# Without this flag aws-s3 grants log delivery through an ACL, which BUCKET_OWNER_ENFORCED forbids.
ACCESS_LOGS_BY_BUCKET_POLICY = "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy"


def _private_bucket(scope: Construct, construct_id: str, **props) -> s3.Bucket:
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


class ModelBucket(Construct):
    """A new private bucket (with a separate access-log bucket), or an existing bucket used as it is."""

    def __init__(self, scope: Construct, construct_id: str, *, config: KitConfig) -> None:
        super().__init__(scope, construct_id)
        storage = config.storage
        if not storage.model_bucket.creates_bucket:
            self.bucket: s3.IBucket = s3.Bucket.from_bucket_name(self, "Existing", model_bucket_name(config))
            return
        self.node.set_context(ACCESS_LOGS_BY_BUCKET_POLICY, True)
        self.log_bucket: s3.Bucket | None = None
        logging = {}
        if storage.access_logs:
            self.log_bucket = _private_bucket(self, "AccessLogs")
            logging = {"server_access_logs_bucket": self.log_bucket, "server_access_logs_prefix": "model-bucket/"}
        self.bucket = _private_bucket(self, "Bucket", bucket_name=model_bucket_name(config), **logging)
        if not storage.access_logs:
            nag.acknowledge(self.bucket, "S1", "Server access logs were turned off with storage.access_logs: false in the config.")
