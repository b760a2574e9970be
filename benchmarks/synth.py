"""Synth time of the kit beside a bare aws-cdk-lib app, measured in the same run.

Each round runs both as fresh processes (as a user or CI would), alternating so that
machine noise falls on both alike. Prints the medians and their ratio.
Usage: python -m benchmarks.synth [--rounds 5] [--config PATH]
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

REPO = Path(__file__).resolve().parents[1]
TARGET_RATIO = 1.5


def _timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=REPO, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="runs of each (at least 3)")
    parser.add_argument("--config", default=str(REPO / "config" / "default.yaml"))
    args = parser.parse_args(argv)
    if args.rounds < 3:
        parser.error("--rounds must be at least 3 for a median to mean anything")
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    python = sys.executable
    bare, kit = [], []
    with tempfile.TemporaryDirectory() as scratch:
        for round_no in range(args.rounds):
            bare.append(_timed([python, "-m", "benchmarks.bare_app", f"{scratch}/bare{round_no}"]))
            kit.append(_timed([python, "-m", "assembly.synth", "--config", args.config, "--outdir", f"{scratch}/kit{round_no}"]))
    bare_median, kit_median = statistics.median(bare), statistics.median(kit)
    ratio = kit_median / bare_median
    print(f"bare aws-cdk-lib app  median {bare_median:5.2f}s  runs {' '.join(f'{t:.2f}' for t in bare)}")
    print(f"kit default config    median {kit_median:5.2f}s  runs {' '.join(f'{t:.2f}' for t in kit)}")
    print(f"ratio {ratio:.2f} (target <= {TARGET_RATIO})  on {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
