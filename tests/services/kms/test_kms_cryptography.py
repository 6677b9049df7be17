"""KMS's cryptography for real: envelope encryption, authenticated encryption context, RSA/ECC signatures that
OpenSSL verifies with GetPublicKey's key, RSA encryption, HMAC, data key pairs, ECDH, imported key material."""

import hashlib
import os
import subprocess

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tests.helpers import error_of, need


def test_envelope_encryption_as_the_notes_teach_it(kms, key):
    context = {"purpose": "backup", "file": "db.dump"}
    data_key = kms.generate_data_key(KeyId=key, KeySpec="AES_256", EncryptionContext=context)
    assert len(data_key["Plaintext"]) == 32 and data_key["KeyId"].endswith(key)
    document = os.urandom(1024 * 1024)
    nonce = os.urandom(12)
    stored = (data_key["CiphertextBlob"], nonce, AESGCM(data_key["Plaintext"]).encrypt(nonce, document, None))
    del data_key
    encrypted_key, nonce, sealed = stored
    plaintext_key = kms.decrypt(CiphertextBlob=encrypted_key, EncryptionContext=context)["Plaintext"]
    assert AESGCM(plaintext_key).decrypt(nonce, sealed, None) == document
    for wrong in ({"purpose": "backup"}, {**context, "file": "other"}, None):
        with pytest.raises(ClientError) as raised:
            kms.decrypt(CiphertextBlob=encrypted_key, **({"EncryptionContext": wrong} if wrong else {}))
        assert error_of(raised) == ("InvalidCiphertextException", 400)


