"""The real deploy path: the pinned CDK CLI runs app.py through cdk.json, honours -c config=, and writes what the main job writes."""

import filecmp
import json
import os
import subprocess
import sys

import pytest

from tests.helpers import REPO, write_config


@pytest.mark.e2e
def test_cdk_cli_synth_reads_the_config_from_context(tmp_path):
    config = write_config(tmp_path, {"name": "cli-kit"})
    outdir = tmp_path / "cdk.out"
    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20", "CDK_DISABLE_VERSION_CHECK": "true"}
    env.pop("KIT_CONFIG", None)
    result = subprocess.run(
        [
            str(REPO / "node_modules" / ".bin" / "cdk"),
            "synth",
            "--quiet",
            "--no-notices",
            "-c",
            f"config={config}",
            "--output",
            str(outdir),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    stacks = {
        name
        for name, artifact in json.loads((outdir / "manifest.json").read_text())["artifacts"].items()
        if artifact["type"] == "aws:cloudformation:stack"
    }
    # The registry (pull-through cache rules) and images (the build of the derived serving images) stacks: docs/images.md.
    assert stacks == {"cli-kit-network", "cli-kit-registry", "cli-kit-images", "cli-kit-storage", "cli-kit-cluster", "cli-kit-workloads"}
    assert "end-of-life" not in result.stderr.lower()
    # The main job writes the same cloud assembly, byte for byte (it also writes dist/ and charts/).
    kit = tmp_path / "kit"
    main = subprocess.run(
        [
            sys.executable,
            "-m",
            "assembly.synth",
            "--config",
            str(config),
            "--outdir",
            str(kit / "cdk.out"),
            "--dist",
            str(kit / "dist"),
            "--charts",
            str(kit / "charts"),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    assert main.returncode == 0, main.stderr[-3000:]
    written = sorted(p.name for p in outdir.glob("*.json"))
    assert written == sorted(p.name for p in (kit / "cdk.out").glob("*.json"))
    match, mismatch, errors = filecmp.cmpfiles(outdir, kit / "cdk.out", written, shallow=False)
    assert (mismatch, errors) == ([], [])


def test_cdk_cli_reports_a_bad_config_and_fails(tmp_path):
    config = write_config(tmp_path, {"placement": {"az_id": "nowhere"}})
    env = {
        **os.environ,
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "CDK_DISABLE_VERSION_CHECK": "true",
        "KIT_CONFIG": str(config),
    }
    result = subprocess.run(
        [str(REPO / "node_modules" / ".bin" / "cdk"), "synth", "--quiet", "--no-notices", "--output", str(tmp_path / "out")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0
    assert "placement.az_id" in result.stderr
    assert not (tmp_path / "out" / "manifest.json").exists()
