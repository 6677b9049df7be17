"""KMS keys: metadata, lookup by id/ARN/alias, states and their errors, scheduled deletion on the clock,
rotation, aliases, AWS managed keys, tags, multi-Region keys."""

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of, message_of
from tests.waiting import wait_for

ACCOUNT = "000000000000"


def test_create_key_returns_every_field_aws_returns(kms):
    meta = kms.create_key(Description="mine")["KeyMetadata"]
    assert set(meta) == {
        "AWSAccountId",
        "KeyId",
        "Arn",
        "CreationDate",
        "Enabled",
        "Description",
        "KeyUsage",
        "KeyState",
        "Origin",
        "KeyManager",
        "CustomerMasterKeySpec",
        "KeySpec",
        "EncryptionAlgorithms",
        "MultiRegion",
        "CurrentKeyMaterialId",
    }
    assert meta["Arn"] == f"arn:aws:kms:us-east-1:{ACCOUNT}:key/{meta['KeyId']}"
    assert (meta["KeyState"], meta["Enabled"], meta["KeyManager"]) == ("Enabled", True, "CUSTOMER")
    assert (meta["KeySpec"], meta["KeyUsage"], meta["Origin"]) == (
        "SYMMETRIC_DEFAULT",
        "ENCRYPT_DECRYPT",
        "AWS_KMS",
    )
    assert meta["EncryptionAlgorithms"] == ["SYMMETRIC_DEFAULT"]
    assert meta["MultiRegion"] is False


def test_asymmetric_and_hmac_keys_list_their_algorithms(kms):
    rsa = kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    assert rsa["SigningAlgorithms"][0] == "RSASSA_PSS_SHA_256" and "EncryptionAlgorithms" not in rsa
    ecc = kms.create_key(KeySpec="ECC_NIST_P384", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    assert ecc["SigningAlgorithms"] == ["ECDSA_SHA_384"]
    hmac = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]
    assert hmac["MacAlgorithms"] == ["HMAC_SHA_256"]
    agreement = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")["KeyMetadata"]
    assert agreement["KeyAgreementAlgorithms"] == ["ECDH"]


def test_key_usage_must_suit_the_key_spec(kms):
    with pytest.raises(ClientError) as raised:
        kms.create_key(KeySpec="ECC_NIST_P256")  # KeyUsage defaults to ENCRYPT_DECRYPT
    assert error_of(raised) == ("ValidationException", 400)


