"""./kit as people meet it: help, paths from where they stand, a fast answer without credentials, no hidden prompts."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.helpers import REPO, write_config

KIT = str(REPO / "kit")


def _kit(*args: str, cwd=REPO, env: dict | None = None, stdin=subprocess.DEVNULL) -> subprocess.CompletedProcess:
    return subprocess.run(
        [KIT, *args], cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True, stdin=stdin, timeout=120
    )


@pytest.fixture
def no_credentials(tmp_path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        {
            "HOME": str(tmp_path),
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": str(tmp_path / "none"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        }
    )
    return env


def test_help_lists_every_command():
    result = _kit("help")
    assert result.returncode == 0
    for command in ("synth", "check", "render", "blueprints", "test", "contracts", "bench", "docs", "lock", "diff", "deploy", "destroy"):
        assert f"  {command} " in result.stdout, command


def test_a_relative_config_is_read_from_the_callers_directory(tmp_path):
    write_config(tmp_path, {"name": "here-kit"}, name="mine.yaml")
    by_flag = _kit("check", "--config", "mine.yaml", cwd=tmp_path)
    by_variable = _kit("check", cwd=tmp_path, env={"KIT_CONFIG": "mine.yaml"})
    for result in (by_flag, by_variable):
        assert result.returncode == 0, result.stderr
        assert f"config ok: {tmp_path / 'mine.yaml'}" in result.stdout


def test_a_missing_config_names_the_path_it_tried(tmp_path):
    result = _kit("check", "--config", "nowhere.yaml", cwd=tmp_path)
    assert (
        result.returncode == 2 and f"{tmp_path / 'nowhere.yaml'}: 1 config problem" in result.stderr and "does not exist" in result.stderr
    )


def test_a_rejected_config_stops_the_synth_before_the_cdk(tmp_path):
    bad = write_config(tmp_path, {"placement": {"az_id": "us-west-2b"}})
    result = _kit("synth", "--config", str(bad), "--outdir", str(tmp_path / "out"))
    assert result.returncode == 2 and "is an AZ name" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", ["diff", "deploy", "destroy"])
def test_without_credentials_the_cdk_commands_stop_at_once_and_say_how_to_get_them(command, no_credentials):
    args = [command, "--force"] if command == "destroy" else [command]
    result = _kit(*args, env=no_credentials)
    assert result.returncode == 2
    assert "no AWS credentials" in result.stderr and "aws sso login" in result.stderr
    assert "Unknown option" not in result.stderr


def test_destroy_without_a_terminal_asks_for_force(no_credentials):
    result = _kit("destroy", env=no_credentials)
    assert result.returncode == 2 and "./kit destroy --force" in result.stderr


def test_blueprints_lists_each_blueprint_with_its_keys():
    result = _kit("blueprints")
    assert result.returncode == 0
    for name in ("vllm:", "triton:", "vllm-multinode:", "dynamo:", "benchmark:"):
        assert name in result.stdout
    assert "tensor_parallel_size" in result.stdout and "serves the OpenAI API" in result.stdout


def test_render_prints_one_blueprints_yaml_as_the_readme_writes_it():
    result = _kit("render", "--blueprint", "vllm")
    assert result.returncode == 0, result.stderr
    assert "kind: Deployment" in result.stdout and "end-of-life" not in result.stdout + result.stderr


def test_synth_help_is_the_synths_alone():
    result = _kit("synth", "--help")
    assert result.returncode == 0 and result.stdout.count("usage:") == 1
    assert result.stdout.startswith("usage: ./kit synth") and "--resolve-account" in result.stdout


def test_deploy_help_asks_for_no_credentials(no_credentials):
    result = _kit("deploy", "--help", env=no_credentials)
    assert result.returncode == 0, result.stderr
    assert "cdk deploy --all --concurrency 4" in result.stdout and "cdk deploy [STACKS..]" in result.stdout
    assert "credentials" not in result.stderr


def test_a_usage_error_names_the_kit_command():
    result = _kit("render", "--blueprint", "nope")
    assert result.returncode == 2 and result.stderr.startswith("usage: ./kit render") and "python -m" not in result.stderr


def test_check_counts_in_the_singular_and_plural():
    assert "2 GPU pools, 1 enabled workload)" in _kit("check").stdout


@pytest.mark.e2e  # a whole synth, in a subprocess
def test_output_folders_are_read_from_the_callers_directory_and_the_summary_says_where(tmp_path):
    result = _kit("synth", "--outdir", "out", "--dist", "d", "--charts", "c", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "manifest.json").exists() and (tmp_path / "d" / "llama-8b" / "manifest.yaml").exists()
    assert f"{tmp_path / 'out'}/ (CloudFormation)" in result.stdout and not (REPO / "out").exists()


def test_the_kit_runs_node_22_or_later():
    # On a machine whose node is older (this one has Node 20) the kit installs its pinned Node.js 22 and runs with it.
    result = _kit("deploy", "--help")
    assert result.returncode == 0, result.stderr
    used = result.stdout.split("with Node.js v", 1)[1].split(".", 1)[0]
    assert int(used) >= 22
