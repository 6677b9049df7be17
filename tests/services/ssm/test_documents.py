"""SSM documents as records: versions, default version, formats, AWS's own documents, tags."""

import json

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of

CONTENT = {
    "schemaVersion": "2.2",
    "description": "Say hello",
    "parameters": {"who": {"type": "String", "default": "world", "description": "Whom to greet"}},
    "mainSteps": [
        {"action": "aws:runShellScript", "name": "hello", "inputs": {"runCommand": ["echo hello {{ who }}"]}}
    ],
}


@pytest.fixture
def ssm(overcast):
    return overcast.client("ssm")


def test_create_describe_get_and_versions(ssm):
    made = ssm.create_document(
        Name="Hello",
        Content=json.dumps(CONTENT),
        DocumentType="Command",
        Tags=[{"Key": "team", "Value": "a"}],
    )["DocumentDescription"]
    assert (made["Name"], made["DocumentVersion"], made["LatestVersion"], made["DefaultVersion"]) == (
        "Hello",
        "1",
        "1",
        "1",
    )
    assert (
        made["Status"] == "Active" and made["SchemaVersion"] == "2.2" and made["Description"] == "Say hello"
    )
    assert made["PlatformTypes"] == ["Linux", "MacOS"] and made["HashType"] == "Sha256"
    assert made["Parameters"] == [
        {"Name": "who", "Type": "String", "Description": "Whom to greet", "DefaultValue": "world"}
    ]
    assert made["Tags"] == [{"Key": "team", "Value": "a"}]
    with pytest.raises(ClientError) as raised:
        ssm.create_document(Name="Hello", Content=json.dumps(CONTENT))
    assert error_of(raised)[0] == "DocumentAlreadyExists"
    changed = dict(CONTENT, description="Say hello again")
    with pytest.raises(ClientError) as raised:
        ssm.update_document(Name="Hello", Content=json.dumps(CONTENT), DocumentVersion="$LATEST")
    assert error_of(raised)[0] == "DuplicateDocumentContent"
    updated = ssm.update_document(Name="Hello", Content=json.dumps(changed), DocumentVersion="$LATEST")[
        "DocumentDescription"
    ]
    assert (updated["DocumentVersion"], updated["LatestVersion"], updated["DefaultVersion"]) == (
        "2",
        "2",
        "1",
    )
    assert json.loads(ssm.get_document(Name="Hello")["Content"])["description"] == "Say hello"
    assert (
        json.loads(ssm.get_document(Name="Hello", DocumentVersion="2")["Content"])["description"]
        == "Say hello again"
    )
    ssm.update_document_default_version(Name="Hello", DocumentVersion="2")
    assert ssm.describe_document(Name="Hello")["Document"]["Description"] == "Say hello again"
    versions = ssm.list_document_versions(Name="Hello")["DocumentVersions"]
    assert [(v["DocumentVersion"], v["IsDefaultVersion"]) for v in versions] == [("1", False), ("2", True)]
    with pytest.raises(ClientError) as raised:
        ssm.delete_document(Name="Hello", DocumentVersion="2")
    assert error_of(raised)[0] == "InvalidDocumentOperation"
    ssm.delete_document(Name="Hello", DocumentVersion="1")
    ssm.delete_document(Name="Hello")
    with pytest.raises(ClientError) as raised:
        ssm.describe_document(Name="Hello")
    assert error_of(raised)[0] == "InvalidDocument"


def test_yaml_documents_and_format_conversion(ssm):
    ssm.create_document(
        Name="InYaml",
        DocumentFormat="YAML",
        Content="schemaVersion: '2.2'\ndescription: from yaml\nmainSteps:\n- action: aws:runShellScript\n  name: x\n  inputs:\n    runCommand: [date]\n",
    )
    as_json = ssm.get_document(Name="InYaml", DocumentFormat="JSON")
    assert (
        as_json["DocumentFormat"] == "JSON" and json.loads(as_json["Content"])["description"] == "from yaml"
    )
    with pytest.raises(ClientError) as raised:
        ssm.create_document(Name="Broken", Content="{not json")
    assert error_of(raised)[0] == "InvalidDocumentContent"
    with pytest.raises(ClientError) as raised:
        ssm.create_document(Name="AWS-Mine", Content=json.dumps(CONTENT))
    assert error_of(raised)[0] == "ValidationException"


def test_aws_documents_and_listing(ssm):
    shell = ssm.describe_document(Name="AWS-RunShellScript")["Document"]
    assert shell["Owner"] == "Amazon" and shell["DocumentType"] == "Command"
    assert "commands" in json.loads(ssm.get_document(Name="AWS-RunShellScript")["Content"])["parameters"]
    ssm.create_document(Name="Mine", Content=json.dumps(CONTENT))
    own = ssm.list_documents(Filters=[{"Key": "Owner", "Values": ["Self"]}])["DocumentIdentifiers"]
    assert [d["Name"] for d in own] == ["Mine"]
    every = [d["Name"] for d in ssm.list_documents()["DocumentIdentifiers"]]
    assert {"AWS-RunShellScript", "AWS-RunPowerShellScript", "Mine"} <= set(every)
    windows = ssm.list_documents(Filters=[{"Key": "PlatformTypes", "Values": ["Windows"]}])[
        "DocumentIdentifiers"
    ]
    assert [d["Name"] for d in windows] == ["AWS-RunPowerShellScript"]
    ssm.add_tags_to_resource(ResourceType="Document", ResourceId="Mine", Tags=[{"Key": "k", "Value": "v"}])
    assert ssm.list_tags_for_resource(ResourceType="Document", ResourceId="Mine")["TagList"] == [
        {"Key": "k", "Value": "v"}
    ]
