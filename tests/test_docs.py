"""Generated docs stay in step with the model, and the exported schema accepts the shipped configs."""

from pathlib import Path

import jsonschema
import pytest
import yaml

from assembly import docs
from tests.helpers import REPO, as_editor_sees

CONFIGS = sorted([REPO / "config" / "default.yaml", *(REPO / "config" / "examples").glob("*.yaml")])


def test_schema_and_reference_are_regenerated():
    assert docs.SCHEMA_FILE.read_text() == docs.render_schema(), "run ./kit docs"
    assert docs.REFERENCE_FILE.read_text() == docs.render_reference(), "run ./kit docs"


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: Path(p).name)
def test_exported_schema_accepts_the_shipped_configs(path):
    jsonschema.validate(as_editor_sees(yaml.safe_load(path.read_text())), docs.json_schema())


def test_exported_schema_rejects_unknown_keys():
    data = yaml.safe_load((REPO / "config" / "default.yaml").read_text())
    data["cluster"]["kubernetes_versoin"] = "1.35"
    with pytest.raises(jsonschema.ValidationError, match="kubernetes_versoin"):
        jsonschema.validate(data, docs.json_schema())
