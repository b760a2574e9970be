"""The batch lane: an Indexed Job per batch workload, queued at batch priority, inputs and results in S3."""

import json

import boto3
import pytest
from moto import mock_aws

from blueprints.vllm_batch import batch_io
from tests.blueprints.conftest import by_kind
from tests.helpers import assert_rejected

TEAMS = {"teams": [{"name": "research", "gpus": {"gpu-l40s": 8}}]}


def _batch(**overrides):
    return {
        "name": "nightly",
        "blueprint": "vllm-batch",
        "node_pool": "gpu-l40s",
        "queue": "research",
        "model": {"type": "hf", "repo_id": "org/model"},
        "inputs": ["s3://{bucket}/batch/nightly/a.jsonl", "s3://{bucket}/batch/nightly/b.jsonl", "s3://{bucket}/batch/nightly/c.jsonl"],
        "replicas": 2,
        **overrides,
    }


def test_one_index_per_input_file_queued_at_batch_priority(render):
    objects = by_kind(render({"scheduling": TEAMS, "workloads": [_batch()]})["nightly"])
    job = objects["Job"]
    spec = job["spec"]
    assert (spec["completionMode"], spec["completions"], spec["parallelism"], spec["backoffLimitPerIndex"]) == ("Indexed", 3, 2, 2)
    assert job["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "research"
    assert job["metadata"]["labels"]["kueue.x-k8s.io/priority-class"] == "batch"
    pod = spec["template"]["spec"]
    assert pod["restartPolicy"] == "Never" and pod["serviceAccountName"] == "nightly"
    [container] = pod["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    inputs = json.loads(env["INPUTS"])
    assert len(inputs) == 3 and all(uri.startswith("s3://llm-kit-models-") and "{bucket}" not in uri for uri in inputs)
    assert env["OUTPUT_PREFIX"].endswith("/batch/nightly/results/")
    assert container["command"] == ["bash", "/program/run.sh"] and container["args"][:2] == ["--model", "org/model"]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"
    run = objects["ConfigMap"]["data"]["run.sh"]
    assert 'vllm run-batch -i /work/input.jsonl -o /work/output.jsonl --output-tmp-dir /work/tmp "$@"' in run


def test_a_changed_batch_is_a_new_job(render):
    """Job templates are immutable: the name carries a digest of the spec, so a change is a new Job."""
    first = by_kind(render({"scheduling": TEAMS, "workloads": [_batch()]})["nightly"])["Job"]["metadata"]["name"]
    again = by_kind(render({"scheduling": TEAMS, "workloads": [_batch()]})["nightly"])["Job"]["metadata"]["name"]
    changed = by_kind(render({"scheduling": TEAMS, "workloads": [_batch(max_model_len=8192)]})["nightly"])["Job"]["metadata"]["name"]
    assert first == again != changed and first.startswith("nightly-")


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"queue": None}, ["workloads[0].queue", "so that real-time serving can preempt it"]),
        ({"inputs": ["s3://someone-else/batch/a.jsonl"]}, ["workloads[0].inputs[0]", "reads only the batch/ prefix of the model bucket"]),
        ({"inputs": ["s3://{bucket}/models/a.jsonl"]}, ["workloads[0].inputs[0]", "s3://{bucket}/models/a.jsonl"]),
    ],
    ids=["no-queue", "other-bucket", "not-under-batch"],
)
def test_refused(tmp_path, overrides, expected):
    assert_rejected(tmp_path, {"scheduling": TEAMS, "workloads": [_batch(**overrides)]}, expected)


@pytest.fixture
def s3(monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setattr(batch_io, "WORK", str(tmp_path))
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="models")
        yield client


def test_each_index_fetches_its_file_and_writes_its_results_under_the_workload(s3, monkeypatch, tmp_path):
    s3.put_object(Bucket="models", Key="batch/nightly/b.jsonl", Body=b'{"custom_id": "1"}\n')
    monkeypatch.setenv("INPUTS", json.dumps(["s3://models/batch/nightly/a.jsonl", "s3://models/batch/nightly/b.jsonl"]))
    monkeypatch.setenv("JOB_COMPLETION_INDEX", "1")
    monkeypatch.setenv("OUTPUT_PREFIX", "s3://models/batch/nightly/results/")
    assert batch_io.main(["fetch"]) == 0
    assert (tmp_path / "input.jsonl").read_bytes() == b'{"custom_id": "1"}\n'
    (tmp_path / "output.jsonl").write_text('{"custom_id": "1", "response": {}}\n')
    assert batch_io.main(["put"]) == 0
    body = s3.get_object(Bucket="models", Key="batch/nightly/results/b.jsonl")["Body"].read()
    assert body == b'{"custom_id": "1", "response": {}}\n'
    assert batch_io.main(["other"]) == 64
