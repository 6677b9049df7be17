"""Secrets Manager: secrets, versions and staging labels, ARN suffixes and partial ARNs, deletion on the clock,
filters, batch reads, passwords, resource policies, tags, and values encrypted through KMS."""

import json

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of, message_of
from tests.waiting import wait_for


@pytest.fixture
def sm(overcast):
    return overcast.client("secretsmanager")


def test_create_and_read_a_secret(sm):
    made = sm.create_secret(Name="prod/db", SecretString='{"user":"u","password":"p"}', Description="db")
    assert made["Name"] == "prod/db" and made["ARN"].startswith(
        "arn:aws:secretsmanager:us-east-1:000000000000:secret:prod/db-"
    )
    assert len(made["ARN"].rsplit("-", 1)[1]) == 6
    value = sm.get_secret_value(SecretId="prod/db")
    assert value["SecretString"] == '{"user":"u","password":"p"}'
    assert value["VersionStages"] == ["AWSCURRENT"] and value["VersionId"] == made["VersionId"]
    assert value["ARN"] == made["ARN"] and "SecretBinary" not in value
    described = sm.describe_secret(SecretId=made["ARN"])
    assert described["Description"] == "db" and described["RotationEnabled"] is False
    assert described["VersionIdsToStages"] == {made["VersionId"]: ["AWSCURRENT"]}
    assert "KmsKeyId" not in described  # the default key (aws/secretsmanager) is not named


def test_binary_secrets_and_both_values_refused(sm):
    sm.create_secret(Name="bin", SecretBinary=b"\x00\x01\x02")
    assert sm.get_secret_value(SecretId="bin")["SecretBinary"] == b"\x00\x01\x02"
    with pytest.raises(ClientError) as raised:
        sm.create_secret(Name="both", SecretString="a", SecretBinary=b"b")
    assert error_of(raised)[0] == "InvalidParameterException"


def test_secret_ids_by_name_full_arn_and_partial_arn(sm):
    arn = sm.create_secret(Name="app/key", SecretString="v")["ARN"]
    partial = arn.rsplit("-", 1)[0]
    for secret_id in ("app/key", arn, partial):
        assert sm.get_secret_value(SecretId=secret_id)["SecretString"] == "v"
    with pytest.raises(ClientError) as raised:
        sm.get_secret_value(SecretId="app/missing")
    assert error_of(raised) == ("ResourceNotFoundException", 400)
    assert message_of(raised) == "Secrets Manager can't find the specified secret."


def test_duplicate_names_are_refused(sm):
    sm.create_secret(Name="dup", SecretString="1")
    with pytest.raises(ClientError) as raised:
        sm.create_secret(Name="dup", SecretString="2")
    assert error_of(raised)[0] == "ResourceExistsException"
    assert message_of(raised) == "The operation failed because the secret dup already exists."


def test_versions_and_staging_labels_move_as_in_aws(sm):
    first = sm.create_secret(Name="s", SecretString="v1")["VersionId"]
    second = sm.put_secret_value(SecretId="s", SecretString="v2")
    assert second["VersionStages"] == ["AWSCURRENT"]
    stages = sm.describe_secret(SecretId="s")["VersionIdsToStages"]
    assert stages == {second["VersionId"]: ["AWSCURRENT"], first: ["AWSPREVIOUS"]}
    assert sm.get_secret_value(SecretId="s", VersionStage="AWSPREVIOUS")["SecretString"] == "v1"
    assert sm.get_secret_value(SecretId="s", VersionId=first)["SecretString"] == "v1"
    custom = sm.put_secret_value(SecretId="s", SecretString="v3", VersionStages=["BETA"])
    assert sm.get_secret_value(SecretId="s")["SecretString"] == "v2"
    assert sm.get_secret_value(SecretId="s", VersionStage="BETA")["SecretString"] == "v3"
    with pytest.raises(ClientError) as raised:
        sm.update_secret_version_stage(
            SecretId="s", VersionStage="AWSCURRENT", MoveToVersionId=custom["VersionId"]
        )
    assert error_of(raised)[0] == "InvalidParameterException"
    sm.update_secret_version_stage(
        SecretId="s",
        VersionStage="AWSCURRENT",
        MoveToVersionId=custom["VersionId"],
        RemoveFromVersionId=second["VersionId"],
    )
    assert sm.get_secret_value(SecretId="s")["SecretString"] == "v3"
    assert sm.get_secret_value(SecretId="s", VersionStage="AWSPREVIOUS")["SecretString"] == "v2"
    versions = sm.list_secret_version_ids(SecretId="s")["Versions"]
    assert {v["VersionId"] for v in versions} == {
        second["VersionId"],
        custom["VersionId"],
    }  # v1 is unlabelled now
    every = sm.list_secret_version_ids(SecretId="s", IncludeDeprecated=True)["Versions"]
    assert len(every) == 3 and all(v["KmsKeyIds"] for v in every)


