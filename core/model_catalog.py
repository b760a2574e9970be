"""What the kit knows of a model's architecture, for the fit check and the sizer (core/model_fit.py).

Three sources, the first that knows the model wins:
1. `model_facts:` on the workload (keys below; `same_as` borrows a known model's and overrides some);
2. the local catalog, config/models.yaml, which scripts/stage_model.py writes when it stages a model: the facts
   of its config.json and the size of its weight files, by the name and URI it was staged under;
3. the table below, for well-known models.

A model source matches a catalog name when its path ends with that name (s3://{bucket}/models/<name>/, an FSx
sub_path models/<name>, a Hub repo id <name>), compared without case.

The table: each model's config.json as published in its Hugging Face repository (huggingface.co/<name>, file
config.json: num_hidden_layers, hidden_size, num_attention_heads, num_key_value_heads, head_dim, vocab_size,
intermediate_size, max_position_embeddings, tie_word_embeddings, and the MoE and MLA keys), transcribed on
CHECKED_ON. Parameter counts are counted from those values (ModelFacts.parameters) except where the model card's
total is given (MLA models, whose attention the count does not cover). Re-stage a model with
scripts/stage_model.py to record its real config and weight size instead.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import Field

from core.model_fit import ModelFacts
from core.model_sources import FsxSource, HfSource, S3Source
from core.schema import StrictModel

CHECKED_ON = "2026-11-30"
LOCAL_CATALOG = Path(__file__).resolve().parents[1] / "config" / "models.yaml"
"""Written by scripts/stage_model.py; read by the config check and the sizer, offline. KIT_MODEL_CATALOG overrides it."""
CATALOG_ENV = "KIT_MODEL_CATALOG"


def _llama(name: str, layers: int, hidden: int, heads: int, intermediate: int, *, tied: bool = False, head_dim: int = 128) -> ModelFacts:
    return ModelFacts(
        name,
        layers,
        hidden,
        heads,
        8,
        128256,
        intermediate,
        131072,
        head_dim=head_dim,
        tie_word_embeddings=tied,
        source=f"huggingface.co/{name} config.json",
    )


def _qwen(
    name: str,
    layers: int,
    hidden: int,
    heads: int,
    kv: int,
    intermediate: int,
    max_len: int = 32768,
    *,
    vocab: int = 152064,
    head_dim: int | None = None,
    tied: bool = False,
) -> ModelFacts:
    return ModelFacts(
        name,
        layers,
        hidden,
        heads,
        kv,
        vocab,
        intermediate,
        max_len,
        head_dim=head_dim,
        tie_word_embeddings=tied,
        source=f"huggingface.co/{name} config.json",
    )


def _mistral(
    name: str, layers: int, hidden: int, heads: int, intermediate: int, vocab: int, max_len: int, *, experts: int = 0
) -> ModelFacts:
    return ModelFacts(
        name,
        layers,
        hidden,
        heads,
        8,
        vocab,
        intermediate,
        max_len,
        head_dim=hidden // heads,
        experts=experts,
        source=f"huggingface.co/{name} config.json",
    )


def _deepseek(name: str) -> ModelFacts:
    # 61 layers (3 dense, 58 MoE with 256 routed experts of width 2048 and one shared), MLA with a 512-wide latent
    # and 64 rope dimensions; 671B parameters (model card), an FP8 checkpoint with 16-bit embeddings and head.
    return ModelFacts(
        name, 61, 7168, 128, 128, 129280, 18432, 163840, head_dim=128, experts=256, moe_intermediate_size=2048, shared_experts=1,
        kv_lora_rank=512, qk_rope_head_dim=64, params_b=671.0, quantization="fp8",
        source=f"huggingface.co/{name} config.json and model card",
    )  # fmt: skip


_KNOWN = [
    _llama("meta-llama/Llama-3.1-8B-Instruct", 32, 4096, 32, 14336),
    _llama("meta-llama/Llama-3.1-8B", 32, 4096, 32, 14336),
    _llama("meta-llama/Llama-3.1-70B-Instruct", 80, 8192, 64, 28672),
    _llama("meta-llama/Llama-3.1-70B", 80, 8192, 64, 28672),
    _llama("meta-llama/Llama-3.3-70B-Instruct", 80, 8192, 64, 28672),
    _llama("meta-llama/Llama-3.1-405B-Instruct", 126, 16384, 128, 53248),
    _llama("meta-llama/Llama-3.1-405B", 126, 16384, 128, 53248),
    _llama("meta-llama/Llama-3.2-1B-Instruct", 16, 2048, 32, 8192, tied=True, head_dim=64),
    _llama("meta-llama/Llama-3.2-3B-Instruct", 28, 3072, 24, 8192, tied=True),
    _qwen("Qwen/Qwen2.5-7B-Instruct", 28, 3584, 28, 4, 18944),
    _qwen("Qwen/Qwen2.5-14B-Instruct", 48, 5120, 40, 8, 13824),
    _qwen("Qwen/Qwen2.5-32B-Instruct", 64, 5120, 40, 8, 27648),
    _qwen("Qwen/Qwen2.5-72B-Instruct", 80, 8192, 64, 8, 29568),
    _qwen("Qwen/Qwen3-8B", 36, 4096, 32, 8, 12288, 40960, vocab=151936, head_dim=128),
    _qwen("Qwen/Qwen3-32B", 64, 5120, 64, 8, 25600, 40960, vocab=151936, head_dim=128),
    _mistral("mistralai/Mistral-7B-Instruct-v0.3", 32, 4096, 32, 14336, 32768, 32768),
    _mistral("mistralai/Mixtral-8x7B-Instruct-v0.1", 32, 4096, 32, 14336, 32000, 32768, experts=8),
    _mistral("mistralai/Mixtral-8x22B-Instruct-v0.1", 56, 6144, 48, 16384, 32768, 65536, experts=8),
    _mistral("mistralai/Mistral-Large-Instruct-2407", 88, 12288, 96, 28672, 32768, 131072),
    _deepseek("deepseek-ai/DeepSeek-V3"),
    _deepseek("deepseek-ai/DeepSeek-R1"),
    ModelFacts(
        "deepseek-ai/DeepSeek-R1-Distill-Llama-70B",
        80,
        8192,
        64,
        8,
        128256,
        28672,
        131072,
        head_dim=128,
        source="huggingface.co/deepseek-ai/DeepSeek-R1-Distill-Llama-70B config.json",
    ),
    _qwen("deepseek-ai/DeepSeek-R1-Distill-Qwen-32B", 64, 5120, 40, 8, 27648, 131072),
]
KNOWN: dict[str, ModelFacts] = {facts.name: facts for facts in _KNOWN}


class ModelFactsKeys(StrictModel):
    """A workload's own statement of its model's architecture, where no catalog knows it (a fine-tune, a private
    model): config.json's values under these names."""

    same_as: Annotated[str | None, Field(examples=["meta-llama/Llama-3.1-8B-Instruct"])] = None
    """A model the kit knows (the table in core/model_catalog.py or config/models.yaml) whose architecture this one
    shares, e.g. the base of a fine-tune; the keys below override its values."""
    num_hidden_layers: Annotated[int | None, Field(ge=1)] = None
    """config.json's num_hidden_layers: transformer layers."""
    hidden_size: Annotated[int | None, Field(ge=1)] = None
    """config.json's hidden_size."""
    num_attention_heads: Annotated[int | None, Field(ge=1)] = None
    """config.json's num_attention_heads (a tensor-parallel size must divide it)."""
    num_key_value_heads: Annotated[int | None, Field(ge=1)] = None
    """config.json's num_key_value_heads (default: num_attention_heads)."""
    head_dim: Annotated[int | None, Field(ge=1)] = None
    """config.json's head_dim (default: hidden_size / num_attention_heads)."""
    vocab_size: Annotated[int | None, Field(ge=1)] = None
    """config.json's vocab_size."""
    intermediate_size: Annotated[int | None, Field(ge=1)] = None
    """config.json's intermediate_size (default: 4 x hidden_size)."""
    max_position_embeddings: Annotated[int | None, Field(ge=1)] = None
    """config.json's max_position_embeddings: vLLM's max_model_len when the workload sets none."""
    torch_dtype: Literal["bfloat16", "float16", "float32"] | None = None
    """config.json's torch_dtype."""
    tie_word_embeddings: bool | None = None
    """config.json's tie_word_embeddings."""
    num_local_experts: Annotated[int | None, Field(ge=0)] = None
    """Routed experts of a mixture-of-experts model (config.json's num_local_experts or n_routed_experts)."""
    params_b: Annotated[float | None, Field(gt=0)] = None
    """Total parameters in billions (default: counted from the other keys)."""
    weight_gib: Annotated[float | None, Field(gt=0)] = None
    """The checkpoint's weight files in GiB, where known (more exact than a parameter count)."""

    def facts(self, name: str, base: ModelFacts | None) -> ModelFacts | None:
        """The facts these keys give over `base`; None when they name too little to size the model."""
        values: dict[str, Any] = {}
        if base is not None:
            values = {key: getattr(base, key) for key in ModelFacts.__dataclass_fields__}
        renames = {
            "num_hidden_layers": "layers", "hidden_size": "hidden_size", "num_attention_heads": "attention_heads",
            "num_key_value_heads": "kv_heads", "head_dim": "head_dim", "vocab_size": "vocab_size",
            "intermediate_size": "intermediate_size", "max_position_embeddings": "max_position_embeddings",
            "torch_dtype": "dtype", "tie_word_embeddings": "tie_word_embeddings", "num_local_experts": "experts", "params_b": "params_b",
        }  # fmt: skip
        for key, target in renames.items():
            value = getattr(self, key)
            if value is not None:
                values[target] = value
        if self.weight_gib is not None:
            values["weight_bytes"] = int(self.weight_gib * (1 << 30))
        if "kv_heads" not in values and "attention_heads" in values:
            values["kv_heads"] = values["attention_heads"]
        values["name"] = name
        values["source"] = "the workload's model_facts" + (f" over {base.name}" if base is not None else "")
        needed = ("layers", "hidden_size", "attention_heads", "vocab_size", "max_position_embeddings")
        if any(values.get(key) is None for key in needed):
            return None
        values.setdefault("intermediate_size", 4 * values["hidden_size"])
        return ModelFacts(**values)

    @property
    def missing(self) -> list[str]:
        """Keys the workload must give when same_as names nothing."""
        needed = ("num_hidden_layers", "hidden_size", "num_attention_heads", "vocab_size", "max_position_embeddings")
        return [key for key in needed if getattr(self, key) is None]


