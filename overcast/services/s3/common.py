"""Helpers every S3 operation family shares: errors, names, ETags, ACL grants, and who may do what."""

from __future__ import annotations

import ipaddress
import re
import secrets
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from overcast.errors import ServiceError
from overcast.identity import canonical_user_id
from overcast.services.kit.arns import build_arn
from overcast.services.kit.paging import decode_token
from overcast.services.s3.access import ALL_USERS, AUTHENTICATED_USERS, grants_are_public  # noqa: F401
from overcast.services.s3.store import Bucket

LOG_DELIVERY = "http://acs.amazonaws.com/groups/s3/LogDelivery"
STORAGE_CLASSES = (
    "STANDARD",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER_IR",
    "GLACIER",
    "DEEP_ARCHIVE",
    "REDUCED_REDUNDANCY",
)
ARCHIVED_CLASSES = ("GLACIER", "DEEP_ARCHIVE")
# A bucket's default encryption, from its creation and after DeleteBucketEncryption.
SSE_S3_DEFAULT = {
    "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False}]
}
MAX_KEY_BYTES = 1024
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_BAD_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BAD_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


# -- errors -----------------------------------------------------------------------------------------


def no_such_bucket(name: str) -> ServiceError:
    return ServiceError("NoSuchBucket", "The specified bucket does not exist", 404, BucketName=name)


def no_such_key(key: str) -> ServiceError:
    return ServiceError("NoSuchKey", "The specified key does not exist.", 404, Key=key)


def access_denied() -> ServiceError:
    return ServiceError("AccessDenied", "Access Denied", 403)


def invalid_argument(message: str, name: str | None = None, value: Any = None) -> ServiceError:
    return ServiceError("InvalidArgument", message, 400, ArgumentName=name, ArgumentValue=value)


def precondition_failed(condition: str) -> ServiceError:
    return ServiceError(
        "PreconditionFailed",
        "At least one of the pre-conditions you specified did not hold",
        412,
        Condition=condition,
    )


def not_modified() -> ServiceError:
    return ServiceError("NotModified", "Not Modified", 304)


def acls_not_supported() -> ServiceError:
    return ServiceError("AccessControlListNotSupported", "The bucket does not allow ACLs", 400)


# -- names and values -------------------------------------------------------------------------------


def check_bucket_name(name: str) -> None:
    valid = (
        _BUCKET_NAME.match(name) is not None
        and ".." not in name
        and ".-" not in name
        and "-." not in name
        and not name.startswith(_BAD_PREFIXES)
        and not name.endswith(_BAD_SUFFIXES)
        and not _is_ip_address(name)
    )
    if not valid:
        raise ServiceError("InvalidBucketName", "The specified bucket is not valid.", 400, BucketName=name)


def _is_ip_address(name: str) -> bool:
    try:
        ipaddress.IPv4Address(name)
        return True
    except ValueError:
        return False


def check_key(key: str) -> None:
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise ServiceError(
            "KeyTooLongError",
            "Your key is too long",
            400,
            Size=len(key.encode()),
            MaxSizeAllowed=MAX_KEY_BYTES,
        )
    if not key:
        raise invalid_argument("The key must not be empty", "key", key)


def new_version_id() -> str:
    """Opaque, URL-safe, 32 characters, like S3's."""
    return secrets.token_urlsafe(24)[:32]


def quoted(etag_hex: str) -> str:
    return f'"{etag_hex}"'


def etag_matches(condition: str, etag: str) -> bool:
    """An If-Match / If-None-Match header value (a list of ETags or *) against a stored ETag."""
    bare = etag.strip('"')
    for candidate in condition.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/").strip('"') == bare:
            return True
    return False


def to_datetime(moment: float) -> datetime:
    """A moment as S3 answers it: to the second (2009-10-12T17:50:30.000Z in XML)."""
    return datetime.fromtimestamp(int(moment), UTC)


def seconds(value: datetime) -> float:
    return value.timestamp() if value.tzinfo else value.replace(tzinfo=UTC).timestamp()


# -- owners and grants ------------------------------------------------------------------------------


def owner_of(account: str) -> dict[str, str]:
    """An Owner (or a grantee's identity): its canonical id only (S3 stopped returning DisplayName in 2025)."""
    return {"ID": canonical_user_id(account)}


def owner_grant(account: str, permission: str = "FULL_CONTROL") -> dict[str, Any]:
    return {"Grantee": {"Type": "CanonicalUser", **owner_of(account)}, "Permission": permission}


def group_grant(uri: str, permission: str) -> dict[str, Any]:
    return {"Grantee": {"Type": "Group", "URI": uri}, "Permission": permission}


