"""Synth time of the kit beside a bare aws-cdk-lib app, measured in the same run, and the kit at scale.

Each round runs every case as a fresh process (as a user or CI would), in an order that rotates from round to round
so that machine noise falls on all alike, from one environment whose modules all have their bytecode (compiled first
where missing, and said). Prints the medians of wall and CPU time (the process and its children: the jsii runtime's
Node.js) and the kit's ratio to the bare app; on a shared machine the CPU ratio is the steadier figure.
Usage: python -m benchmarks.synth [--rounds 5] [--config PATH] [--no-scale]
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import os
import resource
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from benchmarks.scale import scale_config
from core.docstrings import first_line

REPO = Path(__file__).resolve().parents[1]
TARGET_RATIO = 1.2
SCALE = (200, 30)
KIT_PACKAGES = ("core", "config", "blueprints", "infra", "assembly", "benchmarks")
# aws-cdk-lib's built-in CloudFormation validation, off for one process (aws-cdk-lib 2.275.0,
# core/lib/private/synthesis-validation.js: defaultValidationEnabled reads CDK_VALIDATION).
NO_CDK_VALIDATION = {"CDK_VALIDATION": "false"}


@dataclass
class Case:
    label: str
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)
    exit_code: int = 0
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def run(self) -> None:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        result = subprocess.run(self.command, cwd=REPO, env={**os.environ, **self.env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if result.returncode != self.exit_code:
            raise SystemExit(f"bench: {self.label} exited {result.returncode}, not {self.exit_code}:\n{result.stderr.decode()[-2000:]}")
        self.wall.append(wall)
        self.cpu.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))

    def medians(self) -> tuple[float, float]:
        return statistics.median(self.wall), statistics.median(self.cpu)


def _synth(python: str, config: str, out: str, *extra: str) -> list[str]:
    return [
        python,
        "-m",
        "assembly.synth",
        "--config",
        config,
        "--outdir",
        f"{out}/cdk.out",
        "--dist",
        f"{out}/dist",
        "--charts",
        f"{out}/charts",
        *extra,
    ]


def ensure_bytecode(folders: list[Path] | None = None) -> int:
    """Compile whatever module of the environment or the kit has no current .pyc; the number compiled. An environment
    installed without bytecode would otherwise compile aws-cdk-lib's Python in every run where
    PYTHONDONTWRITEBYTECODE is set, and time the installer rather than the synth."""
    if folders is None:
        folders = [Path(sysconfig.get_paths()["purelib"]), *(REPO / package for package in KIT_PACKAGES)]
    missing = [path for folder in folders for path in folder.rglob("*.py") if not _has_bytecode(path)]
    # A file that is not Python 3 (some packages ship such test data) fails to compile, as at install; it is never run.
    return sum(bool(compileall.compile_file(str(path), quiet=2)) for path in missing)


def _has_bytecode(source: Path) -> bool:
    """Whether Python would load source's .pyc rather than compile it: its header as importlib checks it (PEP 552:
    the source's mtime and size, or a hash of the source)."""
    try:
        header = Path(importlib.util.cache_from_source(str(source))).read_bytes()[:16]
    except OSError:
        return False
    if len(header) < 16 or header[:4] != importlib.util.MAGIC_NUMBER:
        return False
    flags = int.from_bytes(header[4:8], "little")
    if flags & 0b01:  # hash-based: unchecked ones are used as they are, checked ones while the hash matches
        return not flags & 0b10 or header[8:16] == importlib.util.source_hash(source.read_bytes())
    stat = source.stat()
    return header[8:16] == (int(stat.st_mtime) & 0xFFFFFFFF).to_bytes(4, "little") + (stat.st_size & 0xFFFFFFFF).to_bytes(4, "little")


