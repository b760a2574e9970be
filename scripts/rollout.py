"""Promote or roll back a new version: compare the two versions of a rollout in the metrics store.

    python -m scripts.rollout --config config/prod.yaml --prometheus-url http://localhost:9090
    python -m scripts.rollout --config config/prod.yaml --amp-workspace-url https://aps-workspaces.us-west-2.amazonaws.com/workspaces/ws-.../

For each enabled workload with a `rollout` (blueprints/common/rollout.py), or the one --workload names, the current
and the next version are read over the rollout's window by their served model names (vLLM's model_name label):
finished requests and those that ended in an engine error (vllm:request_success_total, finished_reason="error"),
the p90 time to first token (vllm:time_to_first_token_seconds) and the generation speed, tokens per second per
running request (vllm:generation_tokens_total over vllm:num_requests_running), the names of
infra/observability/metrics_catalog.py. The next version passes when its error share, its p90 TTFT against the
current one's and its speed against the current one's stay within the rollout's thresholds.

It says one of: promote (and the weight to set next), roll back (set weight 0), or hold (too few requests, or a
signal with no value yet). Changing the weight is the user's edit of the config, then a deploy.
Exit codes: 0 promote, 1 roll back, 3 hold, 2 usage or connection error.
Only what vLLM itself counts is judged: requests the gateway refused before an engine saw them are not.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from assembly.cli_config import load_or_report
from core.docstrings import first_line
from scripts.aws_session import NO_CREDENTIALS, ToolError, new_session

STEPS = (1, 10, 25, 50, 100)
"""The weights a rollout climbs, one step per promote."""
PROMOTE, ROLL_BACK, HOLD = "promote", "roll back", "hold"
EXIT = {PROMOTE: 0, ROLL_BACK: 1, HOLD: 3}

Query = Callable[[str], float | None]
"""PromQL in, the single sample's value out; None when the answer is empty or not a number."""


@dataclass(frozen=True)
class Version:
    workload: str
    model: str
    requests: float | None
    errors: float | None
    ttft_p90_seconds: float | None
    tokens_per_second: float | None
    speed: float | None
    """Generation tokens per second per running request."""

    @property
    def error_rate(self) -> float | None:
        if self.requests is None or self.errors is None or self.requests <= 0:
            return None
        return self.errors / self.requests


@dataclass(frozen=True)
class Verdict:
    workload: str
    decision: str
    reasons: tuple[str, ...]
    change: str
    """The config edit that carries the decision out (the user's step)."""
    current: Version
    next: Version


def queries(model: str, window_minutes: int) -> dict[str, str]:
    selector = f'model_name="{model}"'
    window = f"{window_minutes}m"
    return {
        "requests": f"sum(increase(vllm:request_success_total{{{selector}}}[{window}]))",
        "errors": f'sum(increase(vllm:request_success_total{{{selector},finished_reason="error"}}[{window}])) or vector(0)',
        "ttft_p90_seconds": f"histogram_quantile(0.9, sum by (le) (rate(vllm:time_to_first_token_seconds_bucket{{{selector}}}[{window}])))",
        "tokens_per_second": f"sum(rate(vllm:generation_tokens_total{{{selector}}}[{window}]))",
        "speed": (
            f"sum(rate(vllm:generation_tokens_total{{{selector}}}[{window}])) "
            f"/ sum(avg_over_time(vllm:num_requests_running{{{selector}}}[{window}]))"
        ),
    }


def read_version(query: Query, workload: str, model: str, window_minutes: int) -> Version:
    values = {key: query(expr) for key, expr in queries(model, window_minutes).items()}
    return Version(workload=workload, model=model, **values)


def next_step(weight: int) -> int:
    return next((step for step in STEPS if step > weight), 100)


def _measured(current: Version, following: Version) -> tuple[float, float, float, float] | None:
    """p90 TTFT and speed of the current version, then of the next; None while any has no value."""
    ttft, next_ttft, speed, next_speed = current.ttft_p90_seconds, following.ttft_p90_seconds, current.speed, following.speed
    if ttft is None or next_ttft is None or speed is None or next_speed is None:
        return None
    return ttft, next_ttft, speed, next_speed