def test_encrypt_takes_at_most_4_kib(kms, key):
    blob = kms.encrypt(KeyId=key, Plaintext=b"a" * 4096)["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"a" * 4096
    with pytest.raises(ClientError) as raised:
        kms.encrypt(KeyId=key, Plaintext=b"a" * 4097)
    assert error_of(raised) == ("ValidationException", 400)


def test_ciphertext_names_its_key_and_resists_tampering(kms, key):
    blob = kms.encrypt(KeyId=key, Plaintext=b"secret")["CiphertextBlob"]
    answer = kms.decrypt(CiphertextBlob=blob)
    assert answer["KeyId"].endswith(key) and answer["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    other = kms.create_key()["KeyMetadata"]["KeyId"]
    with pytest.raises(ClientError) as raised:
        kms.decrypt(CiphertextBlob=blob, KeyId=other)
    assert error_of(raised)[0] == "IncorrectKeyException"
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(ClientError) as raised:
        kms.decrypt(CiphertextBlob=tampered)
    assert error_of(raised)[0] == "InvalidCiphertextException"
    with pytest.raises(ClientError) as raised:
        kms.decrypt(CiphertextBlob=b"not a ciphertext at all, not at all")
    assert error_of(raised)[0] == "InvalidCiphertextException"


def test_re_encrypt_moves_a_ciphertext_to_another_key(kms, key):
    other = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key, Plaintext=b"move me", EncryptionContext={"a": "1"})["CiphertextBlob"]
    moved = kms.re_encrypt(
        CiphertextBlob=blob,
        SourceEncryptionContext={"a": "1"},
        DestinationKeyId=other,
        DestinationEncryptionContext={"b": "2"},
    )
    assert moved["SourceKeyId"].endswith(key) and moved["KeyId"].endswith(other)
    answer = kms.decrypt(CiphertextBlob=moved["CiphertextBlob"], EncryptionContext={"b": "2"})
    assert answer["Plaintext"] == b"move me" and answer["KeyId"].endswith(other)


def test_data_keys_and_random_bytes(kms, key):
    without = kms.generate_data_key_without_plaintext(KeyId=key, NumberOfBytes=64)
    assert "Plaintext" not in without
    assert len(kms.decrypt(CiphertextBlob=without["CiphertextBlob"])["Plaintext"]) == 64
    with pytest.raises(ClientError) as raised:
        kms.generate_data_key(KeyId=key)
    assert error_of(raised)[0] == "ValidationException"
    assert len(kms.generate_random(NumberOfBytes=17)["Plaintext"]) == 17


def test_data_key_pair_private_key_decrypts_back(kms, key):
    pair = kms.generate_data_key_pair(KeyId=key, KeyPairSpec="ECC_NIST_P256")
    private = serialization.load_der_private_key(pair["PrivateKeyPlaintext"], None)
    public = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert public == pair["PublicKey"]
    assert (
        kms.decrypt(CiphertextBlob=pair["PrivateKeyCiphertextBlob"])["Plaintext"]
        == pair["PrivateKeyPlaintext"]
    )
    bare = kms.generate_data_key_pair_without_plaintext(KeyId=key, KeyPairSpec="RSA_2048")
    assert "PrivateKeyPlaintext" not in bare and bare["KeyPairSpec"] == "RSA_2048"


def test_rsa_encryption_with_the_public_key_outside_kms(kms):
    key = kms.create_key(KeySpec="RSA_3072", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]["KeyId"]
    public = serialization.load_der_public_key(kms.get_public_key(KeyId=key)["PublicKey"])
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    outside = public.encrypt(b"from outside", oaep)
    answer = kms.decrypt(CiphertextBlob=outside, KeyId=key, EncryptionAlgorithm="RSAES_OAEP_SHA_256")
    assert answer["Plaintext"] == b"from outside"
    inside = kms.encrypt(KeyId=key, Plaintext=b"sha1", EncryptionAlgorithm="RSAES_OAEP_SHA_1")[
        "CiphertextBlob"
    ]
    assert (
        kms.decrypt(CiphertextBlob=inside, KeyId=key, EncryptionAlgorithm="RSAES_OAEP_SHA_1")["Plaintext"]
        == b"sha1"
    )
    with pytest.raises(ClientError) as raised:
        kms.decrypt(CiphertextBlob=inside)  # an asymmetric ciphertext names no key
    assert error_of(raised)[0] == "InvalidCiphertextException"


@pytest.mark.parametrize(
    ("spec", "algorithm"),
    [
        ("RSA_2048", "RSASSA_PKCS1_V1_5_SHA_256"),
        ("RSA_2048", "RSASSA_PSS_SHA_384"),
        ("ECC_NIST_P256", "ECDSA_SHA_256"),
        ("ECC_NIST_P521", "ECDSA_SHA_512"),
        ("ECC_SECG_P256K1", "ECDSA_SHA_256"),
    ],
)
def test_sign_and_verify(kms, spec, algorithm):
    key = kms.create_key(KeySpec=spec, KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    signed = kms.sign(KeyId=key, Message=b"message", SigningAlgorithm=algorithm)
    assert signed["SigningAlgorithm"] == algorithm
    verified = kms.verify(
        KeyId=key, Message=b"message", Signature=signed["Signature"], SigningAlgorithm=algorithm
    )
    assert verified["SignatureValid"] is True
    with pytest.raises(ClientError) as raised:
        kms.verify(KeyId=key, Message=b"other", Signature=signed["Signature"], SigningAlgorithm=algorithm)
    assert error_of(raised)[0] == "KMSInvalidSignatureException"


def test_sign_a_digest(kms):
    key = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    digest = hashlib.sha256(b"big document").digest()
    signature = kms.sign(KeyId=key, Message=digest, MessageType="DIGEST", SigningAlgorithm="ECDSA_SHA_256")[
        "Signature"
    ]
    public = serialization.load_der_public_key(kms.get_public_key(KeyId=key)["PublicKey"])
    public.verify(signature, b"big document", ec.ECDSA(hashes.SHA256()))  # raises if it does not verify
    with pytest.raises(ClientError) as raised:
        kms.sign(KeyId=key, Message=b"short", MessageType="DIGEST", SigningAlgorithm="ECDSA_SHA_256")
    assert error_of(raised)[0] == "ValidationException"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("spec", "algorithm", "options"),
    [
        ("RSA_2048", "RSASSA_PKCS1_V1_5_SHA_256", []),
        (
            "RSA_3072",
            "RSASSA_PSS_SHA_256",
            ["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:-1"],
        ),
        ("ECC_NIST_P256", "ECDSA_SHA_256", []),
        ("ECC_NIST_P384", "ECDSA_SHA_384", []),
    ],
)
def test_openssl_verifies_signatures_with_the_public_key(kms, tmp_path, spec, algorithm, options):
    openssl = need("openssl")
    key = kms.create_key(KeySpec=spec, KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    (tmp_path / "public.der").write_bytes(kms.get_public_key(KeyId=key)["PublicKey"])
    message = b"signed by KMS, checked by OpenSSL\n"
    (tmp_path / "message").write_bytes(message)
    signature = kms.sign(KeyId=key, Message=message, SigningAlgorithm=algorithm)["Signature"]
    (tmp_path / "signature").write_bytes(signature)
    digest = "-sha" + algorithm.rsplit("_", 1)[1]
    command = [
        openssl,
        "dgst",
        digest,
        "-verify",
        "public.der",
        "-keyform",
        "DER",
        *options,
        "-signature",
        "signature",
        "message",
    ]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0 and "Verified OK" in done.stdout, done.stderr
    (tmp_path / "message").write_bytes(message + b"tampered")
    refused = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert refused.returncode != 0


def test_hmac_keys(kms):
    key = kms.create_key(KeySpec="HMAC_384", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["KeyId"]
    mac = kms.generate_mac(KeyId=key, Message=b"m", MacAlgorithm="HMAC_SHA_384")["Mac"]
    assert len(mac) == 48
    assert kms.verify_mac(KeyId=key, Message=b"m", Mac=mac, MacAlgorithm="HMAC_SHA_384")["MacValid"] is True
    with pytest.raises(ClientError) as raised:
        kms.verify_mac(KeyId=key, Message=b"n", Mac=mac, MacAlgorithm="HMAC_SHA_384")
    assert error_of(raised)[0] == "KMSInvalidMacException"
    with pytest.raises(ClientError) as raised:
        kms.generate_mac(KeyId=key, Message=b"m", MacAlgorithm="HMAC_SHA_256")
    assert error_of(raised)[0] == "InvalidKeyUsageException"


def test_key_usage_is_enforced(kms, key):
    with pytest.raises(ClientError) as raised:
        kms.sign(KeyId=key, Message=b"m", SigningAlgorithm="ECDSA_SHA_256")
    assert error_of(raised)[0] == "InvalidKeyUsageException"


def test_derive_shared_secret_agrees_with_the_peer(kms):
    key = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")["KeyMetadata"]["KeyId"]
    peer = ec.generate_private_key(ec.SECP256R1())
    peer_public = peer.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    answer = kms.derive_shared_secret(KeyId=key, KeyAgreementAlgorithm="ECDH", PublicKey=peer_public)
    kms_public = serialization.load_der_public_key(kms.get_public_key(KeyId=key)["PublicKey"])
    assert answer["SharedSecret"] == peer.exchange(ec.ECDH(), kms_public)


def _wrap(parameters, material):
    public = serialization.load_der_public_key(parameters["PublicKey"])
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    return public.encrypt(material, oaep)


def test_imported_key_material_expires_on_the_clock_and_comes_back(overcast, kms):
    from datetime import UTC, datetime, timedelta

    from tests.waiting import wait_for

    key = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]
    assert key["KeyState"] == "PendingImport" and key["Origin"] == "EXTERNAL"
    material = os.urandom(32)
    params = kms.get_parameters_for_import(
        KeyId=key["KeyId"], WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048"
    )
    valid_to = datetime.now(UTC) + timedelta(days=2)
    kms.import_key_material(
        KeyId=key["KeyId"],
        ImportToken=params["ImportToken"],
        EncryptedKeyMaterial=_wrap(params, material),
        ValidTo=valid_to,
        ExpirationModel="KEY_MATERIAL_EXPIRES",
    )
    meta = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
    assert (
        meta["KeyState"] == "Enabled"
        and meta["ExpirationModel"] == "KEY_MATERIAL_EXPIRES"
        and "ValidTo" in meta
    )
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"imported")["CiphertextBlob"]
    overcast.advance_clock("3d")
    wait_for(lambda: kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"] == "PendingImport")
    with pytest.raises(ClientError) as raised:
        kms.decrypt(CiphertextBlob=blob)
    assert error_of(raised)[0] == "KMSInvalidStateException"
    again = kms.get_parameters_for_import(
        KeyId=key["KeyId"], WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048"
    )
    with pytest.raises(ClientError) as raised:
        kms.import_key_material(
            KeyId=key["KeyId"],
            ImportToken=again["ImportToken"],
            EncryptedKeyMaterial=_wrap(again, os.urandom(32)),
            ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE",
        )
    assert error_of(raised)[0] == "IncorrectKeyMaterialException"
    kms.import_key_material(
        KeyId=key["KeyId"],
        ImportToken=again["ImportToken"],
        EncryptedKeyMaterial=_wrap(again, material),
        ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE",
    )
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"imported"


def test_key_material_is_not_in_the_data_directory_in_plain_text(tmp_path):
    from overcast.config import Config
    from overcast.testing import OvercastServer

    material = os.urandom(32)
    with OvercastServer(Config(data_dir=tmp_path, log_level="warning")) as server:
        kms = server.client("kms")
        key = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]["KeyId"]
        params = kms.get_parameters_for_import(
            KeyId=key, WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048"
        )
        kms.import_key_material(
            KeyId=key,
            ImportToken=params["ImportToken"],
            EncryptedKeyMaterial=_wrap(params, material),
            ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE",
        )
        blob = kms.encrypt(KeyId=key, Plaintext=b"durable")["CiphertextBlob"]
    stored = b"".join(path.read_bytes() for path in tmp_path.rglob("*") if path.is_file())
    assert material not in stored and material.hex().encode() not in stored
    with OvercastServer(
        Config(data_dir=tmp_path, log_level="warning")
    ) as server:  # the key survives a restart
        assert server.client("kms").decrypt(CiphertextBlob=blob)["Plaintext"] == b"durable"
