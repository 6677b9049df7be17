"""What other services call KMS for: envelope encryption on a caller's behalf, through a service.

Every function makes the real KMS request (GenerateDataKey, Decrypt, Encrypt, DescribeKey) as `principal` -- the
user or role whose request the service is serving, as AWS services do -- with `kms:ViaService` set to
`<service>.<region>.amazonaws.com` and `kms:CallerAccount` to the principal's account, so the key's state (a
disabled key fails with DisabledException), its key policy (the AWS managed key `aws/<service>` allows use only
through its service), its grants and, under `--iam enforce`, the principal's IAM policies decide exactly as
in AWS. Errors are KMS's own ServiceErrors (`NotFoundException`, `DisabledException`, `KMSInvalidStateException`,
`AccessDeniedException`, `InvalidCiphertextException`): a service passes them on or words them its own way
(S3 answers `KMS.DisabledException`, ...).

    from overcast.services.kms import api as kms

    key = kms.describe_key(platform, principal, account, region, "alias/aws/s3", via="s3")  # made on first use
    data_key = kms.generate_data_key(platform, principal, account, region, key.arn, context, via="s3")
    ... store data_key.ciphertext next to the object, encrypt the object with data_key.plaintext ...
    plaintext_key = kms.decrypt(platform, principal, account, region, data_key.ciphertext, context, via="s3")

Each function is synchronous, for operations that run inside their request's transaction (the KMS request is a
savepoint within it); `*_async` twins go through `Platform.call` for `async def` operations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from overcast.errors import ServiceError
from overcast.identity import Principal

if TYPE_CHECKING:
    from overcast.platform import Platform


@dataclass(frozen=True)
class KeyInfo:
    key_id: str
    arn: str
    state: str
    manager: str  # CUSTOMER | AWS
    spec: str
    usage: str


@dataclass(frozen=True)
class DataKey:
    plaintext: bytes
    ciphertext: bytes
    key_arn: str


def _keys(principal: Principal, region: str, via: str | None) -> dict[str, Any]:
    keys: dict[str, Any] = {"kms:CallerAccount": principal.account_id}
    if via:
        keys["kms:ViaService"] = f"{via}.{region}.amazonaws.com"
        keys["aws:ViaAWSService"] = "true"
    return keys


def call(
    platform: Platform,
    operation: str,
    params: dict[str, Any],
    principal: Principal,
    account_id: str,
    region: str,
    via: str | None = None,
    built: bool = False,
) -> dict[str, Any]:
    """A KMS request made synchronously (Platform.call_now): in a savepoint of the calling request's transaction.
    `built`: the params are Overcast's own (see Platform.call_now)."""
    return platform.call_now(
        "kms",
        operation,
        params,
        principal=principal,
        account_id=account_id,
        region=region,
        condition_keys=_keys(principal, region, via),
        built=built,
    )


async def call_async(
    platform: Platform,
    operation: str,
    params: dict[str, Any],
    principal: Principal,
    account_id: str,
    region: str,
    via: str | None = None,
) -> dict[str, Any]:
    return await platform.call(
        "kms",
        operation,
        params,
        principal=principal,
        account_id=account_id,
        region=region,
        condition_keys=_keys(principal, region, via),
    )


def _key_info(found: dict[str, Any]) -> KeyInfo:
    meta = found["KeyMetadata"]
    return KeyInfo(
        meta["KeyId"], meta["Arn"], meta["KeyState"], meta["KeyManager"], meta["KeySpec"], meta["KeyUsage"]
    )


def describe_key(
    platform: Platform, principal: Principal, account_id: str, region: str, key_id: str, *, via: str | None
) -> KeyInfo:
    """The key a key id, key ARN, alias name or alias ARN names (`alias/aws/<service>` is made on first use)."""
    return _key_info(call(platform, "DescribeKey", {"KeyId": key_id}, principal, account_id, region, via))


def _data_key_params(key_id: str, context: dict[str, str] | None, number_of_bytes: int) -> dict[str, Any]:
    params: dict[str, Any] = {"KeyId": key_id, "NumberOfBytes": number_of_bytes}
    if context:
        params["EncryptionContext"] = context
    return params


