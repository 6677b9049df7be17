"""KMS's cryptographic operations: encryption, data keys, signatures, MACs, key agreement, random bytes."""

from __future__ import annotations

import dataclasses
import os
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.kms import cipher
from overcast.services.kms.rules import check_grant_tokens, dry_run, validation
from overcast.services.kms.store import Key

if TYPE_CHECKING:
    from overcast.services.kms.provider import KmsProvider

DATA_KEY_BYTES = {"AES_256": 32, "AES_128": 16}


def invalid_ciphertext() -> ServiceError:
    return ServiceError("InvalidCiphertextException", "")


def incorrect_key() -> ServiceError:
    return ServiceError(
        "IncorrectKeyException",
        "The key ID in the request does not identify a CMK that can perform this operation.",
    )


def _incompatible(algorithm: str, key: Key) -> ServiceError:
    return ServiceError(
        "InvalidKeyUsageException", f"Algorithm {algorithm} is incompatible with key spec {key.spec}."
    )


class CryptoOperations(Operations):
    service: KmsProvider

    # -- shared steps ----------------------------------------------------------------------------------------

    def _usable_key(
        self, ctx: RequestContext, params: dict[str, Any], usage: str, name: str = "KeyId"
    ) -> Key:
        """The key of a cryptographic request: exists, in a usable state, of the right usage; DryRun stops here."""
        check_grant_tokens(self.service.store, params.get("GrantTokens"))
        key = self.service.key_of(ctx, params[name])
        self.service.check_usable(key)
        self.service.check_usage(key, usage, ctx.operation)
        if params.get("DryRun"):
            raise dry_run()
        return key

    def _symmetric(self, key: Key, operation: str) -> None:
        if key.spec != cipher.SYMMETRIC:
            raise ServiceError(
                "InvalidKeyUsageException",
                f"{key.arn} key spec is {key.spec} which is not valid for {operation}.",
            )

    def seal(self, key: Key, plaintext: bytes, context: dict | None) -> bytes:
        """A symmetric ciphertext blob of `plaintext` under the key's current material."""
        material = self.service.material(key)
        return cipher.encrypt(material, key.account, key.key_id, key.generation, plaintext, context)

    def _material_id(self, key: Key, generation: int) -> str | None:
        return self.service.material_id(key, generation)

    # -- encryption ----------------------------------------------------------------------------------------

    def encrypt(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        key = self._usable_key(ctx, params, "ENCRYPT_DECRYPT")
        algorithm = params.get("EncryptionAlgorithm") or cipher.SYMMETRIC
        blob = self._encrypt_with(key, algorithm, params["Plaintext"], params.get("EncryptionContext"))
        return {"CiphertextBlob": blob, "KeyId": key.arn, "EncryptionAlgorithm": algorithm}

    def _encrypt_with(self, key: Key, algorithm: str, plaintext: bytes, context: dict | None) -> bytes:
        if key.spec == cipher.SYMMETRIC:
            if algorithm != cipher.SYMMETRIC:
                raise _incompatible(algorithm, key)
            return self.seal(key, plaintext, context)
        if algorithm not in cipher.RSA_ENCRYPTION:
            raise _incompatible(algorithm, key)
        if context:
            raise validation("EncryptionContext is not supported for asymmetric KMS keys.")
        if len(plaintext) > cipher.rsa_max_plaintext(key.spec, algorithm):
            raise validation(
                f"Plaintext is too long for {algorithm} with a {key.spec} key: at most "
                f"{cipher.rsa_max_plaintext(key.spec, algorithm)} bytes."
            )
        return cipher.rsa_encrypt(self.service.public_key(key), algorithm, plaintext)

    def decrypt(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        key, generation, plaintext, algorithm = self._open(
            ctx,
            params["CiphertextBlob"],
            params.get("KeyId"),
            params.get("EncryptionContext"),
            params.get("EncryptionAlgorithm"),
            params,
        )
        result: dict[str, Any] = {"KeyId": key.arn, "Plaintext": plaintext, "EncryptionAlgorithm": algorithm}
        if generation:
            result["KeyMaterialId"] = self._material_id(key, generation)
        return result

    def _open(
        self,
        ctx: RequestContext,
        blob: bytes,
        key_id: str | None,
        context: dict | None,
        algorithm: str | None,
        params: dict[str, Any],
    ) -> tuple[Key, int, bytes, str]:
        """(key, material generation (0 for RSA), plaintext, algorithm) of a ciphertext."""
        check_grant_tokens(self.service.store, params.get("GrantTokens"))
        algorithm = algorithm or cipher.SYMMETRIC
        if algorithm == cipher.SYMMETRIC:
            try:
                header = self.service.header_of(ctx, blob)
            except cipher.CiphertextError:
                if key_id:
                    named = self.service.key_of(ctx, key_id)
                    if named.spec != cipher.SYMMETRIC:
                        raise _incompatible(algorithm, named) from None
                raise invalid_ciphertext() from None
            key = self.service.key_at(header.account, ctx.region, header.key_id)
            if key_id and self.service.key_of(ctx, key_id).key_id != key.key_id:
                raise incorrect_key()
            self.service.check_usable(key)
            self.service.check_usage(key, "ENCRYPT_DECRYPT", ctx.operation)
            if params.get("DryRun"):
                raise dry_run()
            try:
                plaintext = cipher.decrypt(self.service.material(key, header.generation), blob, context)
            except cipher.CiphertextError:
                raise invalid_ciphertext() from None
            return key, header.generation, plaintext, algorithm
        if not key_id:
            raise validation("KeyId is required when decrypting with an asymmetric KMS key.")
        key = self.service.key_of(ctx, key_id)
        self.service.check_usable(key)
        self.service.check_usage(key, "ENCRYPT_DECRYPT", ctx.operation)
        if key.spec not in cipher.RSA_SPECS or algorithm not in cipher.RSA_ENCRYPTION:
            raise _incompatible(algorithm, key)
        if params.get("DryRun"):
            raise dry_run()
        try:
            return key, 0, cipher.rsa_decrypt(self.service.material(key), algorithm, blob), algorithm
        except cipher.CiphertextError:
            raise invalid_ciphertext() from None

    def re_encrypt(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        source, generation, plaintext, source_algorithm = self._open(
            ctx,
            params["CiphertextBlob"],
            params.get("SourceKeyId"),
            params.get("SourceEncryptionContext"),
            params.get("SourceEncryptionAlgorithm"),
            {**params, "DryRun": False},
        )
        if self.platform.authorizer is not None:  # kms:ReEncryptTo on the destination key
            self.platform.authorizer(dataclasses.replace(ctx, operation="ReEncryptTo"), params)
        destination = self.service.key_of(ctx, params["DestinationKeyId"])
        self.service.check_usable(destination)
        self.service.check_usage(destination, "ENCRYPT_DECRYPT", ctx.operation)
        if params.get("DryRun"):
            raise dry_run()
        algorithm = params.get("DestinationEncryptionAlgorithm") or cipher.SYMMETRIC
        blob = self._encrypt_with(
            destination, algorithm, plaintext, params.get("DestinationEncryptionContext")
        )
        result: dict[str, Any] = {
            "CiphertextBlob": blob,
            "SourceKeyId": source.arn,
            "KeyId": destination.arn,
            "SourceEncryptionAlgorithm": source_algorithm,
            "DestinationEncryptionAlgorithm": algorithm,
        }
        if generation:
            result["SourceKeyMaterialId"] = self._material_id(source, generation)
        if destination.spec == cipher.SYMMETRIC:
            result["DestinationKeyMaterialId"] = self._material_id(destination, destination.generation)
        return result

    # -- data keys -----------------------------------------------------------------------------------------

    def _data_key_length(self, params: dict[str, Any]) -> int:
        spec, count = params.get("KeySpec"), params.get("NumberOfBytes")
        if (spec is None) == (count is None):
            raise validation("Please specify either number of bytes or key spec.")
        return DATA_KEY_BYTES[spec] if spec else count

    def generate_data_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        length = self._data_key_length(params)
        key = self._usable_key(ctx, params, "ENCRYPT_DECRYPT")
        self._symmetric(key, ctx.operation)
        plaintext = os.urandom(length)
        return {
            "CiphertextBlob": self.seal(key, plaintext, params.get("EncryptionContext")),
            "Plaintext": plaintext,
            "KeyId": key.arn,
            "KeyMaterialId": self._material_id(key, key.generation),
        }

    def generate_data_key_without_plaintext(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        result = self.generate_data_key(ctx, params)
        del result["Plaintext"]
        return result

    def generate_data_key_pair(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pair_spec = params["KeyPairSpec"]
        if pair_spec not in cipher.RSA_SPECS and pair_spec not in cipher.ECC_SPECS:
            raise ServiceError(
                "UnsupportedOperationException", f"KeyPairSpec {pair_spec} is not supported by Overcast."
            )
        key = self._usable_key(ctx, params, "ENCRYPT_DECRYPT")
        self._symmetric(key, ctx.operation)
        private = cipher.private_der(cipher.new_private_key(pair_spec))
        return {
            "PrivateKeyCiphertextBlob": self.seal(key, private, params.get("EncryptionContext")),
            "PrivateKeyPlaintext": private,
            "PublicKey": cipher.public_der(private),
            "KeyId": key.arn,
            "KeyPairSpec": pair_spec,
            "KeyMaterialId": self._material_id(key, key.generation),
        }

    def generate_data_key_pair_without_plaintext(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        result = self.generate_data_key_pair(ctx, params)
        del result["PrivateKeyPlaintext"]
        return result

    def generate_random(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        count = params.get("NumberOfBytes")
        if count is None:
            raise validation("NumberOfBytes is required.")
        if params.get("CustomKeyStoreId"):
            raise ServiceError(
                "CustomKeyStoreNotFoundException",
                f"Custom key store {params['CustomKeyStoreId']} does not exist.",
            )
        return {"Plaintext": os.urandom(count)}

    # -- signatures ----------------------------------------------------------------------------------------

    def _signing_input(self, key: Key, params: dict[str, Any]) -> tuple[str, bytes, bool]:
        algorithm = params["SigningAlgorithm"]
        if algorithm not in cipher.algorithms_of(key.spec, key.usage).get("SigningAlgorithms", []):
            raise _incompatible(algorithm, key)
        message = params["Message"]
        prehashed = params.get("MessageType") == "DIGEST"
        if prehashed and len(message) != cipher.digest_size(algorithm):
            raise validation(f"Digest is invalid length for algorithm {algorithm}.")
        return algorithm, message, prehashed

    def sign(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        key = self.service.key_of(ctx, params["KeyId"])
        self.service.check_usable(key)
        self.service.check_usage(key, "SIGN_VERIFY", "Sign")
        algorithm, message, prehashed = self._signing_input(key, params)
        check_grant_tokens(self.service.store, params.get("GrantTokens"))
        if params.get("DryRun"):
            raise dry_run()
        signature = cipher.sign(self.service.material(key), algorithm, message, prehashed)
        return {"KeyId": key.arn, "Signature": signature, "SigningAlgorithm": algorithm}

    def verify(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        key = self.service.key_of(ctx, params["KeyId"])
        self.service.check_usable(key)
        self.service.check_usage(key, "SIGN_VERIFY", "Verify")
        algorithm, message, prehashed = self._signing_input(key, params)
        check_grant_tokens(self.service.store, params.get("GrantTokens"))
        if params.get("DryRun"):
            raise dry_run()
        try:
            cipher.verify(self.service.public_key(key), algorithm, message, params["Signature"], prehashed)
        except cipher.SignatureMismatch:
            raise ServiceError("KMSInvalidSignatureException", "") from None
        return {"KeyId": key.arn, "SignatureValid": True, "SigningAlgorithm": algorithm}

    def get_public_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        check_grant_tokens(self.service.store, params.get("GrantTokens"))
        key = self.service.key_of(ctx, params["KeyId"])
        self.service.check_usable(key)
        if key.spec not in cipher.RSA_SPECS and key.spec not in cipher.ECC_SPECS:
            raise ServiceError(
                "UnsupportedOperationException",
                f"{key.arn} key spec is {key.spec} which is not valid for GetPublicKey.",
            )
        return {
            "KeyId": key.arn,
            "PublicKey": self.service.public_key(key),
            "CustomerMasterKeySpec": key.spec,
            "KeySpec": key.spec,
            "KeyUsage": key.usage,
            **cipher.algorithms_of(key.spec, key.usage),
        }

    # -- MACs and key agreement ------------------------------------------------------------------------------

    def _mac_key(self, ctx: RequestContext, params: dict[str, Any]) -> tuple[Key, str]:
        key = self._usable_key(ctx, params, "GENERATE_VERIFY_MAC")
        algorithm = params["MacAlgorithm"]
        if algorithm != cipher.MAC_ALGORITHMS.get(key.spec):
            raise _incompatible(algorithm, key)
        return key, algorithm

    def generate_mac(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        key, algorithm = self._mac_key(ctx, params)
        tag = cipher.mac(self.service.material(key), algorithm, params["Message"])
        return {"Mac": tag, "MacAlgorithm": algorithm, "KeyId": key.arn}

    def verify_mac(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        key, algorithm = self._mac_key(ctx, params)
        try:
            cipher.verify_mac(self.service.material(key), algorithm, params["Message"], params["Mac"])
        except cipher.SignatureMismatch:
            raise ServiceError("KMSInvalidMacException", "") from None
        return {"KeyId": key.arn, "MacValid": True, "MacAlgorithm": algorithm}

    def derive_shared_secret(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        key = self._usable_key(ctx, params, "KEY_AGREEMENT")
        try:
            secret = cipher.derive_shared_secret(self.service.material(key), params["PublicKey"])
        except cipher.CiphertextError:
            raise validation(
                "The public key is not a valid DER-encoded X.509 public key of the KMS key's curve."
            ) from None
        return {
            "KeyId": key.arn,
            "SharedSecret": secret,
            "KeyAgreementAlgorithm": params["KeyAgreementAlgorithm"],
            "KeyOrigin": key.origin,
        }
