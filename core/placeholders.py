"""Placeholders the blueprints write where a value is known only later (the account, the metrics store's URL), and
the one way to fill them: the CloudFormation path fills in deploy-time tokens, the delivered files the known text."""

from __future__ import annotations

from typing import Any


def fill(value: Any, placeholder: str, text: Any) -> Any:
    """Every string in the objects with the placeholder replaced (text may be a CDK token's string form)."""
    if isinstance(value, str):
        return value.replace(placeholder, text)
    if isinstance(value, list):
        return [fill(item, placeholder, text) for item in value]
    if isinstance(value, dict):
        return {key: fill(item, placeholder, text) for key, item in value.items()}
    return value
