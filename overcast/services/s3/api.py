"""What other services may ask of S3 besides its AWS operations (through `Platform.call`): the account-level
Block Public Access settings, which S3 Control manages and every bucket check combines with the bucket's own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from overcast.platform import Platform
    from overcast.services.s3.provider import S3Provider

_PUBLIC_ACCESS_BLOCK = "public_access_block"


def load_s3(platform: Platform) -> None:
    """Start S3 now, outside any request's transaction, so that its tables are created for good."""
    _s3(platform)


def account_public_access_block(platform: Platform, account: str) -> dict[str, Any] | None:
    """The account's Block Public Access settings as stored, or None when it has none."""
    return _s3(platform).store.account_setting(account, _PUBLIC_ACCESS_BLOCK)


def put_account_public_access_block(platform: Platform, account: str, settings: dict[str, bool]) -> None:
    _s3(platform).store.put_account_setting(account, _PUBLIC_ACCESS_BLOCK, settings)


def delete_account_public_access_block(platform: Platform, account: str) -> None:
    _s3(platform).store.delete_account_setting(account, _PUBLIC_ACCESS_BLOCK)


def _s3(platform: Platform) -> S3Provider:
    provider = platform.provider("s3")
    assert provider is not None  # S3 is part of every Overcast
    return provider  # type: ignore[return-value]
