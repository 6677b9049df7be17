"""S3's resource-side rules as the platform's policy engine sees them, and what makes a policy public.

A bucket's policy and its ACL grants (and an object's) are resource-based permissions: `resource_document`
turns them into one policy document for the engine (policy/enforcement.py), which evaluates it like any
resource policy (explicit Deny binds everyone, conditions and NotPrincipal hold). ACL grants become
statements (AllUsers: `Principal: *`; AuthenticatedUsers: `*` for a signed caller; a canonical user: its
account), as AWS's table mapping ACL permissions to actions says. Block Public Access shapes the document:
IgnorePublicAcls drops public grants, RestrictPublicBuckets drops a public policy's grants to anyone outside
the owner's account (AWS service principals keep them). Pure logic: no database, no request.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

from overcast.identity import Principal, canonical_user_id

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
PUBLIC_GROUPS = (ALL_USERS, AUTHENTICATED_USERS)

# What each ACL permission grants (AWS: "Mapping of ACL permissions and access policy permissions").
BUCKET_PERMISSIONS = {
    "READ": ("s3:ListBucket", "s3:ListBucketVersions", "s3:ListBucketMultipartUploads"),
    "READ_ACP": ("s3:GetBucketAcl",),
    "WRITE_ACP": ("s3:PutBucketAcl",),
}
BUCKET_WRITE = ("s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion")  # on the bucket's objects
OBJECT_PERMISSIONS = {
    "READ": ("s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTorrent"),
    "READ_ACP": ("s3:GetObjectAcl", "s3:GetObjectVersionAcl"),
    "WRITE_ACP": ("s3:PutObjectAcl", "s3:PutObjectVersionAcl"),
}

# The action of a request that names a version of an object, by the action of the operation.
_VERSION_ACTIONS = {
    "s3:GetObject": "s3:GetObjectVersion",
    "s3:DeleteObject": "s3:DeleteObjectVersion",
    "s3:GetObjectTagging": "s3:GetObjectVersionTagging",
    "s3:PutObjectTagging": "s3:PutObjectVersionTagging",
    "s3:DeleteObjectTagging": "s3:DeleteObjectVersionTagging",
    "s3:GetObjectAcl": "s3:GetObjectVersionAcl",
    "s3:PutObjectAcl": "s3:PutObjectVersionAcl",
    "s3:GetObjectAttributes": "s3:GetObjectVersionAttributes",
}


def versioned(action: str, params: dict[str, Any]) -> str:
    """`action`, or its version form when the request names a version (VersionId)."""
    return _VERSION_ACTIONS.get(action, action) if params.get("VersionId") else action


_ACL_MEMBERS = ("ACL", "GrantFullControl", "GrantRead", "GrantReadACP", "GrantWrite", "GrantWriteACP")


def further_actions(operation: str, params: dict[str, Any]) -> list[str]:
    """The permissions a request needs besides its operation's, for what it sets along the way (AWS's
    "conditionally required" permissions): an ACL, object tags, a new bucket's settings and tags."""
    actions = []
    if any(params.get(member) for member in _ACL_MEMBERS):
        actions.append("s3:PutBucketAcl" if operation == "CreateBucket" else "s3:PutObjectAcl")
    if operation == "CreateBucket":
        if params.get("ObjectLockEnabledForBucket"):
            actions += ["s3:PutBucketObjectLockConfiguration", "s3:PutBucketVersioning"]
        if params.get("ObjectOwnership"):
            actions.append("s3:PutBucketOwnershipControls")
        if (params.get("CreateBucketConfiguration") or {}).get("Tags"):
            actions.append("s3:TagResource")
    elif params.get("Tagging") and (operation != "CopyObject" or params.get("TaggingDirective") == "REPLACE"):
        actions.append("s3:PutObjectTagging")
    return actions


# Condition keys whose fixed values make a grant to `*` non-public (AWS: "The meaning of public").
_PINNING_KEYS = {
    "aws:sourceip",
    "aws:sourcearn",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceowner",
    "aws:sourceaccount",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
    "aws:userid",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "s3:dataaccesspointarn",
    "s3:dataaccesspointaccount",
}
_FIXING_OPERATORS = {
    "stringequals",
    "stringequalsignorecase",
    "stringlike",
    "arnequals",
    "arnlike",
    "ipaddress",
}


def as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


# -- what is public ---------------------------------------------------------------------------------


