"""The states a workload passes through, for one KEDA trigger the kit rendered, as a promtool rule unit test.

KEDA 2.20.2 turns an empty answer, NaN or +-Inf into an error (with ignoreNullValues false, as the kit writes it) and
the HPA then freezes the replica count, so every query must answer exactly one finite sample in every state:

- idle: every replica's series present, nothing queued, no request in the rate window (a histogram's quantile is
  NaN there): the answer must be 0, which asks for min_replicas;
- busy: the signal well past the target on every replica: the answer must make the HPA add replicas beyond its 10%
  tolerance (AverageValue: total > 1.1 x target x replicas; Value: value > 1.1 x target);
- missing: no series of this workload (another workload's are there): the answer must be 0;
- nan (gauges): one replica reports NaN, the other is busy: the answer is the busy one alone;
- slow (histograms): every request slower than the largest finite bucket: still finite, and above target.

The series are made from the query itself: its selectors (equality matchers only) name the metric and labels, a
`_bucket` metric is a histogram, and the scrape interval is a quarter of the query's rate window.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

RECORD = "kit:scaler"
REPLICAS = 2
TOLERANCE = 0.1
"""kube-controller-manager's default --horizontal-pod-autoscaler-tolerance."""
SAMPLES = 40
_SELECTOR = re.compile(r"([A-Za-z_:][\w:]*)\{([^{}]*)\}(?:\[(\d+)([sm])\])?")
_MATCHER = re.compile(r'\s*(\w+)\s*(=~|!~|!=|=)\s*"([^"]*)"\s*')


def _selectors(expr: str) -> list[tuple[str, dict[str, str], int | None]]:
    """(metric, labels, range seconds) of every selector in the query."""
    found = []
    for name, body, amount, unit in _SELECTOR.findall(expr):
        labels = {}
        for part in filter(None, body.split(",")):
            matcher = _MATCHER.fullmatch(part)
            if matcher is None or matcher.group(2) != "=":
                raise ValueError(f"{expr}: only equality matchers can be turned into series, not {part!r}")
            labels[matcher.group(1)] = matcher.group(3)
        found.append((name, labels, int(amount) * (60 if unit == "m" else 1) if amount else None))
    if not found:
        raise ValueError(f"{expr}: no selector to make series from")
    return found


def _series(name: str, labels: dict[str, str]) -> str:
    return name + "{" + ",".join(f'{key}="{value}"' for key, value in labels.items()) + "}"


def _number(value: float) -> str:
    return repr(float(value))


def _gauges(name: str, labels: dict[str, str], values: list[str]) -> list[dict[str, str]]:
    return [{"series": _series(name, {**labels, "pod": f"replica-{index}"}), "values": value} for index, value in enumerate(values)]


def _buckets(name: str, labels: dict[str, str], target: float, growth: dict[str, int]) -> list[dict[str, str]]:
    """Cumulative buckets around the target, 7 past requests each, growing by `growth[le]` per scrape on every replica."""
    bounds = [_number(target * factor) for factor in (0.25, 0.5, 1, 2, 4)] + ["+Inf"]
    return [
        {"series": _series(name, {**labels, "pod": f"replica-{index}", "le": le}), "values": f"7+{growth.get(le, 0)}x{SAMPLES}"}
        for index in range(REPLICAS)
        for le in bounds
    ]


def rule_test(query: str, metric_type: str, threshold: float) -> dict[str, Any]:
    """{"rules", "tests": promtool files (the tests load rules.yaml), "scenarios": names of the states checked}."""
    selectors = _selectors(query)
    name, labels, window = selectors[0]
    if any((n, lbl) != (name, labels) for n, lbl, _ in selectors):
        raise ValueError(f"{query}: one metric and one selector per scaler query, or the states cannot be made")
    interval = window // 4 if window else 30
    other = {key: f"{value}-other" for key, value in labels.items()}
    per_replica = 2 * threshold
    if name.endswith("_perc"):
        per_replica = min(per_replica, 1.0)  # a share: no replica holds more than all of its cache
    busy_bar = threshold * (1 + TOLERANCE) * (REPLICAS if metric_type == "AverageValue" else 1)
    eval_time = f"{interval * SAMPLES}s"
    exact = lambda value: [{"labels": RECORD, "value": value}]  # noqa: E731
    finite_and_busy = [
        {"expr": f"{RECORD} < bool +Inf", "eval_time": eval_time, "exp_samples": [{"labels": "{}", "value": 1}]},
        {"expr": f"{RECORD} > bool {_number(busy_bar)}", "eval_time": eval_time, "exp_samples": [{"labels": "{}", "value": 1}]},
    ]
    if name.endswith("_bucket"):
        bounds = [_number(threshold * factor) for factor in (2, 4)]
        states = {
            "idle": (_buckets(name, labels, threshold, {}), [{"expr": RECORD, "eval_time": eval_time, "exp_samples": exact(0)}]),
            "busy": (_buckets(name, labels, threshold, {bounds[1]: 6, "+Inf": 6}), finite_and_busy),
            "slow": (_buckets(name, labels, threshold, {"+Inf": 6}), finite_and_busy),
            "missing": (
                _buckets(name, other, threshold, {bounds[1]: 6, "+Inf": 6}),
                [{"expr": RECORD, "eval_time": eval_time, "exp_samples": exact(0)}],
            ),
        }
    else:
        busy = f"{_number(per_replica)}+0x{SAMPLES}"
        states = {
            "idle": (
                _gauges(name, labels, [f"0+0x{SAMPLES}"] * REPLICAS),
                [{"expr": RECORD, "eval_time": eval_time, "exp_samples": exact(0)}],
            ),
            "busy": (_gauges(name, labels, [busy] * REPLICAS), finite_and_busy),
            "nan": (
                _gauges(name, labels, [f"NaN+0x{SAMPLES}", busy]),
                [{"expr": RECORD, "eval_time": eval_time, "exp_samples": exact(per_replica)}],
            ),
            "missing": (_gauges(name, other, [busy] * REPLICAS), [{"expr": RECORD, "eval_time": eval_time, "exp_samples": exact(0)}]),
        }
    rules = {"groups": [{"name": "scaler", "interval": f"{interval}s", "rules": [{"record": RECORD, "expr": query}]}]}
    tests = {
        "rule_files": ["rules.yaml"],
        "evaluation_interval": f"{interval}s",
        "tests": [
            {"name": state, "interval": f"{interval}s", "input_series": series, "promql_expr_test": checks}
            for state, (series, checks) in states.items()
        ],
    }
    return {
        "rules": yaml.safe_dump(rules, sort_keys=False, width=1000),
        "tests": yaml.safe_dump(tests, sort_keys=False, width=1000),
        "scenarios": list(states),
    }
