"""Usage and cost per team, from the tokens Envoy AI Gateway counts for every request (gen_ai_client_token_usage,
labelled team_id by the gateway's API-key check), as Prometheus recording rules and a budget alert.

- tokens per team and model: the rate of each token type;
- Bedrock cost per team: tokens times the model's price per million (gateway.bedrock, dated by whoever sets it);
- local model cost per team: the team's share of the model's tokens times the cost of the GPUs serving it (the
  GPUs DCGM sees under the workload, times gateway.gpu_hour_usd);
- an alert when a team has used 80% of its tokens_per_day in the last 24 hours.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from infra.routing.settings import GatewaySettings

GROUP = "llm-kit-showback"
TOKENS = "gen_ai_client_token_usage_sum"
# Envoy AI Gateway v1.1.0 records input (all prompt tokens), output, and subsets of them (cached_input,
# cache_creation_input, reasoning): cost and budgets count input and output only, as the rate limits do.
BILLED = 'gen_ai_token_type=~"input|output"'
BUDGET_WARNING = 0.8


@dataclass(frozen=True, kw_only=True)
class LocalModel:
    """A workload served through the Gateway, whose GPUs' cost its callers share."""

    model: str
    """The name clients send (the workload's served model name)."""
    workload: str
    """The workload's name: its GPUs carry it as llm_kit_workload in DCGM's series."""


def showback_rules(gateway: GatewaySettings, local: list[LocalModel]) -> list[dict]:
    rules: list[dict] = [
        {
            "record": "llm_kit:team_tokens:rate5m",
            "expr": f"sum by (team_id, gen_ai_request_model, gen_ai_token_type) (rate({TOKENS}[5m]))",
        }
    ]
    for model in gateway.bedrock:
        selector = f'gen_ai_request_model="{model.model_id}"'
        cost = (
            f'sum by (team_id) (rate({TOKENS}{{{selector},gen_ai_token_type="input"}}[5m])) * 3600 * {model.input_usd_per_million} / 1e6'
            f' + sum by (team_id) (rate({TOKENS}{{{selector},gen_ai_token_type="output"}}[5m]))'
            f" * 3600 * {model.output_usd_per_million} / 1e6"
        )
        rules.append({"record": "llm_kit:team_cost_usd_per_hour", "expr": cost, "labels": {"model": model.name, "source": "bedrock"}})
    if gateway.gpu_hour_usd:
        for served in local:
            tokens = f'{TOKENS}{{gen_ai_request_model="{served.model}",{BILLED}}}'
            share = f"sum by (team_id) (rate({tokens}[5m])) / scalar(sum(rate({tokens}[5m])))"
            gpus = f'scalar(count(DCGM_FI_DEV_GPU_UTIL{{llm_kit_workload="{served.workload}"}}))'
            rules.append(
                {
                    "record": "llm_kit:team_cost_usd_per_hour",
                    "expr": f"{share} * {gpus} * {gateway.gpu_hour_usd}",
                    "labels": {"model": served.model, "source": "gpu"},
                }
            )
    for team in gateway.teams:
        if team.tokens_per_day is None:
            continue
        rules.append(
            {
                "alert": "TeamNearDailyTokenBudget",
                "expr": f'sum(increase({TOKENS}{{team_id="{team.name}",{BILLED}}}[1d])) > {BUDGET_WARNING} * {team.tokens_per_day}',
                "for": "5m",
                "labels": {"severity": "warning", "team_id": team.name},
                "annotations": {
                    "summary": f"Team {team.name} has used over {BUDGET_WARNING:.0%} of its {team.tokens_per_day} tokens per day",
                    "description": "Requests beyond the budget are refused (429) until the day's counter resets.",
                },
            }
        )
    return rules


def showback_groups(gateway: GatewaySettings, local: list[LocalModel]) -> list[dict]:
    if not (gateway.teams or gateway.bedrock):
        return []
    return [{"name": GROUP, "rules": showback_rules(gateway, local)}]


def showback_yaml(gateway: GatewaySettings, local: list[LocalModel]) -> str:
    return yaml.safe_dump({"groups": showback_groups(gateway, local)}, sort_keys=False, width=1000)