def canned_acl(acl: str, owner: str, bucket_owner: str | None = None) -> list[dict[str, Any]]:
    grants = [owner_grant(owner)]
    if acl == "public-read":
        grants.append(group_grant(ALL_USERS, "READ"))
    elif acl == "public-read-write":
        grants += [group_grant(ALL_USERS, "READ"), group_grant(ALL_USERS, "WRITE")]
    elif acl == "authenticated-read":
        grants.append(group_grant(AUTHENTICATED_USERS, "READ"))
    elif acl == "log-delivery-write":
        grants += [group_grant(LOG_DELIVERY, "WRITE"), group_grant(LOG_DELIVERY, "READ_ACP")]
    elif acl in ("bucket-owner-read", "bucket-owner-full-control") and bucket_owner and bucket_owner != owner:
        grants.append(owner_grant(bucket_owner, "READ" if acl == "bucket-owner-read" else "FULL_CONTROL"))
    return grants


_GRANT_HEADERS = {
    "GrantFullControl": "FULL_CONTROL",
    "GrantRead": "READ",
    "GrantReadACP": "READ_ACP",
    "GrantWrite": "WRITE",
    "GrantWriteACP": "WRITE_ACP",
}
_GRANTEE = re.compile(r'\s*(id|uri|emailAddress)\s*=\s*"?([^",]+)"?\s*')


def header_grants(params: dict[str, Any]) -> list[dict[str, Any]] | None:
    """Grants given as x-amz-grant-* headers ('id="..."', 'uri="..."'), or None when there are none."""
    grants = []
    for member, permission in _GRANT_HEADERS.items():
        value = params.get(member)
        if not value:
            continue
        for entry in value.split(","):
            if not entry.strip():
                continue
            match = _GRANTEE.fullmatch(entry)
            if match is None:
                raise invalid_argument("Invalid grant header", member, entry)
            kind, value = match.groups()
            if kind == "uri":
                grantee = {"Type": "Group", "URI": value}
            elif kind == "id":
                grantee = {"Type": "CanonicalUser", "ID": value}
            else:
                grantee = {"Type": "AmazonCustomerByEmail", "EmailAddress": value}
            grants.append({"Grantee": grantee, "Permission": permission})
    return grants or None


def acl_from_request(
    params: dict[str, Any], owner: str, bucket_owner: str | None = None
) -> list[dict[str, Any]]:
    """The grants a Put*Acl request sets: a canned ACL, grant headers, or an AccessControlPolicy document
    (an empty one leaves no grant at all); with none of them S3 answers MissingSecurityHeader."""
    grants = header_grants(params)
    if grants is not None:
        return grants
    policy = params.get("AccessControlPolicy")
    if policy is not None and params.get("ACL") is None:
        return [
            {
                "Grantee": {k: v for k, v in g.get("Grantee", {}).items() if v is not None},
                "Permission": g.get("Permission"),
            }
            for g in policy.get("Grants") or []
        ]
    if params.get("ACL") is None:
        raise ServiceError(
            "MissingSecurityHeader",
            "Your request was missing a required header",
            400,
            MissingHeaderName="x-amz-acl",
        )
    return canned_acl(params["ACL"], owner, bucket_owner)


_GROUPS = (ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY)


def check_grantees(grants: list[dict[str, Any]], accounts: Iterable[str]) -> None:
    """Every grantee is one S3 can resolve: a canonical id of a known account, or one of its groups (grants
    by e-mail address resolve to no account here, as in the regions where AWS no longer takes them)."""
    known = {canonical_user_id(account) for account in accounts}
    for grant in grants:
        grantee = grant.get("Grantee") or {}
        if grantee.get("EmailAddress") is not None or grantee.get("Type") == "AmazonCustomerByEmail":
            raise ServiceError(
                "UnresolvableGrantByEmailAddress",
                "The e-mail address you provided does not match any account on record.",
                400,
                EmailAddress=grantee.get("EmailAddress"),
            )
        if grantee.get("URI") is not None and grantee["URI"] not in _GROUPS:
            raise invalid_argument("Invalid group uri", "uri", grantee["URI"])
        if grantee.get("ID") is not None and grantee["ID"] not in known:
            raise invalid_argument("Invalid id", "CanonicalUser/ID", grantee["ID"])


def resume_after(token: str | None, scope: str, invalid: Callable[[], ServiceError]) -> str | None:
    """The key (or bucket name) a continuation token of ours resumes after; None without a token. Tokens are
    the kit's (opaque, scoped to the listing that issued them); anything else is `invalid()`."""
    position = decode_token(token or None, invalid, scope)
    if position is not None and not isinstance(position, str):
        raise invalid()
    return position


def bucket_arn(bucket: Bucket | str, key: str | None = None) -> str:
    """The ARN of a bucket (by its record or its name), or of an object in it."""
    name = bucket if isinstance(bucket, str) else bucket.name
    return build_arn("s3", "", "", name + (f"/{key}" if key is not None else ""))


def check_expected_owner(expected: str, bucket: Bucket) -> None:
    """x-amz-expected-bucket-owner (and x-amz-source-expected-bucket-owner): an account id, the bucket's
    owner's."""
    if not (len(expected) == 12 and expected.isdigit()):
        raise ServiceError(
            "InvalidBucketOwnerAWSAccountID",
            "The value of the expected bucket owner parameter must be an AWS Account ID...",
            400,
        )
    if expected != bucket.account:
        raise access_denied()
