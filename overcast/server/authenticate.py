"""From a request's signature to the principal it acts as.

- Keys Overcast issued (IAM users' keys, STS sessions) are always verified, and expire on the clock.
- The root credentials (`test`/`test` by default) act as the default account's root; their signature is
  verified under `--iam enforce`.
- Any other key: accepted unverified as root of the account it names (a 12-digit key id) or of the default
  account, so every existing client configuration works; refused under `--iam enforce`.
- Unsigned requests are anonymous for S3 (public access only); other services treat them as the default
  account's root unless IAM is enforced (AWS itself refuses them: MissingAuthenticationToken).
"""

from __future__ import annotations

from overcast.auth.sigv4 import SigV4, verify_sigv4
from overcast.auth.sigv4 import _check_time as check_request_time  # TODO: public name
from overcast.errors import ServiceError
from overcast.http import HttpRequest
from overcast.identity import ANONYMOUS, Principal, root_principal
from overcast.platform import Platform


def error_style(protocol: str, service: str) -> str:
    if service == "s3":
        return "s3"
    return "query" if protocol in ("query", "ec2") else "json"


def authenticate(platform: Platform, request: HttpRequest, sig: SigV4 | None, style: str) -> Principal:
    enforce = platform.config.iam == "enforce"
    if sig is None:
        if style == "s3":
            return ANONYMOUS
        if enforce:
            raise ServiceError("MissingAuthenticationToken", "Request is missing Authentication Token", 403)
        return platform.credentials.root.principal
    now = platform.clock.now()
    credential = platform.credentials.lookup(sig.access_key_id)
    if credential is not None:
        is_root = credential is platform.credentials.root
        if not is_root or enforce or sig.presigned:
            verify_sigv4(request, sig, credential.secret_key, now, error_style=style)
        if credential.session_token and sig.security_token != credential.session_token:
            raise _invalid_token(style)
        if credential.expires_at is not None and now >= credential.expires_at:
            raise ServiceError("ExpiredToken", "The security token included in the request is expired", 403)
        if not credential.active:
            raise _invalid_key(style)
        return credential.principal
    if enforce:
        raise _invalid_key(style)
    if sig.presigned:
        # The secret is unknown, so the signature cannot be checked; the expiry still can.
        check_request_time(sig, now, style)
    key = sig.access_key_id
    account = key if len(key) == 12 and key.isdigit() else platform.config.default_account
    return root_principal(account, key)


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