def judge(name: str, index: int, rollout: Any, current: Version, following: Version) -> Verdict:
    """The decision for one rollout, from the two versions' readings and the rollout's thresholds."""
    limits = rollout.thresholds
    key = f"workloads[{index}].rollout.weight"
    back = f"set {key}: 0 (all of '{current.model}' back to '{name}'), then deploy; fix '{rollout.next}' before another try"
    short = [v for v in (current, following) if (v.requests or 0) < limits.min_requests]
    if short:
        said = ", ".join(f"'{v.workload}' finished {int(v.requests or 0)}" for v in short)
        hint = f" raise the weight to {next_step(rollout.weight)} or wait" if rollout.weight == 0 else " wait for more traffic"
        return Verdict(
            name,
            HOLD,
            (f"too few requests in {limits.window_minutes} minutes: {said}, {limits.min_requests} needed each;{hint}",),
            "none yet",
            current,
            following,
        )
    missing = [
        f"'{v.workload}' {field}" for v in (current, following) for field in ("ttft_p90_seconds", "speed") if getattr(v, field) is None
    ]
    failures = []
    if following.error_rate is not None and following.error_rate > limits.max_error_rate:
        failures.append(
            f"'{rollout.next}' ended {following.error_rate:.2%} of its requests in an engine error, above {limits.max_error_rate:.2%}"
        )
    measured = _measured(current, following)
    if measured is not None:
        ttft, next_ttft, speed, next_speed = measured
        if next_ttft > limits.max_ttft_p90_ratio * ttft:
            failures.append(
                f"'{rollout.next}' p90 time to first token {next_ttft:.3f} s is {next_ttft / ttft:.2f} x "
                f"{name}'s {ttft:.3f} s, above {limits.max_ttft_p90_ratio:g} x"
            )
        if next_speed < limits.min_speed_ratio * speed:
            failures.append(
                f"'{rollout.next}' generates {next_speed:.1f} tokens/s per running request, {next_speed / speed:.2f} x "
                f"{name}'s {speed:.1f}, below {limits.min_speed_ratio:g} x"
            )
    if failures:
        return Verdict(name, ROLL_BACK, tuple(failures), back, current, following)
    if measured is None:
        return Verdict(name, HOLD, (f"no value yet for {', '.join(missing)} (an idle window has none)",), "none yet", current, following)
    ttft, next_ttft, speed, next_speed = measured
    passed = (
        f"errors {following.error_rate or 0:.2%} (at most {limits.max_error_rate:.2%}), p90 TTFT {next_ttft / ttft:.2f} x "
        f"(at most {limits.max_ttft_p90_ratio:g} x), speed {next_speed / speed:.2f} x (at least {limits.min_speed_ratio:g} x)"
    )
    if rollout.weight >= 100:
        change = (
            f"every request for '{current.model}' goes to '{rollout.next}': retire '{name}' (remove it and its rollout, and set "
            f"served_model_name: {current.model} on '{rollout.next}'), then deploy"
        )
    else:
        change = f"set {key}: {next_step(rollout.weight)}, then deploy"
    return Verdict(name, PROMOTE, (passed,), change, current, following)


def evaluate(config: Any, query: Query, only: str | None = None) -> list[Verdict]:
    workloads = list(config.workloads)
    by_name = {w.name: w for w in workloads}
    verdicts = []
    for index, workload in enumerate(workloads):
        rollout = getattr(workload, "rollout", None)
        if rollout is None or not workload.enabled or (only and workload.name != only) or rollout.next not in by_name:
            continue
        window = rollout.thresholds.window_minutes
        current = read_version(query, workload.name, workload.public_model_name, window)
        following = read_version(query, rollout.next, by_name[rollout.next].public_model_name, window)
        verdicts.append(judge(workload.name, index, rollout, current, following))
    return verdicts


def _value(payload: dict) -> float | None:
    """The one sample of an instant vector or scalar; None when empty or NaN."""
    if payload.get("status") != "success":
        raise ToolError(f"the metrics store refused the query: {payload.get('errorType')}: {payload.get('error')}")
    data = payload["data"]
    if data["resultType"] == "scalar":
        raw = data["result"][1]
    else:
        if not data["result"]:
            return None
        if len(data["result"]) > 1:
            raise ToolError(f"a query answered {len(data['result'])} series where the script sums to one; report this")
        raw = data["result"][0]["value"][1]
    value = float(raw)
    return None if math.isnan(value) or math.isinf(value) else value


