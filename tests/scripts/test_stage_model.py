import hashlib
import io
import json
import os
import re
import sys
import types
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from scripts import stage_model as sm

BUCKET = "kit-models-test"
NAME = "acme/tiny-llm"
BASE = f"models/{NAME}"
MIB = 1024 * 1024
EXPECTED = [
    "config.json",
    "consolidated.safetensors",
    "model-00001-of-00002.safetensors",
    "model-00002-of-00002.safetensors",
    "tokenizer.json",
]


@pytest.fixture(autouse=True)
def _local_catalog(tmp_path, monkeypatch):
    """stage_model records what it staged in the local catalog: a scratch one, never the repo's config/models.yaml."""
    monkeypatch.setenv("KIT_MODEL_CATALOG", str(tmp_path / "catalog" / "models.yaml"))


@pytest.fixture
def s3(clean_aws_env):
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


@pytest.fixture
def model_dir(tmp_path):
    src = tmp_path / "model"
    src.mkdir()
    (src / "config.json").write_text(json.dumps({"model_type": "llama", "hidden_size": 64}))
    (src / "tokenizer.json").write_text(json.dumps({"version": "1.0", "vocab": {"a": 0}}))
    (src / "model-00001-of-00002.safetensors").write_bytes(os.urandom(64 * 1024))
    (src / "model-00002-of-00002.safetensors").write_bytes(os.urandom(32 * 1024))
    (src / "consolidated.safetensors").write_bytes(os.urandom(6 * MIB))
    (src / ".git").mkdir()
    (src / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (src / "download.lock").write_text("")
    (src / ".kit-manifest.json").write_text('{"files": []}')
    return src


def run_stage(s3, src, **kwargs):
    kwargs = {"bucket": BUCKET, "name": NAME, "source": src, "concurrency": 4, "chunk_mb": 5, **kwargs}
    return sm.stage(s3, **kwargs)


def count_writes(s3):
    calls = []
    for op in ("PutObject", "CreateMultipartUpload", "UploadPart"):
        s3.meta.events.register(f"provide-client-params.s3.{op}", lambda params, model, **_: calls.append((model.name, params.get("Key"))))
    return calls


def fail_once(s3, operation, key_suffix):
    state = {"raised": False}

    def boom(params, **_):
        if params.get("Key", "").endswith(key_suffix) and not state["raised"]:
            state["raised"] = True
            raise ConnectionResetError("simulated interruption")

    s3.meta.events.register(f"provide-client-params.s3.{operation}", boom)


def read_manifest(s3):
    return json.loads(s3.get_object(Bucket=BUCKET, Key=f"{BASE}/.kit-manifest.json")["Body"].read())


def remote_keys(s3):
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def cli(*args, src=None):
    argv = ["--bucket", BUCKET, "--name", NAME, "--multipart-chunk-mb", "5", "--concurrency", "4", *args]
    return sm.main([*argv, "--source", str(src)] if src else argv)


def test_uploads_files_with_checksums_and_manifest(s3, model_dir):
    result = run_stage(s3, model_dir)

    assert sorted(result.uploaded) == EXPECTED
    assert result.failed == {}
    assert remote_keys(s3) == sorted([f"{BASE}/{rel}" for rel in EXPECTED] + [f"{BASE}/.kit-manifest.json"])
    for rel in EXPECTED:
        obj = s3.get_object(Bucket=BUCKET, Key=f"{BASE}/{rel}", ChecksumMode="ENABLED")
        assert obj["Body"].read() == (model_dir / rel).read_bytes()
        assert obj["Metadata"]["sha256"] == sha256(model_dir / rel)
        assert obj.get("ChecksumSHA256")
    big = s3.head_object(Bucket=BUCKET, Key=f"{BASE}/consolidated.safetensors")
    assert big["ETag"].strip('"').endswith("-2")
    assert result.bytes_transferred == sum((model_dir / rel).stat().st_size for rel in EXPECTED)
    manifest = read_manifest(s3)
    assert manifest["name"] == NAME
    assert {f["path"]: (f["size"], f["sha256"]) for f in manifest["files"]} == {
        rel: ((model_dir / rel).stat().st_size, sha256(model_dir / rel)) for rel in EXPECTED
    }


def test_second_run_uploads_nothing(s3, model_dir):
    run_stage(s3, model_dir)
    writes = count_writes(s3)

    again = run_stage(s3, model_dir)

    assert again.uploaded == []
    assert sorted(f.rel for f in again.plan.skip) == EXPECTED
    assert again.plan.manifest_current and not again.manifest_written
    assert writes == []


def test_changed_file_of_same_size_is_the_only_upload(s3, model_dir):
    run_stage(s3, model_dir)
    shard = model_dir / "model-00002-of-00002.safetensors"
    data = bytearray(shard.read_bytes())
    data[100] ^= 0xFF
    shard.write_bytes(bytes(data))
    writes = count_writes(s3)

    result = run_stage(s3, model_dir)

    assert result.uploaded == [shard.name]
    assert {key for _, key in writes} == {f"{BASE}/{shard.name}", f"{BASE}/.kit-manifest.json"}
    assert s3.get_object(Bucket=BUCKET, Key=f"{BASE}/{shard.name}")["Body"].read() == bytes(data)
    assert {f["path"]: f["sha256"] for f in read_manifest(s3)["files"]}[shard.name] == hashlib.sha256(data).hexdigest()


def test_interrupted_run_resumes_with_only_the_missing_files(s3, model_dir):
    fail_once(s3, "UploadPart", "consolidated.safetensors")
    fail_once(s3, "PutObject", "model-00001-of-00002.safetensors")

    first = run_stage(s3, model_dir)

    assert sorted(first.failed) == ["consolidated.safetensors", "model-00001-of-00002.safetensors"]
    assert sorted(first.uploaded) == ["config.json", "model-00002-of-00002.safetensors", "tokenizer.json"]
    assert not first.manifest_written
    assert f"{BASE}/.kit-manifest.json" not in remote_keys(s3)

    second = run_stage(s3, model_dir)

    assert sorted(second.uploaded) == sorted(first.failed)
    assert sorted(f.rel for f in second.plan.skip) == sorted(first.uploaded)
    assert second.manifest_written
    assert len(read_manifest(s3)["files"]) == len(EXPECTED)


def test_pending_change_removes_manifest_until_the_copy_is_complete(s3, model_dir):
    run_stage(s3, model_dir)
    (model_dir / "config.json").write_text('{"model_type": "mistral"}')
    fail_once(s3, "PutObject", "config.json")

    result = run_stage(s3, model_dir)

    assert result.failed and f"{BASE}/.kit-manifest.json" not in remote_keys(s3)


def test_abort_stale_uploads_only_under_the_destination(s3, model_dir):
    s3.create_multipart_upload(Bucket=BUCKET, Key=f"{BASE}/consolidated.safetensors")
    s3.create_multipart_upload(Bucket=BUCKET, Key="models/other/model.safetensors")

    result = run_stage(s3, model_dir, abort_stale=True)

    assert result.aborted_uploads == 1
    left = [u["Key"] for u in s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])]
    assert left == ["models/other/model.safetensors"]


