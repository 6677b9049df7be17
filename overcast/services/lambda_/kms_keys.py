"""Environment variables under a customer managed key (`KMSKeyArn`), as Lambda keeps them.

CreateFunction and UpdateFunctionConfiguration encrypt the variables under the key as the caller, through Lambda
(`kms:Encrypt`, `kms:ViaService` lambda, encryption context `LambdaFunctionName`): a caller who may not use the
key, or a key that is missing or disabled, fails the update as AWS's CreateGrant does. An execution
environment's start decrypts them as the function's execution role (where AWS uses the grant it made for that
role): the variables the function sees are the decrypted ones, and a key disabled, deleted or denied since fails
Invoke with KMS's reason under Lambda's `KMS*Exception` codes, HTTP 502. Warm environments keep their variables.
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

from overcast.errors import ServiceError
from overcast.services.kms import api as kms

if TYPE_CHECKING:
    from overcast.context import RequestContext
    from overcast.services.lambda_.provider import LambdaProvider

SEALED = "_SealedEnvironment"  # the variables' ciphertext (base64), kept with the configuration
CHECK = "Please check the function's KMS key settings."
_INVOKE_ERRORS = {
    "DisabledException": (
        "KMSDisabledException",
        f"Lambda was unable to decrypt the environment variables because the KMS key used is disabled. {CHECK}",
    ),
    "NotFoundException": (
        "KMSNotFoundException",
        f"Lambda was unable to decrypt the environment variables because the KMS key was not found. {CHECK}",
    ),
    "KMSInvalidStateException": (
        "KMSInvalidStateException",
        "Lambda was unable to decrypt the environment variables because the KMS key used is in an invalid state "
        f"for Decrypt. {CHECK}",
    ),
}


def _context(config: dict[str, Any]) -> dict[str, str]:
    return {"LambdaFunctionName": config["FunctionName"]}


def seal(service: LambdaProvider, ctx: RequestContext, config: dict[str, Any]) -> None:
    """Encrypt the configuration's variables under its KMSKeyArn as the caller (none: nothing is sealed)."""
    key = config.get("KMSKeyArn")
    variables = (config.get("Environment") or {}).get("Variables") or {}
    if not key or not variables:
        config.pop(SEALED, None)
        return
    plaintext = json.dumps(variables, separators=(",", ":")).encode()
    try:
        blob, _ = kms.encrypt(
            service.platform,
            ctx.principal,
            ctx.account_id,
            ctx.region,
            key,
            plaintext,
            _context(config),
            via="lambda",
        )
    except ServiceError as error:
        raise ServiceError(
            "InvalidParameterValueException",
            "Lambda was unable to configure access to your environment variables because the KMS key is invalid "
            f"for CreateGrant. Please check your KMS key settings. KMS Exception: {error.code}KMS Message: "
            f"{error.message}",
        ) from error
    config[SEALED] = base64.b64encode(blob).decode()


async def unseal(
    service: LambdaProvider, account: str, region: str, config: dict[str, Any]
) -> dict[str, str]:
    """The variables an execution environment starts with: decrypted as the execution role when sealed."""
    variables = (config.get("Environment") or {}).get("Variables") or {}
    sealed = config.get(SEALED)
    if not sealed:
        return variables
    principal = await service.role_principal(account, region, config)
    try:
        plaintext = await kms.decrypt_async(
            service.platform,
            principal,
            account,
            region,
            base64.b64decode(sealed),
            _context(config),
            via="lambda",
        )
    except ServiceError as error:
        code, message = _INVOKE_ERRORS.get(
            error.code,
            (
                "KMSAccessDeniedException",
                "Lambda was unable to decrypt the environment variables because KMS access was denied. "
                f"{CHECK} KMS Exception: {error.code}KMS Message: {error.message}",
            ),
        )
        raise ServiceError(code, message, 502, sender_fault=False) from error
    return json.loads(plaintext)
