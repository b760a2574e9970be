"""Stage model weights in S3 for vLLM's Run:ai model streamer or an FSx for Lustre data repository.

Copies a local directory, or a Hugging Face Hub snapshot, to ``s3://BUCKET/PREFIX/NAME/``::

    python -m scripts.stage_model --bucket my-models --name llama-3.1-8b --source ./Llama-3.1-8B-Instruct
    python -m scripts.stage_model --bucket my-models --hf-model Qwen/Qwen2.5-7B-Instruct --hf-revision main
    python -m scripts.stage_model --bucket my-models --name llama-3.1-8b --source ./weights --dry-run --json
    python -m scripts.stage_model --bucket my-models --adapter --name support-bot --source ./support-bot-lora

Files go up in parallel, large ones as multipart uploads, each with an S3 SHA256 additional
checksum (S3 verifies every part on arrival) and its whole-file SHA-256 as ``x-amz-meta-sha256``.
A re-run compares size and stored SHA-256 and uploads only what is missing or changed, which is
also how an interrupted run resumes. ``--abort-stale-uploads`` first aborts multipart uploads left
under the destination by a killed run; do not use it while another run stages the same name.
A bucket lifecycle rule with AbortIncompleteMultipartUpload cleans up runs that are never resumed.

``NAME/.kit-manifest.json`` (files, sizes, SHA-256) is removed before anything changes and written
last, so its presence means the copy is complete. Objects under the destination that are not in
the source are reported, never deleted. ``--hf-model`` downloads with huggingface_hub, which the kit's environment carries.

Once the copy is complete, what the kit's GPU memory fit check needs is recorded (scripts/_model_record.py):
a model's config.json facts and weight size as ``NAME/kit-model.json`` beside it and in the local catalog
(``--catalog``, default config/models.yaml, which ``./kit check`` reads offline); an adapter's rank and base
model in the catalog. ``--adapter`` stages a PEFT LoRA adapter folder, under ``models/adapters/`` by default.

Exit codes: 0 done, 1 some files failed (re-run the same command to resume), 2 usage or setup error.
"""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import hashlib
import json
import re
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from boto3.s3.transfer import ProgressCallbackInvoker, TransferConfig, create_transfer_manager
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

from core.docstrings import first_paragraph
from core.model_catalog import catalog_path
from scripts._model_record import RECORD, RecordError, adapter_record, model_record, update_catalog
from scripts._progress import Progress, human
from scripts.aws_session import NO_CREDENTIALS, ToolError, new_session

MANIFEST = ".kit-manifest.json"
ADAPTER_PREFIX = "models/adapters"
DEFAULT_EXCLUDES = (".git/*", "*.lock", ".cache/huggingface/*")
SHA256_META = "sha256"
NAME_RE = re.compile(r"[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*")
MIB = 1024 * 1024
MIN_CHUNK_MB = 5


class StageError(ToolError):
    """A problem the user can fix; main() prints it on one line and exits 2."""


@dataclass(frozen=True)
class LocalFile:
    rel: str
    path: Path
    size: int
    sha256: str


@dataclass
class UploadPlan:
    """Which local files go to S3 and which are already there (same size and SHA-256), before anything is sent."""

    bucket: str
    base_key: str
    upload: list[LocalFile]
    skip: list[LocalFile]
    remote_only: list[str]
    manifest_current: bool

    def key(self, rel: str) -> str:
        return f"{self.base_key}/{rel}"

    @property
    def manifest_key(self) -> str:
        return self.key(MANIFEST)

    @property
    def upload_bytes(self) -> int:
        return sum(f.size for f in self.upload)


@dataclass
class Result:
    plan: UploadPlan
    dry_run: bool
    uploaded: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    bytes_transferred: int = 0
    aborted_uploads: int = 0
    manifest_written: bool = False
    recorded: str = ""
    """What was recorded for the fit check (scripts/_model_record.py), in words."""

    @property
    def manifest_uri(self) -> str | None:
        present = self.manifest_written or self.plan.manifest_current
        return f"s3://{self.plan.bucket}/{self.plan.manifest_key}" if present else None

    def summary(self) -> dict[str, Any]:
        plan = self.plan
        return {
            "destination": f"s3://{plan.bucket}/{plan.base_key}/",
            "dry_run": self.dry_run,
            "to_upload": [f.rel for f in plan.upload],
            "uploaded": self.uploaded,
            "skipped": [f.rel for f in plan.skip],
            "failed": self.failed,
            "remote_only": plan.remote_only,
            "bytes_to_upload": plan.upload_bytes,
            "bytes_transferred": self.bytes_transferred,
            "aborted_uploads": self.aborted_uploads,
            "manifest": self.manifest_uri,
            "recorded": self.recorded,
        }