def http_query(base_url: str, sign: Callable[[str], dict[str, str]] | None = None, at: str | None = None, timeout: float = 30) -> Query:
    """A Prometheus query API client: base_url/api/v1/query, signed per request by `sign` (AMP) or not."""
    root = base_url.rstrip("/")

    def query(expr: str) -> float | None:
        params = {"query": expr, **({"time": at} if at else {})}
        url = f"{root}/api/v1/query?{urllib.parse.urlencode(params, quote_via=urllib.parse.quote)}"
        request = urllib.request.Request(url, headers=sign(url) if sign else {})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return _value(json.loads(response.read()))
        except urllib.error.HTTPError as err:
            body = err.read().decode(errors="replace")[:300]
            raise ToolError(f"{root} answered HTTP {err.code} to a query: {body}") from err
        except (urllib.error.URLError, TimeoutError) as err:
            raise ToolError(
                f"cannot reach the metrics store at {root} ({getattr(err, 'reason', err)}); "
                "check the URL (a port-forward for in-cluster Prometheus)"
            ) from err

    return query


def sigv4(region: str, profile: str | None) -> Callable[[str], dict[str, str]]:
    """Headers that sign a GET for Amazon Managed Service for Prometheus (service name aps)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    credentials = new_session(profile, region).get_credentials()
    if credentials is None:
        raise ToolError(NO_CREDENTIALS)
    frozen = credentials.get_frozen_credentials()

    def sign(url: str) -> dict[str, str]:
        request = AWSRequest(method="GET", url=url)
        SigV4Auth(frozen, "aps", region).add_auth(request)
        return dict(request.headers.items())

    return sign


def _region_of(url: str) -> str | None:
    found = re.search(r"aps-workspaces\.([a-z0-9-]+)\.amazonaws\.com", url)
    return found.group(1) if found else None


def report(verdicts: list[Verdict]) -> str:
    lines = []
    for verdict in verdicts:
        lines.append(f"{verdict.workload} -> {verdict.next.workload}: {verdict.decision.upper()}")
        for version in (verdict.current, verdict.next):
            rate = "?" if version.error_rate is None else f"{version.error_rate:.2%}"
            ttft = "?" if version.ttft_p90_seconds is None else f"{version.ttft_p90_seconds:.3f} s"
            speed = "?" if version.speed is None else f"{version.speed:.1f}"
            tps = "?" if version.tokens_per_second is None else f"{version.tokens_per_second:.1f}"
            lines.append(
                f"  {version.workload:<24} {version.model:<24} requests {int(version.requests or 0):>7}  errors {rate:>6}  p90 TTFT "
                f"{ttft:>9}  tokens/s {tps:>8}  per running request {speed:>6}"
            )
        lines += [f"  because {reason}" for reason in verdict.reasons]
        lines.append(f"  change: {verdict.change}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.rollout", description=first_line(__doc__))
    parser.add_argument("--config", help="the kit config with the rollout (default: $KIT_CONFIG, else config/default.yaml)")
    parser.add_argument("--workload", help="judge this workload's rollout only")
    store = parser.add_mutually_exclusive_group(required=True)
    store.add_argument(
        "--prometheus-url", help="a Prometheus server, e.g. http://localhost:9090 (kubectl port-forward to the in-cluster one)"
    )
    store.add_argument(
        "--amp-workspace-url", help="the AMP workspace endpoint (the cluster stack's PrometheusWorkspaceEndpoint output); SigV4-signed"
    )
    parser.add_argument("--region", help="the workspace's region (default: read from its URL)")
    parser.add_argument("--profile")
    parser.add_argument("--at", help="judge at this RFC 3339 time or Unix timestamp (default: now)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    config = load_or_report(args.config)
    if config is None:
        return 2
    try:
        if args.amp_workspace_url:
            region = args.region or _region_of(args.amp_workspace_url)
            if region is None:
                raise ToolError("cannot tell the workspace's region from its URL; pass --region")
            query = http_query(args.amp_workspace_url, sigv4(region, args.profile), args.at)
        else:
            query = http_query(args.prometheus_url, None, args.at)
        verdicts = evaluate(config, query, args.workload)
    except ToolError as err:
        print(f"rollout: error: {err}", file=sys.stderr)
        return 2
    if not verdicts:
        print(
            f"rollout: no enabled workload{' ' + repr(args.workload) if args.workload else ''} has a rollout in this config",
            file=sys.stderr,
        )
        return 2
    if args.json:
        print(json.dumps([asdict(verdict) for verdict in verdicts], indent=2))
    else:
        print(report(verdicts))
    decisions = {verdict.decision for verdict in verdicts}
    return EXIT[ROLL_BACK] if ROLL_BACK in decisions else EXIT[HOLD] if HOLD in decisions else EXIT[PROMOTE]


if __name__ == "__main__":
    sys.exit(main())