def generate_data_key(
    platform: Platform,
    principal: Principal,
    account_id: str,
    region: str,
    key_id: str,
    context: dict[str, str] | None,
    *,
    via: str,
    number_of_bytes: int = 32,
) -> DataKey:
    found = call(
        platform,
        "GenerateDataKey",
        _data_key_params(key_id, context, number_of_bytes),
        principal,
        account_id,
        region,
        via,
    )
    return DataKey(found["Plaintext"], found["CiphertextBlob"], found["KeyId"])


async def generate_data_key_async(
    platform: Platform,
    principal: Principal,
    account_id: str,
    region: str,
    key_id: str,
    context: dict[str, str] | None,
    *,
    via: str,
    number_of_bytes: int = 32,
) -> DataKey:
    found = await call_async(
        platform,
        "GenerateDataKey",
        _data_key_params(key_id, context, number_of_bytes),
        principal,
        account_id,
        region,
        via,
    )
    return DataKey(found["Plaintext"], found["CiphertextBlob"], found["KeyId"])


def _decrypt_params(ciphertext: bytes, context: dict[str, str] | None, key_id: str | None) -> dict[str, Any]:
    params: dict[str, Any] = {"CiphertextBlob": ciphertext}
    if context:
        params["EncryptionContext"] = context
    if key_id:
        params["KeyId"] = key_id
    return params


def decrypt(
    platform: Platform,
    principal: Principal,
    account_id: str,
    region: str,
    ciphertext: bytes,
    context: dict[str, str] | None,
    *,
    via: str,
    key_id: str | None = None,
) -> bytes:
    """The plaintext of a ciphertext blob (a data key, a small value); the blob names its own key."""
    params = _decrypt_params(ciphertext, context, key_id)
    # a stored blob and the context its service made: nothing a user typed, unless a KeyId is named
    found = call(platform, "Decrypt", params, principal, account_id, region, via, built=key_id is None)
    return found["Plaintext"]


async def decrypt_async(
    platform: Platform,
    principal: Principal,
    account_id: str,
    region: str,
    ciphertext: bytes,
    context: dict[str, str] | None,
    *,
    via: str,
    key_id: str | None = None,
) -> bytes:
    found = await call_async(
        platform, "Decrypt", _decrypt_params(ciphertext, context, key_id), principal, account_id, region, via
    )
    return found["Plaintext"]


def encrypt(
    platform: Platform,
    principal: Principal,
    account_id: str,
    region: str,
    key_id: str,
    plaintext: bytes,
    context: dict[str, str] | None,
    *,
    via: str,
) -> tuple[bytes, str]:
    """(ciphertext blob, key ARN) of up to 4 KiB under a symmetric key."""
    params: dict[str, Any] = {"KeyId": key_id, "Plaintext": plaintext}
    if context:
        params["EncryptionContext"] = context
    found = call(platform, "Encrypt", params, principal, account_id, region, via)
    return found["CiphertextBlob"], found["KeyId"]


# -- what services share around those calls ---------------------------------------------------------------------


def passed_on(error: ServiceError, codes: dict[str, str], status: int = 400) -> ServiceError:
    """KMS's error as a service passes it on to its caller: under the service's own code for it (`codes`: KMS's
    code -> the service's), with KMS's message and the AWS SDK's suffix, as AWS's services word it. An error
    `codes` does not name is passed on as it is."""
    from overcast.platform import new_request_id

    code = codes.get(error.code)
    if code is None:
        return error
    message = (
        f"{error.message} (Service: AWSKMS; Status Code: 400; Error Code: {error.code}; "
        f"Request ID: {new_request_id()}; Proxy: null)"
    )
    return ServiceError(code, message, status, sender_fault=status < 500)


class RecentUses:
    """When each (resource, key, principal, action) may use its data key without asking KMS again: services
    reuse a data key for a period (SQS's KmsDataKeyReusePeriodSeconds), so a principal asks KMS at most once
    per period. Bounded: forgotten wholesale past `limit` entries."""

    def __init__(self, limit: int = 10_000) -> None:
        self.limit = limit
        self._until: dict[tuple[Any, ...], float] = {}

    def fresh(self, use: tuple[Any, ...], now: float) -> bool:
        until = self._until.get(use)
        return until is not None and now < until

    def remember(self, use: tuple[Any, ...], until: float) -> None:
        if len(self._until) > self.limit:
            self._until.clear()
        self._until[use] = until

    def forget(self) -> None:
        self._until.clear()