def test_a_key_is_found_by_id_arn_alias_and_alias_arn(kms, key):
    arn = kms.describe_key(KeyId=key)["KeyMetadata"]["Arn"]
    kms.create_alias(AliasName="alias/app", TargetKeyId=key)
    for named in (key, arn, "alias/app", f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/app"):
        assert kms.describe_key(KeyId=named)["KeyMetadata"]["KeyId"] == key


def test_missing_keys_and_aliases_have_aws_errors(kms):
    missing = "11111111-2222-3333-4444-555555555555"
    with pytest.raises(ClientError) as raised:
        kms.describe_key(KeyId=missing)
    assert error_of(raised) == ("NotFoundException", 400)
    assert message_of(raised) == f"Key 'arn:aws:kms:us-east-1:{ACCOUNT}:key/{missing}' does not exist"
    with pytest.raises(ClientError) as raised:
        kms.describe_key(KeyId="alias/nothing")
    assert message_of(raised) == f"Alias arn:aws:kms:us-east-1:{ACCOUNT}:alias/nothing is not found."
    with pytest.raises(ClientError) as raised:
        kms.describe_key(KeyId="not-a-key")
    assert error_of(raised) == ("NotFoundException", 400)


def test_list_keys_pages(kms):
    made = {kms.create_key()["KeyMetadata"]["KeyId"] for _ in range(5)}
    seen, marker = [], None
    for _ in range(10):
        page = kms.list_keys(Limit=2, **({"Marker": marker} if marker else {}))
        seen += [k["KeyId"] for k in page["Keys"]]
        if not page["Truncated"]:
            assert "NextMarker" not in page
            break
        marker = page["NextMarker"]
    assert made <= set(seen) and len(seen) == len(set(seen))
    with pytest.raises(ClientError) as raised:
        kms.list_keys(Marker="garbage")
    assert error_of(raised)[0] == "InvalidMarkerException"


def test_disabled_key_refuses_cryptography_until_enabled(kms, key):
    blob = kms.encrypt(KeyId=key, Plaintext=b"x")["CiphertextBlob"]
    kms.disable_key(KeyId=key)
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "Disabled"
    with pytest.raises(ClientError) as raised:
        kms.decrypt(CiphertextBlob=blob)
    assert error_of(raised) == ("DisabledException", 400)
    assert message_of(raised).endswith(f":key/{key} is disabled.")
    kms.enable_key(KeyId=key)
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"


def test_scheduled_deletion_waits_on_the_clock(overcast, kms, key):
    with pytest.raises(ClientError) as raised:
        kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=6)
    assert error_of(raised) == ("ValidationException", 400)
    answer = kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=7)
    assert answer["KeyState"] == "PendingDeletion" and answer["PendingWindowInDays"] == 7
    assert answer["KeyId"].endswith(key)
    meta = kms.describe_key(KeyId=key)["KeyMetadata"]
    assert meta["KeyState"] == "PendingDeletion" and meta["DeletionDate"] == answer["DeletionDate"]
    with pytest.raises(ClientError) as raised:
        kms.encrypt(KeyId=key, Plaintext=b"x")
    assert error_of(raised) == ("KMSInvalidStateException", 400)
    assert message_of(raised) == f"arn:aws:kms:us-east-1:{ACCOUNT}:key/{key} is pending deletion."
    with pytest.raises(ClientError) as raised:
        kms.enable_key(KeyId=key)
    assert error_of(raised)[0] == "KMSInvalidStateException"
    overcast.advance_clock("6d")
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "PendingDeletion"
    overcast.advance_clock("1d1h")

    def gone():
        try:
            kms.describe_key(KeyId=key)
        except ClientError as error:
            return error_of(error)[0] == "NotFoundException"
        return False

    wait_for(gone)


def test_cancelled_deletion_leaves_the_key_disabled(kms, key):
    kms.schedule_key_deletion(KeyId=key)
    kms.cancel_key_deletion(KeyId=key)
    meta = kms.describe_key(KeyId=key)["KeyMetadata"]
    assert meta["KeyState"] == "Disabled" and "DeletionDate" not in meta
    with pytest.raises(ClientError) as raised:
        kms.cancel_key_deletion(KeyId=key)
    assert error_of(raised)[0] == "KMSInvalidStateException"


def test_automatic_rotation_on_the_clock_keeps_old_ciphertexts(overcast, kms, key):
    old = kms.encrypt(KeyId=key, Plaintext=b"before")["CiphertextBlob"]
    first_material = kms.describe_key(KeyId=key)["KeyMetadata"]["CurrentKeyMaterialId"]
    kms.enable_key_rotation(KeyId=key, RotationPeriodInDays=90)
    status = kms.get_key_rotation_status(KeyId=key)
    assert status["KeyRotationEnabled"] is True and status["RotationPeriodInDays"] == 90
    assert kms.list_key_rotations(KeyId=key)["Rotations"] == []
    overcast.advance_clock("91d")
    rotations = wait_for(lambda: kms.list_key_rotations(KeyId=key)["Rotations"])
    assert rotations[0]["RotationType"] == "AUTOMATIC"
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["CurrentKeyMaterialId"] != first_material
    assert kms.decrypt(CiphertextBlob=old)["Plaintext"] == b"before"
    new = kms.encrypt(KeyId=key, Plaintext=b"after")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=new)["Plaintext"] == b"after"


