"""The function API: create, read, update, list, delete, versions, aliases, tags, policies, errors."""

import json
from collections import Counter

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of, message_of

from .conftest import ROLE

VERSIONED = "VERSION = {v}\ndef handler(event, context):\n    return VERSION\n"


def test_create_get_update_delete(lam, make_function, package, settled):
    created = make_function("crud", Description="first", Timeout=10, Tags={"team": "a"})
    assert created["FunctionArn"] == "arn:aws:lambda:us-east-1:000000000000:function:crud"
    assert created["Version"] == "$LATEST" and created["State"] == "Pending"
    assert created["Timeout"] == 10 and created["MemorySize"] == 128
    assert created["CodeSize"] > 0 and created["CodeSha256"]
    got = lam.get_function(FunctionName="crud")
    assert got["Configuration"]["Description"] == "first"
    assert got["Tags"] == {"team": "a"}
    updated = lam.update_function_configuration(FunctionName="crud", MemorySize=512, Description="second")
    assert updated["MemorySize"] == 512 and updated["RevisionId"] != created["RevisionId"]
    settled("crud")
    code = lam.update_function_code(FunctionName="crud", ZipFile=package({"app.py": VERSIONED.format(v=9)}))
    assert code["CodeSha256"] != created["CodeSha256"]
    assert lam.get_function_configuration(FunctionName="crud")["Description"] == "second"
    lam.delete_function(FunctionName="crud")
    with pytest.raises(ClientError) as raised:
        lam.get_function(FunctionName="crud")
    assert error_of(raised) == ("ResourceNotFoundException", 404)
    assert "Function not found: arn:aws:lambda:us-east-1:000000000000:function:crud" in str(raised.value)


def test_updated_code_runs_on_next_invoke(lam, make_function, package, invoke_json):
    make_function("swap", VERSIONED.format(v=1))
    assert invoke_json("swap")[1] == 1
    lam.update_function_code(FunctionName="swap", ZipFile=package({"app.py": VERSIONED.format(v=2)}))
    assert invoke_json("swap")[1] == 2


def test_create_errors(lam, make_function, package):
    make_function("dupe")
    with pytest.raises(ClientError) as raised:
        make_function("dupe")
    assert error_of(raised) == ("ResourceConflictException", 409)
    with pytest.raises(ClientError) as raised:
        make_function("toolong", Timeout=901)
    assert error_of(raised)[0] == "ValidationException"
    with pytest.raises(ClientError) as raised:
        make_function("reserved", Environment={"Variables": {"AWS_REGION": "x"}})
    assert error_of(raised) == ("InvalidParameterValueException", 400)
    assert "AWS_REGION" in str(raised.value)
    with pytest.raises(ClientError) as raised:
        make_function("bigenv", Environment={"Variables": {"AB": "x" * 5000}})
    assert "4KB" in str(raised.value)
    with pytest.raises(ClientError) as raised:  # keys match [a-zA-Z]([a-zA-Z0-9_])+: two characters at least
        make_function("shortkey", Environment={"Variables": {"A": "x"}})
    assert error_of(raised) == ("ValidationException", 400)
    assert "failed to satisfy constraint: Member must satisfy regular expression pattern" in str(raised.value)
    with pytest.raises(ClientError) as raised:
        lam.create_function(
            FunctionName="badzip",
            Runtime="python3.11",
            Role=ROLE,
            Handler="a.b",
            Code={"ZipFile": b"not a zip"},
        )
    assert error_of(raised) == ("InvalidParameterValueException", 400)
    with pytest.raises(ClientError) as raised:
        lam.create_function(
            FunctionName="badrole",
            Runtime="python3.11",
            Role="nope",
            Handler="a.b",
            Code={"ZipFile": package({"a.py": ""})},
        )
    assert error_of(raised)[0] == "ValidationException"


def test_list_functions_pages(lam, make_function):
    for i in range(5):
        make_function(f"page-{i}")
    names, marker = [], None
    while True:
        page = lam.list_functions(MaxItems=2, **({"Marker": marker} if marker else {}))
        names += [f["FunctionName"] for f in page["Functions"]]
        marker = page.get("NextMarker")
        if not marker:
            break
    assert names == [f"page-{i}" for i in range(5)]


