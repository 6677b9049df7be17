"""Lambda as AWS answers it (issue 14): names and qualifiers checked against AWS's pattern, the function
lifecycle (Pending on create, InProgress during an update, conflicts meanwhile), AWS's validation texts."""

import json

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of, message_of

from .conftest import ROLE, zip_of

SOURCE = "def handler(event, context):\n    return 1\n"
PATTERN = (
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?"
    r"(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?"
)


def test_function_names_are_checked_against_aws_pattern(lam, make_function):
    with pytest.raises(ClientError) as raised:
        lam.get_function(FunctionName="bad name!")
    assert error_of(raised) == ("ValidationException", 400)
    assert message_of(raised) == (
        "1 validation error detected: Value 'bad name!' at 'functionName' failed to satisfy constraint: "
        f"Member must satisfy regular expression pattern: {PATTERN}"
    )
    with pytest.raises(ClientError) as raised:  # dots are valid in a name AWS looks up
        lam.get_function(FunctionName="has.dot")
    assert error_of(raised) == ("ResourceNotFoundException", 404)
    make_function("here")
    with pytest.raises(ClientError) as raised:
        lam.get_function(FunctionName="arn:aws:lambda:eu-west-1:000000000000:function:here")
    assert error_of(raised) == ("ResourceNotFoundException", 404)
    assert message_of(raised) == "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')"


def test_lifecycle_states_as_aws_reports_them(lam, make_function, package, settled):
    created = make_function("states")
    assert (created["State"], created["StateReason"], created["StateReasonCode"]) == (
        "Pending",
        "The function is being created.",
        "Creating",
    )
    assert "Layers" not in created
    got = lam.get_function(FunctionName="states")
    assert got["Configuration"]["State"] == "Active"
    assert got["Configuration"]["LastUpdateStatus"] == "Successful"
    assert "Tags" not in got and "Layers" not in got["Configuration"]

    updated = lam.update_function_configuration(FunctionName="states", MemorySize=256)
    assert updated["LastUpdateStatus"] == "InProgress"
    assert updated["LastUpdateStatusReasonCode"] == "Creating"
    assert updated["RevisionId"] != created["RevisionId"]
    for call in (
        lambda: lam.update_function_code(FunctionName="states", ZipFile=package({"app.py": SOURCE})),
        lambda: lam.update_function_configuration(FunctionName="states", Timeout=9),
        lambda: lam.publish_version(FunctionName="states"),
    ):
        with pytest.raises(ClientError) as raised:
            call()
        assert error_of(raised) == ("ResourceConflictException", 409)
        assert message_of(raised) == (
            "The operation cannot be performed at this time. An update is in progress for resource: "
            "arn:aws:lambda:us-east-1:000000000000:function:states"
        )
    lam.get_waiter("function_updated_v2").wait(FunctionName="states")
    done = lam.get_function_configuration(FunctionName="states")
    assert done["LastUpdateStatus"] == "Successful" and done["MemorySize"] == 256
    code = lam.update_function_code(FunctionName="states", ZipFile=package({"app.py": SOURCE}))
    assert code["RevisionId"] != done["RevisionId"]
    settled("states")
    assert lam.publish_version(FunctionName="states")["Version"] == "1"


def test_deprecated_runtime_refused_on_create_and_update(lam, make_function):
    with pytest.raises(ClientError) as raised:
        lam.create_function(
            FunctionName="old",
            Runtime="python3.8",
            Role=ROLE,
            Handler="app.handler",
            Code={"ZipFile": zip_of({"app.py": SOURCE})},
        )
    assert error_of(raised) == ("InvalidParameterValueException", 400)
    assert message_of(raised) == (
        "The runtime parameter of python3.8 is no longer supported for creating or updating AWS Lambda "
        "functions. We recommend you use the new runtime (python3.14) while creating or updating functions."
    )
    make_function("current")
    with pytest.raises(ClientError) as raised:
        lam.update_function_configuration(FunctionName="current", Runtime="nodejs16.x")
    assert error_of(raised) == ("InvalidParameterValueException", 400)