def test_remote_only_objects_are_reported_not_deleted(s3, model_dir):
    s3.put_object(Bucket=BUCKET, Key=f"{BASE}/old-shard.safetensors", Body=b"old")

    result = run_stage(s3, model_dir)

    assert result.plan.remote_only == ["old-shard.safetensors"]
    assert f"{BASE}/old-shard.safetensors" in remote_keys(s3)


def test_symlinked_files_like_the_hf_cache_are_uploaded_as_their_targets(s3, tmp_path):
    blobs, snapshot = tmp_path / "blobs", tmp_path / "snapshots" / "abc123"
    blobs.mkdir()
    snapshot.mkdir(parents=True)
    (blobs / "f00d").write_bytes(b'{"model_type": "qwen2"}')
    (snapshot / "config.json").symlink_to(blobs / "f00d")

    result = run_stage(s3, snapshot)

    assert result.uploaded == ["config.json"]
    assert s3.get_object(Bucket=BUCKET, Key=f"{BASE}/config.json")["Body"].read() == b'{"model_type": "qwen2"}'


def test_progress_reports_all_bytes(s3, model_dir):
    stream = io.StringIO()

    result = run_stage(s3, model_dir, progress_stream=stream)

    assert "100.0%" in stream.getvalue().splitlines()[-1]
    assert result.bytes_transferred == result.plan.upload_bytes


