"""What stage_model records for the fit check: kit-model.json beside the weights and the local catalog entry, and
LoRA adapters staged with --adapter."""

from __future__ import annotations

import json
import os

import boto3
import pytest
import yaml
from moto import mock_aws

from blueprints.common.lora import Lora
from core.model_catalog import lookup
from core.model_sources import S3Source
from scripts import stage_model as sm

BUCKET = "kit-models-records"
LLAMA_8B = {
    "architectures": ["LlamaForCausalLM"], "hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32,
    "num_key_value_heads": 8, "vocab_size": 128256, "intermediate_size": 14336, "max_position_embeddings": 131072,
    "torch_dtype": "bfloat16", "tie_word_embeddings": False,
}  # fmt: skip


@pytest.fixture
def catalog(tmp_path, monkeypatch):
    path = tmp_path / "catalog" / "models.yaml"
    monkeypatch.setenv("KIT_MODEL_CATALOG", str(path))
    return path


@pytest.fixture
def s3(clean_aws_env):
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


def model_folder(tmp_path, config: dict) -> os.PathLike:
    folder = tmp_path / "llama"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "model-00001-of-00002.safetensors").write_bytes(b"\0" * 3000)
    (folder / "model-00002-of-00002.safetensors").write_bytes(b"\0" * 1000)
    (folder / "pytorch_model.bin").write_bytes(b"\0" * 9000)  # the other format of the same weights: not counted
    return folder


def adapter_folder(tmp_path, config: dict, weights: bool = True) -> os.PathLike:
    folder = tmp_path / "adapter"
    folder.mkdir()
    (folder / "adapter_config.json").write_text(json.dumps(config))
    if weights:
        (folder / "adapter_model.safetensors").write_bytes(b"\0" * 512)
    return folder


def stage(*args: str) -> int:
    return sm.main(["--bucket", BUCKET, "--concurrency", "2", *args])


def test_a_staged_model_is_recorded_beside_it_and_in_the_catalog(s3, tmp_path, catalog, capsys):
    folder = model_folder(tmp_path, LLAMA_8B)
    assert stage("--name", "acme/llama-ft", "--source", str(folder)) == 0
    assert "model facts recorded in s3://kit-models-records/models/acme/llama-ft/kit-model.json" in capsys.readouterr().out
    record = json.loads(s3.get_object(Bucket=BUCKET, Key="models/acme/llama-ft/kit-model.json")["Body"].read())
    assert (
        record["facts"]["layers"] == 32
        and record["facts"]["weight_bytes"] == 4000
        and record["uri"] == f"s3://{BUCKET}/models/acme/llama-ft/"
    )
    data = yaml.safe_load(catalog.read_text())
    assert [entry["uri"] for entry in data["models"]] == [record["uri"]] and data["adapters"] == []
    assert catalog.read_text().startswith("# Models and LoRA adapters staged with scripts/stage_model.py")
    # The config check finds it by where the workload loads it from, the kit's bucket written as {bucket}.
    facts = lookup(S3Source(type="s3", uri="s3://{bucket}/models/acme/llama-ft/"))
    assert facts is not None and facts.kv_heads == 8 and facts.weight_bytes == 4000 and facts.name == "acme/llama-ft"
    # Staging again replaces the entry; the record is never reported as an object the source lacks.
    assert stage("--name", "acme/llama-ft", "--source", str(folder)) == 0
    assert "not in the source" not in capsys.readouterr().out
    assert len(yaml.safe_load(catalog.read_text())["models"]) == 1


def test_a_config_the_kit_cannot_size_is_staged_but_not_recorded(s3, tmp_path, catalog, capsys):
    folder = model_folder(tmp_path, {"model_type": "llama"})
    assert stage("--name", "acme/odd", "--source", str(folder)) == 0
    assert "not recorded for the fit check" in capsys.readouterr().out
    assert not catalog.exists()
    assert "models/acme/odd/.kit-manifest.json" in [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]


def test_dry_runs_and_no_catalog_record_nothing(s3, tmp_path, catalog):
    folder = model_folder(tmp_path, LLAMA_8B)
    assert stage("--name", "acme/a", "--source", str(folder), "--dry-run") == 0
    assert stage("--name", "acme/b", "--source", str(folder), "--no-catalog") == 0
    assert not catalog.exists()
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    assert not any(key.endswith("kit-model.json") for key in keys)


def test_an_adapter_is_staged_under_adapters_and_its_rank_recorded(s3, tmp_path, catalog, capsys):
    folder = adapter_folder(
        tmp_path,
        {
            "peft_type": "LORA",
            "r": 32,
            "base_model_name_or_path": "meta-llama/Llama-3.1-8B-Instruct",
            "target_modules": ["v_proj", "q_proj"],
        },
    )
    assert stage("--adapter", "--name", "support-bot", "--source", str(folder)) == 0
    assert "adapter rank 32 recorded" in capsys.readouterr().out
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert "models/adapters/support-bot/adapter_model.safetensors" in keys
    (entry,) = yaml.safe_load(catalog.read_text())["adapters"]
    assert entry == {
        **entry,
        "rank": 32,
        "base_model": "meta-llama/Llama-3.1-8B-Instruct",
        "target_modules": ["q_proj", "v_proj"],
        "uri": f"s3://{BUCKET}/models/adapters/support-bot/",
    }
    # The workload's LoRA block sizes its slots from the recorded rank when it gives none.
    lora = Lora.model_validate({"adapters": [{"name": "support-bot", "uri": f"s3://{BUCKET}/models/adapters/support-bot/"}]})
    assert lora.ranks() == {"support-bot": 32} and lora.rank == 32


@pytest.mark.parametrize(
    ("config", "weights", "message"),
    [
        (None, True, "has no adapter_config.json"),
        ({"peft_type": "PREFIX_TUNING", "r": 8}, True, "is not a LoRA adapter"),
        ({"peft_type": "LORA", "r": 8}, False, "has no adapter_model.safetensors"),
    ],
    ids=["no-config", "not-lora", "no-weights"],
)
def test_a_folder_that_is_no_adapter_is_refused_before_any_upload(s3, tmp_path, catalog, capsys, config, weights, message):
    if config is None:
        folder = tmp_path / "adapter"
        folder.mkdir()
        (folder / "adapter_model.safetensors").write_bytes(b"\0")
    else:
        folder = adapter_folder(tmp_path, config, weights)
    assert stage("--adapter", "--name", "x", "--source", str(folder)) == 2
    assert message in capsys.readouterr().err
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET) and not catalog.exists()