def check_name(value: str, what: str = "--name") -> None:
    if not NAME_RE.fullmatch(value) or any(part in (".", "..") for part in value.split("/")):
        raise StageError(f"invalid {what} {value!r}: use letters, digits, '.', '_', '-' and '/' between parts, e.g. org/Model-7B")


def destination_key(prefix: str, name: str) -> str:
    check_name(name)
    prefix = prefix.strip("/")
    if prefix:
        check_name(prefix, "--prefix")
    return f"{prefix}/{name}" if prefix else name


def list_source(source: Path, excludes: Sequence[str]) -> list[Path]:
    if not source.exists():
        raise StageError(f"source directory {source} does not exist; pass an existing directory with --source")
    if not source.is_dir():
        raise StageError(f"source {source} is not a directory; pass the directory that holds the model files")
    try:
        paths = sorted(p for p in source.rglob("*") if p.is_file())
    except PermissionError as exc:
        raise StageError(f"cannot list {exc.filename}: permission denied; make it readable (chmod a+rx)") from exc
    kept = [p for p in paths if not _excluded(p.relative_to(source).as_posix(), excludes)]
    if not kept:
        raise StageError(f"source {source} has no files to upload (excludes: {', '.join(excludes)}); check --source and --exclude")
    return kept


def _excluded(rel: str, excludes: Sequence[str]) -> bool:
    return rel in (MANIFEST, RECORD) or any(fnmatch.fnmatchcase(rel, pattern) for pattern in excludes)


def hash_file(source: Path, path: Path) -> LocalFile:
    digest, size = hashlib.sha256(), 0
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(4 * MIB):
                digest.update(chunk)
                size += len(chunk)
    except PermissionError as exc:
        raise StageError(f"cannot read {path}: permission denied; make it readable (chmod a+r) or skip it with --exclude") from exc
    except OSError as exc:
        raise StageError(f"cannot read {path}: {exc.strerror or exc}; fix the file or skip it with --exclude") from exc
    return LocalFile(path.relative_to(source).as_posix(), path, size, digest.hexdigest())


def make_client(region: str | None = None, profile: str | None = None, concurrency: int = 16) -> Any:
    session = new_session(profile, region)
    config = Config(retries={"max_attempts": 10, "mode": "standard"}, max_pool_connections=max(concurrency, 10))
    return session.client("s3", region_name=session.region_name or "us-east-1", config=config)


@contextlib.contextmanager
def aws_errors(bucket: str) -> Iterator[None]:
    try:
        yield
    except NoCredentialsError as exc:
        raise StageError(NO_CREDENTIALS) from exc
    except EndpointConnectionError as exc:
        raise StageError(f"cannot reach S3 at {exc.kwargs.get('endpoint_url')}; check network access and --region") from exc
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise StageError(
            f"S3 {exc.operation_name} on bucket {bucket!r} failed ({error.get('Code')}: {error.get('Message')}); "
            "check your IAM permissions and the bucket policy"
        ) from exc


def _response_region(response: dict[str, Any]) -> str | None:
    headers = response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    return response.get("BucketRegion") or headers.get("x-amz-bucket-region")


def check_bucket(s3: Any, bucket: str) -> None:
    region = s3.meta.region_name
    try:
        actual = _response_region(s3.head_bucket(Bucket=bucket))
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code"))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        actual = _response_region(exc.response)
        if code in ("404", "NoSuchBucket"):
            raise StageError(
                f"bucket {bucket!r} does not exist; create it (aws s3 mb s3://{bucket} --region {region}) or fix --bucket"
            ) from exc
        if status == 301 or code in ("301", "PermanentRedirect") or (actual and actual != region):
            raise StageError(
                f"bucket {bucket!r} is in {actual or 'another region'}, not {region}; re-run with --region {actual or 'REGION'}"
            ) from exc
        if status == 403 or code in ("403", "AccessDenied"):
            raise StageError(
                f"access to bucket {bucket!r} denied (403); use credentials allowed s3:ListBucket and s3:PutObject on it"
            ) from exc
        raise
    if actual and actual != region:
        raise StageError(f"bucket {bucket!r} is in {actual}, not {region}; re-run with --region {actual}")


