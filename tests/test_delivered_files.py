"""No placeholder reaches a delivered file: every file dist/ and charts/ hand over, for the default config and every
example, with the account known (config or --resolve-account) and without it."""

from __future__ import annotations

import re

import pytest

from assembly.app import render_workloads
from assembly.delivery import prepare
from assembly.kit import KIT
from assembly.version import kit_version
from blueprints.helm import semver, write_charts
from blueprints.dist import NOT_READY, write_dist
from core.model_sources import ACCOUNT_FIELD, KIT_BUCKET_FIELD
from core.routing import AMP_QUERY_URL
from tests.helpers import DEFAULT_CONFIG, REPO

CONFIGS = [DEFAULT_CONFIG, *sorted((REPO / "config" / "examples").glob("*.yaml"))]
TOKENS = re.compile("|".join(re.escape(token) for token in (ACCOUNT_FIELD, KIT_BUCKET_FIELD, AMP_QUERY_URL)))
ACCOUNT = "123456789012"


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_no_placeholder_reaches_a_delivered_file(path, tmp_path):
    config = KIT.load(path)
    objects = render_workloads(config)
    for account in (None, ACCOUNT):
        out = tmp_path / (account or "unknown")
        delivery = prepare(config, objects, account)
        write_dist(delivery.objects, out / "dist", delivery.unknowns)
        write_charts(delivery.objects, out / "charts", version=semver(kit_version()), hints=delivery.hints)
        for file in sorted((out / "charts").rglob("*")):
            if file.is_file():
                token = TOKENS.search(file.read_text())
                assert token is None, f"{file.relative_to(out)} holds {token.group()}"
        for folder in sorted((out / "dist").iterdir()) if delivery.objects else []:
            manifest = (folder / "manifest.yaml").read_text()
            left = sorted(set(TOKENS.findall(manifest)))
            marked = manifest.startswith(NOT_READY) and (folder / "kustomization.yaml").read_text().startswith(NOT_READY)
            if left:
                # Only a fact the synth cannot know stays, and the folder says so where anyone applying it looks.
                assert marked and (folder / "README.md").exists(), f"{folder.name}: {left} without the not-ready marker"
                assert all(f"`{token}`" in (folder / "README.md").read_text() for token in left)
                assert ACCOUNT_FIELD not in left or account is None
                assert KIT_BUCKET_FIELD not in left
            else:
                assert not marked and not (folder / "README.md").exists(), folder.name
        if account is not None:
            ready = [name for name, missing in delivery.unknowns.items() if not missing]
            assert ready == [name for name, missing in delivery.unknowns.items() if AMP_QUERY_URL not in {m.token for m in missing}]