def test_client_request_token_makes_puts_idempotent(sm):
    sm.create_secret(Name="idem", SecretString="a")
    token = "11111111-1111-1111-1111-111111111111"
    sm.put_secret_value(SecretId="idem", SecretString="b", ClientRequestToken=token)
    sm.put_secret_value(SecretId="idem", SecretString="b", ClientRequestToken=token)
    with pytest.raises(ClientError) as raised:
        sm.put_secret_value(SecretId="idem", SecretString="c", ClientRequestToken=token)
    assert error_of(raised)[0] == "ResourceExistsException"


def test_deletion_with_a_recovery_window_on_the_clock(overcast, sm):
    arn = sm.create_secret(Name="old", SecretString="x")["ARN"]
    deleted = sm.delete_secret(SecretId="old", RecoveryWindowInDays=7)
    assert deleted["ARN"] == arn and "DeletionDate" in deleted
    with pytest.raises(ClientError) as raised:
        sm.get_secret_value(SecretId="old")
    assert error_of(raised)[0] == "InvalidRequestException"
    assert "DeletedDate" in sm.describe_secret(SecretId="old")
    assert sm.list_secrets()["SecretList"] == []
    assert [s["Name"] for s in sm.list_secrets(IncludePlannedDeletion=True)["SecretList"]] == ["old"]
    sm.restore_secret(SecretId="old")
    assert sm.get_secret_value(SecretId="old")["SecretString"] == "x"
    sm.delete_secret(SecretId="old", RecoveryWindowInDays=7)
    overcast.advance_clock("8d")

    def purged():
        try:
            sm.describe_secret(SecretId=arn)
        except ClientError as error:
            return error_of(error)[0] == "ResourceNotFoundException"
        return False

    wait_for(purged)
    assert sm.create_secret(Name="old", SecretString="new")["ARN"] != arn


def test_force_delete_and_window_checks(sm):
    sm.create_secret(Name="gone", SecretString="x")
    with pytest.raises(ClientError) as raised:
        sm.delete_secret(SecretId="gone", RecoveryWindowInDays=7, ForceDeleteWithoutRecovery=True)
    assert error_of(raised)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as raised:
        sm.delete_secret(SecretId="gone", RecoveryWindowInDays=3)
    assert error_of(raised)[0] == "InvalidParameterException"
    sm.delete_secret(SecretId="gone", ForceDeleteWithoutRecovery=True)
    with pytest.raises(ClientError) as raised:
        sm.describe_secret(SecretId="gone")
    assert error_of(raised)[0] == "ResourceNotFoundException"


def test_list_secrets_filters_and_pages(sm):
    for name in ("app/one", "app/two", "other/three"):
        sm.create_secret(Name=name, SecretString="x", Tags=[{"Key": "team", "Value": name.split("/")[0]}])
    names = lambda answer: [s["Name"] for s in answer["SecretList"]]  # noqa: E731
    assert names(sm.list_secrets(Filters=[{"Key": "name", "Values": ["app/"]}])) == ["app/one", "app/two"]
    assert names(sm.list_secrets(Filters=[{"Key": "tag-value", "Values": ["other"]}])) == ["other/three"]
    assert names(sm.list_secrets(Filters=[{"Key": "name", "Values": ["!app"]}])) == ["other/three"]
    first = sm.list_secrets(MaxResults=2)
    rest = sm.list_secrets(MaxResults=2, NextToken=first["NextToken"])
    assert names(first) + names(rest) == ["app/one", "app/two", "other/three"]
    assert names(sm.list_secrets(SortOrder="desc"))[0] == "other/three"