def test_versions_are_immutable_snapshots(lam, make_function, package, invoke_json, settled):
    make_function("versions", VERSIONED.format(v=1))
    v1 = lam.publish_version(FunctionName="versions")
    assert v1["Version"] == "1"
    assert v1["FunctionArn"].endswith(":function:versions:1")
    assert lam.publish_version(FunctionName="versions")["Version"] == "1"  # nothing changed: no new version
    lam.update_function_code(FunctionName="versions", ZipFile=package({"app.py": VERSIONED.format(v=2)}))
    settled("versions")
    assert lam.publish_version(FunctionName="versions", Description="two")["Version"] == "2"
    assert invoke_json("versions", Qualifier="1")[1] == 1
    assert invoke_json("versions:2")[1] == 2
    assert invoke_json("versions", Qualifier="$LATEST")[0]["ExecutedVersion"] == "$LATEST"
    listed = lam.list_versions_by_function(FunctionName="versions")["Versions"]
    assert [v["Version"] for v in listed] == ["$LATEST", "1", "2"]
    with pytest.raises(ClientError) as raised:
        lam.invoke(FunctionName="versions", Qualifier="7")
    assert error_of(raised) == ("ResourceNotFoundException", 404)
    lam.delete_function(FunctionName="versions", Qualifier="1")
    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName="versions")["Versions"]] == [
        "$LATEST",
        "2",
    ]


def test_alias_routes_and_shifts_traffic(lam, make_function, package, invoke_json, settled):
    make_function("shift", VERSIONED.format(v=1))
    lam.publish_version(FunctionName="shift")
    lam.update_function_code(FunctionName="shift", ZipFile=package({"app.py": VERSIONED.format(v=2)}))
    settled("shift")
    lam.publish_version(FunctionName="shift")
    alias = lam.create_alias(FunctionName="shift", Name="live", FunctionVersion="1")
    assert alias["AliasArn"].endswith(":function:shift:live")
    response, body = invoke_json("shift", Qualifier="live")
    assert (body, response["ExecutedVersion"]) == (1, "1")
    lam.update_alias(
        FunctionName="shift", Name="live", RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}}
    )
    seen = Counter()
    for _ in range(200):
        response, body = invoke_json("shift:live")
        assert int(response["ExecutedVersion"]) == body
        seen[body] += 1
    assert 50 < seen[1] < 150 and 50 < seen[2] < 150
    lam.update_alias(FunctionName="shift", Name="live", FunctionVersion="2", RoutingConfig={})
    assert invoke_json("shift:live")[1] == 2
    assert [a["Name"] for a in lam.list_aliases(FunctionName="shift")["Aliases"]] == ["live"]
    lam.delete_alias(FunctionName="shift", Name="live")
    with pytest.raises(ClientError) as raised:
        lam.get_alias(FunctionName="shift", Name="live")
    assert error_of(raised) == ("ResourceNotFoundException", 404)


def test_alias_errors(lam, make_function):
    make_function("aliaserr")
    with pytest.raises(ClientError) as raised:
        lam.create_alias(FunctionName="aliaserr", Name="123", FunctionVersion="$LATEST")
    assert error_of(raised)[0] == "ValidationException"
    with pytest.raises(ClientError) as raised:
        lam.create_alias(FunctionName="aliaserr", Name="x", FunctionVersion="4")
    assert error_of(raised) == ("ResourceNotFoundException", 404)
    lam.create_alias(FunctionName="aliaserr", Name="x", FunctionVersion="$LATEST")
    with pytest.raises(ClientError) as raised:
        lam.create_alias(FunctionName="aliaserr", Name="x", FunctionVersion="$LATEST")
    assert error_of(raised) == ("ResourceConflictException", 409)


def test_tags(lam, make_function):
    arn = make_function("tagged")["FunctionArn"]
    lam.tag_resource(Resource=arn, Tags={"a": "1", "b": "2"})
    lam.untag_resource(Resource=arn, TagKeys=["a"])
    assert lam.list_tags(Resource=arn)["Tags"] == {"b": "2"}


