"""./kit plan: what a deploy of this change would do, worked out offline from two synthesized sides.

The sides: the working tree with --config (or a saved cdk.out with --out), against a git revision (--base REV:
its own code synthesized with --base-config, default the same config as that revision has it) or a saved cdk.out
(--base-out DIR), or the working tree with another config (--base-config alone). Prints per stack the resources
added, removed and modified, whether CloudFormation replaces each and which property forces it, the Kubernetes
objects and Helm releases that change, and a Kubernetes version change checked against the upgrade procedure.
Exit 1 when something stateful is replaced or deleted without --ack, or the change cannot deploy; 2 on bad usage.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from assembly.kit import resolve_config_path
from assembly.plan_assembly import NotAnAssembly, read_assembly
from assembly.plan_engine import build
from assembly.plan_report import render
from assembly.plan_schema import SchemasMissing
from assembly.plan_sides import RevisionSynth, SideFailed, synth_here
from core.docstrings import first_line


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="./kit plan", description=first_line(__doc__))
    base = p.add_mutually_exclusive_group()
    base.add_argument("--base", metavar="REV", help="compare against this git revision, synthesized from its own source")
    base.add_argument("--base-out", metavar="DIR", help="compare against a saved cdk.out (no synth of the base side)")
    p.add_argument("--config", help="the new side's config (default: $KIT_CONFIG, else config/default.yaml)")
    p.add_argument("--base-config", help="the base side's config (default: the new side's config, as the base revision has it)")
    p.add_argument("--out", metavar="DIR", help="use this saved cdk.out as the new side instead of synthesizing the working tree")
    p.add_argument(
        "--ack",
        action="extend",
        nargs="+",
        default=[],
        metavar="RESOURCE",
        help=(
            "acknowledge the replacement or deletion of a stateful resource: its logical id, construct path (or its tail, e.g. "
            "Models/Bucket) or Kubernetes Kind/namespace/name"
        ),
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if not args.base and not args.base_out and not args.base_config:
        print("./kit plan: name the base side: --base REV, --base-out DIR, or --base-config FILE", file=sys.stderr)
        return 2
    config = _config_path(args.config)  # read only by a side synthesized from the working tree or from --base
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="kit-plan-") as scratch:
        work = Path(scratch)
        revision = None
        try:
            if args.base:
                revision = RevisionSynth(args.base, Path(args.base_config) if args.base_config else config, work / "base")
            if args.out:
                new = read_assembly(args.out)
                new_label = f"{args.out} (saved)"
            else:
                timings["new side synth"] = synth_here(config, work / "new")
                new = read_assembly(work / "new" / "cdk.out")
                new_label = f"working tree with {config}"
            if revision is not None:
                timings["base side synth"] = revision.wait()
                base = read_assembly(work / "base" / "cdk.out")
                base_label = revision.config_label
            elif args.base_out:
                base = read_assembly(args.base_out)
                base_label = f"{args.base_out} (saved)"
            else:
                base_config = _config_path(args.base_config)
                timings["base side synth"] = synth_here(base_config, work / "base")
                base = read_assembly(work / "base" / "cdk.out")
                base_label = f"working tree with {base_config}"

            started = time.monotonic()
            plan = build(base, new, args.ack)
            timings["compare"] = time.monotonic() - started
            plan.timings = timings
        except (SideFailed, NotAnAssembly, SchemasMissing) as err:
            print(f"./kit plan: {err}", file=sys.stderr)
            return 2
        finally:
            if revision is not None and revision.process.poll() is None:
                revision.process.kill()
                revision.process.wait()
    print(render(plan, base_label, new_label))
    return plan.exit_code


def _config_path(given: str | None) -> Path:
    """As synth resolves it."""

    return resolve_config_path(given).resolve()


if __name__ == "__main__":
    sys.exit(main())