def catalog_path() -> Path:
    return Path(os.environ.get(CATALOG_ENV) or LOCAL_CATALOG)


@lru_cache(maxsize=8)
def _read(path: str, mtime: float) -> dict[str, Any]:
    try:
        data = yaml.safe_load(Path(path).read_text()) or {}
    except yaml.YAMLError:
        return {}  # a catalog the kit cannot read knows no model: the fit check then says it was not checked
    return data if isinstance(data, dict) else {}


def local_catalog(path: Path | None = None) -> dict[str, Any]:
    """config/models.yaml as written by stage_model: {'models': [...], 'adapters': [...]}; empty when absent."""
    path = path or catalog_path()
    if not path.is_file():
        return {}
    return _read(str(path), path.stat().st_mtime)


def local_models(path: Path | None = None) -> list[tuple[ModelFacts, str | None]]:
    """(facts, the URI it was staged to) of every model in the local catalog."""
    found = []
    for entry in local_catalog(path).get("models") or []:
        try:
            facts = ModelFacts(
                **{**entry["facts"], "name": entry["name"], "source": f"{catalog_path().name}, staged {entry.get('staged', '?')}"}
            )
        except (KeyError, TypeError):
            continue  # a hand-edited entry the kit cannot read counts as unknown
        found.append((facts, entry.get("uri")))
    return found


