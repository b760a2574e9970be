"""Synth time of the kit beside a bare aws-cdk-lib app, measured in the same run, and the kit at scale.

Each round runs every case as a fresh process (as a user or CI would), alternating so that machine noise falls
on all alike. Prints the medians and the kit's ratio to the bare app.
Usage: python -m benchmarks.synth [--rounds 5] [--config PATH] [--no-scale]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from benchmarks.scale import scale_config

REPO = Path(__file__).resolve().parents[1]
TARGET_RATIO = 1.5
SCALE = (200, 30)


def _timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=REPO, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - started


def _timed_rejection(command: list[str]) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if result.returncode != 2:
        raise SystemExit(f"the rejected config exited {result.returncode}, not 2")
    return time.perf_counter() - started


def _synth(python: str, config: str, out: str) -> list[str]:
    return [python, "-m", "assembly.synth", "--config", config, "--outdir", f"{out}/cdk.out", "--dist", f"{out}/dist", "--charts", f"{out}/charts"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="runs of each (at least 3)")
    parser.add_argument("--config", default=str(REPO / "config" / "default.yaml"))
    parser.add_argument("--no-scale", action="store_true", help=f"skip the {SCALE[0]}-workload, {SCALE[1]}-pool config")
    args = parser.parse_args(argv)
    if args.rounds < 3:
        parser.error("--rounds must be at least 3 for a median to mean anything")
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    python = sys.executable
    runs: dict[str, list[float]] = {"bare": [], "kit": [], "scale": [], "rejected": []}
    with tempfile.TemporaryDirectory() as scratch:
        scaled = Path(scratch) / "scale.yaml"
        scaled.write_text(yaml.safe_dump(scale_config(*SCALE), sort_keys=False))
        # An AZ name where an AZ ID belongs: the most common first mistake. Refused before any CDK import.
        rejected = Path(scratch) / "rejected.yaml"
        rejected.write_text((REPO / "config" / "default.yaml").read_text().replace("az_id: usw2-az2", "az_id: us-west-2b"))
        started = time.perf_counter()
        for round_no in range(args.rounds):
            runs["rejected"].append(_timed_rejection([python, "-m", "assembly.check", "--config", str(rejected)]))
            runs["bare"].append(_timed([python, "-m", "benchmarks.bare_app", f"{scratch}/bare{round_no}"]))
            runs["kit"].append(_timed(_synth(python, args.config, f"{scratch}/kit{round_no}")))
            if not args.no_scale:
                runs["scale"].append(_timed(_synth(python, str(scaled), f"{scratch}/scale{round_no}")))
            # A round takes a minute or more (the scale config alone some 15 s): say how far the run is.
            done = ", ".join(f"{name} {times[-1]:.1f}s" for name, times in runs.items() if times)
            print(f"bench: round {round_no + 1}/{args.rounds} done in {time.perf_counter() - started:.0f}s so far ({done})", file=sys.stderr, flush=True)
    medians = {name: statistics.median(times) for name, times in runs.items() if times}
    labels = {"bare": "bare aws-cdk-lib app", "kit": "kit default config", "scale": f"kit, {SCALE[0]} workloads/{SCALE[1]} pools", "rejected": "rejected config (exit 2)"}
    for name, median in medians.items():
        print(f"{labels[name]:<32} median {median:5.2f}s  runs {' '.join(f'{t:.2f}' for t in runs[name])}")
    print(f"ratio {medians['kit'] / medians['bare']:.2f} (target <= {TARGET_RATIO})  on {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
