"""The alert rules the kit loads into AMP or the in-cluster Prometheus, checked by promtool (path in KIT_PROMTOOL)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest


def promtool_check(text: str, folder: Path) -> subprocess.CompletedProcess:
    path = folder / "rules.yaml"
    path.write_text(text)
    return subprocess.run([os.environ["KIT_PROMTOOL"], "check", "rules", str(path)], capture_output=True, text=True)


def test_promtool_parses_every_query(promql, tmp_path):
    """Dashboard panels and autoscaler queries, each as the expression of a recording rule: promtool parses it."""
    text = "groups:\n  - name: kit\n    rules:\n      - record: kit:query\n        expr: " + json.dumps(promql["expr"]) + "\n"
    result = promtool_check(text, tmp_path)
    assert result.returncode == 0, promql["expr"] + "\n" + result.stdout + result.stderr


def test_promtool_accepts_the_rules(prometheus_rules, tmp_path):
    result = promtool_check(prometheus_rules["yaml"], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


@pytest.mark.parametrize(
    "rule",
    [
        "alert: Broken\n        expr: sum by (node (up)",
        "alert: Broken\n        expr: up > 0\n        for: 5 minutes",
    ],
)
def test_promtool_refuses_broken_rules(rule, tmp_path):
    text = f"groups:\n  - name: g\n    rules:\n      - {rule}\n"
    assert promtool_check(text, tmp_path).returncode != 0
