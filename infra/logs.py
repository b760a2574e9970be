"""Names of log groups the kit retains on destroy."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct


def per_deployment_name(prefix: str, scope: Construct) -> str:
    """A name unique to this creation of the stack: the UUID CloudFormation puts at the end of the stack ID. A group
    retained on destroy keeps its records, and a re-deploy gets a fresh name, never one that already exists."""
    stack_uuid = cdk.Fn.select(2, cdk.Fn.split("/", cdk.Stack.of(scope).stack_id))
    return f"{prefix}-{stack_uuid}"