def list_remote(s3: Any, bucket: str, base_key: str) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{base_key}/"):
        sizes.update({obj["Key"]: obj["Size"] for obj in page.get("Contents", [])})
    return sizes


def _remote_sha256(s3: Any, bucket: str, key: str) -> str | None:
    try:
        return s3.head_object(Bucket=bucket, Key=key).get("Metadata", {}).get(SHA256_META)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey"):
            return None
        raise


def manifest_files(files: Sequence[LocalFile]) -> list[dict[str, Any]]:
    return [{"path": f.rel, "size": f.size, "sha256": f.sha256} for f in files]


def _manifest_matches(s3: Any, bucket: str, key: str, files: Sequence[LocalFile]) -> bool:
    try:
        body = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except (ClientError, ValueError):
        return False
    return isinstance(body, dict) and body.get("files") == manifest_files(files)


def plan_upload(s3: Any, bucket: str, base_key: str, files: Sequence[LocalFile], workers: int = 16) -> UploadPlan:
    """Split files into those to upload and those already in S3 with the same size and SHA-256."""
    remote = list_remote(s3, bucket, base_key)
    same_size = [f for f in files if remote.get(f"{base_key}/{f.rel}") == f.size]
    with ThreadPoolExecutor(max(1, workers)) as pool:
        remote_sums = pool.map(lambda f: _remote_sha256(s3, bucket, f"{base_key}/{f.rel}"), same_size)
        sums = dict(zip((f.rel for f in same_size), remote_sums, strict=True))
    skip = [f for f in files if sums.get(f.rel) == f.sha256]
    upload = [f for f in files if sums.get(f.rel) != f.sha256]
    manifest_key = f"{base_key}/{MANIFEST}"
    local_keys = {f"{base_key}/{f.rel}" for f in files} | {manifest_key, f"{base_key}/{RECORD}"}
    remote_only = sorted(k[len(base_key) + 1 :] for k in remote if k not in local_keys)
    current = not upload and manifest_key in remote and _manifest_matches(s3, bucket, manifest_key, files)
    return UploadPlan(bucket, base_key, upload, skip, remote_only, current)


def abort_stale_uploads(s3: Any, bucket: str, base_key: str) -> int:
    aborted = 0
    for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket, Prefix=f"{base_key}/"):
        for upload in page.get("Uploads", []):
            s3.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
            aborted += 1
    return aborted


def upload_files(s3: Any, plan: UploadPlan, config: TransferConfig, progress: Progress) -> tuple[list[str], dict[str, str]]:
    uploaded: list[str] = []
    failed: dict[str, str] = {}
    with create_transfer_manager(s3, config) as manager:
        futures = {
            f.rel: manager.upload(
                str(f.path),
                plan.bucket,
                plan.key(f.rel),
                extra_args={"ChecksumAlgorithm": "SHA256", "Metadata": {SHA256_META: f.sha256}},
                subscribers=[ProgressCallbackInvoker(progress)],
            )
            for f in plan.upload
        }
        for rel, future in futures.items():
            try:
                future.result()
                uploaded.append(rel)
            except Exception as exc:  # one failed file must not stop the others; the re-run retries it
                failed[rel] = str(exc)
    return uploaded, failed


def write_manifest(s3: Any, plan: UploadPlan, name: str, source_label: str, files: Sequence[LocalFile]) -> None:
    manifest = {
        "name": name,
        "source": source_label,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "total_bytes": sum(f.size for f in files),
        "files": manifest_files(files),
    }
    body = json.dumps(manifest, indent=2).encode()
    s3.put_object(Bucket=plan.bucket, Key=plan.manifest_key, Body=body, ContentType="application/json", ChecksumAlgorithm="SHA256")


