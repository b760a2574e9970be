"""The main job: exit codes, the summary, and no partial output on failure."""

import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3

from assembly import app as app_module
from assembly import synth as synth_command
from tests.helpers import write_config


def _aside(folder):
    """Keep the manifests and charts of a test synth out of the repository."""
    return ["--dist", str(folder / "dist"), "--charts", str(folder / "charts")]


@pytest.mark.e2e
def test_good_config_writes_the_assembly_and_a_summary(tmp_path, capsys, monkeypatch):
    outdir = tmp_path / "cdk.out"
    (outdir).mkdir()
    (outdir / "stale.template.json").write_text("{}")
    assert synth_command.main(["--config", str(write_config(tmp_path)), "--outdir", str(outdir), *_aside(tmp_path)]) == 0
    summary = capsys.readouterr().out
    for fragment in ("llm-kit-network", "llm-kit-cluster", "usw2-az2", "system (managed)", "AwsSolutions: success, 0 open", str(outdir)):
        assert fragment in summary
    assert not (outdir / "stale.template.json").exists(), "the old assembly is replaced whole"
    manifest = json.loads((outdir / "manifest.json").read_text())
    assert {"llm-kit-network", "llm-kit-cluster", "llm-kit-workloads"} <= set(manifest["artifacts"])
    assert (tmp_path / "dist" / "llama-8b" / "manifest.yaml").exists()
    assert (tmp_path / "charts" / "llama-8b" / "Chart.yaml").exists()


def test_bad_config_exits_2_and_leaves_the_previous_output_alone(tmp_path, capsys):
    outdir = tmp_path / "cdk.out"
    outdir.mkdir()
    (outdir / "keep.txt").write_text("previous synth")
    bad = write_config(tmp_path, {"placement": {"az_id": "usw2-az9x"}})
    assert synth_command.main(["--config", str(bad), "--outdir", str(outdir), *_aside(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "placement.az_id" in err and "nothing was synthesized" in err
    assert [p.name for p in outdir.iterdir()] == ["keep.txt"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".synth-")]


@pytest.mark.e2e
def test_kit_config_environment_variable_is_honoured(tmp_path, monkeypatch, capsys):
    config = write_config(tmp_path, {"name": "env-kit"})
    monkeypatch.setenv("KIT_CONFIG", str(config))
    assert synth_command.main(["--outdir", str(tmp_path / "out"), *_aside(tmp_path)]) == 0
    assert "env-kit-cluster" in capsys.readouterr().out


@pytest.mark.e2e
def test_nag_failure_exits_1_with_findings_and_no_output(tmp_path, capsys, monkeypatch):
    real_build = app_module.build_app

    def build_with_an_unchecked_bucket(config, **kwargs):
        app = real_build(config, **kwargs)
        stack = app.node.children[0]
        assert isinstance(stack, cdk.Stack)
        s3.Bucket(stack, "Unchecked")
        return app

    monkeypatch.setattr(synth_command, "build_app", build_with_an_unchecked_bucket)
    outdir = tmp_path / "cdk.out"
    assert synth_command.main(["--config", str(write_config(tmp_path)), "--outdir", str(outdir), *_aside(tmp_path)]) == 1
    assert not (tmp_path / "dist").exists() and not (tmp_path / "charts").exists()
    err = capsys.readouterr().err
    assert "AwsSolutions-S1" in err and "Unchecked" in err
    assert not outdir.exists()
