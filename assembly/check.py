"""Check a config without building anything: python -m assembly.check [--config PATH]

Loads no CDK and no jsii runtime, so a rejected config is reported in well under a second; `./kit synth` runs it
before the synth. Exit 0 with a one-line confirmation, 2 with every problem.

Unlike the synth it reads the clock: a capacity block that has ended is refused here (`--at` judges another moment,
`--undated` leaves such checks out, as `./kit destroy` does so that an ended block never blocks a teardown).
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime

from assembly.cli_config import CONFIG_HELP, load_or_report
from assembly.kit import resolve_config_path
from assembly.size import fit_report
from core.docstrings import first_line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=os.environ.get("KIT_PROG", "python -m assembly.check"), description=first_line(__doc__))
    parser.add_argument("--config", help=CONFIG_HELP)
    parser.add_argument("--at", type=_moment, help="judge capacity block windows at this ISO 8601 time with its offset (default: now)")
    parser.add_argument("--undated", action="store_true", help="leave out the checks that depend on the date (ended capacity blocks)")
    args, _ = parser.parse_known_args(argv)  # the synth's own options pass through untouched
    path = resolve_config_path(args.config).resolve()
    config = load_or_report(path, now=None if args.undated else args.at or datetime.now(UTC))
    if config is None:
        return 2
    workloads = sum(1 for w in config.workloads if w.enabled)
    pools = len(config.node_pools) + len(config.capacity_block_node_groups)
    print(f"config ok: {path} ({config.name} in {config.region}, {counted(pools, 'GPU pool')}, {counted(workloads, 'enabled workload')})")
    # What fits but barely, or was not checked for want of the model's facts (assembly/size.py, docs/models.md);
    # before a synth its summary says them.
    if os.environ.get("KIT_PROG") != "./kit synth":
        for warning in fit_report(config)[1]:
            print(f"  warning  {warning}")
    return 0


def counted(number: int, noun: str) -> str:
    """'1 GPU pool', '2 GPU pools'."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text} has no UTC offset; write e.g. 2026-12-01T11:30:00Z")
    return moment


if __name__ == "__main__":
    sys.exit(main())