def stage(
    s3: Any,
    *,
    bucket: str,
    name: str,
    source: Path,
    prefix: str = "models",
    excludes: Sequence[str] = DEFAULT_EXCLUDES,
    concurrency: int = 16,
    chunk_mb: int = 64,
    dry_run: bool = False,
    abort_stale: bool = False,
    source_label: str | None = None,
    progress_stream: TextIO | None = None,
) -> Result:
    """Upload ``source`` to ``s3://bucket/prefix/name/``; raises StageError for problems the user can fix."""
    base_key = destination_key(prefix, name)
    paths = list_source(source, excludes)
    with aws_errors(bucket):
        check_bucket(s3, bucket)
        with ThreadPoolExecutor(max(1, min(concurrency, 8))) as pool:
            files = list(pool.map(lambda p: hash_file(source, p), paths))
        plan = plan_upload(s3, bucket, base_key, files, concurrency)
        result = Result(plan, dry_run)
        if dry_run:
            return result
        if abort_stale:
            result.aborted_uploads = abort_stale_uploads(s3, bucket, base_key)
        if plan.upload:
            s3.delete_object(Bucket=bucket, Key=plan.manifest_key)
            chunk = max(chunk_mb, MIN_CHUNK_MB) * MIB
            config = TransferConfig(
                multipart_threshold=chunk, multipart_chunksize=chunk, max_concurrency=concurrency, preferred_transfer_client="classic"
            )
            progress = Progress(plan.upload_bytes, progress_stream)
            result.uploaded, result.failed = upload_files(s3, plan, config, progress)
            progress.close()
            result.bytes_transferred = progress.done
        if not result.failed and not plan.manifest_current:
            write_manifest(s3, plan, name, source_label or str(source), files)
            result.manifest_written = True
    return result


def fetch_hf_snapshot(model_id: str, revision: str | None, excludes: Sequence[str]) -> Path:
    try:
        from huggingface_hub import snapshot_download
    except ImportError as exc:
        raise StageError(
            "--hf-model needs huggingface_hub: pip install huggingface_hub, or download the model and use --source DIR"
        ) from exc
    try:
        return Path(snapshot_download(repo_id=model_id, revision=revision, ignore_patterns=list(excludes)))
    except Exception as exc:  # the hub raises many types: HTTP, auth, offline, not found
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise StageError(
            f"cannot download {model_id}@{revision or 'main'} from the Hugging Face Hub ({reason}); "
            "check the id, HF_TOKEN for gated models and network access, or use --source DIR"
        ) from exc


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="stage_model", description=first_paragraph(__doc__))
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--name", help="destination name (letters, digits, . _ - and /); defaults to --hf-model")
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--source", type=Path, help="local directory with the model files")
    src.add_argument("--hf-model", help="Hugging Face model id, e.g. Qwen/Qwen2.5-7B-Instruct")
    parser.add_argument("--hf-revision", help="branch, tag or commit of --hf-model")
    parser.add_argument("--prefix", help=f"key prefix above NAME (default models; {ADAPTER_PREFIX} with --adapter)")
    parser.add_argument("--adapter", action="store_true", help="stage a LoRA adapter folder (adapter_config.json and its weights)")
    parser.add_argument("--catalog", type=Path, default=None, help="the local catalog the fit check reads (default config/models.yaml)")
    parser.add_argument("--no-catalog", action="store_true", help="record nothing in the local catalog nor beside the weights")
    parser.add_argument("--region")
    parser.add_argument("--profile")
    parser.add_argument("--dry-run", action="store_true", help="show what would be uploaded or skipped; upload nothing")
    parser.add_argument("--concurrency", type=int, default=16, help="parallel transfers (default 16)")
    parser.add_argument("--multipart-chunk-mb", type=int, default=64, help=f"multipart part size in MiB, >= {MIN_CHUNK_MB} (default 64)")
    parser.add_argument(
        "--exclude", action="append", default=[], metavar="GLOB", help=f"skip matching paths (always: {' '.join(DEFAULT_EXCLUDES)})"
    )
    parser.add_argument("--abort-stale-uploads", action="store_true", help="first abort unfinished multipart uploads under the destination")
    parser.add_argument("--json", action="store_true", help="print a JSON summary")
    args = parser.parse_args(argv)
    if args.name is None:
        if not args.hf_model:
            parser.error("--name is required with --source")
        args.name = args.hf_model
    if args.hf_revision and not args.hf_model:
        parser.error("--hf-revision needs --hf-model")
    if args.prefix is None:
        args.prefix = ADAPTER_PREFIX if args.adapter else "models"
    if args.catalog is None:
        args.catalog = catalog_path()
    if args.concurrency < 1:
        parser.error("--concurrency must be at least 1")
    if args.multipart_chunk_mb < MIN_CHUNK_MB:
        parser.error(f"--multipart-chunk-mb must be at least {MIN_CHUNK_MB} (the S3 minimum part size)")
    return args


