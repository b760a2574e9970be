"""The two sides of a plan as cloud assemblies: the working tree synthesized in this process, a git revision
synthesized from its own source (extracted with git archive, run with this virtualenv), or a saved cdk.out."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path

from assembly.kit import KIT
from assembly.synth import NagFailure, synthesize
from core.issues import ConfigError

REPO = Path(__file__).resolve().parents[1]


class SideFailed(RuntimeError):
    pass


def synth_here(config: Path, out: Path) -> float:
    """Synthesize a config with the working tree's code into out/ (cdk.out, dist, charts); seconds taken."""
    started = time.monotonic()

    try:
        synthesize(KIT.load(config), out / "cdk.out", out / "dist", out / "charts")
    except ConfigError as err:
        raise SideFailed(f"the config {config} is refused:\n{err.render()}") from None
    except NagFailure as err:
        raise SideFailed(str(err)) from None
    return time.monotonic() - started


class RevisionSynth:
    """A revision's synth, started in the background so the working tree's can run beside it."""

    def __init__(self, revision: str, config: Path, out: Path, repo: Path = REPO):
        self.revision, self.out, self.started = revision, out, time.monotonic()
        tree = out / "tree"
        tree.mkdir(parents=True)
        archive = subprocess.run(["git", "-C", str(repo), "archive", "--format=tar", revision], capture_output=True)
        if archive.returncode != 0:
            raise SideFailed(f"git archive {revision} failed: {archive.stderr.decode(errors='replace').strip()}")
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(tree, filter="data")
        self.config = _config_in(config, repo, tree)
        self.config_label = f"{revision}:{self.config.relative_to(tree)}" if self.config.is_relative_to(tree) else str(self.config)
        # The revision's own packages come first on the path (the virtualenv's editable install of the working tree
        # is a meta path finder, consulted after the path).
        env = {**os.environ, "PYTHONPATH": str(tree), "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20", "CDK8S_CHECK_UPGRADE": "false"}
        command = [
            sys.executable,
            "-m",
            "assembly.synth",
            "--config",
            str(self.config),
            "--outdir",
            str(out / "cdk.out"),
            "--dist",
            str(out / "dist"),
            "--charts",
            str(out / "charts"),
        ]
        self.process = subprocess.Popen(command, cwd=tree, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def wait(self) -> float:
        output, _ = self.process.communicate()
        if self.process.returncode != 0:
            text = output.decode(errors="replace").strip()
            raise SideFailed(f"synth of {self.revision} with {self.config} failed (exit {self.process.returncode}):\n{text[-4000:]}")
        return time.monotonic() - self.started


def _config_in(config: Path, repo: Path, tree: Path) -> Path:
    """A config the revision tracks is read as the revision has it; any other (outside the repository, or not in
    the revision) is read from the working tree as it is."""
    try:
        relative = config.resolve().relative_to(repo.resolve())
    except ValueError:
        return config.resolve()
    candidate = tree / relative
    return candidate if candidate.exists() else config.resolve()