def test_batch_get_secret_value(sm):
    sm.create_secret(Name="b1", SecretString="one")
    sm.create_secret(Name="b2", SecretString="two")
    answer = sm.batch_get_secret_value(SecretIdList=["b1", "b2", "missing"])
    assert [v["SecretString"] for v in answer["SecretValues"]] == ["one", "two"]
    assert answer["Errors"] == [
        {
            "SecretId": "missing",
            "ErrorCode": "ResourceNotFoundException",
            "Message": "Secrets Manager can't find the specified secret.",
        }
    ]
    by_filter = sm.batch_get_secret_value(Filters=[{"Key": "name", "Values": ["b2"]}])
    assert [v["Name"] for v in by_filter["SecretValues"]] == ["b2"]


def test_random_passwords(sm):
    password = sm.get_random_password()["RandomPassword"]
    assert len(password) == 32
    only = sm.get_random_password(PasswordLength=20, ExcludePunctuation=True, ExcludeNumbers=True)[
        "RandomPassword"
    ]
    assert len(only) == 20 and only.isalpha()
    assert "a" not in sm.get_random_password(ExcludeCharacters="a", PasswordLength=100)["RandomPassword"]


def test_resource_policies_and_block_public_policy(sm):
    arn = sm.create_secret(Name="shared", SecretString="x")["ARN"]
    public = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "secretsmanager:GetSecretValue",
                    "Resource": "*",
                }
            ],
        }
    )
    with pytest.raises(ClientError) as raised:
        sm.put_resource_policy(SecretId="shared", ResourcePolicy=public, BlockPublicPolicy=True)
    assert error_of(raised)[0] == "PublicPolicyException"
    scoped = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
                    "Action": "secretsmanager:GetSecretValue",
                    "Resource": "*",
                }
            ],
        }
    )
    assert sm.validate_resource_policy(ResourcePolicy=scoped)["PolicyValidationPassed"] is True
    invalid = sm.validate_resource_policy(ResourcePolicy="{}")
    assert invalid["PolicyValidationPassed"] is False and invalid["ValidationErrors"]
    assert sm.list_resource_policies(SecretId="shared")["ResourcePolicies"] == []
    assert sm.put_resource_policy(SecretId="shared", ResourcePolicy=scoped)["PolicyName"] == "default"
    assert sm.get_resource_policy(SecretId="shared")["ResourcePolicy"] == scoped
    assert sm.list_resource_policies(SecretId="shared")["ResourcePolicies"] == [{"PolicyName": "default"}]
    with pytest.raises(ClientError) as raised:
        sm.put_resource_policy(SecretId="shared", ResourcePolicy=scoped, PolicyName="other")
    assert error_of(raised)[0] == "InvalidParameterException"
    sm.delete_resource_policy(SecretId=arn)
    assert "ResourcePolicy" not in sm.get_resource_policy(SecretId="shared")


def test_tags(sm):
    sm.create_secret(Name="t", SecretString="x")
    sm.tag_resource(SecretId="t", Tags=[{"Key": "env", "Value": "dev"}])
    assert sm.describe_secret(SecretId="t")["Tags"] == [{"Key": "env", "Value": "dev"}]
    sm.untag_resource(SecretId="t", TagKeys=["env"])
    assert "Tags" not in sm.describe_secret(SecretId="t")


def test_values_are_encrypted_with_the_chosen_key(overcast, sm):
    kms = overcast.client("kms")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    sm.create_secret(Name="custom", SecretString="under my key", KmsKeyId=key)
    assert sm.describe_secret(SecretId="custom")["KmsKeyId"] == key
    kms.disable_key(KeyId=key)
    with pytest.raises(ClientError) as raised:
        sm.get_secret_value(SecretId="custom")
    assert error_of(raised)[0] == "DecryptionFailure"
    kms.enable_key(KeyId=key)
    assert sm.get_secret_value(SecretId="custom")["SecretString"] == "under my key"
    sm.create_secret(Name="default", SecretString="x")
    assert kms.describe_key(KeyId="alias/aws/secretsmanager")["KeyMetadata"]["KeyManager"] == "AWS"


