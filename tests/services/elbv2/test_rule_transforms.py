"""Regex rule conditions and rule transforms: a rule matched by regular expressions rewrites the URL and the
host header of the requests it forwards, the routing decision unchanged."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of
from tests.services.elbv2.conftest import alb_with_targets, get, port_of


def test_regex_conditions_and_rewrites_reach_the_target(elb, backends):
    web, api = backends("web"), backends("api")
    lb, _, listener = alb_with_targets(elb, [web.port])
    api_group = elb.create_target_group(
        Name="api", Protocol="HTTP", Port=80, VpcId=lb["VpcId"], TargetType="ip"
    )["TargetGroups"][0]
    elb.register_targets(
        TargetGroupArn=api_group["TargetGroupArn"], Targets=[{"Id": "127.0.0.1", "Port": api.port}]
    )
    rule = elb.create_rule(
        ListenerArn=listener["ListenerArn"], Priority=10,
        Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"RegexValues": ["^/api/v[0-9]+/"]}},
                    {"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Client", "RegexValues": ["^mobile-"]}}],
        Actions=[{"Type": "forward", "TargetGroupArn": api_group["TargetGroupArn"]}],
        Transforms=[
            {"Type": "url-rewrite", "UrlRewriteConfig": {"Rewrites": [{"Regex": "^/api/v[0-9]+/(.*)$", "Replace": "/$1"}]}},
            {"Type": "host-header-rewrite",
             "HostHeaderRewriteConfig": {"Rewrites": [{"Regex": "^(.+)\\.example\\.com$", "Replace": "$1.internal"}]}},
        ],
    )["Rules"][0]  # fmt: skip
    assert [t["Type"] for t in rule["Transforms"]] == ["url-rewrite", "host-header-rewrite"]
    assert rule["Conditions"][0]["PathPatternConfig"] == {"RegexValues": ["^/api/v[0-9]+/"]}
    port = port_of(lb)

    status, _, body = get(f"http://127.0.0.1:{port}/api/v2/orders?id=7",
                          headers={"Host": "shop.example.com", "X-Client": "mobile-ios"})  # fmt: skip
    seen = json.loads(body)
    assert status == 200 and seen["name"] == "api" and seen["path"] == "/orders?id=7"
    assert seen["headers"]["Host"] == "shop.internal"
    # the header's expression does not match: the default rule, nothing rewritten
    seen = json.loads(
        get(
            f"http://127.0.0.1:{port}/api/v2/orders", headers={"Host": "shop.example.com", "X-Client": "web"}
        )[2]
    )
    assert (
        seen["name"] == "web"
        and seen["path"] == "/api/v2/orders"
        and seen["headers"]["Host"] == "shop.example.com"
    )

    elb.modify_rule(RuleArn=rule["RuleArn"], ResetTransforms=True)
    assert "Transforms" not in elb.describe_rules(RuleArns=[rule["RuleArn"]])["Rules"][0]
    seen = json.loads(get(f"http://127.0.0.1:{port}/api/v1/x", headers={"X-Client": "mobile-android"})[2])
    assert seen["name"] == "api" and seen["path"] == "/api/v1/x"


def test_transform_and_regex_validation(elb):
    lb, tg, listener = alb_with_targets(elb, [9])
    forward = [{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}]
    with pytest.raises(ClientError) as raised:
        elb.create_rule(ListenerArn=listener["ListenerArn"], Priority=1, Actions=forward,
                        Conditions=[{"Field": "host-header", "HostHeaderConfig": {"RegexValues": ["(unclosed"]}}])  # fmt: skip
    assert error_of(raised) == ("ValidationError", 400)
    with pytest.raises(ClientError) as raised:
        elb.create_rule(ListenerArn=listener["ListenerArn"], Priority=1, Actions=forward,
                        Conditions=[{"Field": "host-header", "HostHeaderConfig": {"Values": ["a.com"], "RegexValues": ["a"]}}])  # fmt: skip
    assert error_of(raised) == ("ValidationError", 400)
    twice = {"Type": "url-rewrite", "UrlRewriteConfig": {"Rewrites": [{"Regex": "a", "Replace": "b"}]}}
    with pytest.raises(ClientError) as raised:
        elb.create_rule(ListenerArn=listener["ListenerArn"], Priority=1, Actions=forward, Transforms=[twice, twice],
                        Conditions=[{"Field": "path-pattern", "Values": ["/x"]}])  # fmt: skip
    assert error_of(raised) == ("ValidationError", 400)
    default = elb.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"][0]
    with pytest.raises(ClientError) as raised:
        elb.modify_rule(RuleArn=default["RuleArn"], Transforms=[twice])
    assert error_of(raised) == ("OperationNotPermitted", 400)
