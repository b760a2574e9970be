"""Check an AWS account against a kit config before `cdk deploy`, with the credentials that will deploy.

    python -m scripts.preflight                                  # $KIT_CONFIG or config/default.yaml
    python -m scripts.preflight --config config/prod.yaml --profile prod --window-hours 48 --json

Checks that the region is enabled, both AZ IDs exist, every pool's instance types are offered in
placement.az_id (with EFA where asked), the capacity reservations and blocks are usable in that zone for
the next --window-hours, the GPU vCPU quotas cover the pools' gpu_limit, the account is CDK-bootstrapped,
and the model bucket is reachable (or its name is free). An API these credentials or this endpoint cannot
use is reported as WARN or SKIP with the reason.

Exit codes: 0 no check failed, 1 some check failed, 2 bad config, credentials or usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from assembly.kit import KIT, resolve_config_path
from core.docstrings import first_paragraph
from core.issues import ConfigError
from scripts import _preflight_account as account_checks
from scripts import _preflight_capacity as capacity_checks
from scripts._checks import Check, CheckFn, report, run_checks, skip, warn
from scripts._preflight_context import Context
from scripts.aws_session import FEW_RETRIES, ToolError, client, credentials_problem, error_code, explain, is_unavailable, new_session

PROG = "preflight"

CHECKS: list[tuple[str, CheckFn]] = [
    ("region", account_checks.region),
    ("az-ids", account_checks.az_ids),
    ("instance-types", account_checks.instance_types),
    ("efa", account_checks.efa),
    ("capacity-reservations", capacity_checks.reservations),
    ("quotas", capacity_checks.quotas),
    ("cdk-bootstrap", account_checks.cdk_bootstrap),
    ("model-bucket", account_checks.model_bucket),
]
# These need only the account and region, not EC2, so they still run when the region check fails.
_INDEPENDENT = {"cdk-bootstrap", "model-bucket"}


def guard(name: str, exc: Exception) -> Check | None:
    """Rows for API errors, so one unavailable API never stops the run or prints a traceback."""
    problem = credentials_problem(exc)
    if problem:
        raise ToolError(problem) from exc
    operation = getattr(exc, "operation_name", None) or "the API"
    if is_unavailable(exc):
        if error_code(exc) in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation"):
            return warn(
                name,
                f"not checked: {operation} was denied ({explain(exc)})",
                f"allow {operation} for these credentials (see docs/ci.md), or check this by hand",
            )
        return skip(name, f"not checked: {operation} is not available here ({explain(exc)})")
    if isinstance(exc, (ClientError, BotoCoreError)):
        return warn(name, f"not checked: {operation} failed ({explain(exc)})", "re-run preflight; if it persists, check this by hand")
    return None


def run(ctx: Context, checks: Sequence[tuple[str, CheckFn]] = CHECKS) -> list[Check]:
    rows: list[Check] = []
    for name, check in checks:
        if ctx.blocked and name not in _INDEPENDENT:
            rows.append(skip(name, f"skipped: {ctx.blocked}"))
            continue
        rows += run_checks([(name, check)], ctx, guard)
    return rows


def caller_account(session: Any, region: str) -> str | None:
    """The account of the credentials; None when STS is unreachable (the region check then reports it)."""
    try:
        return client(session, "sts", region, FEW_RETRIES).get_caller_identity()["Account"]
    except EndpointConnectionError:
        return None
    except (ClientError, BotoCoreError) as exc:
        problem = credentials_problem(exc)
        raise ToolError(problem or f"cannot identify the credentials with sts:GetCallerIdentity ({explain(exc)})") from exc


def connect(path: Path, profile: str | None, window_hours: int) -> Context:
    try:
        config = KIT.load(path)
    except ConfigError as err:
        raise ToolError(err.render().replace("nothing was synthesized", "nothing was checked")) from None
    session = new_session(profile, config.region)
    account = caller_account(session, config.region)
    if account and config.account and account != config.account:
        raise ToolError(
            f"the credentials are for account {account}, but {path} sets account: {config.account}; "
            f"use credentials for {config.account} (--profile, AWS_PROFILE) or fix account in the config"
        )
    return Context(config=config, config_path=path, session=session, account=account or config.account, window_hours=window_hours)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=PROG, description=first_paragraph(__doc__))
    parser.add_argument("--config", type=Path, help="kit config (default: $KIT_CONFIG, else config/default.yaml)")
    parser.add_argument("--profile", help="AWS profile (default: the usual AWS credential chain)")
    parser.add_argument("--window-hours", type=int, default=24, help="reservations must last at least this long from now (default 24)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    if args.window_hours < 0:
        parser.error("--window-hours must be 0 or more")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    path = args.config or resolve_config_path()
    try:
        ctx = connect(path, args.profile, args.window_hours)
        rows = run(ctx)
    except ToolError as exc:
        if args.json:
            print(json.dumps({"config": str(path), "ok": False, "error": str(exc)}, indent=2))
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    header = {"config": str(path), "account": ctx.account, "region": ctx.region, "az_id": ctx.config.placement.az_id}
    return report(rows, prog=PROG, as_json=args.json, header=header)


if __name__ == "__main__":
    sys.exit(main())
