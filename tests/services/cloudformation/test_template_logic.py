"""The pure parts: YAML with short-form tags, intrinsic functions, conditions, the dependency graph."""

from __future__ import annotations

import pytest

from overcast.errors import ServiceError
from overcast.services.cloudformation.graph import check_acyclic, dependencies
from overcast.services.cloudformation.intrinsics import UNKNOWN, Scope, evaluate_conditions, resolve
from overcast.services.cloudformation.template import parse

INVOICE = """
invoice: 34843
date   : 2001-01-23
bill-to: &id001
    given  : Chris
    address:
        lines: |
            458 Walkman Dr.
            Suite #292
ship-to: *id001
product:
    - sku         : BL394D
      quantity    : 4
"""


def test_yaml_short_forms_and_plain_yaml():
    template = parse(
        """
Resources:
  A:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub "${AWS::StackName}-a"
      Arn: !GetAtt B.Arn
      List: !Split [",", !Join [",", [x, !Ref P]]]
      Cond: !If [C, !Ref "AWS::NoValue", !Base64 hi]
      Not: !Not [!Condition C]
"""
    )
    properties = template["Resources"]["A"]["Properties"]
    assert properties["QueueName"] == {"Fn::Sub": "${AWS::StackName}-a"}
    assert properties["Arn"] == {"Fn::GetAtt": ["B", "Arn"]}
    assert properties["List"] == {"Fn::Split": [",", {"Fn::Join": [",", ["x", {"Ref": "P"}]]}]}
    assert properties["Cond"] == {"Fn::If": ["C", {"Ref": "AWS::NoValue"}, {"Fn::Base64": "hi"}]}
    assert properties["Not"] == {"Fn::Not": [{"Condition": "C"}]}
    invoice = parse(INVOICE)
    assert invoice["date"] == "2001-01-23"  # timestamps stay the strings they were written as
    assert invoice["ship-to"]["address"]["lines"] == "458 Walkman Dr.\nSuite #292\n"
    assert invoice["product"][0]["quantity"] == 4


def scope(**values) -> Scope:
    settings = {
        "parameters": {"Env": "prod", "Subnets": ["a", "b"]},
        "pseudo": {"AWS::Region": "us-east-1", "AWS::StackName": "s", "AWS::AccountId": "123456789012"},
        "mappings": {"M": {"us-east-1": {"Ami": "ami-1"}}},
        "resources": {"R"},
        "ref": lambda name: "r-1",
        "attribute": lambda name, attribute: f"{name}.{attribute}",
    }
    return Scope(**{**settings, **values})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"Fn::Sub": "${AWS::StackName}-${Env}-${!Literal}-${R}-${R.Arn}"}, "s-prod-${Literal}-r-1-R.Arn"),
        ({"Fn::Sub": ["${A}/${Env}", {"A": {"Ref": "R"}}]}, "r-1/prod"),
        ({"Fn::Join": [":", [{"Ref": "Env"}, "x", 3]]}, "prod:x:3"),
        ({"Fn::Select": ["1", {"Ref": "Subnets"}]}, "b"),
        ({"Fn::Split": ["|", "a|b|c"]}, ["a", "b", "c"]),
        ({"Fn::FindInMap": ["M", {"Ref": "AWS::Region"}, "Ami"]}, "ami-1"),
        ({"Fn::Base64": "hello"}, "aGVsbG8="),
        ({"Fn::Cidr": ["10.0.0.0/16", 3, 8]}, ["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"]),
        ({"Fn::Cidr": ["192.168.0.0/24", 2, 6]}, ["192.168.0.0/26", "192.168.0.64/26"]),
        (
            {"Fn::GetAZs": ""},
            ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e", "us-east-1f"],
        ),
        ({"Fn::Select": [0, {"Fn::GetAZs": {"Ref": "AWS::Region"}}]}, "us-east-1a"),
        ({"Fn::Equals": [{"Ref": "Env"}, "prod"]}, True),
        ({"Fn::And": [{"Fn::Equals": [1, "1"]}, {"Fn::Not": [{"Fn::Equals": ["a", "b"]}]}]}, True),
        ({"Fn::Or": [{"Fn::Equals": ["a", "b"]}, {"Fn::Equals": ["a", "c"]}]}, False),
        ({"Fn::GetAtt": ["R", "Arn"]}, "R.Arn"),
        ({"Fn::GetAtt": "R.Arn"}, "R.Arn"),
        (
            {"List": ["a", {"Ref": "AWS::NoValue"}, "b"], "Gone": {"Ref": "AWS::NoValue"}},
            {"List": ["a", "b"]},
        ),
    ],
)
def test_intrinsic_functions(value, expected):
    assert resolve(value, scope()) == expected


def test_language_extension_functions():
    extended = scope(language_extensions=True)
    assert resolve({"Fn::Length": {"Ref": "Subnets"}}, extended) == 2
    assert resolve({"Fn::ToJsonString": {"a": [1, {"Ref": "Env"}]}}, extended) == '{"a":[1,"prod"]}'
    assert (
        resolve({"Fn::FindInMap": ["M", "eu-west-1", "Ami", {"DefaultValue": "ami-default"}]}, extended)
        == "ami-default"
    )


def test_unknown_values_propagate_for_change_sets():
    planning = scope(ref=lambda name: UNKNOWN)
    assert resolve({"Fn::Sub": "${R}-x"}, planning) is UNKNOWN
    assert resolve({"Fn::Join": ["", [{"Ref": "R"}]]}, planning) is UNKNOWN


def test_template_errors():
    with pytest.raises(ServiceError) as raised:
        resolve({"Fn::FindInMap": ["M", "eu-west-1", "Ami"]}, scope())
    assert raised.value.message == "Template error: Unable to get mapping for M::eu-west-1::Ami"
    with pytest.raises(ServiceError) as raised:
        resolve({"Fn::Select": [5, ["a"]]}, scope())
    assert raised.value.message == "Template error: Fn::Select cannot select nonexistent value at index 5"
    with pytest.raises(ServiceError) as raised:
        parse("Resources: [unclosed")
    assert raised.value.message.startswith("Template format error: YAML not well-formed.")


def test_conditions_refer_to_each_other():
    definitions = {
        "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
        "NotProd": {"Fn::Not": [{"Condition": "IsProd"}]},
        "Both": {"Fn::And": [{"Condition": "IsProd"}, {"Fn::Equals": ["x", "x"]}]},
    }
    assert evaluate_conditions(definitions, scope()) == {"IsProd": True, "NotProd": False, "Both": True}
    with pytest.raises(ServiceError):
        evaluate_conditions({"A": {"Fn::Not": [{"Condition": "A"}]}}, scope())


def test_dependency_graph():
    resources = {
        "A": {"Type": "T"},
        "B": {
            "Type": "T",
            "Properties": {"X": {"Fn::GetAtt": ["A", "Arn"]}, "Y": {"Fn::Sub": "${C}-${AWS::Region}"}},
        },
        "C": {"Type": "T", "DependsOn": ["A"]},
        "D": {"Type": "T", "Properties": {"Z": {"Fn::If": ["Off", {"Ref": "A"}, {"Ref": "C"}]}}},
    }
    graph = dependencies(resources, {"Off": False})
    assert graph == {"A": set(), "B": {"A", "C"}, "C": {"A"}, "D": {"C"}}
    check_acyclic(graph)
    with pytest.raises(ServiceError) as raised:
        check_acyclic({"A": {"B"}, "B": {"C"}, "C": {"A"}})
    assert raised.value.message == "Circular dependency between resources: [A, B, C]"
