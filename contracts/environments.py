"""The contract environments: one virtualenv per family of programs, installed from a lock file and cached.

The environments are large (vLLM imports torch), so they live outside the clone, keyed by the hash of their lock
file: a second run, or CI on the same machine, finds them ready. They install with uv (the kit's installer, beside
this interpreter in .venv), which downloads in parallel and links files from its cache, so environments that share
packages (torch in vLLM's and Dynamo's) hold them on disk once; a line every 15 s says how far an install has come.
uv does not read pip's configuration: the indexes and find-links pip is configured with are handed to it. Standard
library only: this runs before any of them exists.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
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
# Where a lock's torch==X+cpu comes from when pip's configuration names no index or find-links of its own.
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
PROGRESS_SECONDS = 15


@dataclass(frozen=True)
class Environment:
    name: str
    """Also the lock file's name (locks/<name>.txt)."""
    checks: tuple[str, ...]
    """The check modules (checks/<module>.py) that run inside it."""
    newer_python: tuple[str, ...] = ()
    """Pure-Python packages whose metadata asks for a newer Python than the kit's yet import on it (installed as if
    for that Python: uv has no --ignore-requires-python)."""

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
    Environment("tools", ("test_triton", "test_inference_perf", "test_prometheus_rules"), newer_python=("inference-perf",)),
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
    packages = _pinned(environment.lock)
    _log(f"installing the {environment.name} environment ({len(packages)} packages, with uv) into {target}; first run only")
    started = time.monotonic()
    scratch = Path(tempfile.mkdtemp(prefix=f".{environment.name}-", dir=_ensure_dir(cache_root())))
    log = scratch.with_suffix(".log")
    try:
        uv = _uv()
        # The standard library's venv, as before uv: it seeds the pip and setuptools bundled with this interpreter,
        # which some of the programs import (setuptools' pkg_resources) and no lock pins.
        subprocess.run([sys.executable, "-m", "venv", str(scratch)], check=True, capture_output=True)
        newer = [line for line in packages if _name(line) in environment.newer_python]
        rest = scratch / "requirements.txt"
        rest.write_text("\n".join(line for line in packages if line not in newer) + "\n")
        # --compile-bytecode: uv leaves .pyc out by default, and where PYTHONDONTWRITEBYTECODE is set every check would
        # compile vLLM's and torch's Python afresh (docs/performance.md).
        common = [
            uv,
            "pip",
            "install",
            "--python",
            str(scratch / "bin" / "python"),
            "--no-deps",
            "--compile-bytecode",
            *index_options(environment.lock),
        ]
        with log.open("w") as out:
            _run_with_progress([*common, "-r", str(rest)], out, environment.name, scratch, len(packages), started)
            if newer:
                _run_with_progress([*common, "--python-version", "3.12", *newer], out, environment.name, scratch, len(packages), started)
        rest.unlink()
        if target.exists():
            shutil.rmtree(target)
        # A venv records its own path in scripts; this one is only ever run as <env>/bin/python -m, which does not read them.
        scratch.rename(target)
        (target / ".complete").write_text(environment.digest())
        log.unlink(missing_ok=True)
    except (subprocess.CalledProcessError, FileNotFoundError) as err:
        shutil.rmtree(scratch, ignore_errors=True)
        tail = "\n".join(log.read_text().splitlines()[-30:]) if log.exists() else ""
        raise SystemExit(
            f"{tail}\ncontracts: installing the {environment.name} environment failed ({err}); uv's output: {log}. Its lock is "
            f"{environment.lock}. A torch ...+cpu pin comes from PyTorch's CPU index ({TORCH_CPU_INDEX}), which the kit adds "
            "unless pip's configuration names indexes of its own; add it there (or UV_EXTRA_INDEX_URL) where it is missing."
        ) from None
    _log(f"{environment.name} environment ready in {_elapsed(started)}")
    return environment.python


def _uv() -> str:
    """uv beside this interpreter (the kit's .venv), else on PATH."""
    beside = Path(sys.executable).parent / "uv"
    found = str(beside) if beside.exists() else shutil.which("uv")
    if found is None:
        raise FileNotFoundError("uv: not in the kit's .venv nor on PATH (./kit installs it)")
    return found


def _pinned(lock: Path) -> list[str]:
    return [line.strip() for line in lock.read_text().splitlines() if line.strip() and not line.lstrip().startswith("#")]


def _name(requirement: str) -> str:
    return re.split(r"[=<>!~\[; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def index_options(lock: Path) -> list[str]:
    """uv's --index-url/--extra-index-url/--find-links: pip's own (its config files and PIP_* variables), and PyTorch's
    CPU index for a lock that pins a +cpu torch where pip names none."""
    options = []
    for key, flag in (("index-url", "--index-url"), ("extra-index-url", "--extra-index-url"), ("find-links", "--find-links")):
        for value in _pip_setting(key):
            options += [flag, value]
    if not options and re.search(r"^torch==\S+\+cpu", lock.read_text(), re.M):
        options += ["--extra-index-url", TORCH_CPU_INDEX]
    # pip takes the best version across its indexes; uv's default would stop at the first index that has the name.
    return [*options, "--index-strategy", "unsafe-best-match"] if options else options


def _pip_setting(key: str) -> list[str]:
    """A list setting of pip, as pip reads it: PIP_<KEY> wins over its configuration files; values split on spaces."""
    variable = os.environ.get("PIP_" + key.upper().replace("-", "_"))
    if variable is not None:
        return variable.split()
    try:
        listed = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    values: list[str] = []
    for line in listed.splitlines():
        found = re.match(r"^(global|install|site|user)\.(\S+?)=(.*)$", line.strip())
        if found and found.group(2) == key:
            values = [value for part in shlex.split(found.group(3)) for value in part.split()]
    return values


def _run_with_progress(command: list[str], out, name: str, scratch: Path, total: int, started: float) -> None:
    """Run uv, saying every PROGRESS_SECONDS how many of the lock's packages have landed in the environment."""
    process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    while True:
        try:
            code = process.wait(timeout=PROGRESS_SECONDS)
            break
        except subprocess.TimeoutExpired:
            _log(f"{name} environment: {_installed(scratch)}/{total} packages in place, {_elapsed(started)}")
    if code != 0:
        raise subprocess.CalledProcessError(code, shlex.join(command[:3]))


def _installed(scratch: Path) -> int:
    return sum(1 for _ in scratch.glob("lib/python*/site-packages/*.dist-info"))


def _elapsed(started: float) -> str:
    seconds = int(time.monotonic() - started)
    return f"{seconds // 60}m{seconds % 60:02d}s"


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