def run(args: argparse.Namespace) -> Result:
    excludes = [*DEFAULT_EXCLUDES, *args.exclude]
    base_key = destination_key(args.prefix, args.name)
    s3 = make_client(args.region, args.profile, args.concurrency)
    source, label = args.source, str(args.source)
    if args.hf_model:
        check_name(args.hf_model, "--hf-model")
        with aws_errors(args.bucket):
            check_bucket(s3, args.bucket)
        source = fetch_hf_snapshot(args.hf_model, args.hf_revision, excludes)
        label = f"hf://{args.hf_model}@{args.hf_revision or 'main'}"
    uri = f"s3://{args.bucket}/{base_key}/"
    adapter = None
    if args.adapter:
        try:  # refused before anything is uploaded: vLLM would not load the folder as an adapter
            adapter = adapter_record(source, args.name, uri, label)
        except RecordError as err:
            raise StageError(str(err)) from err
    result = stage(
        s3,
        bucket=args.bucket,
        name=args.name,
        source=source,
        prefix=args.prefix,
        excludes=excludes,
        concurrency=args.concurrency,
        chunk_mb=args.multipart_chunk_mb,
        dry_run=args.dry_run,
        abort_stale=args.abort_stale_uploads,
        source_label=label,
        progress_stream=sys.stderr if sys.stderr.isatty() and not args.json else None,
    )
    if not result.dry_run and not result.failed and not args.no_catalog:
        result.recorded = record(s3, args, source, uri, label, result, adapter)
    return result


def record(s3: Any, args: argparse.Namespace, source: Path, uri: str, label: str, result: Result, adapter: dict | None) -> str:
    """The staged model's facts beside it and in the local catalog; one line saying what was recorded."""
    if adapter is not None:
        update_catalog(args.catalog, "adapters", adapter)
        return f"adapter rank {adapter['rank']} recorded in {args.catalog}"
    files = [(f.rel, f.size) for f in [*result.plan.upload, *result.plan.skip]]
    try:
        entry = model_record(source, args.name, uri, files, label)
    except RecordError as err:
        return f"not recorded for the fit check: {err}; give the workload model_facts instead (docs/models.md)"
    with aws_errors(args.bucket):
        body = json.dumps(entry, indent=2).encode()
        s3.put_object(
            Bucket=args.bucket,
            Key=f"{result.plan.base_key}/{RECORD}",
            Body=body,
            ContentType="application/json",
            ChecksumAlgorithm="SHA256",
        )
    update_catalog(args.catalog, "models", entry)
    return f"model facts recorded in s3://{args.bucket}/{result.plan.base_key}/{RECORD} and {args.catalog}"


def report(result: Result) -> None:
    plan, dest = result.plan, f"s3://{result.plan.bucket}/{result.plan.base_key}/"
    if result.dry_run:
        print(f"dry run, {dest}: would upload {len(plan.upload)} files ({human(plan.upload_bytes)}), skip {len(plan.skip)} unchanged")
        for f in plan.upload:
            print(f"  upload  {f.rel}  ({human(f.size)})")
        for f in plan.skip:
            print(f"  skip    {f.rel}")
    else:
        print(f"{dest}: uploaded {len(result.uploaded)} files ({human(result.bytes_transferred)}), skipped {len(plan.skip)} unchanged")
        if result.aborted_uploads:
            print(f"aborted {result.aborted_uploads} stale multipart uploads")
        for rel, reason in result.failed.items():
            print(f"  FAILED  {rel}: {reason}", file=sys.stderr)
        if result.manifest_uri:
            print(f"manifest: {result.manifest_uri}")
        if result.recorded:
            print(result.recorded)
    if plan.remote_only:
        shown = ", ".join(plan.remote_only[:5]) + (", ..." if len(plan.remote_only) > 5 else "")
        print(f"note: {len(plan.remote_only)} objects under {dest} are not in the source and were left alone: {shown}")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        result = run(args)
    except ToolError as exc:
        print(f"stage_model: error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result.summary(), indent=2))
    else:
        report(result)
    if result.failed:
        print(f"stage_model: {len(result.failed)} files failed; re-run the same command to resume", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