def test_on_demand_rotation(kms, key):
    old = kms.encrypt(KeyId=key, Plaintext=b"x")["CiphertextBlob"]
    assert kms.rotate_key_on_demand(KeyId=key)["KeyId"].endswith(key)
    rotations = kms.list_key_rotations(KeyId=key)["Rotations"]
    assert [r["RotationType"] for r in rotations] == ["ON_DEMAND"]
    assert kms.decrypt(CiphertextBlob=old)["Plaintext"] == b"x"
    asymmetric = kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    with pytest.raises(ClientError) as raised:
        kms.rotate_key_on_demand(KeyId=asymmetric)
    assert error_of(raised)[0] == "UnsupportedOperationException"


def test_aliases(kms, key):
    kms.create_alias(AliasName="alias/one", TargetKeyId=key)
    with pytest.raises(ClientError) as raised:
        kms.create_alias(AliasName="alias/one", TargetKeyId=key)
    assert error_of(raised)[0] == "AlreadyExistsException"
    with pytest.raises(ClientError) as raised:
        kms.create_alias(AliasName="alias/aws/mine", TargetKeyId=key)
    assert error_of(raised)[0] == "InvalidAliasNameException"
    with pytest.raises(ClientError) as raised:
        kms.create_alias(AliasName="one", TargetKeyId=key)
    assert error_of(raised)[0] == "ValidationException"
    other = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.update_alias(AliasName="alias/one", TargetKeyId=other)
    assert kms.describe_key(KeyId="alias/one")["KeyMetadata"]["KeyId"] == other
    listed = kms.list_aliases(KeyId=other)["Aliases"]
    assert [a["AliasName"] for a in listed] == ["alias/one"]
    assert listed[0]["AliasArn"] == f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/one"
    kms.delete_alias(AliasName="alias/one")
    with pytest.raises(ClientError) as raised:
        kms.delete_alias(AliasName="alias/one")
    assert error_of(raised)[0] == "NotFoundException"


def test_list_aliases_pages(kms, key):
    for i in range(5):
        kms.create_alias(AliasName=f"alias/a{i}", TargetKeyId=key)
    first = kms.list_aliases(Limit=3)
    assert first["Truncated"] is True and len(first["Aliases"]) == 3
    rest = kms.list_aliases(Limit=3, Marker=first["NextMarker"])
    assert [a["AliasName"] for a in first["Aliases"] + rest["Aliases"][:2]] == [
        f"alias/a{i}" for i in range(5)
    ]
    assert [a["AliasName"] for a in kms.list_aliases(KeyId=key)["Aliases"]] == [
        f"alias/a{i}" for i in range(5)
    ]


def test_predefined_aws_aliases_are_listed_before_their_keys_exist(kms):
    listed = {a["AliasName"]: a for a in kms.list_aliases()["Aliases"]}
    assert listed["alias/aws/s3"] == {
        "AliasName": "alias/aws/s3",
        "AliasArn": "arn:aws:kms:us-east-1:000000000000:alias/aws/s3",
    }
    key = kms.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]["KeyId"]
    listed = {a["AliasName"]: a for a in kms.list_aliases()["Aliases"]}
    assert listed["alias/aws/s3"]["TargetKeyId"] == key
    assert sum(1 for name in listed if name == "alias/aws/s3") == 1


def test_aws_managed_key_is_made_on_first_use(kms):
    meta = kms.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]
    assert meta["KeyManager"] == "AWS" and meta["KeyState"] == "Enabled"
    assert kms.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]["KeyId"] == meta["KeyId"]
    assert kms.get_key_rotation_status(KeyId=meta["KeyId"])["KeyRotationEnabled"] is True
    policy = kms.get_key_policy(KeyId=meta["KeyId"])["Policy"]
    assert '"kms:ViaService": "s3.us-east-1.amazonaws.com"' in policy
    with pytest.raises(ClientError) as raised:
        kms.schedule_key_deletion(KeyId=meta["KeyId"])
    assert error_of(raised)[0] == "UnsupportedOperationException"
    with pytest.raises(ClientError) as raised:
        kms.delete_alias(AliasName="alias/aws/s3")
    assert error_of(raised)[0] == "NotAuthorizedException"


