"""Key policies: the default ones AWS writes, PutKeyPolicy's validation, and grants as policy statements.

The policy engine evaluates a key's policy as its resource policy (the provider's `authorization_resource`),
with the key's grants added as statements: a grant allows its grantee its operations on the key, under its
encryption-context constraints, exactly as a key policy statement naming the grantee would.
Pure logic: no request context, no database.
"""

from __future__ import annotations

import json
import re
from typing import Any

from overcast.errors import ServiceError
from overcast.identity import Principal
from overcast.policy import document as policy_doc
from overcast.policy.evaluate import Request, statement_applies

MAX_POLICY_BYTES = 32768
_PRINCIPAL_ARN = re.compile(r"^arn:aws:(iam|sts)::(\d{12}|aws):[\w+=,.@/*:-]+$")
_ACCOUNT = re.compile(r"^\d{12}$")


def malformed(message: str) -> ServiceError:
    return ServiceError("MalformedPolicyDocumentException", message)


def default_policy(account: str) -> str:
    """The default key policy of a key made without one, as GetKeyPolicy returns it (AWS's layout)."""
    return (
        "{\n"
        '  "Version" : "2012-10-17",\n'
        '  "Id" : "key-default-1",\n'
        '  "Statement" : [ {\n'
        '    "Sid" : "Enable IAM User Permissions",\n'
        '    "Effect" : "Allow",\n'
        '    "Principal" : {\n'
        f'      "AWS" : "arn:aws:iam::{account}:root"\n'
        "    },\n"
        '    "Action" : "kms:*",\n'
        '    "Resource" : "*"\n'
        "  } ]\n"
        "}"
    )


def managed_policy(account: str, region: str, service: str) -> str:
    """The policy of the AWS managed key `aws/<service>`: every principal of the account may use it through the
    service (kms:ViaService), and the account may read its metadata."""
    via = f"{service}.{region}.amazonaws.com"
    statements = [
        {
            "Sid": f"Allow access through {service} for all principals in the account that are authorized to "
            f"use {service}",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": [
                "kms:Encrypt",
                "kms:Decrypt",
                "kms:ReEncrypt*",
                "kms:GenerateDataKey*",
                "kms:CreateGrant",
                "kms:DescribeKey",
            ],
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:CallerAccount": account, "kms:ViaService": via}},
        },
        {
            "Sid": "Allow direct access to key metadata to the account",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
            "Action": ["kms:Describe*", "kms:Get*", "kms:List*"],
            "Resource": "*",
        },
    ]
    document = {"Version": "2012-10-17", "Id": f"auto-{service}-2", "Statement": statements}
    return json.dumps(document, indent=2)


def validate(text: str, caller: Principal, key_arn: str, bypass_lockout_check: bool) -> None:
    """PutKeyPolicy's and CreateKey's checks, with KMS's messages."""
    if len(text.encode()) > MAX_POLICY_BYTES:
        raise malformed("Policy is too long.")
    try:
        policy = policy_doc.validate(text, policy_doc.RESOURCE)
    except ServiceError as error:
        raise malformed(_kms_wording(error.message)) from None
    for statement in policy.statements:
        for kind, names in (statement.principals or statement.not_principals or {}).items():
            if kind == "AWS" and not all(_valid_aws_principal(name) for name in names):
                raise malformed("Policy contains a statement with one or more invalid principals.")
    if bypass_lockout_check or caller.kind == "service":
        return
    request = Request(caller, "kms:PutKeyPolicy", key_arn, {})
    if not any(
        statement.effect == "Allow" and statement_applies(statement, policy, request)
        for statement in policy.statements
        if not statement.conditions
    ):
        raise malformed("The new key policy will not allow you to update the key policy in the future.")


def _kms_wording(message: str) -> str:
    if "principal" in message.lower():
        return "Policy contains a statement with one or more invalid principals."
    return "The policy is malformed." if "Syntax" in message else message


def _valid_aws_principal(name: str) -> bool:
    return name == "*" or bool(_ACCOUNT.match(name) or _PRINCIPAL_ARN.match(name))


# -- grants as statements ------------------------------------------------------------------------------------


def grant_statements(grants: list[Any]) -> list[dict[str, Any]]:
    """A key's grants as key policy statements (Grant rows from the store)."""
    statements = []
    for grant in grants:
        principal = _principal(grant.grantee)
        conditions = _constraint_conditions(grant.constraints)
        statements.append(
            _statement(principal, [f"kms:{op}" for op in _actions(grant.operations)], conditions)
        )
        if grant.retiring:  # the retiring principal may retire it (checked again by RetireGrant itself)
            statements.append(_statement(_principal(grant.retiring), ["kms:RetireGrant"], {}))
    return statements


def _actions(operations: list[str]) -> list[str]:
    """Grant operations as IAM actions (ReEncryptFrom and ReEncryptTo are the IAM actions' names too)."""
    return list(operations)


def _principal(name: str) -> dict[str, str]:
    return {"Service": name} if name.endswith(".amazonaws.com") else {"AWS": name}


def _statement(principal: dict[str, str], actions: list[str], conditions: dict[str, Any]) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": principal,
        "Action": actions,
        "Resource": "*",
    }
    if conditions:
        statement["Condition"] = conditions
    return statement


def _constraint_conditions(constraints: dict[str, Any] | None) -> dict[str, Any]:
    if not constraints:
        return {}
    pairs = constraints.get("EncryptionContextEquals") or constraints.get("EncryptionContextSubset") or {}
    conditions: dict[str, Any] = {}
    if pairs:
        conditions["StringEquals"] = {f"kms:EncryptionContext:{k}": v for k, v in pairs.items()}
    if "EncryptionContextEquals" in constraints:
        conditions["ForAllValues:StringEquals"] = {"kms:EncryptionContextKeys": list(pairs)}
    return conditions


def with_grants(policy: str, grants: list[Any]) -> str:
    """The key policy and the key's grants as one resource policy for the engine."""
    if not grants:
        return policy
    document = json.loads(policy)
    statements = document.get("Statement")
    statements = statements if isinstance(statements, list) else [statements]
    document["Statement"] = statements + grant_statements(grants)
    return json.dumps(document)