def test_latest_cannot_be_deleted_alone_and_large_requests_are_413(lam, make_function):
    make_function("keep")
    with pytest.raises(ClientError) as raised:
        lam.delete_function(FunctionName="keep", Qualifier="$LATEST")
    assert message_of(raised) == "$LATEST version cannot be deleted without deleting the function."
    with pytest.raises(ClientError) as raised:
        lam.invoke(FunctionName="keep", Payload=b'"' + b"x" * (6 * 1024 * 1024) + b'"')
    assert error_of(raised) == ("RequestEntityTooLargeException", 413)


def test_code_location_downloads_the_package_and_list_all_versions(lam, make_function, package, settled):
    import urllib.request

    zipped = package({"app.py": SOURCE})
    lam.create_function(
        FunctionName="download",
        Runtime="python3.11",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": zipped},
    )
    location = lam.get_function(FunctionName="download")["Code"]["Location"]
    with urllib.request.urlopen(location, timeout=10) as response:
        assert response.read() == zipped
    lam.publish_version(FunctionName="download")
    lam.update_function_code(FunctionName="download", ZipFile=package({"app.py": SOURCE + "# two\n"}))
    settled("download")
    lam.publish_version(FunctionName="download")
    make_function("other")
    listed = lam.list_functions(FunctionVersion="ALL")["Functions"]
    assert [(f["FunctionName"], f["Version"]) for f in listed] == [
        ("download", "$LATEST"),
        ("download", "1"),
        ("download", "2"),
        ("other", "$LATEST"),
    ]
    first = lam.list_functions(FunctionVersion="ALL", MaxItems=2)
    rest = lam.list_functions(FunctionVersion="ALL", Marker=first["NextMarker"])
    assert [f["Version"] for f in first["Functions"] + rest["Functions"]] == ["$LATEST", "1", "2", "$LATEST"]
    assert [f["FunctionName"] for f in lam.list_functions()["Functions"]] == ["download", "other"]


def test_recursion_config_layer_permissions_and_mapping_tags(lam, make_function, package, overcast):
    make_function("loop")
    assert lam.get_function_recursion_config(FunctionName="loop")["RecursiveLoop"] == "Terminate"
    assert (
        lam.put_function_recursion_config(FunctionName="loop", RecursiveLoop="Allow")["RecursiveLoop"]
        == "Allow"
    )
    assert lam.get_function_recursion_config(FunctionName="loop")["RecursiveLoop"] == "Allow"

    layer = lam.publish_layer_version(
        LayerName="shared", Content={"ZipFile": package({"python/x.py": "X = 1\n"})}
    )
    with pytest.raises(ClientError) as raised:
        lam.get_layer_version_policy(LayerName="shared", VersionNumber=layer["Version"])
    assert error_of(raised)[0] == "ResourceNotFoundException"
    added = lam.add_layer_version_permission(
        LayerName="shared",
        VersionNumber=layer["Version"],
        StatementId="everyone",
        Action="lambda:GetLayerVersion",
        Principal="*",
    )
    assert json.loads(added["Statement"])["Resource"] == layer["LayerVersionArn"]
    policy = lam.get_layer_version_policy(LayerName="shared", VersionNumber=layer["Version"])
    assert [s["Sid"] for s in json.loads(policy["Policy"])["Statement"]] == ["everyone"]
    assert policy["RevisionId"] == added["RevisionId"]
    with pytest.raises(ClientError) as raised:
        lam.add_layer_version_permission(
            LayerName="shared",
            VersionNumber=layer["Version"],
            StatementId="everyone",
            Action="lambda:GetLayerVersion",
            Principal="*",
        )
    assert error_of(raised) == ("ResourceConflictException", 409)
    lam.remove_layer_version_permission(
        LayerName="shared", VersionNumber=layer["Version"], StatementId="everyone"
    )

    sqs = overcast.client("sqs")
    queue = sqs.create_queue(QueueName="mapped")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    mapping = lam.create_event_source_mapping(
        FunctionName="loop", EventSourceArn=queue_arn, Tags={"team": "a"}
    )
    arn = mapping["EventSourceMappingArn"]
    assert lam.list_tags(Resource=arn)["Tags"] == {"team": "a"}
    lam.tag_resource(Resource=arn, Tags={"env": "dev"})
    lam.untag_resource(Resource=arn, TagKeys=["team"])
    assert lam.list_tags(Resource=arn)["Tags"] == {"env": "dev"}


