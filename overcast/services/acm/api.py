"""What other services may ask of ACM besides its operations: whether a certificate can serve a listener, its
PEMs and key for the listener to terminate TLS with, and which resources use it (InUseBy)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from overcast.services.acm import ca

if TYPE_CHECKING:
    from overcast.platform import Platform
    from overcast.services.acm.provider import AcmProvider


def _acm(platform: Platform) -> AcmProvider | None:
    # running, not provider: a service that never ran holds nothing, and starting it here, inside the caller's
    # transaction, would lose its new tables if that transaction rolled back
    return platform.running("acm")  # type: ignore[return-value]


def unusable(platform: Platform, account: str, region: str, arn: str) -> str | None:
    """None when the certificate `arn` of the account and region can serve TLS; "missing" when there is no such
    certificate; else why it cannot (not issued yet, expired)."""
    acm = _acm(platform)
    found = acm.store.get(arn) if acm else None
    if found is None or found.account != account or found.region != region:
        return "missing"
    if found.status != "ISSUED":
        return f"Certificate '{arn}' must be issued before it can be used; its status is {found.status}"
    return None


def server_certificate(platform: Platform, arn: str) -> tuple[str, str, list[str]] | None:
    """(certificate followed by its chain, private key, names it covers), PEM, or None."""
    acm = _acm(platform)
    found = acm.store.get(arn) if acm else None
    if found is None or not found.cert_pem or not found.key_pem:
        return None
    return found.cert_pem + (found.chain_pem or ""), found.key_pem, ca.facts(found.cert_pem).names


def generation(platform: Platform) -> int:
    """A number that changes whenever a certificate's material changes (issued, renewed, re-imported): TLS
    listeners reload their certificates when it does."""
    acm = platform.running("acm")
    return getattr(acm, "generation", 0)


def claim(platform: Platform, arn: str, resource_arn: str, user_key: str) -> None:
    """`user_key` (a listener) of `resource_arn` (its load balancer) uses the certificate now."""
    acm = _acm(platform)
    if acm is not None and acm.store.get(arn) is not None:
        acm.store.claim(arn, user_key, resource_arn)
        acm.schedule_changed()


def release(platform: Platform, arn: str, resource_arn: str, user_key: str) -> None:
    acm = _acm(platform)
    if acm is not None:
        acm.store.release(arn, user_key)
