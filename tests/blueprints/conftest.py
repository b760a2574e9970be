from __future__ import annotations

import pytest

from assembly.app import render_workloads
from assembly.kit import KIT
from tests.helpers import write_config


@pytest.fixture
def render(tmp_path):
    """Render the objects of a config built from the default plus overrides: {workload: [objects]}."""

    def _render(overrides: dict) -> dict[str, list[dict]]:
        return render_workloads(KIT.load(write_config(tmp_path, overrides)))

    return _render


def by_kind(objects: list[dict]) -> dict[str, dict]:
    return {obj["kind"]: obj for obj in objects}
