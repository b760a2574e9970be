"""Synthetic token traffic for a config's showback rules, with the values the rules must compute from it, written
as a promtool rule unit test (`promtool test rules`).

Each team calls each model it may call at a steady pace (tokens per minute in multiples of 120, so every per-second
rate is a whole number); the first team with a daily budget goes fast enough to pass 80% of it within 20 minutes.
The expected values are worked out here from the config (prices, GPU-hour price, GPU counts) by plain arithmetic in
the order the rules apply it, so promtool can compare them exactly. A cached_input series rides along: Envoy AI
Gateway counts it inside input, so it must not be billed again.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from config.gateway import Gateway
from infra.observability.rules.showback import BUDGET_WARNING, GROUP, TOKENS, LocalModel, showback_rules
from infra.stacks.routing_props import gateway_settings

EVAL = "10m"
ALERT_MINUTES = 40
SAMPLES = 45
SLOW = (6000, 1200)
"""Input and output tokens per minute of a team without a fast pace, times its position in gateway.teams + 1."""


@dataclass(frozen=True)
class Served:
    model: str
    """The name clients send."""
    workload: str
    gpus: int
    """GPUs serving it: replicas x GPUs per pod (one DCGM series each)."""


def pace(gateway: Gateway) -> dict[tuple[str, str], tuple[int, int]]:
    """(team, model) -> (input, output) tokens per minute."""
    budgeted = [team for team in gateway.teams if team.tokens_per_day]
    fast = budgeted[0] if budgeted else None
    out = {}
    for index, team in enumerate(gateway.teams):
        for model in team.models:
            if team is fast and team.tokens_per_day:
                # Input and output alike, over all its models together: the whole budget in 20 minutes.
                each = -(-team.tokens_per_day // (20 * 2 * len(team.models)) // 120) * 120
                out[(team.name, model)] = (each, each)
            else:
                out[(team.name, model)] = (SLOW[0] * (index + 1), SLOW[1] * (index + 1))
    return out


def rule_test(gateway: Gateway, served: list[Served]) -> dict[str, str | int]:
    """{"rules": the rules file, "tests": a unit-test file that loads it as rules.yaml}."""
    bedrock = {model.name: model for model in gateway.bedrock}
    paces = pace(gateway)

    def request_model(model: str) -> str:
        # Envoy AI Gateway reports the model name sent upstream: for Bedrock, the model id (modelNameOverride).
        return bedrock[model].model_id if model in bedrock else model

    series = []
    for (team, model), (inputs, outputs) in paces.items():
        labels = f'team_id="{team}",gen_ai_request_model="{request_model(model)}"'
        for kind, per_minute in (("input", inputs), ("output", outputs), ("cached_input", inputs // 2)):
            series.append({"series": f'{TOKENS}{{{labels},gen_ai_token_type="{kind}"}}', "values": f"0+{per_minute}x{SAMPLES}"})
    for model in served:
        series += [
            {"series": f'DCGM_FI_DEV_GPU_UTIL{{llm_kit_workload="{model.workload}",gpu="{gpu}"}}', "values": f"50x{SAMPLES}"}
            for gpu in range(model.gpus)
        ]

    rates = [
        {
            "labels": (
                f'llm_kit:team_tokens:rate5m{{team_id="{team}",gen_ai_request_model="{request_model(model)}",gen_ai_token_type="{kind}"}}'
            ),
            "value": per_minute / 60,
        }
        for (team, model), (inputs, outputs) in paces.items()
        for kind, per_minute in (("input", inputs), ("output", outputs), ("cached_input", inputs // 2))
    ]
    checks = [{"eval_time": EVAL, "expr": "llm_kit:team_tokens:rate5m", "exp_samples": rates}]
    for name, model in bedrock.items():
        costs = [
            {
                "labels": f'llm_kit:team_cost_usd_per_hour{{team_id="{team}",model="{name}",source="bedrock"}}',
                "value": inputs / 60 * 3600 * model.input_usd_per_million / 1e6 + outputs / 60 * 3600 * model.output_usd_per_million / 1e6,
            }
            for (team, called), (inputs, outputs) in paces.items()
            if called == name
        ]
        checks.append({"eval_time": EVAL, "expr": f'llm_kit:team_cost_usd_per_hour{{model="{name}"}}', "exp_samples": costs})
    if gateway.gpu_hour_usd:
        for model in served:
            callers = {team: (inputs + outputs) / 60 for (team, called), (inputs, outputs) in paces.items() if called == model.model}
            total = sum(callers.values())
            costs = [
                {
                    "labels": f'llm_kit:team_cost_usd_per_hour{{team_id="{team}",model="{model.model}",source="gpu"}}',
                    "value": rate / total * model.gpus * gateway.gpu_hour_usd,
                }
                for team, rate in callers.items()
            ]
            checks.append({"eval_time": EVAL, "expr": f'llm_kit:team_cost_usd_per_hour{{model="{model.model}"}}', "exp_samples": costs})

    rules = showback_rules(gateway_settings(gateway), [LocalModel(model=model.model, workload=model.workload) for model in served])
    firing = []
    for rule in rules:
        if "alert" not in rule:
            continue
        team = next(t for t in gateway.teams if t.name == rule["labels"]["team_id"])
        per_minute = sum(inputs + outputs for (caller, _), (inputs, outputs) in paces.items() if caller == team.name)
        # Pending from when the day's tokens pass the mark, firing 5 minutes later.
        if team.tokens_per_day and per_minute * (ALERT_MINUTES - 5) > BUDGET_WARNING * team.tokens_per_day:
            firing.append({"exp_labels": rule["labels"], "exp_annotations": rule["annotations"]})
    tests = [{"interval": "1m", "input_series": series, "promql_expr_test": checks}]
    if any("alert" in rule for rule in rules):
        tests[0]["alert_rule_test"] = [{"eval_time": f"{ALERT_MINUTES}m", "alertname": "TeamNearDailyTokenBudget", "exp_alerts": firing}]
    return {
        "rules": yaml.safe_dump({"groups": [{"name": GROUP, "rules": rules}]}, sort_keys=False, width=1000),
        "tests": yaml.safe_dump({"rule_files": ["rules.yaml"], "evaluation_interval": "1m", "tests": tests}, sort_keys=False, width=1000),
        "firing": len(firing),
    }
