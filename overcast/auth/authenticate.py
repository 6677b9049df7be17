"""From a request's signature to the principal it acts as.

- Keys Overcast issued (IAM users' keys, STS sessions) are always verified, and expire on the clock.
- The root credentials (`test`/`test` by default) act as the default account's root; their signature is
  verified under `--iam enforce` (and for presigned URLs, always).
- Any other key: accepted unverified as root of the account it names (a 12-digit key id) or of the default
  account, so every existing client configuration works; refused under `--iam enforce`.
- Unsigned requests are anonymous for S3 (public access only) and for the operations AWS serves unsigned
  (their models say so: Cognito's SignUp, STS's AssumeRoleWithWebIdentity, ...); any other unsigned request is
  refused as AWS refuses it (MissingAuthenticationToken), so a web page cannot drive the APIs with a bare form.

Presigned URLs expire on the virtual clock; the 15-minute skew allowance is measured on the wall clock,
which is what clients sign with, so advancing the virtual clock does not invalidate their requests.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING

from overcast.auth.sigv4 import SigV2, SigV4, check_request_time, parse_sigv2, verify_sigv2, verify_sigv4
from overcast.errors import ServiceError
from overcast.http import HttpRequest
from overcast.identity import ANONYMOUS, Credential, Principal, root_principal

if TYPE_CHECKING:
    from overcast.platform import Platform


def error_style(protocol: str, service: str) -> str:
    """How authentication errors are worded: S3's own codes, the query protocols', or the JSON ones'."""
    if service == "s3":
        return "s3"
    return "query" if protocol in ("query", "ec2") else "json"


def authenticate(
    platform: Platform,
    request: HttpRequest,
    sig: SigV4 | None,
    style: str,
    sent_path: str,
    unsigned_allowed: bool = False,
) -> tuple[Principal, str | None]:
    """The principal, and the secret key when the signature was verified (aws-chunked bodies are then
    verified chunk by chunk with it). `sent_path` is the path as the client signed it (before
    virtual-hosted S3 became path style); `unsigned_allowed`: the operation is one AWS serves unsigned."""
    signed = request if request.path == sent_path else replace(request, path=sent_path)
    if sig is None and style == "s3":
        sig2 = parse_sigv2(request)
        if sig2 is not None:
            return _authenticate_sigv2(platform, request, sig2), None
    if sig is None:
        if style == "s3" or unsigned_allowed:
            return ANONYMOUS, None
        raise missing_authentication(style)
    if sig.presigned and style == "s3":
        _check_all_amz_headers_signed(request, sig)
    now = platform.clock.now()
    credential = platform.credentials.lookup(sig.access_key_id)
    if credential is None:
        check = lambda: check_request_time(sig, now, style, real_now=time.time())  # noqa: E731
        return _unknown_key(platform, sig.access_key_id, style, check), None
    if not _must_verify(platform, credential, sig.presigned):
        return _checked(credential, sig.security_token, now, style), None
    verify_sigv4(signed, sig, credential.secret_key, now, error_style=style, real_now=time.time())
    return _checked(credential, sig.security_token, now, style), credential.secret_key


def _check_all_amz_headers_signed(request: HttpRequest, sig: SigV4) -> None:
    """A presigned S3 URL fixes what the request may say: an x-amz-* header it did not sign is refused (or
    whoever holds the URL could add, say, x-amz-acl: public-read)."""
    unsigned = [name for name, _ in request.headers.items() if name.startswith("x-amz-")]
    unsigned = [name for name in unsigned if name not in sig.signed_headers]
    if unsigned:
        raise ServiceError(
            "AccessDenied",
            "There were headers present in the request which were not signed",
            403,
            HeadersNotSigned=", ".join(unsigned),
        )


def _authenticate_sigv2(platform: Platform, request: HttpRequest, sig: SigV2) -> Principal:
    now = platform.clock.now()
    credential = platform.credentials.lookup(sig.access_key_id)
    if credential is None:
        return _unknown_key(platform, sig.access_key_id, "s3", lambda: _check_sigv2_expiry(sig, now))
    if _must_verify(platform, credential, sig.presigned):
        verify_sigv2(request, sig, credential.secret_key, now if sig.presigned else time.time())
    return _checked(credential, request.headers.get("x-amz-security-token"), now, "s3")


def _must_verify(platform: Platform, credential: Credential, presigned: bool) -> bool:
    is_root = credential is platform.credentials.root
    return not is_root or presigned or platform.config.iam == "enforce"


def _checked(credential: Credential, token: str | None, now: float, style: str) -> Principal:
    if credential.session_token and token != credential.session_token:
        raise _invalid_token(style)
    if credential.expires_at is not None and now >= credential.expires_at:
        raise ServiceError("ExpiredToken", "The security token included in the request is expired", 403)
    if not credential.active:
        raise _invalid_key(style)
    return credential.principal


def _unknown_key(platform: Platform, key: str, style: str, check_expiry) -> Principal:
    if platform.config.iam == "enforce":
        raise _invalid_key(style)
    check_expiry()  # the secret is unknown, so the signature cannot be checked; a presigned expiry can
    account = key if len(key) == 12 and key.isdigit() else platform.config.default_account
    return root_principal(account, key)


def _check_sigv2_expiry(sig: SigV2, now: float) -> None:
    if sig.presigned and sig.expires is not None and now > sig.expires:
        raise ServiceError("AccessDenied", "Request has expired", 403)


def missing_authentication(style: str) -> ServiceError:
    """AWS's answer to an unsigned request to an API that needs a signature."""
    if style == "json":
        return ServiceError(
            "MissingAuthenticationTokenException", "Request is missing Authentication Token", 400
        )
    return ServiceError("MissingAuthenticationToken", "Request is missing Authentication Token", 403)


def _invalid_key(style: str) -> ServiceError:
    if style == "s3":
        return ServiceError(
            "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.", 403
        )
    return ServiceError("InvalidClientTokenId", "The security token included in the request is invalid.", 403)


def _invalid_token(style: str) -> ServiceError:
    if style == "s3":
        return ServiceError("InvalidToken", "The provided token is malformed or otherwise invalid.", 400)
    return ServiceError("InvalidClientTokenId", "The security token included in the request is invalid.", 403)
