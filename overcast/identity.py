"""Who a request acts as: principals, accounts, and the access keys that select them."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Principal:
    account_id: str
    arn: str
    user_id: str  # GetCallerIdentity's UserId: the account id for root, AIDA.../AROA...:session otherwise
    kind: str  # root | user | assumed-role | federated-user | service | anonymous
    access_key_id: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def is_anonymous(self) -> bool:
        return self.kind == "anonymous"


def root_principal(account_id: str, access_key_id: str | None = None) -> Principal:
    return Principal(account_id, f"arn:aws:iam::{account_id}:root", account_id, "root", access_key_id)


def service_principal(service_host: str, account_id: str) -> Principal:
    """An AWS service acting on a user's behalf (s3.amazonaws.com delivering to a queue, ...)."""
    return Principal(account_id, service_host, service_host, "service")


ANONYMOUS = Principal("", "*", "anonymous", "anonymous")


def canonical_user_id(account_id: str) -> str:
    """S3's 64-hex canonical user id of an account: stable, distinct per account."""
    return hashlib.sha256(f"overcast-canonical-{account_id}".encode()).hexdigest()


def display_name(account_id: str) -> str:
    return f"overcast-{account_id}"


@dataclass(frozen=True)
class Credential:
    """An access key Overcast knows the secret of: its signatures are always verified."""

    access_key_id: str
    secret_key: str
    principal: Principal
    session_token: str | None = None
    expires_at: float | None = None  # virtual epoch seconds; STS credentials expire
    active: bool = True


CredentialSource = Callable[[str], Credential | None]


class Credentials:
    """Resolves an access key id to a Credential. IAM and STS register sources for the keys they issue."""

    def __init__(self, root_access_key: str, root_secret_key: str, default_account: str) -> None:
        self.default_account = default_account
        self.root = Credential(
            root_access_key, root_secret_key, root_principal(default_account, root_access_key)
        )
        self._sources: list[CredentialSource] = []

    def add_source(self, source: CredentialSource) -> None:
        self._sources.append(source)

    def lookup(self, access_key_id: str) -> Credential | None:
        if access_key_id == self.root.access_key_id:
            return self.root
        for source in self._sources:
            found = source(access_key_id)
            if found:
                return found
        return None