def _fixed(key: str, values: list[Any]) -> bool:
    """Whether every value of `key` in a condition is a fixed one (no wildcard, no world-wide IP range)."""
    if not values:
        return False
    for value in values:
        text = str(value)
        if "*" in text or "?" in text:
            return False
        if key == "aws:sourceip":
            try:
                if ipaddress.ip_network(text, strict=False).prefixlen < 8:
                    return False
            except ValueError:
                return False
        if key == "aws:userid" and text.endswith(":*"):
            return False
    return True


def _conditions_pin(conditions: Any) -> bool:
    """Whether a statement's conditions restrict it to fixed callers or sources."""
    if not isinstance(conditions, dict):
        return False
    for operator, block in conditions.items():
        name = str(operator).lower().split(":")[-1].removesuffix("ifexists")
        if name not in _FIXING_OPERATORS or not isinstance(block, dict):
            continue
        for key, values in block.items():
            if str(key).lower() in _PINNING_KEYS and _fixed(str(key).lower(), as_list(values)):
                return True
    return False


def _grants_to_everyone(statement: dict[str, Any]) -> bool:
    if "NotPrincipal" in statement:
        return True
    principal = statement.get("Principal")
    if principal == "*":
        return True
    return isinstance(principal, dict) and "*" in as_list(principal.get("AWS"))


def statement_is_public(statement: Any) -> bool:
    return (
        isinstance(statement, dict)
        and statement.get("Effect") == "Allow"
        and _grants_to_everyone(statement)
        and not _conditions_pin(statement.get("Condition"))
    )


def policy_is_public(policy: dict[str, Any] | None) -> bool:
    return bool(policy) and any(statement_is_public(s) for s in as_list(policy.get("Statement")))


def grants_are_public(grants: list[dict[str, Any]]) -> bool:
    return any(g.get("Grantee", {}).get("URI") in PUBLIC_GROUPS for g in grants)


# -- the document the engine evaluates --------------------------------------------------------------


def _grantee_principal(grantee: dict[str, Any], principal: Principal) -> Any:
    """The Principal element a grant stands for, for this caller (None: the grant is not the caller's)."""
    uri = grantee.get("URI")
    if uri == ALL_USERS:
        return "*"
    if principal.is_anonymous:
        return None
    if uri == AUTHENTICATED_USERS:
        return "*"
    if grantee.get("ID") == canonical_user_id(principal.account_id):
        return {"AWS": f"arn:aws:iam::{principal.account_id}:root"}
    return None


def acl_statements(
    grants: list[dict[str, Any]],
    principal: Principal,
    resource: str,
    permissions: dict[str, tuple[str, ...]],
    ignore_public: bool,
) -> list[dict[str, Any]]:
    """The grants of an ACL that concern `principal`, as Allow statements on `resource`."""
    statements = []
    for grant in grants:
        grantee = grant.get("Grantee") or {}
        if ignore_public and grantee.get("URI") in PUBLIC_GROUPS:
            continue
        who = _grantee_principal(grantee, principal)
        permission = grant.get("Permission")
        if who is None:
            continue
        if permission == "FULL_CONTROL":
            actions = [a for group in permissions.values() for a in group]
        else:
            actions = list(permissions.get(permission, ()))
        if actions:
            statements.append({"Effect": "Allow", "Principal": who, "Action": actions, "Resource": resource})
    return statements


def resource_document(
    policy: dict[str, Any] | None,
    policy_text: str | None,
    principal: Principal,
    owner: str,
    acl: list[dict[str, Any]],
    block: dict[str, bool],
) -> str | None:
    """The bucket policy and the ACL statements `acl` (already built for this caller) as one document, with
    RestrictPublicBuckets applied. The stored text itself when nothing is added or removed (parsed once)."""
    statements = as_list(policy.get("Statement")) if policy else []
    restricted = (
        block.get("RestrictPublicBuckets")
        and policy_is_public(policy)
        and principal.kind != "service"
        and (principal.is_anonymous or principal.account_id != owner)
    )
    if restricted:
        statements = [s for s in statements if isinstance(s, dict) and s.get("Effect") == "Deny"]
    elif not acl:
        return policy_text
    if not statements and not acl:
        return None
    version = (policy or {}).get("Version") or "2012-10-17"
    return json.dumps({"Version": version, "Statement": [*statements, *acl]})
