"""What the gateway's teams and Bedrock models must agree on with the rest of the config.

- A team's minute budget above its day budget could never be reached: the day's counter ends the calls first.
- A geographic inference profile (us., eu., apac., jp., au., ca., us-gov.) is callable only from a source Region of
  its geography, and a global one only from a commercial Region: anything else fails at the first call, after the
  deploy (core/bedrock.py has the geographies).
- Two Bedrock models with one model id: the showback prices each entry's tokens by model id (the only name the
  gateway's token metric carries), so the id's tokens would be billed once per entry.
"""

from __future__ import annotations

from config.model import PlatformConfig
from core.bedrock import geographies_of, inference_profile, serves
from core.issues import ConfigIssue


def gateway_model_issues(config: PlatformConfig) -> list[ConfigIssue]:
    return _budgets(config) + _profiles(config) + _repeated_ids(config)


def _budgets(config: PlatformConfig) -> list[ConfigIssue]:
    issues = []
    for index, team in enumerate(config.gateway.teams):
        minute, day = team.tokens_per_minute, team.tokens_per_day
        if minute is not None and day is not None and minute > day:
            issues.append(
                ConfigIssue(
                    f"gateway.teams[{index}].tokens_per_minute",
                    f"is above the team's tokens_per_day ({day:,}): the day's budget would stop the team before a minute's could",
                    value=minute,
                    allowed=f"at most tokens_per_day ({day:,})",
                    fix="lower tokens_per_minute, or raise tokens_per_day",
                )
            )
    return issues


def _profiles(config: PlatformConfig) -> list[ConfigIssue]:
    issues = []
    region = config.region
    usable = geographies_of(region)
    for index, model in enumerate(config.gateway.bedrock):
        profile = inference_profile(model.model_id)
        if profile is None or serves(profile.geography, region):
            continue
        choices = ", ".join(f"{geography}.{profile.model}" for geography in usable)
        issues.append(
            ConfigIssue(
                f"gateway.bedrock[{index}].model_id",
                f"is a cross-Region inference profile of the '{profile.geography}' "
                "geography, which Bedrock serves only to callers in its Regions; "
                f"the gateway calls from {region}",
                value=model.model_id,
                allowed=(
                    f"in {region}: {choices or 'no cross-Region profile'}, or the "
                    f"foundation model id {profile.model} where {region} serves it"
                ),
                fix=f"use the profile of {region}'s geography, or deploy the kit in a Region of the '{profile.geography}' geography",
            )
        )
    return issues


def _repeated_ids(config: PlatformConfig) -> list[ConfigIssue]:
    first: dict[str, str] = {}
    issues = []
    for index, model in enumerate(config.gateway.bedrock):
        earlier = first.setdefault(model.model_id, model.name)
        if earlier != model.name:
            issues.append(
                ConfigIssue(
                    f"gateway.bedrock[{index}].model_id",
                    f"is also the model id of '{earlier}': the showback would bill the id's tokens once per entry",
                    value=model.model_id,
                    allowed="each model id once",
                    fix=f"remove '{model.name}' and let teams call '{earlier}'",
                )
            )
    return issues
