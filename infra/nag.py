"""cdk-nag (3.x API): the AwsSolutions pack on the whole app, and acknowledgments written once."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

from core.cfn_text import flatten

PACK = "AwsSolutions"


def enable_checks(app: cdk.App) -> None:
    """Every stack of the app is checked at synth; an unacknowledged finding fails it."""
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))


def acknowledge(scope: IConstruct, rule: str, reason: str, *, finding: str | None = None) -> None:
    """Acknowledge one finding of `rule` (e.g. 'IAM4') on scope and below, with its reason."""
    ack_id = f"{PACK}::{PACK}-{rule}" + (f"[{finding}]" if finding else "")
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=ack_id, reason=reason))


def managed_policy(name: str) -> str:
    """The finding detail cdk-nag reports for an AWS managed policy (IAM4)."""
    return f"Policy::arn:<AWS::Partition>:iam::aws:policy/{name}"


def acknowledge_managed_policies(scope: IConstruct, reasons: dict[str, str]) -> None:
    for policy, reason in reasons.items():
        acknowledge(scope, "IAM4", reason, finding=managed_policy(policy))


def finding_text(scope: IConstruct, value: Any) -> str:
    """A value as cdk-nag prints it inside a finding id: Fn::Join parts joined, Ref as <Name>, GetAtt as <Name.Attr>."""
    return flatten(cdk.Stack.of(scope).resolve(value), _finding_token)


def _finding_token(value: Any) -> str:
    if "Ref" in value:
        return f"<{value['Ref']}>"
    if "Fn::GetAtt" in value:
        return "<{}.{}>".format(*value["Fn::GetAtt"])
    if "Fn::Sub" in value and isinstance(value["Fn::Sub"], str):
        return re.sub(r"\$\{([^}]+)\}", r"<\1>", value["Fn::Sub"])
    raise ValueError(f"cannot flatten {value!r}")


def acknowledge_policy_wildcards(scope: IConstruct, reason: str | Callable[[str], str]) -> None:
    """Acknowledge IAM5 for every wildcard resource or action in the IAM policies below scope, one finding each.

    reason: one text, or a function from the finding (e.g. 'Resource::*') to its reason. For policies a library
    generates (CDK Pipelines), call it once they are complete."""
    stack = cdk.Stack.of(scope)
    for construct in scope.node.find_all():
        if isinstance(construct, iam.CfnPolicy | iam.CfnManagedPolicy):
            document = stack.resolve(construct.policy_document)
            for statement in _as_list(document.get("Statement", [])):
                for key, prefix in (("Resource", "Resource"), ("Action", "Action")):
                    for value in _as_list(statement.get(key, [])):
                        text = flatten(value, _finding_token)
                        if "*" in text:
                            finding = f"{prefix}::{text}"
                            acknowledge(construct, "IAM5", reason(finding) if callable(reason) else reason, finding=finding)


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]
