"""Where a model server loads its weights from; blueprints take one of these as their `model` key.

s3:  streamed straight from S3 by vLLM's Run:ai streamer (the pod reads with the model-reader Pod Identity)
fsx: a directory on the FSx for Lustre volume claim
hf:  downloaded from the Hugging Face Hub at start-up
"""

from __future__ import annotations

import posixpath
from typing import Annotated, Literal

from pydantic import Field, field_validator

from core.naming import FSX_CLAIM_NAME, bucket_name_problems
from core.schema import KubernetesName, StrictModel

S3_URI_FORM = "s3://<bucket>/<prefix>, e.g. s3://acme-llm-models/models/meta-llama/Llama-3.1-8B-Instruct/"
# Stands for the deploying account in a model URI; the workloads stack fills it in (the kit's bucket names carry it).
ACCOUNT_FIELD = "{account}"
# Stands for the kit's model bucket as the bucket of a model URI; the blueprints fill it in when they render.
KIT_BUCKET_FIELD = "{bucket}"


class S3Source(StrictModel):
    type: Literal["s3"]
    uri: Annotated[str, Field(examples=["s3://acme-llm-models/models/meta-llama/Llama-3.1-8B-Instruct/"])]
    """The model folder: s3://<bucket>/<prefix>. The server streams it with --load-format runai_streamer. Write the
    bucket as {bucket} for the kit's model bucket (created or existing) whatever the kit is named; a bucket name may
    also say {account}, which the kit fills in with the deploying account."""
    streamer_concurrency: Annotated[int, Field(ge=1, le=256)] = 16
    """Parallel S3 reads of the Run:ai streamer (--model-loader-extra-config concurrency)."""

    @field_validator("uri")
    @classmethod
    def _valid_s3_uri(cls, uri: str) -> str:
        if not uri.startswith("s3://"):
            raise ValueError(f"must start with s3:// (the form is {S3_URI_FORM})")
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        problems = [] if bucket == KIT_BUCKET_FIELD else bucket_name_problems(bucket.replace(ACCOUNT_FIELD, "0" * 12))
        if problems:
            raise ValueError(f"bucket '{bucket}' is not a valid S3 bucket name: it " + "; it ".join(problems))
        if not key.strip("/"):
            raise ValueError(f"names a bucket but no model folder in it (the form is {S3_URI_FORM})")
        if "//" in key:
            raise ValueError("has an empty path segment ('//'); S3 would treat it as part of the key")
        return uri

    @property
    def bucket(self) -> str:
        return self.uri.removeprefix("s3://").partition("/")[0]

    def in_bucket(self, bucket_name: str) -> S3Source:
        """The same source with {bucket} replaced by the kit's model bucket."""
        return self.model_copy(update={"uri": self.uri.replace(f"s3://{KIT_BUCKET_FIELD}/", f"s3://{bucket_name}/", 1)})

    @property
    def key_prefix(self) -> str:
        """The object key prefix of the model folder, always ending with '/'."""
        return self.uri.removeprefix("s3://").partition("/")[2].rstrip("/") + "/"


class FsxSource(StrictModel):
    type: Literal["fsx"]
    claim_name: KubernetesName = FSX_CLAIM_NAME
    """PersistentVolumeClaim of the FSx for Lustre volume, in storage.workloads_namespace."""
    sub_path: Annotated[str, Field(min_length=1, examples=["models/meta-llama/Llama-3.1-8B-Instruct"])]
    """The model folder inside the volume, relative to its root (the bucket's model prefix is under storage.fsx.file_system_path)."""

    @field_validator("sub_path")
    @classmethod
    def _relative_path(cls, sub_path: str) -> str:
        if sub_path.startswith("/"):
            raise ValueError("must be relative to the volume root: drop the leading '/'")
        if ".." in sub_path.split("/") or posixpath.normpath(sub_path) != sub_path.rstrip("/"):
            raise ValueError("must be a plain relative path without '..', '.' or '//' segments")
        return sub_path


class HfSource(StrictModel):
    type: Literal["hf"]
    repo_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9][\w.-]{0,95}/[\w.-]{1,96}$", examples=["meta-llama/Llama-3.1-8B-Instruct"])]
    """Hugging Face Hub repository, <owner>/<name>."""
    revision: Annotated[str, Field(pattern=r"^[\w./-]{1,128}$", examples=["0e9e39f249a16976918f6564b8830bc894c89659"])] = "main"
    """Branch, tag or commit. Pin a commit hash so every replica serves the same weights."""
    token_secret_name: KubernetesName | None = None
    """Kubernetes Secret (key HF_TOKEN) in storage.workloads_namespace, for gated or private repositories."""


ModelSource = Annotated[S3Source | FsxSource | HfSource, Field(discriminator="type")]
