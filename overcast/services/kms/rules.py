"""KMS's errors and limits, shared by its operation families (AWS's codes and message texts)."""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING

from overcast.errors import ServiceError
from overcast.services.kit.tags import TagRules

if TYPE_CHECKING:
    from overcast.services.kms.store import Key, KmsStore

# AWS managed keys made on first use of their alias (`alias/aws/<service>`).
MANAGED_SERVICES = frozenset(
    {
        "s3",
        "sqs",
        "sns",
        "lambda",
        "secretsmanager",
        "ssm",
        "ebs",
        "dynamodb",
        "rds",
        "redshift",
        "elasticfilesystem",
        "kinesis",
        "kinesisvideo",
        "firehose",
        "glue",
        "codecommit",
        "backup",
        "es",
        "acm",
        "cloud9",
        "ecr",
        "fsx",
        "xray",
        "dms",
        "sagemaker",
        "timestream",
    }
)

_STATE_WORDS = {
    "PendingDeletion": "pending deletion",
    "PendingReplicaDeletion": "pending replica deletion",
    "PendingImport": "pending import",
    "Disabled": "disabled",
    "Enabled": "enabled",
    "Unavailable": "unavailable",
    "Creating": "creating",
    "Updating": "updating",
}


def not_found(message: str) -> ServiceError:
    return ServiceError("NotFoundException", message)


def invalid_state(message: str) -> ServiceError:
    return ServiceError("KMSInvalidStateException", message)


def state_message(key: Key) -> str:
    """KMSInvalidStateException's text: `arn:aws:kms:...:key/... is pending deletion.`"""
    return f"{key.arn} is {_STATE_WORDS.get(key.state, key.state)}."


def validation(message: str) -> ServiceError:
    return ServiceError("ValidationException", message)


def unsupported(message: str) -> ServiceError:
    return ServiceError("UnsupportedOperationException", message)


def invalid_marker() -> ServiceError:
    return ServiceError("InvalidMarkerException", "Invalid marker")


def dry_run() -> ServiceError:
    return ServiceError(
        "DryRunOperationException", "The request would have succeeded, but the DryRun option is set."
    )


def _tag_error(message: str) -> ServiceError:
    return ServiceError("TagException", message)


TAG_RULES = TagRules(
    max_tags=50,
    max_key=128,
    max_value=256,
    too_many=lambda limit: _tag_error("Tag limit exceeded"),
    invalid=lambda key: _tag_error("Tag key or value is invalid."),
    reserved=lambda key: _tag_error("Tags beginning with aws: are reserved"),
)

GRANT_TOKEN_PREFIX = "overcast-grant:"


def grant_token(grant_id: str) -> str:
    return base64.urlsafe_b64encode(f"{GRANT_TOKEN_PREFIX}{grant_id}".encode()).decode().rstrip("=")


def grant_id_of_token(token: str) -> str | None:
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    return text[len(GRANT_TOKEN_PREFIX) :] if text.startswith(GRANT_TOKEN_PREFIX) else None


def check_grant_tokens(store: KmsStore, tokens: list[str] | None) -> None:
    """Grant tokens a request passes must be tokens KMS issued (the grant itself is evaluated as policy)."""
    for token in tokens or ():
        if grant_id_of_token(token) is None:
            raise ServiceError("InvalidGrantTokenException", "Invalid grant token")
