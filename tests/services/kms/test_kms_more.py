"""More of KMS: ReEncrypt's two permissions, DryRun, exact-context grants, AES key wrap imports, rotation
paging, moving a multi-Region primary and deleting a primary after its replicas."""

import os

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.keywrap import aes_key_wrap_with_padding

from tests.helpers import error_of, message_of
from tests.policy.servers import client_as, document, user_with_key
from tests.waiting import wait_for

ACCOUNT = "000000000000"


def test_re_encrypt_needs_re_encrypt_to_on_the_destination(enforced):
    admin = enforced.client("kms")
    source = admin.create_key()["KeyMetadata"]["Arn"]
    destination = admin.create_key()["KeyMetadata"]["Arn"]
    blob = admin.encrypt(KeyId=source, Plaintext=b"x")["CiphertextBlob"]
    credentials = user_with_key(enforced, "mover")
    statement = {"Effect": "Allow", "Action": ["kms:ReEncryptFrom"], "Resource": source}
    enforced.client("iam").put_user_policy(
        UserName="mover", PolicyName="p", PolicyDocument=document(statement)
    )
    mover = client_as(enforced, "kms", credentials)
    with pytest.raises(ClientError) as raised:
        mover.re_encrypt(CiphertextBlob=blob, DestinationKeyId=destination)
    assert f"kms:ReEncryptTo on resource: {destination}" in message_of(raised)
    statement["Action"].append("kms:ReEncryptTo")
    statement["Resource"] = [source, destination]
    enforced.client("iam").put_user_policy(
        UserName="mover", PolicyName="p", PolicyDocument=document(statement)
    )
    assert mover.re_encrypt(CiphertextBlob=blob, DestinationKeyId=destination)["KeyId"] == destination


def test_dry_run(kms, key):
    with pytest.raises(ClientError) as raised:
        kms.encrypt(KeyId=key, Plaintext=b"x", DryRun=True)
    assert error_of(raised)[0] == "DryRunOperationException"


def test_grant_with_an_exact_encryption_context(enforced):
    admin = enforced.client("kms")
    key = admin.create_key()["KeyMetadata"]["KeyId"]
    user = client_as(enforced, "kms", user_with_key(enforced, "exact"))
    admin.create_grant(
        KeyId=key,
        GranteePrincipal=f"arn:aws:iam::{ACCOUNT}:user/exact",
        Operations=["Encrypt"],
        Constraints={"EncryptionContextEquals": {"app": "billing"}},
    )
    user.encrypt(KeyId=key, Plaintext=b"x", EncryptionContext={"app": "billing"})
    for context in ({"app": "billing", "extra": "1"}, {"app": "other"}, {}):
        with pytest.raises(ClientError) as raised:
            user.encrypt(KeyId=key, Plaintext=b"x", EncryptionContext=context)
        assert error_of(raised)[0] == "AccessDeniedException"


def test_import_with_rsa_aes_key_wrap(kms):
    key = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]["KeyId"]
    params = kms.get_parameters_for_import(
        KeyId=key, WrappingAlgorithm="RSA_AES_KEY_WRAP_SHA_256", WrappingKeySpec="RSA_4096"
    )
    public = serialization.load_der_public_key(params["PublicKey"])
    aes_key, material = os.urandom(32), os.urandom(32)
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    wrapped = public.encrypt(aes_key, oaep) + aes_key_wrap_with_padding(aes_key, material)
    kms.import_key_material(
        KeyId=key,
        ImportToken=params["ImportToken"],
        EncryptedKeyMaterial=wrapped,
        ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE",
    )
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "Enabled"
    blob = kms.encrypt(KeyId=key, Plaintext=b"wrapped")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"wrapped"
    with pytest.raises(ClientError) as raised:
        kms.import_key_material(
            KeyId=key,
            ImportToken=b"not the token",
            EncryptedKeyMaterial=wrapped,
            ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE",
        )
    assert error_of(raised)[0] == "InvalidImportTokenException"


def test_list_key_rotations_pages(kms, key):
    for _ in range(3):
        kms.rotate_key_on_demand(KeyId=key)
    first = kms.list_key_rotations(KeyId=key, Limit=2)
    assert len(first["Rotations"]) == 2 and first["Truncated"] is True
    rest = kms.list_key_rotations(KeyId=key, Limit=2, Marker=first["NextMarker"])
    assert len(rest["Rotations"]) == 1 and rest["Truncated"] is False
    ids = [r["KeyMaterialId"] for r in first["Rotations"] + rest["Rotations"]]
    assert (
        len(set(ids)) == 3 and ids[-1] == kms.describe_key(KeyId=key)["KeyMetadata"]["CurrentKeyMaterialId"]
    )


def test_update_primary_region(overcast, kms):
    primary = kms.create_key(MultiRegion=True)["KeyMetadata"]["KeyId"]
    kms.replicate_key(KeyId=primary, ReplicaRegion="eu-west-1")
    kms.update_primary_region(KeyId=primary, PrimaryRegion="eu-west-1")
    here = kms.describe_key(KeyId=primary)["KeyMetadata"]["MultiRegionConfiguration"]
    assert here["MultiRegionKeyType"] == "REPLICA" and here["PrimaryKey"]["Region"] == "eu-west-1"
    west = overcast.client("kms", region="eu-west-1")
    assert (
        west.describe_key(KeyId=primary)["KeyMetadata"]["MultiRegionConfiguration"]["MultiRegionKeyType"]
        == "PRIMARY"
    )
    with pytest.raises(ClientError) as raised:
        kms.replicate_key(KeyId=primary, ReplicaRegion="ap-south-1")  # not the primary any more
    assert error_of(raised)[0] == "UnsupportedOperationException"


def test_a_primary_waits_for_its_replicas_to_be_deleted(overcast, kms):
    primary = kms.create_key(MultiRegion=True)["KeyMetadata"]["KeyId"]
    kms.replicate_key(KeyId=primary, ReplicaRegion="eu-west-1")
    answer = kms.schedule_key_deletion(KeyId=primary, PendingWindowInDays=7)
    assert answer["KeyState"] == "PendingReplicaDeletion" and "DeletionDate" not in answer
    meta = kms.describe_key(KeyId=primary)["KeyMetadata"]
    assert meta["PendingDeletionWindowInDays"] == 7
    west = overcast.client("kms", region="eu-west-1")
    west.schedule_key_deletion(KeyId=primary, PendingWindowInDays=7)
    overcast.advance_clock("8d")
    wait_for(lambda: kms.describe_key(KeyId=primary)["KeyMetadata"]["KeyState"] == "PendingDeletion")
    overcast.advance_clock("8d")

    def gone():
        try:
            kms.describe_key(KeyId=primary)
        except ClientError as error:
            return error_of(error)[0] == "NotFoundException"
        return False

    wait_for(gone)