def test_permissions_policy(lam, make_function):
    arn = make_function("guarded")["FunctionArn"]
    with pytest.raises(ClientError) as raised:
        lam.get_policy(FunctionName="guarded")
    assert error_of(raised) == ("ResourceNotFoundException", 404)
    added = lam.add_permission(
        FunctionName="guarded",
        StatementId="s3",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn="arn:aws:s3:::bucket",
        SourceAccount="000000000000",
    )
    statement = json.loads(added["Statement"])
    assert statement["Principal"] == {"Service": "s3.amazonaws.com"}
    assert statement["Resource"] == arn
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == "arn:aws:s3:::bucket"
    with pytest.raises(ClientError) as raised:
        lam.add_permission(
            FunctionName="guarded",
            StatementId="s3",
            Action="lambda:InvokeFunction",
            Principal="sns.amazonaws.com",
        )
    assert error_of(raised) == ("ResourceConflictException", 409)
    policy = json.loads(lam.get_policy(FunctionName="guarded")["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["s3"]
    lam.remove_permission(FunctionName="guarded", StatementId="s3")
    with pytest.raises(ClientError):
        lam.get_policy(FunctionName="guarded")


def test_layer_versions_api(lam, package):
    first = lam.publish_layer_version(
        LayerName="lib", Content={"ZipFile": package({"python/a.py": ""})}, CompatibleRuntimes=["python3.12"]
    )
    second = lam.publish_layer_version(LayerName="lib", Content={"ZipFile": package({"python/b.py": ""})})
    assert (first["Version"], second["Version"]) == (1, 2)
    assert lam.get_layer_version(LayerName="lib", VersionNumber=1)["CompatibleRuntimes"] == ["python3.12"]
    assert [v["Version"] for v in lam.list_layer_versions(LayerName="lib")["LayerVersions"]] == [2, 1]
    layers = lam.list_layers()["Layers"]
    assert [(item["LayerName"], item["LatestMatchingVersion"]["Version"]) for item in layers] == [("lib", 2)]
    lam.delete_layer_version(LayerName="lib", VersionNumber=2)
    with pytest.raises(ClientError) as raised:
        lam.get_layer_version(LayerName="lib", VersionNumber=2)
    assert error_of(raised) == ("ResourceNotFoundException", 404)


def test_too_many_layers(lam, make_function, package):
    arn = lam.publish_layer_version(LayerName="l", Content={"ZipFile": package({"x": ""})})["LayerVersionArn"]
    with pytest.raises(ClientError) as raised:
        make_function("layered", Layers=[arn] * 6)
    assert error_of(raised)[0] == "InvalidParameterValueException"


def test_account_settings(lam, make_function):
    make_function("counted")
    settings = lam.get_account_settings()
    assert settings["AccountLimit"]["ConcurrentExecutions"] == 1000
    assert settings["AccountUsage"]["FunctionCount"] == 1


def test_made_up_role_is_accepted_with_iam_off(lam, make_function, invoke_json):
    """The default mode keeps the local habit of passing a role that was never created."""
    assert make_function("no-role-needed")["Role"] == ROLE  # arn:aws:iam::000000000000:role/lambda-role
    assert invoke_json("no-role-needed", {"k": 1})[1]["event"] == {"k": 1}
    other = "arn:aws:iam::000000000000:role/also-made-up"
    assert lam.update_function_configuration(FunctionName="no-role-needed", Role=other)["Role"] == other


def test_role_lambda_cannot_assume_is_refused_under_enforce(enforced, package):
    iam, lam = enforced.client("iam"), enforced.client("lambda")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]}

    def role(name: str, service: str) -> str:
        document = dict(trust, Statement=[dict(trust["Statement"][0], Principal={"Service": service})])
        return iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(document))["Role"]["Arn"]

    def create(name: str, role_arn: str):
        return lam.create_function(
            FunctionName=name,
            Runtime="python3.11",
            Role=role_arn,
            Handler="app.handler",
            Code={"ZipFile": package({"app.py": VERSIONED.format(v=1)})},
        )

    ec2_role = role("for-ec2", "ec2.amazonaws.com")
    for role_arn in (ROLE, ec2_role):  # missing, and not trusting lambda.amazonaws.com
        with pytest.raises(ClientError) as raised:
            create("refused", role_arn)
        assert error_of(raised) == ("InvalidParameterValueException", 400)
        assert message_of(raised) == ("The role defined for the function cannot be assumed by Lambda.")
    with pytest.raises(ClientError):
        lam.get_function(FunctionName="refused")

    lambda_role = role("for-lambda", "lambda.amazonaws.com")
    assert create("accepted", lambda_role)["Role"] == lambda_role
    with pytest.raises(ClientError) as raised:
        lam.update_function_configuration(FunctionName="accepted", Role=ec2_role)
    assert error_of(raised) == ("InvalidParameterValueException", 400)
    assert lam.get_function_configuration(FunctionName="accepted")["Role"] == lambda_role
    assert json.loads(lam.invoke(FunctionName="accepted")["Payload"].read()) == 1
