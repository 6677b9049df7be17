"""Parameter Store: types, SecureString through KMS, hierarchies and GetParametersByPath, versions, labels and
selectors, history, tiers and their limits, allowedPattern, data types, policies on the clock, public
parameters, Secrets Manager references, tags."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of, message_of
from tests.waiting import wait_for


@pytest.fixture
def ssm(overcast):
    return overcast.client("ssm")


def test_put_and_get_each_type(ssm):
    put = ssm.put_parameter(Name="/app/url", Value="https://x", Type="String")
    assert (put["Version"], put["Tier"]) == (1, "Standard")
    ssm.put_parameter(Name="/app/list", Value="a,b,c", Type="StringList")
    got = ssm.get_parameter(Name="/app/url")["Parameter"]
    assert got["Value"] == "https://x" and got["Type"] == "String" and got["Version"] == 1
    assert got["ARN"] == "arn:aws:ssm:us-east-1:000000000000:parameter/app/url" and got["DataType"] == "text"
    assert ssm.get_parameter(Name="/app/list")["Parameter"]["Value"] == "a,b,c"
    ssm.put_parameter(Name="plain", Value="v", Type="String")
    assert ssm.get_parameter(Name="plain")["Parameter"]["ARN"].endswith(":parameter/plain")
    with pytest.raises(ClientError) as raised:
        ssm.get_parameter(Name="/app/missing")
    assert error_of(raised) == ("ParameterNotFound", 400)


def test_secure_strings_are_decrypted_only_with_decryption(ssm):
    ssm.put_parameter(Name="/app/db/password", Value="hunter2", Type="SecureString")
    hidden = ssm.get_parameter(Name="/app/db/password")["Parameter"]
    assert hidden["Type"] == "SecureString" and hidden["Value"] != "hunter2"
    assert ssm.get_parameter(Name="/app/db/password", WithDecryption=True)["Parameter"]["Value"] == "hunter2"
    meta = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": ["/app/db/password"]}])[
        "Parameters"
    ]
    assert meta[0]["KeyId"] == "alias/aws/ssm"


def test_secure_string_with_a_customer_key_follows_the_key(overcast, ssm):
    kms = overcast.client("kms")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    ssm.put_parameter(Name="/app/token", Value="t0k3n", Type="SecureString", KeyId=key)
    kms.disable_key(KeyId=key)
    with pytest.raises(ClientError) as raised:
        ssm.get_parameter(Name="/app/token", WithDecryption=True)
    assert error_of(raised)[0] == "DisabledException"
    assert ssm.get_parameter(Name="/app/token")["Parameter"]["Type"] == "SecureString"  # no decryption needed
    kms.enable_key(KeyId=key)
    assert ssm.get_parameter(Name="/app/token", WithDecryption=True)["Parameter"]["Value"] == "t0k3n"
    with pytest.raises(ClientError) as raised:
        ssm.put_parameter(Name="/app/other", Value="x", Type="SecureString", KeyId="alias/none")
    assert error_of(raised)[0] == "InvalidKeyId"
    with pytest.raises(ClientError) as raised:
        ssm.put_parameter(Name="/app/plain", Value="x", Type="String", KeyId=key)
    assert error_of(raised)[0] == "ValidationException"


def test_get_parameters_by_path_over_a_three_level_hierarchy(ssm):
    for name, kind in [
        ("/finance/app/dev/url", "String"),
        ("/finance/app/dev/db/password", "SecureString"),
        ("/finance/app/prod/url", "String"),
        ("/finance/app/prod/db/password", "SecureString"),
        ("/finance/other", "String"),
        ("/marketing/app/url", "String"),
    ]:
        ssm.put_parameter(Name=name, Value=f"value of {name}", Type=kind)
    names, token = [], None
    for _ in range(10):
        page = ssm.get_parameters_by_path(
            Path="/finance/app",
            Recursive=True,
            WithDecryption=True,
            MaxResults=3,
            **({"NextToken": token} if token else {}),
        )
        names += [(p["Name"], p["Value"]) for p in page["Parameters"]]
        token = page.get("NextToken")
        if not token:
            break
    assert names == [
        ("/finance/app/dev/db/password", "value of /finance/app/dev/db/password"),
        ("/finance/app/dev/url", "value of /finance/app/dev/url"),
        ("/finance/app/prod/db/password", "value of /finance/app/prod/db/password"),
        ("/finance/app/prod/url", "value of /finance/app/prod/url"),
    ]
    one_level = ssm.get_parameters_by_path(Path="/finance/app/dev")["Parameters"]
    assert [p["Name"] for p in one_level] == ["/finance/app/dev/url"]
    secure = ssm.get_parameters_by_path(
        Path="/finance", Recursive=True, ParameterFilters=[{"Key": "Type", "Values": ["SecureString"]}]
    )["Parameters"]
    assert [p["Name"] for p in secure] == ["/finance/app/dev/db/password", "/finance/app/prod/db/password"]
    assert all(not p["Value"].startswith("value of") for p in secure)  # no WithDecryption: ciphertext
    with pytest.raises(ClientError) as raised:
        ssm.get_parameters_by_path(Path="/finance", ParameterFilters=[{"Key": "Name", "Values": ["x"]}])
    assert error_of(raised)[0] == "InvalidFilterKey"


def test_overwrite_versions_history_and_labels(ssm):
    ssm.put_parameter(Name="/cfg", Value="one", Type="String", Description="first")
    with pytest.raises(ClientError) as raised:
        ssm.put_parameter(Name="/cfg", Value="two", Type="String")
    assert error_of(raised)[0] == "ParameterAlreadyExists"
    assert ssm.put_parameter(Name="/cfg", Value="two", Overwrite=True)["Version"] == 2
    ssm.put_parameter(Name="/cfg", Value="three", Overwrite=True)
    labelled = ssm.label_parameter_version(
        Name="/cfg", ParameterVersion=1, Labels=["stable", "aws-bad", "123"]
    )
    assert (labelled["InvalidLabels"], labelled["ParameterVersion"]) == (["aws-bad", "123"], 1)
    by_label = ssm.get_parameter(Name="/cfg:stable")["Parameter"]
    assert (by_label["Value"], by_label["Version"], by_label["Selector"]) == ("one", 1, ":stable")
    assert ssm.get_parameter(Name="/cfg:2")["Parameter"]["Value"] == "two"
    with pytest.raises(ClientError) as raised:
        ssm.get_parameter(Name="/cfg:9")
    assert error_of(raised)[0] == "ParameterVersionNotFound"
    ssm.label_parameter_version(Name="/cfg", Labels=["stable"])  # moves the label to the latest version
    assert ssm.get_parameter(Name="/cfg:stable")["Parameter"]["Version"] == 3
    history = ssm.get_parameter_history(Name="/cfg")["Parameters"]
    assert [(h["Version"], h["Value"], h["Labels"]) for h in history] == [
        (1, "one", []),
        (2, "two", []),
        (3, "three", ["stable"]),
    ]
    assert history[2]["Description"] == "first"
    unlabelled = ssm.unlabel_parameter_version(Name="/cfg", ParameterVersion=3, Labels=["stable", "nope"])
    assert (unlabelled["RemovedLabels"], unlabelled["InvalidLabels"]) == (["stable"], ["nope"])
    found = ssm.get_parameters(Names=["/cfg", "/cfg:2", "/nothing"])
    assert [p["Value"] for p in found["Parameters"]] == ["three", "two"] and found["InvalidParameters"] == [
        "/nothing"
    ]


def test_names_and_hierarchy_limits(ssm):
    for bad in ("awsthing", "/ssm/x", "a/b", "/bad name"):
        with pytest.raises(ClientError) as raised:
            ssm.put_parameter(Name=bad, Value="x", Type="String")
        assert error_of(raised)[0] == "ValidationException", bad
    deep = "/" + "/".join(f"l{i}" for i in range(16))
    with pytest.raises(ClientError) as raised:
        ssm.put_parameter(Name=deep, Value="x", Type="String")
    assert error_of(raised)[0] == "HierarchyLevelLimitExceededException"


def test_tiers_and_value_sizes(ssm):
    big = "x" * 5000
    with pytest.raises(ClientError) as raised:
        ssm.put_parameter(Name="/big", Value=big, Type="String")
    assert error_of(raised)[0] == "ValidationException"
    assert message_of(raised).startswith("Standard tier parameters support a maximum parameter value of 4096")
    assert ssm.put_parameter(Name="/big", Value=big, Type="String", Tier="Advanced")["Tier"] == "Advanced"
    assert (
        ssm.put_parameter(Name="/auto", Value=big, Type="String", Tier="Intelligent-Tiering")["Tier"]
        == "Advanced"
    )
    with pytest.raises(ClientError) as raised:
        ssm.put_parameter(Name="/big", Value="small", Type="String", Tier="Standard", Overwrite=True)
    assert error_of(raised)[0] == "ValidationException"
    with pytest.raises(ClientError) as raised:
        ssm.put_parameter(Name="/huge", Value="x" * 9000, Type="String", Tier="Advanced")
    assert error_of(raised)[0] == "ValidationException"
    secure = ssm.put_parameter(Name="/big-secure", Value=big, Type="SecureString", Tier="Advanced")
    assert secure["Tier"] == "Advanced"
    assert ssm.get_parameter(Name="/big-secure", WithDecryption=True)["Parameter"]["Value"] == big


def test_allowed_pattern_and_data_types(ssm):
    ssm.put_parameter(Name="/port", Value="8080", Type="String", AllowedPattern=r"^\d+$")
    with pytest.raises(ClientError) as raised:
        ssm.put_parameter(Name="/port", Value="eighty", Overwrite=True)
    assert error_of(raised)[0] == "ParameterPatternMismatchException"
    ssm.put_parameter(Name="/ami", Value="ami-0123456789abcdef0", Type="String", DataType="aws:ec2:image")
    assert ssm.get_parameter(Name="/ami")["Parameter"]["DataType"] == "aws:ec2:image"
    with pytest.raises(ClientError) as raised:
        ssm.put_parameter(Name="/ami2", Value="not-an-ami", Type="String", DataType="aws:ec2:image")
    assert error_of(raised)[0] == "ValidationException"


def test_expiration_policy_removes_the_parameter_on_the_clock(overcast, ssm):
    when = (datetime.now(UTC) + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    policies = json.dumps(
        [
            {"Type": "Expiration", "Version": "1.0", "Attributes": {"Timestamp": when}},
            {
                "Type": "ExpirationNotification",
                "Version": "1.0",
                "Attributes": {"Before": "2", "Unit": "Days"},
            },
        ]
    )
    with pytest.raises(ClientError) as raised:
        ssm.put_parameter(Name="/temp", Value="x", Type="String", Policies=policies)
    assert error_of(raised)[0] == "ValidationException"  # Standard tier: no policies
    ssm.put_parameter(Name="/temp", Value="x", Type="String", Tier="Advanced", Policies=policies)
    described = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": ["/temp"]}])[
        "Parameters"
    ][0]
    assert [p["PolicyType"] for p in described["Policies"]] == ["Expiration", "ExpirationNotification"]
    overcast.advance_clock("4d")
    assert ssm.get_parameter(Name="/temp")["Parameter"]["Value"] == "x"
    overcast.advance_clock("1d1h")

    def expired():
        try:
            ssm.get_parameter(Name="/temp")
        except ClientError as error:
            return error_of(error)[0] == "ParameterNotFound"
        return False

    wait_for(expired)
    with pytest.raises(ClientError) as raised:
        ssm.put_parameter(
            Name="/p2", Value="x", Type="String", Tier="Advanced", Policies='[{"Type": "Nope"}]'
        )
    assert error_of(raised)[0] == "InvalidPolicyTypeException"


def test_describe_parameters_filters_and_pages(ssm):
    for i in range(5):
        ssm.put_parameter(Name=f"/d/p{i}", Value="v", Type="String" if i % 2 else "SecureString")
    ssm.put_parameter(Name="/e/q", Value="v", Type="String")
    names = lambda answer: [p["Name"] for p in answer["Parameters"]]  # noqa: E731
    assert names(
        ssm.describe_parameters(
            ParameterFilters=[{"Key": "Path", "Values": ["/d"]}, {"Key": "Type", "Values": ["String"]}]
        )
    ) == [
        "/d/p1",
        "/d/p3",
    ]
    assert names(
        ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Option": "BeginsWith", "Values": ["/e"]}])
    ) == ["/e/q"]
    first = ssm.describe_parameters(MaxResults=4)
    rest = ssm.describe_parameters(MaxResults=4, NextToken=first["NextToken"])
    assert len(names(first) + names(rest)) == 6
    with pytest.raises(ClientError) as raised:
        ssm.describe_parameters(NextToken="bogus")
    assert error_of(raised)[0] == "InvalidNextToken"


def test_delete_parameters(ssm):
    ssm.put_parameter(Name="/x", Value="1", Type="String")
    ssm.put_parameter(Name="/y", Value="1", Type="String")
    ssm.delete_parameter(Name="/x")
    with pytest.raises(ClientError) as raised:
        ssm.delete_parameter(Name="/x")
    assert error_of(raised)[0] == "ParameterNotFound"
    answer = ssm.delete_parameters(Names=["/y", "/z"])
    assert answer["DeletedParameters"] == ["/y"] and answer["InvalidParameters"] == ["/z"]


def test_public_parameters_are_answered_read_only(ssm):
    ami = ssm.get_parameter(Name="/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64")[
        "Parameter"
    ]
    assert ami["Value"].startswith("ami-") and ami["DataType"] == "aws:ec2:image"
    assert (
        ami["ARN"]
        == "arn:aws:ssm:us-east-1::parameter/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
    )
    name = ssm.get_parameter(Name="/aws/service/global-infrastructure/regions/eu-west-1/longName")[
        "Parameter"
    ]
    assert name["Value"] == "Europe (Ireland)"
    listed = ssm.get_parameters_by_path(Path="/aws/service/ami-amazon-linux-latest", MaxResults=10)
    assert all(p["Name"].startswith("/aws/service/ami-amazon-linux-latest/") for p in listed["Parameters"])
    with pytest.raises(ClientError) as raised:
        ssm.put_parameter(Name="/aws/service/mine", Value="x", Type="String")
    assert error_of(raised)[0] == "ValidationException"


def test_secrets_manager_references(overcast, ssm):
    sm = overcast.client("secretsmanager")
    arn = sm.create_secret(Name="mysecret", SecretString="from secrets manager")["ARN"]
    got = ssm.get_parameter(Name="/aws/reference/secretsmanager/mysecret", WithDecryption=True)["Parameter"]
    assert got["Value"] == "from secrets manager" and got["Type"] == "SecureString" and got["ARN"] == arn
    assert json.loads(got["SourceResult"])["Name"] == "mysecret"
    with pytest.raises(ClientError) as raised:
        ssm.get_parameter(Name="/aws/reference/secretsmanager/mysecret")
    assert error_of(raised)[0] == "ValidationException"


def test_tags(ssm):
    ssm.put_parameter(Name="/tagged", Value="v", Type="String", Tags=[{"Key": "env", "Value": "dev"}])
    assert ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId="/tagged")["TagList"] == [
        {"Key": "env", "Value": "dev"}
    ]
    ssm.add_tags_to_resource(
        ResourceType="Parameter", ResourceId="/tagged", Tags=[{"Key": "team", "Value": "a"}]
    )
    ssm.remove_tags_from_resource(ResourceType="Parameter", ResourceId="/tagged", TagKeys=["env"])
    assert ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId="/tagged")["TagList"] == [
        {"Key": "team", "Value": "a"}
    ]
    with pytest.raises(ClientError) as raised:
        ssm.put_parameter(Name="/tagged", Value="w", Overwrite=True, Tags=[{"Key": "a", "Value": "b"}])
    assert error_of(raised)[0] == "ValidationException"
    with pytest.raises(ClientError) as raised:
        ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId="/none")
    assert error_of(raised)[0] == "InvalidResourceId"


def test_reads_follow_every_change_of_a_parameter(overcast, ssm):
    ssm.put_parameter(Name="/live/flag", Value="on", Type="String")
    assert ssm.get_parameter(Name="/live/flag")["Parameter"]["Value"] == "on"  # read once: remembered
    with pytest.raises(ClientError) as raised:  # refused: nothing changes
        ssm.put_parameter(Name="/live/flag", Value="off", Type="String")
    assert error_of(raised)[0] == "ParameterAlreadyExists"
    assert ssm.get_parameter(Name="/live/flag")["Parameter"]["Value"] == "on"
    ssm.put_parameter(Name="/live/flag", Value="off", Type="String", Overwrite=True, Description="d")
    got = ssm.get_parameter(Name="/live/flag")["Parameter"]
    assert (got["Value"], got["Version"]) == ("off", 2)
    assert ssm.get_parameter(Name="/live/flag:1")["Parameter"]["Value"] == "on"
    kms = overcast.client("kms")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.disable_key(KeyId=key)
    with pytest.raises(ClientError):  # the value cannot be sealed: the request leaves no trace
        ssm.put_parameter(Name="/live/flag", Value="x", Type="SecureString", KeyId=key, Overwrite=True)
    got = ssm.get_parameter(Name="/live/flag")["Parameter"]
    assert (got["Value"], got["Type"], got["Version"]) == ("off", "String", 2)
    ssm.delete_parameter(Name="/live/flag")
    with pytest.raises(ClientError) as raised:
        ssm.get_parameter(Name="/live/flag")
    assert error_of(raised)[0] == "ParameterNotFound"
    ssm.put_parameter(Name="/live/flag", Value="again", Type="String")
    got = ssm.get_parameter(Name="/live/flag")["Parameter"]
    assert (got["Value"], got["Version"]) == ("again", 1)
