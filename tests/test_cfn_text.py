"""core.cfn_text.flatten: the one reading of a resolved CloudFormation value as text."""

import pytest

from core.cfn_text import flatten

JOINED = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::", {"Fn::Join": ["-", ["a", {"Fn::GetAtt": ["B", "Arn"]}]]}]]}


def test_a_literal_string_is_kept_whole():
    assert flatten("plain <text>", "<token>") == "plain <text>"


def test_joins_nest_and_every_other_intrinsic_becomes_the_placeholder():
    assert flatten(JOINED, "<token>") == "arn:<token>:s3:::a-<token>"


def test_a_bare_intrinsic_is_the_placeholder():
    assert flatten({"Ref": "Bucket"}, "<account>") == "<account>"


def test_a_function_names_each_intrinsic_from_what_it_refers_to():
    def named(intrinsic):
        if "Ref" in intrinsic:
            return f"<{intrinsic['Ref']}>"
        return "<{}.{}>".format(*intrinsic["Fn::GetAtt"])

    assert flatten(JOINED, named) == "arn:<AWS::Partition>:s3:::a-<B.Arn>"


def test_the_function_may_refuse_what_it_cannot_name():
    def refuse(intrinsic):
        raise ValueError(f"cannot flatten {intrinsic!r}")

    with pytest.raises(ValueError, match="Fn::Select"):
        flatten({"Fn::Join": ["", ["x", {"Fn::Select": [0, ["a"]]}]]}, refuse)