def test_tags(kms, key):
    kms.tag_resource(KeyId=key, Tags=[{"TagKey": "env", "TagValue": "prod"}])
    assert kms.list_resource_tags(KeyId=key)["Tags"] == [{"TagKey": "env", "TagValue": "prod"}]
    with pytest.raises(ClientError) as raised:
        kms.tag_resource(KeyId=key, Tags=[{"TagKey": "aws:x", "TagValue": "y"}])
    assert error_of(raised)[0] == "TagException"
    kms.untag_resource(KeyId=key, TagKeys=["env"])
    assert kms.list_resource_tags(KeyId=key)["Tags"] == []
    tagged = kms.create_key(Tags=[{"TagKey": "team", "TagValue": "a"}])["KeyMetadata"]["KeyId"]
    assert kms.list_resource_tags(KeyId=tagged)["Tags"] == [{"TagKey": "team", "TagValue": "a"}]


def test_multi_region_replica_shares_material(overcast, kms):
    primary = kms.create_key(MultiRegion=True)["KeyMetadata"]
    assert primary["KeyId"].startswith("mrk-") and primary["MultiRegion"] is True
    assert primary["MultiRegionConfiguration"]["MultiRegionKeyType"] == "PRIMARY"
    replica = kms.replicate_key(KeyId=primary["KeyId"], ReplicaRegion="eu-west-1")["ReplicaKeyMetadata"]
    assert replica["Arn"] == primary["Arn"].replace("us-east-1", "eu-west-1")
    assert replica["MultiRegionConfiguration"]["MultiRegionKeyType"] == "REPLICA"
    blob = kms.encrypt(KeyId=primary["KeyId"], Plaintext=b"both", EncryptionContext={"a": "b"})[
        "CiphertextBlob"
    ]
    west = overcast.client("kms", region="eu-west-1")
    assert west.decrypt(CiphertextBlob=blob, EncryptionContext={"a": "b"})["Plaintext"] == b"both"
    described = kms.describe_key(KeyId=primary["KeyId"])["KeyMetadata"]["MultiRegionConfiguration"]
    assert described["ReplicaKeys"] == [{"Arn": replica["Arn"], "Region": "eu-west-1"}]
    with pytest.raises(ClientError) as raised:
        kms.replicate_key(KeyId=primary["KeyId"], ReplicaRegion="eu-west-1")
    assert error_of(raised)[0] == "AlreadyExistsException"


def test_a_single_region_key_is_not_found_elsewhere(overcast, kms, key):
    blob = kms.encrypt(KeyId=key, Plaintext=b"x")["CiphertextBlob"]
    with pytest.raises(ClientError) as raised:
        overcast.client("kms", region="eu-west-1").decrypt(CiphertextBlob=blob)
    assert error_of(raised)[0] == "NotFoundException"


def test_a_scheduled_deletion_survives_a_restart(tmp_path):
    from overcast.config import Config
    from overcast.testing import OvercastServer

    with OvercastServer(Config(data_dir=tmp_path, log_level="warning")) as server:
        kms = server.client("kms")
        key = kms.create_key()["KeyMetadata"]["KeyId"]
        kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=7)
        kept = kms.create_key()["KeyMetadata"]["KeyId"]
    with OvercastServer(Config(data_dir=tmp_path, log_level="warning")) as server:
        kms = server.client("kms")
        assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "PendingDeletion"
        server.advance_clock("8d")

        def gone():
            try:
                kms.describe_key(KeyId=key)
            except ClientError as error:
                return error_of(error)[0] == "NotFoundException"
            return False

        wait_for(gone)
        assert kms.describe_key(KeyId=kept)["KeyMetadata"]["KeyState"] == "Enabled"
