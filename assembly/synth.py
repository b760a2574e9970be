"""The kit's main job: validate the config, synthesize every stack offline, print a summary.

Synth goes to scratch folders first and replaces cdk.out/, dist/ and the charts in charts/ only on
success, so a bad config or an unacknowledged cdk-nag finding never leaves partial output behind.
"""

from __future__ import annotations

import time

STARTED = time.monotonic()  # before the CDK's imports, so the summary's time is the wall time of the run

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from assembly.account import AccountError, caller_account  # noqa: E402
from assembly.app import build_app, render_workloads  # noqa: E402
from assembly.cli_config import CONFIG_HELP  # noqa: E402
from assembly.delivery import Delivery, prepare  # noqa: E402
from assembly.kit import KIT, KitConfig, resolve_config_path  # noqa: E402
from assembly.summary import render_summary  # noqa: E402
from assembly.version import kit_version  # noqa: E402
from blueprints.dist import write_dist  # noqa: E402
from blueprints.helm import semver, write_charts  # noqa: E402
from config.model import PlatformConfig  # noqa: E402
from core.docstrings import first_line  # noqa: E402
from core.issues import ConfigError  # noqa: E402


class NagFailure(Exception):
    pass


def synthesize(config: KitConfig, outdir: Path, dist: Path, charts: Path, account: str | None = None, validate: bool = False) -> Delivery:
    """Synthesize the stacks into outdir, the blueprints' manifests into dist and their Helm charts into
    charts, replacing them only when everything succeeded; raise NagFailure with the findings otherwise.
    account: the caller's, resolved for dist/ and charts/ (the stacks keep the config's own).
    validate: also run aws-cdk-lib's built-in CloudFormation validation (build_app says why it is off by default)."""
    outdir, dist, charts = outdir.resolve(), dist.resolve(), charts.resolve()
    for folder in (outdir, dist, charts):
        folder.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".synth-", dir=outdir.parent))
    scratch_dist = Path(tempfile.mkdtemp(prefix=".dist-", dir=dist.parent))
    scratch_charts = Path(tempfile.mkdtemp(prefix=".charts-", dir=charts.parent))
    try:
        objects = render_workloads(config)
        try:
            build_app(config, outdir=str(scratch), workload_objects=objects, validate=validate).synth()
        except RuntimeError as err:
            if "ValidationFailed" in str(err):
                raise NagFailure(_nag_findings(scratch / "validation-report.json")) from None
            raise
        delivery = prepare(config, objects, account)
        write_dist(delivery.objects, scratch_dist, delivery.unknowns)
        write_charts(delivery.objects, scratch_charts, version=semver(kit_version()), hints=delivery.hints)
        _replace(outdir, scratch)
        _replace(dist, scratch_dist)
        _replace_charts(charts, scratch_charts)
        return delivery
    finally:
        for leftover in (scratch, scratch_dist, scratch_charts):
            if leftover.exists():
                shutil.rmtree(leftover, ignore_errors=True)


def _replace(target: Path, fresh: Path) -> None:
    if target.exists():
        shutil.rmtree(target)
    fresh.rename(target)


def _replace_charts(target: Path, fresh: Path) -> None:
    """Swap the chart folders only: files beside them (the committed README.md) stay."""
    target.mkdir(exist_ok=True)
    for old in target.iterdir():
        if old.is_dir():
            shutil.rmtree(old)
    for chart in fresh.iterdir():
        chart.rename(target / chart.name)
    fresh.rmdir()


def _nag_findings(report: Path) -> str:
    lines = []
    for plugin in json.loads(report.read_text()).get("pluginReports", []):
        for violation in plugin.get("violations", []):
            for construct in violation["violatingConstructs"]:
                lines.append(f"  - {violation['ruleName']}: {construct['constructPath']}\n      {violation['description']}")
    return "cdk-nag found unacknowledged findings; nothing was written to cdk.out:\n" + "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=os.environ.get("KIT_PROG", "python -m assembly.synth"), description=first_line(__doc__))
    parser.add_argument("--config", help=CONFIG_HELP)
    parser.add_argument("--outdir", default="cdk.out", help="where the cloud assembly goes (default: cdk.out)")
    parser.add_argument("--dist", default="dist", help="where the blueprints' manifests go, one folder per workload (default: dist)")
    parser.add_argument("--charts", default="charts", help="where the workloads' Helm charts go, one folder per workload (default: charts)")
    parser.add_argument(
        "--resolve-account",
        action="store_true",
        help="ask STS for the account of your AWS credentials and write it into dist/ and charts/ (the model bucket's name); "
        "without it, and without account: in the config, they say what they still need",
    )
    parser.add_argument(
        "--validate",
        action="store_true",
        help="also run aws-cdk-lib's built-in CloudFormation template validation, as cdk synth and cdk deploy do "
        "(several seconds of CPU; its findings are warnings)",
    )
    parser.add_argument(
        "--account",
        help="the AWS account (12 digits) to write into dist/ and charts/, as --resolve-account would, without asking STS",
    )
    # ./kit synth checks the config first with these (assembly.check); the synth itself never reads the clock.
    parser.add_argument("--at", help="(the check before the synth) judge capacity block windows at this ISO 8601 time")
    parser.add_argument("--undated", action="store_true", help="(the check before the synth) leave out the checks that depend on the date")
    args = parser.parse_args(argv)
    path = resolve_config_path(args.config).resolve()
    try:
        config = KIT.load(path)
        account = _account(config, args.account) if args.resolve_account or args.account else None
        outdir, dist, charts = (Path(folder).resolve() for folder in (args.outdir, args.dist, args.charts))
        delivery = synthesize(config, outdir, dist, charts, account, validate=args.validate)
    except ConfigError as err:
        print(err.render(), file=sys.stderr)
        return 2
    except AccountError as err:
        print(f"kit: {err}", file=sys.stderr)
        return 2
    except NagFailure as err:
        print(err, file=sys.stderr)
        return 1
    print(render_summary(config, path, outdir, dist, charts, time.monotonic() - STARTED, delivery))
    return 0


def _account(config: PlatformConfig, given: str | None = None) -> str:
    """The account given, else the caller's; either must be the config's where it names one."""
    if given is not None and not re.fullmatch(r"\d{12}", given):
        raise AccountError(f"--account {given!r} is not an AWS account id (12 digits)")
    account = given or caller_account(config.region)
    if config.account and config.account != account:
        whose = "--account gives" if given else "the credentials are for"
        raise AccountError(
            f"{whose} account {account}, but the config sets account: {config.account}; "
            "use that account, or leave the flag out (the config's account is used then)"
        )
    return account


if __name__ == "__main__":
    sys.exit(main())