def test_provisioned_concurrency_on_the_clock(lam, make_function, overcast):
    make_function("warm", Publish=True)
    with pytest.raises(ClientError) as raised:
        lam.put_provisioned_concurrency_config(
            FunctionName="warm", Qualifier="$LATEST", ProvisionedConcurrentExecutions=2
        )
    assert (
        message_of(raised)
        == "Provisioned Concurrency Configs cannot be applied to unpublished function versions."
    )
    put = lam.put_provisioned_concurrency_config(
        FunctionName="warm", Qualifier="1", ProvisionedConcurrentExecutions=2
    )
    assert (put["Status"], put["AllocatedProvisionedConcurrentExecutions"]) == ("IN_PROGRESS", 0)
    overcast.advance_clock("61s")
    got = lam.get_provisioned_concurrency_config(FunctionName="warm", Qualifier="1")
    assert (got["Status"], got["AvailableProvisionedConcurrentExecutions"]) == ("READY", 2)
    listed = lam.list_provisioned_concurrency_configs(FunctionName="warm")["ProvisionedConcurrencyConfigs"]
    assert [c["FunctionArn"] for c in listed] == ["arn:aws:lambda:us-east-1:000000000000:function:warm:1"]
    lam.delete_provisioned_concurrency_config(FunctionName="warm", Qualifier="1")
    with pytest.raises(ClientError) as raised:
        lam.get_provisioned_concurrency_config(FunctionName="warm", Qualifier="1")
    assert error_of(raised) == ("ProvisionedConcurrencyConfigNotFoundException", 404)


def test_code_signing_configs(lam, make_function, package, settled):
    signer = "arn:aws:signer:us-east-1:000000000000:/signing-profiles/p/abc"
    warn = lam.create_code_signing_config(AllowedPublishers={"SigningProfileVersionArns": [signer]})
    config = warn["CodeSigningConfig"]
    assert config["CodeSigningConfigId"].startswith("csc-")
    assert config["CodeSigningPolicies"] == {"UntrustedArtifactOnDeployment": "Warn"}
    make_function("signed", CodeSigningConfigArn=config["CodeSigningConfigArn"])  # Warn: deployed
    assert (
        lam.get_function_code_signing_config(FunctionName="signed")["CodeSigningConfigArn"]
        == config["CodeSigningConfigArn"]
    )
    assert lam.list_functions_by_code_signing_config(CodeSigningConfigArn=config["CodeSigningConfigArn"])[
        "FunctionArns"
    ] == ["arn:aws:lambda:us-east-1:000000000000:function:signed"]
    with pytest.raises(ClientError) as raised:
        lam.delete_code_signing_config(CodeSigningConfigArn=config["CodeSigningConfigArn"])
    assert error_of(raised)[0] == "ResourceConflictException"
    lam.update_code_signing_config(
        CodeSigningConfigArn=config["CodeSigningConfigArn"],
        CodeSigningPolicies={"UntrustedArtifactOnDeployment": "Enforce"},
    )
    settled("signed")
    with pytest.raises(ClientError) as raised:  # our packages carry no signature
        lam.update_function_code(FunctionName="signed", ZipFile=package({"app.py": SOURCE}))
    assert error_of(raised) == ("CodeVerificationFailedException", 400)
    lam.delete_function_code_signing_config(FunctionName="signed")
    lam.delete_code_signing_config(CodeSigningConfigArn=config["CodeSigningConfigArn"])
    assert lam.list_code_signing_configs()["CodeSigningConfigs"] == []
