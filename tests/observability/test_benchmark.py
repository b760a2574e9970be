"""The benchmark blueprint: a CPU-only Job in the zone that loads another workload's Service and writes to S3."""

import kubernetes_validate
import pytest
import yaml

from blueprints.registry import BLUEPRINTS
from assembly.app import render_workloads
from assembly.kit import KIT
from tests.helpers import assert_rejected, default_config_data, write_config

# The blueprints whose servers speak the OpenAI API, as the registry declares them (a new one joins the message).
_OPENAI = [blueprint.name for blueprint in BLUEPRINTS if blueprint.serves_openai]
_OPENAI_KINDS = ", ".join(_OPENAI[:-1]) + f" or {_OPENAI[-1]}"

BENCH = {"name": "bench-llama-8b", "blueprint": "benchmark", "target": "llama-8b", "concurrency": [1, 8, 32], "requests_per_stage": 300}


HUB = {"type": "hf", "repo_id": "meta-llama/Llama-3.1-8B-Instruct", "token_secret_name": "hf-token"}


def _render(tmp_path, **fields):
    """The default workload, served from the Hub (whose tokenizer and token the benchmark then uses), and a benchmark."""
    target = {**default_config_data()["workloads"][0], "model": HUB}
    overrides = {"account": "111122223333", "workloads": [target, {**BENCH, **fields}]}
    return {obj["kind"]: obj for obj in render_workloads(KIT.load(write_config(tmp_path, overrides)))["bench-llama-8b"]}


def test_job_renders_and_passes_the_strict_schema(tmp_path):
    objects = _render(tmp_path)
    assert set(objects) == {"ServiceAccount", "ConfigMap", "Job", "NetworkPolicy"}
    for obj in objects.values():
        kubernetes_validate.validate(obj, "1.35", strict=True)
    job = objects["Job"]
    spec = job["spec"]
    assert spec["backoffLimit"] == 0 and spec["ttlSecondsAfterFinished"] == 24 * 3600
    pod = spec["template"]["spec"]
    assert (
        pod["serviceAccountName"] == "bench-llama-8b" == objects["ServiceAccount"]["metadata"]["name"] and pod["restartPolicy"] == "Never"
    )
    assert pod["nodeSelector"] == {"topology.k8s.aws/zone-id": "usw2-az2"}
    assert "tolerations" not in pod
    (container,) = pod["containers"]
    assert container["resources"]["requests"] == container["resources"]["limits"] == {"cpu": "2", "memory": "4Gi"}
    assert "nvidia.com/gpu" not in str(container["resources"])
    # inference-perf's own image, pulled through the account's Quay cache rule (docs/images.md).
    assert container["image"].endswith("/llm-kit/quay/inference-perf/inference-perf:v0.6.1")
    assert job["metadata"]["name"].startswith("bench-llama-8b-") and job["metadata"]["labels"]["llm-kit/blueprint"] == "benchmark"


def test_load_generator_targets_the_workload_service_and_writes_to_s3(tmp_path):
    config = yaml.safe_load(_render(tmp_path)["ConfigMap"]["data"]["config.yml"])
    assert config["server"]["base_url"] == "http://llama-8b.inference.svc.cluster.local:8000"
    assert config["server"]["model_name"] == "llama-8b"
    assert config["api"] == {"type": "completion", "streaming": True}
    assert [s["concurrency_level"] for s in config["load"]["stages"]] == [1, 8, 32]
    assert {s["num_requests"] for s in config["load"]["stages"]} == {300}
    s3 = config["storage"]["simple_storage_service"]
    assert s3["bucket_name"] == "llm-kit-models-111122223333-us-west-2"
    assert s3["path"] == "benchmarks/llama-8b/{timestamp}"
    assert config["tokenizer"]["pretrained_model_name_or_path"] == "meta-llama/Llama-3.1-8B-Instruct"
    assert config["data"]["type"] == "random" and config["data"]["input_distribution"]["mean"] == 1024


def test_dataset_from_s3_and_hf_token_of_the_target(tmp_path):
    objects = _render(tmp_path, dataset="s3://llm-kit-models-111122223333-us-west-2/datasets/sharegpt.json")
    config = yaml.safe_load(objects["ConfigMap"]["data"]["config.yml"])
    assert config["data"] == {"type": "shareGPT", "path": "/work/dataset.json"}
    env = {e["name"]: e for e in objects["Job"]["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["DATASET_URI"]["value"].endswith("/datasets/sharegpt.json")
    assert env["HF_TOKEN"]["valueFrom"]["secretKeyRef"]["name"] == "hf-token"


def test_a_changed_benchmark_is_a_new_job(tmp_path):
    first = _render(tmp_path)["Job"]["metadata"]["name"]
    assert _render(tmp_path, requests_per_stage=500)["Job"]["metadata"]["name"] != first
    assert _render(tmp_path)["Job"]["metadata"]["name"] == first


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"target": "llama-80b"},
            ["workloads[1].target", f"must name an enabled {_OPENAI_KINDS} workload", "no workload has this name", "allowed: llama-8b"],
        ),
        ({"dataset": "s3://someone-elses-bucket/datasets/x.json"}, ["workloads[1].dataset", "reads only the datasets/ prefix"]),
        ({"dataset": "s3://llm-kit-models-111122223333-us-west-2/models/x.json"}, ["workloads[1].dataset", "datasets/"]),
        ({"concurrency": [8, 1]}, ["workloads[1].concurrency", "ascending order"]),
    ],
)
def test_bad_benchmarks_are_explained(tmp_path, fields, expected):
    assert_rejected(tmp_path, {"workloads": default_config_data()["workloads"] + [{**BENCH, **fields}]}, expected)


def test_a_disabled_target_is_rejected(tmp_path):
    workloads = [{**default_config_data()["workloads"][0], "enabled": False}, BENCH]
    assert_rejected(tmp_path, {"workloads": workloads}, ["workloads[1].target", "that workload is disabled"])
