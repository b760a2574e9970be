"""The CloudFormation resource under an L2 construct, for the overrides the L2 has no property for."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import IConstruct


def cfn_resource(construct: IConstruct) -> cdk.CfnResource:
    """The first CfnResource down the construct's default children: a node group's CfnNodegroup at once, a
    KubernetesPatch's through its CustomResource. A TypeError where there is none."""
    current = construct
    while (child := current.node.default_child) is not None:
        if isinstance(child, cdk.CfnResource):
            return child
        current = child
    raise TypeError(f"{construct.node.path}: no CloudFormation resource among its default children")