def test_dry_run_lists_plan_and_uploads_nothing(s3, model_dir, capsys):
    assert cli("--dry-run", src=model_dir) == 0

    out = capsys.readouterr().out
    assert remote_keys(s3) == []
    assert "would upload 5 files" in out
    assert all(f"upload  {rel}" in out for rel in EXPECTED)
    assert ".git/HEAD" not in out and "download.lock" not in out


def test_dry_run_after_upload_plans_only_the_changed_file(s3, model_dir, capsys):
    run_stage(s3, model_dir)
    (model_dir / "tokenizer.json").write_text("{}")
    before = {o["Key"]: o["ETag"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}

    assert cli("--dry-run", "--json", src=model_dir) == 0

    summary = json.loads(capsys.readouterr().out)
    assert summary["to_upload"] == ["tokenizer.json"] and summary["uploaded"] == []
    assert len(summary["skipped"]) == 4
    assert {o["Key"]: o["ETag"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]} == before


def test_cli_json_summary_and_extra_excludes(s3, model_dir, capsys):
    assert cli("--json", "--exclude", "tokenizer.*", "--prefix", "/weights/", src=model_dir) == 0

    summary = json.loads(capsys.readouterr().out)
    assert summary["destination"] == f"s3://{BUCKET}/weights/{NAME}/"
    assert sorted(summary["uploaded"]) == [rel for rel in EXPECTED if rel != "tokenizer.json"]
    assert summary["manifest"] == f"s3://{BUCKET}/weights/{NAME}/.kit-manifest.json"
    assert f"weights/{NAME}/tokenizer.json" not in remote_keys(s3)


def test_cli_returns_1_when_a_file_fails(s3, model_dir, monkeypatch, capsys):
    real = sm.make_client

    def flaky(*args, **kwargs):
        client = real(*args, **kwargs)
        fail_once(client, "PutObject", "config.json")
        return client

    monkeypatch.setattr(sm, "make_client", flaky)

    assert cli(src=model_dir) == 1
    assert "re-run the same command to resume" in capsys.readouterr().err


def assert_user_error(code, capsys, *needles):
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("stage_model: error: ") and err.count("\n") == 1
    for needle in needles:
        assert needle in err


def test_missing_bucket(s3, model_dir, capsys):
    code = sm.main(["--bucket", "no-such-bucket-here", "--name", NAME, "--source", str(model_dir)])
    assert_user_error(code, capsys, "'no-such-bucket-here' does not exist", "aws s3 mb")


def test_no_credentials(clean_aws_env, model_dir, monkeypatch, capsys):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    assert_user_error(cli(src=model_dir), capsys, "no AWS credentials", "--profile")


def test_unknown_profile(clean_aws_env, model_dir, capsys):
    assert_user_error(cli("--profile", "nope", src=model_dir), capsys, "profile 'nope' not found")


def test_bucket_in_another_region(s3, model_dir, capsys):
    s3.create_bucket(Bucket="kit-models-eu", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    code = sm.main(["--bucket", "kit-models-eu", "--name", NAME, "--source", str(model_dir), "--region", "us-east-1"])
    assert_user_error(code, capsys, "is in eu-west-1, not us-east-1", "--region eu-west-1")
    assert s3.list_objects_v2(Bucket="kit-models-eu").get("KeyCount") == 0


def head_bucket_error(code, status, headers=None):
    return ClientError(
        {"Error": {"Code": code, "Message": "x"}, "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": headers or {}}},
        "HeadBucket",
    )


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (
            head_bucket_error("301", 301, {"x-amz-bucket-region": "ap-south-1"}),
            "is in ap-south-1, not us-west-2; re-run with --region ap-south-1",
        ),
        (head_bucket_error("400", 400, {"x-amz-bucket-region": "eu-central-1"}), "re-run with --region eu-central-1"),
        (head_bucket_error("403", 403), "access to bucket 'kit-models-test' denied"),
    ],
)
def test_head_bucket_errors_are_explained(error, message):
    def head_bucket(**_):
        raise error

    fake = types.SimpleNamespace(meta=types.SimpleNamespace(region_name="us-west-2"), head_bucket=head_bucket)
    with pytest.raises(sm.StageError, match=re.escape(message)):
        sm.check_bucket(fake, BUCKET)