def _tool_version(command: list[str]) -> str:
    try:
        return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=first_line(__doc__))
    parser.add_argument("--rounds", type=int, default=5, help="runs of each (at least 3)")
    parser.add_argument("--config", default=str(REPO / "config" / "default.yaml"))
    parser.add_argument("--no-scale", action="store_true", help=f"skip the {SCALE[0]}-workload, {SCALE[1]}-pool config")
    args = parser.parse_args(argv)
    if args.rounds < 3:
        parser.error("--rounds must be at least 3 for a median to mean anything")
    python = sys.executable
    compiled = ensure_bytecode()
    print(
        f"bench: bytecode: {compiled} modules had none and were compiled first"
        if compiled
        else "bench: bytecode: every module has its .pyc",
        file=sys.stderr,
    )
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as scratch:
        scaled = Path(scratch) / "scale.yaml"
        scaled.write_text(yaml.safe_dump(scale_config(*SCALE), sort_keys=False))
        # An AZ name where an AZ ID belongs: the most common first mistake. Refused before any CDK import.
        rejected = Path(scratch) / "rejected.yaml"
        rejected.write_text((REPO / "config" / "default.yaml").read_text().replace("az_id: usw2-az2", "az_id: us-west-2b"))
        cases = {
            "rejected": Case("rejected config (exit 2)", [python, "-m", "assembly.check", "--config", str(rejected)], exit_code=2),
            "bare": Case("bare aws-cdk-lib app", [python, "-m", "benchmarks.bare_app", f"{scratch}/bare"]),
            "kit": Case("kit default config", _synth(python, args.config, f"{scratch}/kit")),
            # Like for like: the bare app without aws-cdk-lib's CloudFormation validation, as ./kit synth runs, and the
            # kit with it, as the bare app runs (assembly/app.py says why ./kit synth leaves it out).
            "bare-unvalidated": Case(
                "bare, no CFN validation", [python, "-m", "benchmarks.bare_app", f"{scratch}/bare-unvalidated"], env=NO_CDK_VALIDATION
            ),
            "kit-validated": Case("kit --validate", _synth(python, args.config, f"{scratch}/kit-validated", "--validate")),
        }
        if not args.no_scale:
            cases["scale"] = Case(f"kit, {SCALE[0]} workloads/{SCALE[1]} pools", _synth(python, str(scaled), f"{scratch}/scale"))
        order = list(cases.values())
        started = time.perf_counter()
        for round_no in range(args.rounds):
            for case in order[round_no % len(order) :] + order[: round_no % len(order)]:
                case.run()
            # A round takes a minute or more (the scale config alone some 15 s): say how far the run is.
            done = ", ".join(f"{name} {case.wall[-1]:.1f}s" for name, case in cases.items())
            print(
                f"bench: round {round_no + 1}/{args.rounds} done in {time.perf_counter() - started:.0f}s so far ({done})",
                file=sys.stderr,
                flush=True,
            )
    load_after = os.getloadavg()
    print(f"{'':<34} {'wall':>7} {'CPU':>7}  runs (wall)")
    for case in cases.values():
        wall, cpu = case.medians()
        print(f"{case.label:<34} {wall:6.2f}s {cpu:6.2f}s  {' '.join(f'{t:.2f}' for t in case.wall)}")

    def ratio(kit: str, bare: str) -> str:
        (kit_wall, kit_cpu), (bare_wall, bare_cpu) = cases[kit].medians(), cases[bare].medians()
        return f"wall {kit_wall / bare_wall:.2f}, CPU {kit_cpu / bare_cpu:.2f}"

    print(f"ratio kit/bare: {ratio('kit', 'bare')} (target <= {TARGET_RATIO})")
    print(f"like for like: without CFN validation {ratio('kit', 'bare-unvalidated')}; with it {ratio('kit-validated', 'bare')}")
    node = _tool_version(["node", "--version"])
    print(
        f"on {os.cpu_count()} cores, load average {load_before[0]:.1f} before and {load_after[0]:.1f} after, "
        f"Python {sys.version.split()[0]}, Node.js {node}, {args.rounds} rounds"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
