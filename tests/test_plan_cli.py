"""./kit plan as people and CI meet it: the sides it compares, exit codes, acknowledgements, and the CI job."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import textwrap

import pytest
import yaml

from assembly import plan as plan_command
from assembly.plan_assembly import read_assembly
from assembly.plan_sides import RevisionSynth
from tests.helpers import REPO
from tests.plan_fixtures import resource, write_assembly

WORKFLOW = REPO / "docs" / "examples" / "github-actions-deploy.yml"


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = plan_command.main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def saved(tmp_path):
    def vpc(cidr):
        return {"net": {"Resources": {"Vpc": resource("AWS::EC2::VPC", {"CidrBlock": cidr})}}}

    write_assembly(tmp_path / "old", vpc("10.0.0.0/16"))
    write_assembly(tmp_path / "new", vpc("10.1.0.0/16"))
    return tmp_path


def test_saved_sides_compare_without_a_synth(saved):
    code, out, _ = run("--base-out", str(saved / "old"), "--out", str(saved / "old"))
    assert code == 0 and "no changes" in out
    code, out, _ = run("--base-out", str(saved / "old"), "--out", str(saved / "new"))
    assert code == 1
    assert "~ Vpc  AWS::EC2::VPC  REPLACE" in out
    assert "CidrBlock changed (10.0.0.0/16 -> 10.1.0.0/16): create-only" in out
    assert "--ack net/Vpc" in out


def test_an_acknowledged_replacement_exits_zero(saved):
    code, out, _ = run("--base-out", str(saved / "old"), "--out", str(saved / "new"), "--ack", "Vpc")
    assert code == 0
    assert "Acknowledged" in out


def test_usage_errors_exit_two(saved, tmp_path):
    assert run("--out", str(saved / "new"))[0] == 2, "no base side named"
    code, _, err = run("--base-out", str(tmp_path / "nothing"), "--out", str(saved / "new"))
    assert code == 2 and "not a synthesized cdk.out" in err


def test_the_kit_reads_relative_paths_from_where_it_was_run(saved):
    result = subprocess.run(
        [str(REPO / "kit"), "plan", "--base-out", "old", "--out", "new", "--ack", "Vpc"],
        cwd=saved,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert f"plan: {saved / 'old'} (saved) -> {saved / 'new'} (saved)" in result.stdout


def test_a_revision_is_synthesized_from_its_own_source_and_its_own_config(tmp_path):
    """A stand-in repository whose assembly.synth writes the config's CIDR into a template: the revision's code runs
    (not the working tree's, which the virtualenv's editable install would otherwise import), with the config as
    the revision has it."""
    repo = tmp_path / "repo"
    (repo / "assembly").mkdir(parents=True)
    (repo / "assembly" / "__init__.py").write_text("")
    (repo / "assembly" / "synth.py").write_text(
        textwrap.dedent(
            """
            import argparse, json, pathlib
            p = argparse.ArgumentParser()
            for flag in ("--config", "--outdir", "--dist", "--charts"):
                p.add_argument(flag)
            a = p.parse_args()
            cidr = open(a.config).read().strip()
            out = pathlib.Path(a.outdir); out.mkdir(parents=True)
            vpc = {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": cidr}}
            (out / "net.template.json").write_text(json.dumps({"Resources": {"Vpc": vpc}}))
            net = {"type": "aws:cloudformation:stack", "environment": "aws://x/us-west-2"}
            net["properties"] = {"templateFile": "net.template.json"}
            (out / "manifest.json").write_text(json.dumps({"artifacts": {"net": net}}))
            """
        )
    )
    config = repo / "kit.yaml"
    config.write_text("10.0.0.0/16\n")
    git = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "HOME": str(tmp_path),
    }
    env = {**os.environ, **git}
    for command in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "base"]):
        subprocess.run(["git", "-C", str(repo), *command], check=True, env=env)
    config.write_text("10.9.0.0/16\n")  # the working copy moved on; the revision did not

    side = RevisionSynth("HEAD", config, tmp_path / "side", repo=repo)
    side.wait()
    body = read_assembly(tmp_path / "side" / "cdk.out").templates["net"].resources["Vpc"]
    assert body["Properties"]["CidrBlock"] == "10.0.0.0/16"
    assert side.config_label == "HEAD:kit.yaml"


def test_the_ci_example_plans_every_pull_request_offline():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    job = workflow["jobs"]["plan"]
    assert job["if"] == "github.event_name == 'pull_request'"
    assert "permissions" not in job, "the plan needs no AWS role and no token beyond the workflow's read-only one"
    [checkout] = [step for step in job["steps"] if step.get("uses", "").startswith("actions/checkout")]
    assert checkout["with"]["fetch-depth"] == 0, "the base branch must be there to synthesize"
    [step] = [step for step in job["steps"] if "./kit plan" in step.get("run", "")]
    assert './kit plan --base "origin/$BASE_REF"' in step["run"]
    assert "set -o pipefail" in step["run"], "tee would hide the plan's exit status"
    assert "${{" not in step["run"], "the pull request's text reaches the script as data only"
    assert step["env"]["PR_BODY"] == "${{ github.event.pull_request.body }}"


def test_the_ci_example_reads_acknowledgements_as_data(tmp_path):
    """The job's own parsing, run on a description with a line that tries to run a command."""
    job = yaml.safe_load(WORKFLOW.read_text())["jobs"]["plan"]
    [step] = [step for step in job["steps"] if "./kit plan" in step.get("run", "")]
    script = step["run"].replace("./kit plan", "printf '%s\\n'")
    marker = tmp_path / "ran"
    body = f"Moves the VPC.\r\nplan-ack: Network/Vpc\r\nplan-ack: NodePool/gpu-l40s\nplan-ack: $(touch {marker})\nsee plan-ack: Other\n"
    result = subprocess.run(
        ["bash", "-e", "-c", script], cwd=tmp_path, env={**os.environ, "PR_BODY": body, "BASE_REF": "main"}, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["--base", "origin/main", "--ack", "Network/Vpc", "--ack", "NodePool/gpu-l40s"]
    assert not marker.exists()