def test_a_failed_update_changes_nothing_later_reads_see(overcast, sm):
    kms = overcast.client("kms")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.disable_key(KeyId=key)
    made = sm.create_secret(Name="steady", SecretString="v1", Description="before")
    assert sm.get_secret_value(SecretId="steady")["SecretString"] == "v1"  # read once: remembered
    assert sm.describe_secret(SecretId=made["ARN"])["Description"] == "before"
    with pytest.raises(ClientError) as raised:  # the description is written, then the value fails
        sm.update_secret(SecretId="steady", Description="after", KmsKeyId=key, SecretString="v2")
    assert error_of(raised)[0] == "EncryptionFailure"
    described = sm.describe_secret(SecretId="steady")
    assert described["Description"] == "before" and "KmsKeyId" not in described
    value = sm.get_secret_value(SecretId=made["ARN"])
    assert value["SecretString"] == "v1" and value["VersionId"] == made["VersionId"]
    sm.put_secret_value(SecretId="steady", SecretString="v2")
    assert sm.get_secret_value(SecretId="steady")["SecretString"] == "v2"
    assert sm.get_secret_value(SecretId="steady", VersionStage="AWSPREVIOUS")["SecretString"] == "v1"


def test_secret_values_are_not_stored_in_plain_text(tmp_path):
    from overcast.config import Config
    from overcast.testing import OvercastServer

    with OvercastServer(Config(data_dir=tmp_path, log_level="warning")) as server:
        server.client("secretsmanager").create_secret(
            Name="hidden", SecretString="correct horse battery staple"
        )
    stored = b"".join(path.read_bytes() for path in tmp_path.rglob("*") if path.is_file())
    assert b"correct horse battery staple" not in stored
    with OvercastServer(Config(data_dir=tmp_path, log_level="warning")) as server:
        value = server.client("secretsmanager").get_secret_value(SecretId="hidden")["SecretString"]
        assert value == "correct horse battery staple"


def test_replicas_follow_their_primary(overcast, sm):
    west = overcast.client("secretsmanager", region="eu-west-1")
    made = sm.create_secret(
        Name="replicated", SecretString="one", AddReplicaRegions=[{"Region": "eu-west-1"}], Description="d"
    )
    assert made["ReplicationStatus"] == [
        {
            "Region": "eu-west-1",
            "KmsKeyId": "alias/aws/secretsmanager",
            "Status": "InSync",
            "StatusMessage": "Replication succeeded",
        }
    ]
    replica_arn = made["ARN"].replace("us-east-1", "eu-west-1")
    assert west.get_secret_value(SecretId="replicated")["SecretString"] == "one"
    assert west.describe_secret(SecretId=replica_arn)["PrimaryRegion"] == "us-east-1"
    sm.put_secret_value(SecretId="replicated", SecretString="two")
    sm.tag_resource(SecretId="replicated", Tags=[{"Key": "k", "Value": "v"}])
    assert west.get_secret_value(SecretId="replicated")["SecretString"] == "two"
    assert west.get_secret_value(SecretId="replicated", VersionStage="AWSPREVIOUS")["SecretString"] == "one"
    assert west.describe_secret(SecretId="replicated")["Tags"] == [{"Key": "k", "Value": "v"}]
    with pytest.raises(ClientError) as raised:
        west.put_secret_value(SecretId="replicated", SecretString="mine")
    assert error_of(raised)[0] == "InvalidRequestException"
    with pytest.raises(ClientError) as raised:
        sm.delete_secret(SecretId="replicated", ForceDeleteWithoutRecovery=True)
    assert error_of(raised)[0] == "InvalidRequestException"
    sm.remove_regions_from_replication(SecretId="replicated", RemoveReplicaRegions=["eu-west-1"])
    with pytest.raises(ClientError) as raised:
        west.get_secret_value(SecretId="replicated")
    assert error_of(raised)[0] == "ResourceNotFoundException"
    sm.replicate_secret_to_regions(SecretId="replicated", AddReplicaRegions=[{"Region": "eu-west-1"}])
    assert west.get_secret_value(SecretId="replicated")["SecretString"] == "two"
    west.stop_replication_to_replica(SecretId="replicated")
    west.put_secret_value(SecretId="replicated", SecretString="independent")
    assert sm.get_secret_value(SecretId="replicated")["SecretString"] == "two"
    assert "ReplicationStatus" not in sm.describe_secret(SecretId="replicated")
