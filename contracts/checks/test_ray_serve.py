"""Every RayService Serve config the kit writes, read by Ray 2.60.0 itself (the Ray of the pinned ray-llm image):
Ray Serve's ServeDeploySchema (what the dashboard's Serve API validates serveConfigV2 with), the builder's
LLMServingArgs fields, and each llm_config as Ray Serve LLM's LLMConfig, which validates deployment_config with Ray
Serve's DeploymentConfig and model_loading_config with ModelLoadingConfig, and its placement_group_config as
PlacementGroupConfig.

The environment holds ray[serve] without vLLM or torch: LLMConfig imports without them; LLMServingArgs does not (its
module imports the OpenAI protocol models, which need vLLM), so its field names are read from the module's source.
The engine_kwargs are vLLM 0.29.0's AsyncEngineArgs names (the vLLM inside the image); no contract environment holds
that vLLM, so they are checked only against what Ray itself refuses.
"""

# pyright: reportMissingImports=false, reportMissingModuleSource=false
# This module runs in its contract environment (contracts/environments.py, from contracts/locks), which holds
# the program it imports; the kit's own .venv, where the checker runs, does not.

from __future__ import annotations

import ast
import importlib.util
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel, ValidationError
from ray.llm._internal.common.placement import PlacementGroupConfig
from ray.llm._internal.serve.core.configs.llm_config import LLMConfig
from ray.serve.schema import HTTPOptionsSchema, ServeApplicationSchema, ServeDeploySchema

RAY = "2.60.0"
BUILDER = "ray.serve.llm:build_openai_app"
RAY_OWNED_ENGINE_KWARGS = {"model", "served_model_name", "distributed_executor_backend"}


def _fields_of_class_in_source(module: str, cls: str) -> set[str]:
    """Annotated field names of a pydantic class, read from the module's source without importing it."""
    spec = importlib.util.find_spec(module.rsplit(".", 1)[0])
    assert spec is not None and spec.submodule_search_locations, f"{module} is not an installed package's module"
    path = Path(spec.submodule_search_locations[0]) / (module.rsplit(".", 1)[1] + ".py")
    tree = ast.parse(path.read_text())
    [node] = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls]
    return {item.target.id for item in node.body if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)}


def _unknown_keys(data: dict, model: type[BaseModel]) -> set[str]:
    """Keys a model that allows extra fields would keep without reading (ServeDeploySchema is forward-compatible)."""
    names = set(model.model_fields) | {field.alias for field in model.model_fields.values() if field.alias}
    return set(data) - names


def _serve(entry: dict) -> dict:
    return yaml.safe_load(entry["serve_config"])


def test_ray_is_the_images_version(ray_serve):
    assert version("ray") == RAY == ray_serve["ray_version"]


def test_ray_serve_accepts_the_serve_config(ray_serve):
    config = _serve(ray_serve)
    schema = ServeDeploySchema.model_validate(config)
    assert not _unknown_keys(config, ServeDeploySchema), "keys Ray Serve would keep without reading"
    assert not _unknown_keys(config["http_options"], HTTPOptionsSchema)
    assert (schema.http_options.host, schema.http_options.port) == ("0.0.0.0", 8000)
    assert schema.proxy_location.value == "EveryNode"
    for app, raw in zip(schema.applications, config["applications"], strict=True):
        assert not _unknown_keys(raw, ServeApplicationSchema)
        assert (app.import_path, app.route_prefix) == (BUILDER, "/")


def test_the_builder_takes_the_args_and_each_llm_config_is_an_llm_config(ray_serve):
    serving_args = _fields_of_class_in_source("ray.llm._internal.serve.core.ingress.builder", "LLMServingArgs")
    assert serving_args == {"llm_configs", "ingress_cls_config", "ingress_deployment_config"}
    for app in _serve(ray_serve)["applications"]:
        assert set(app["args"]) <= serving_args
        for raw in app["args"]["llm_configs"]:
            config = LLMConfig.model_validate(raw)
            assert config.model_id == raw["model_loading_config"]["model_id"]
            assert not RAY_OWNED_ENGINE_KWARGS & set(config.engine_kwargs)
            PlacementGroupConfig(**raw["placement_group_config"])
            scaling = raw["deployment_config"]["autoscaling_config"]
            # Ray Serve LLM merges its defaults under this: without a target its replicas would aim at 1e9 requests each.
            assert 0 < scaling["target_ongoing_requests"] < 1e6
            assert scaling["min_replicas"] <= scaling["max_replicas"]


def test_a_model_source_on_s3_is_a_cloud_mirror_ray_downloads(all_emitted):
    sources = [
        cfg["model_loading_config"]["model_source"]
        for entry in all_emitted["ray_serve"]
        for app in _serve(entry)["applications"]
        for cfg in app["args"]["llm_configs"]
    ]
    mirrors = [source for source in sources if isinstance(source, dict)]
    assert mirrors, "no s3 model among the Ray Serve configs: the mirror path goes unchecked"
    for source in mirrors:
        config = LLMConfig.model_validate({"model_loading_config": {"model_id": "m", "model_source": source}})
        assert config.model_loading_config.model_source.storage_type == "s3"


@pytest.mark.parametrize(
    "bad",
    [
        {"deployment_config": {"autoscaling_config": {"min_replicas": 3, "max_replicas": 1}}},
        {"deployment_config": {"autoscaling_config": {"target_ongoing_requests": 0}}},
        {"deployment_config": {"autoscaling_config": {"max_replicas": 2}, "num_replicas": "two"}},
        {"model_loading_config": {"model_id": "m", "model_sourse": "x"}},
        {"model_loading_config": {"model_id": "m", "model_source": {"bucket_uri": "/not/a/bucket"}}},
        {"llm_engine": "SGLang-typo"},
    ],
)
def test_the_checks_can_fail(bad):
    base = {"model_loading_config": {"model_id": "m"}}
    with pytest.raises((ValidationError, ValueError)):
        LLMConfig.model_validate({**base, **bad})


def test_serve_refuses_a_bad_serve_config():
    with pytest.raises(ValidationError):
        ServeDeploySchema.model_validate({"http_options": {"port": "eighty"}, "applications": [{"import_path": BUILDER}]})
