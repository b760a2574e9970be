"""The alert rules the kit loads into AMP or the in-cluster Prometheus, checked by promtool (path in KIT_PROMTOOL)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml


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


def promtool_test(rules: str, tests: str, folder: Path) -> subprocess.CompletedProcess:
    (folder / "rules.yaml").write_text(rules)
    (folder / "tests.yaml").write_text(tests)
    return subprocess.run([os.environ["KIT_PROMTOOL"], "test", "rules", "tests.yaml"], capture_output=True, text=True, cwd=folder)


def test_showback_rules_give_each_team_its_tokens_cost_and_budget_alert(rule_tests, tmp_path):
    """promtool runs the showback rules over synthetic token traffic and compares with the costs worked out by hand."""
    result = promtool_test(rule_tests["rules"], rule_tests["tests"], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert rule_tests["firing"] >= 1  # the scenario drives one team past its budget mark


def test_a_wrong_cost_fails_the_showback_test(rule_tests, tmp_path):
    """The unit test is exact: one cost off by 1% fails it."""
    tests = yaml.safe_load(rule_tests["tests"])
    costs = [check for check in tests["tests"][0]["promql_expr_test"] if "cost" in check["expr"]]
    costs[0]["exp_samples"][0]["value"] *= 1.01
    result = promtool_test(rule_tests["rules"], yaml.safe_dump(tests), tmp_path)
    assert result.returncode != 0 and costs[0]["expr"].split("{")[0] in result.stdout + result.stderr


def test_every_scaler_query_answers_one_finite_sample_in_every_state(scaler_tests, tmp_path):
    """Each KEDA trigger's query, recorded as a rule, over its workload idle, busy, gone and with broken samples:
    KEDA errors on an empty or NaN answer and the replica count then freezes (contracts/scaler_scenario.py)."""
    result = promtool_test(scaler_tests["rules"], scaler_tests["tests"], tmp_path)
    assert result.returncode == 0, scaler_tests["expr"] + "\n" + result.stdout + result.stderr
    assert {"idle", "busy", "missing"} <= set(scaler_tests["scenarios"])


@pytest.mark.parametrize("guard", [" or vector(0)", " >= 0"])
def test_each_part_of_a_scaler_querys_guard_is_needed(scaler_tests, guard, tmp_path):
    """Without `or vector(0)` an idle histogram or a workload without series answers nothing; without `>= 0` an idle
    histogram or a NaN replica answers NaN. Either way promtool must fail the states."""
    rules = yaml.safe_load(scaler_tests["rules"])
    [rule] = rules["groups"][0]["rules"]
    assert guard in rule["expr"], rule["expr"]
    rule["expr"] = rule["expr"].replace(guard, "")
    result = promtool_test(yaml.safe_dump(rules), scaler_tests["tests"], tmp_path)
    assert result.returncode != 0, rule["expr"] + " passed every state without its guard"
    assert "got: nil" in result.stdout + result.stderr or "NaN" in result.stdout + result.stderr
