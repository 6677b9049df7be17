"""What Organizations names the same way everywhere: its random ids, AWS's FullAWSAccess policy, the role a
created account gets."""

from __future__ import annotations

import json
import secrets
import string

SCP = "SERVICE_CONTROL_POLICY"
FULL_ACCESS_ID = "p-FullAWSAccess"
FULL_ACCESS = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)
ACCESS_ROLE = "OrganizationAccountAccessRole"  # the role a created account trusts its management account with
_LOWER = string.ascii_lowercase + string.digits


def random_id(length: int, alphabet: str = _LOWER) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def new_account_id() -> str:
    """A random 12-digit account id."""
    return str(secrets.randbelow(9 * 10**11) + 10**11)