def test_access_denied_while_listing(s3, model_dir, monkeypatch, capsys):
    real = sm.make_client

    def deny(**_):
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, "ListObjectsV2")

    def denied_client(*args, **kwargs):
        client = real(*args, **kwargs)
        client.meta.events.register("provide-client-params.s3.ListObjectsV2", deny)
        return client

    monkeypatch.setattr(sm, "make_client", denied_client)
    assert_user_error(cli(src=model_dir), capsys, "S3 ListObjectsV2 on bucket 'kit-models-test' failed (AccessDenied")


def test_progress_bar_counts_bytes():
    stream = io.StringIO()
    progress = sm.Progress(2048, stream)
    progress(1024)
    progress(1024)
    progress.close()
    last = stream.getvalue().split("\r")[-1]
    assert progress.done == 2048
    assert "100.0%  2.0 KiB / 2.0 KiB" in last and last.endswith("\n")


def test_missing_source(s3, tmp_path, capsys):
    assert_user_error(cli(src=tmp_path / "nowhere"), capsys, "does not exist", "--source")


def test_empty_source(s3, tmp_path, capsys):
    src = tmp_path / "only-ignored"
    (src / ".git").mkdir(parents=True)
    (src / ".git" / "HEAD").write_text("x")
    assert_user_error(cli(src=src), capsys, "has no files to upload")


def test_unreadable_file(s3, model_dir, monkeypatch, capsys):
    real_open = Path.open

    def guarded(self, *args, **kwargs):
        if self.name == "tokenizer.json":
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", guarded)
    assert_user_error(cli(src=model_dir), capsys, "tokenizer.json: permission denied")
    assert remote_keys(s3) == []


@pytest.mark.parametrize("name", ["../escape", "has space", "a//b", "dollar$", "/leading", "org/./x"])
def test_invalid_name(clean_aws_env, tmp_path, capsys, name):
    code = sm.main(["--bucket", BUCKET, "--name", name, "--source", str(tmp_path)])
    assert_user_error(code, capsys, f"invalid --name {name!r}")


def test_hf_model_without_huggingface_hub(s3, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)
    code = sm.main(["--bucket", BUCKET, "--hf-model", "Qwen/Qwen2.5-0.5B"])
    assert_user_error(code, capsys, "needs huggingface_hub", "pip install huggingface_hub")


def test_hf_download_failure(s3, monkeypatch, capsys):
    def snapshot_download(**_):
        raise OSError("We couldn't connect to 'https://huggingface.co'\nmore detail")

    monkeypatch.setitem(sys.modules, "huggingface_hub", types.SimpleNamespace(snapshot_download=snapshot_download))
    code = sm.main(["--bucket", BUCKET, "--hf-model", "Qwen/Qwen2.5-0.5B"])
    assert_user_error(code, capsys, "cannot download Qwen/Qwen2.5-0.5B@main", "couldn't connect")


def test_hf_model_is_staged_under_its_id(s3, model_dir, monkeypatch, capsys):
    calls = []

    def snapshot_download(**kwargs):
        calls.append(kwargs)
        return str(model_dir)

    monkeypatch.setitem(sys.modules, "huggingface_hub", types.SimpleNamespace(snapshot_download=snapshot_download))
    assert sm.main(["--bucket", BUCKET, "--hf-model", "Acme/Tiny", "--hf-revision", "v1", "--multipart-chunk-mb", "5"]) == 0

    assert calls[0]["repo_id"] == "Acme/Tiny" and calls[0]["revision"] == "v1"
    assert "*.lock" in calls[0]["ignore_patterns"]
    manifest = json.loads(s3.get_object(Bucket=BUCKET, Key="models/Acme/Tiny/.kit-manifest.json")["Body"].read())
    assert manifest["source"] == "hf://Acme/Tiny@v1"
    assert sorted(f["path"] for f in manifest["files"]) == EXPECTED


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        sm.main(["--bucket", BUCKET, "--source", "x"])
    assert exc.value.code == 2
    assert "--name is required" in capsys.readouterr().err