def local_adapters(path: Path | None = None) -> dict[str, dict[str, Any]]:
    """Adapters stage_model recorded, by the URI they were staged to (their rank, base model, target modules)."""
    return {entry["uri"]: entry for entry in local_catalog(path).get("adapters") or [] if isinstance(entry, dict) and "uri" in entry}


def source_path(source: S3Source | FsxSource | HfSource) -> str:
    """The part of a model source that names the model: an S3 key prefix, an FSx sub_path, a Hub repo id."""
    if isinstance(source, S3Source):
        return source.key_prefix.strip("/")
    if isinstance(source, FsxSource):
        return source.sub_path.strip("/")
    return source.repo_id


def _matches(path: str, name: str) -> bool:
    path, name = path.lower().strip("/"), name.lower().strip("/")
    return path == name or path.endswith("/" + name)


def _same_place(uri: str | None, source: S3Source | FsxSource | HfSource) -> bool:
    if not uri or not isinstance(source, S3Source) or not uri.startswith("s3://"):
        return False
    staged = S3Source(type="s3", uri=uri if uri.endswith("/") else uri + "/")
    return staged.key_prefix == source.key_prefix


def lookup_name(name: str) -> ModelFacts | None:
    """A model by its catalog name (local first, then the table), compared without case."""
    for facts, _ in local_models():
        if facts.name.lower() == name.lower():
            return facts
    return next((facts for known, facts in KNOWN.items() if known.lower() == name.lower()), None)


def lookup(source: S3Source | FsxSource | HfSource) -> ModelFacts | None:
    """The facts of the model a source loads: staged there (local catalog), else named by its path."""
    local = local_models()
    for facts, uri in local:
        if _same_place(uri, source):
            return facts
    path = source_path(source)
    for facts, _ in local:
        if _matches(path, facts.name):
            return facts
    matching = [facts for name, facts in KNOWN.items() if _matches(path, name)]
    return max(matching, key=lambda facts: len(facts.name)) if matching else None


def facts_for(source: S3Source | FsxSource | HfSource, keys: ModelFactsKeys | None) -> ModelFacts | None:
    """A workload's model facts: its own keys (over same_as, else over the catalog's), else the catalog's."""
    found = lookup(source)
    if keys is None:
        return found
    base = lookup_name(keys.same_as) if keys.same_as else found
    return keys.facts(source_path(source), base)
