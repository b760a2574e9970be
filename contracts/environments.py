"""The contract environments: one virtualenv per family of programs, installed from a lock file and cached.

The environments are large (vLLM imports torch), so they live outside the clone, keyed by the hash of their lock
file: a second run, or CI on the same machine, finds them ready. Standard library only: this runs before any of
them exists.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
LOCKS = HERE / "locks"
CACHE_ENV = "LLM_KIT_CACHE"
PROMTOOL_PACKAGE, PROMTOOL_VERSION = "prometheus", "2.42.0+ds-5+deb12u1"


@dataclass(frozen=True)
class Environment:
    name: str
    """Also the lock file's name (locks/<name>.txt)."""
    checks: tuple[str, ...]
    """The check modules (checks/<module>.py) that run inside it."""
    pip_options: tuple[str, ...] = ()

    @property
    def lock(self) -> Path:
        return LOCKS / f"{self.name}.txt"

    def digest(self) -> str:
        return hashlib.sha256(self.lock.read_bytes()).hexdigest()[:12]

    def path(self) -> Path:
        return cache_root() / f"{self.name}-{self.digest()}"

    @property
    def python(self) -> Path:
        return self.path() / "bin" / "python"


ENVIRONMENTS = (
    Environment("vllm", ("test_vllm_serve", "test_vllm_flags", "test_triton_engine", "test_vllm_metrics")),
    Environment("dynamo", ("test_dynamo", "test_triton_engine")),
    # inference-perf declares Python 3.12; its config model imports and runs on 3.11.
    Environment("tools", ("test_triton", "test_inference_perf", "test_prometheus_rules"), pip_options=("--ignore-requires-python",)),
    # Ray Serve and Ray Serve LLM's config models, without vLLM or torch (locks/ray.txt).
    Environment("ray", ("test_ray_serve",)),
)


def cache_root() -> Path:
    base = os.environ.get(CACHE_ENV) or os.path.join(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "llm-serving-kit")
    return Path(base) / "contracts"


def _log(message: str) -> None:
    print(f"contracts: {message}", file=sys.stderr, flush=True)


def ensure(environment: Environment) -> Path:
    """The environment's interpreter, installing the environment first if this lock has none yet."""
    target = environment.path()
    if (target / ".complete").exists():
        return environment.python
    _log(f"installing the {environment.name} environment into {target} (first run only; a few minutes)")
    started = time.monotonic()
    scratch = Path(tempfile.mkdtemp(prefix=f".{environment.name}-", dir=_ensure_dir(cache_root())))
    try:
        subprocess.run([sys.executable, "-m", "venv", str(scratch)], check=True)
        pip = [str(scratch / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check", "--progress-bar", "off"]
        log = scratch / "pip.log"
        with log.open("w") as out:
            installed = subprocess.run([*pip, "--no-deps", *environment.pip_options, "-r", str(environment.lock)], stdout=out, stderr=subprocess.STDOUT)
        if installed.returncode != 0:
            print("\n".join(log.read_text().splitlines()[-30:]), file=sys.stderr)
            raise subprocess.CalledProcessError(installed.returncode, "pip install")
        if target.exists():
            shutil.rmtree(target)
        # A venv records its own path in scripts; this one is only ever run as <env>/bin/python -m, which does not read them.
        scratch.rename(target)
        (target / ".complete").write_text(environment.digest())
    except subprocess.CalledProcessError as err:
        shutil.rmtree(scratch, ignore_errors=True)
        raise SystemExit(
            f"contracts: installing the {environment.name} environment failed ({err}). Its lock is {environment.lock}. "
            "torch==2.13.0+cpu comes from PyTorch's CPU index: set PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu "
            "where pip's configuration does not already provide it."
        ) from None
    _log(f"{environment.name} environment ready in {time.monotonic() - started:.0f}s")
    return environment.python


def ensure_promtool() -> Path:
    """promtool from Debian's prometheus package, unpacked into the cache (no system install)."""
    target = cache_root() / f"promtool-{PROMTOOL_VERSION}"
    binary = target / "usr" / "bin" / "promtool"
    if binary.exists():
        return binary
    _log(f"fetching promtool ({PROMTOOL_PACKAGE} {PROMTOOL_VERSION}) with apt-get download")
    scratch = Path(tempfile.mkdtemp(prefix=".promtool-", dir=_ensure_dir(cache_root())))
    try:
        subprocess.run(["apt-get", "download", f"{PROMTOOL_PACKAGE}={PROMTOOL_VERSION}"], cwd=scratch, check=True, capture_output=True)
        [deb] = scratch.glob("*.deb")
        subprocess.run(["dpkg-deb", "-x", str(deb), str(scratch / "root")], check=True)
        if target.exists():
            shutil.rmtree(target)
        (scratch / "root").rename(target)
    except (subprocess.CalledProcessError, FileNotFoundError, ValueError) as err:
        raise SystemExit(f"contracts: could not fetch promtool ({err}); on Debian 12: apt-get update, then run again") from None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return binary


def _ensure_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


