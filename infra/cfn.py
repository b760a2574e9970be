"""Typed access to what a construct holds: its CloudFormation resource, and a child of a known kind."""

from __future__ import annotations

from typing import TypeVar

import aws_cdk as cdk
from constructs import IConstruct

T = TypeVar("T")


def cfn_resource(construct: IConstruct) -> cdk.CfnResource:
    """The first CfnResource down the construct's default children (an L2's own at once, a KubernetesPatch's through
    its CustomResource); a TypeError where none is. For the overrides an L2 has no property for."""
    current = construct
    while (child := current.node.default_child) is not None:
        if isinstance(child, cdk.CfnResource):
            return child
        current = child
    raise TypeError(f"{construct.node.path}: no CloudFormation resource among its default children")


def child(scope: IConstruct, construct_id: str, kind: type[T]) -> T:
    """scope's child construct_id, which must be a `kind` (a TypeError otherwise): node.find_child says only IConstruct."""
    found = scope.node.find_child(construct_id)
    if not isinstance(found, kind):
        raise TypeError(f"{found.node.path}: a {type(found).__name__}, not the {kind.__name__} expected")
    return found
