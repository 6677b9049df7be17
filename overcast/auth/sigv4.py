"""AWS Signature Version 4: reading a request's signature and checking it.

`parse_sigv4` runs on every request, before routing knows the service: it only looks at the Authorization
header (or the presigned `X-Amz-*` query parameters) and the date headers, with one precompiled regex on the
common path. `verify_sigv4` recomputes the signature from the request as received and compares it in
constant time; it runs only when the access key's secret is known.

Canonicalisation follows what real clients do (botocore's signer is the reference): S3 signs the path as
sent, once-encoded and not normalised; every other service signs the dot-segment-normalised path encoded a
second time. When the primary canonical form does not match, a few equivalent spellings that other SDKs
produce (query re-encoded per RFC 3986 or taken raw, S3 paths with characters left unencoded) are tried
before the request is rejected, so a client that signed what it sent is never refused for a spelling detail.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import cached_property, lru_cache
from urllib.parse import quote, unquote, unquote_plus

from overcast.errors import ServiceError
from overcast.http import HttpRequest

ALGORITHM = "AWS4-HMAC-SHA256"
ALGORITHM_SIGV4A = "AWS4-ECDSA-P256-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

MAX_SKEW_SECONDS = 15 * 60
MAX_PRESIGN_EXPIRES = 604800  # one week

#: credential-scope service names that use S3's signing rules (no path normalisation, header payload hash)
S3_SIGNING_NAMES = frozenset({"s3", "s3-object-lambda", "s3-outposts", "s3express"})
#: JSON-protocol services whose authentication errors are HTTP 400 rather than 403
_JSON_AUTH_400 = frozenset({"dynamodb"})

_S3_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your key and signing method."
)
_AWS_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)
_CREDENTIAL_FORM = 'expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".'
_PRESIGN_REQUIRED = (
    "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
    "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."
)

# The form every SDK sends: 'AWS4-HMAC-SHA256 Credential=AK/20250101/us-east-1/sqs/aws4_request,
# SignedHeaders=host;x-amz-date, Signature=<64 hex>'. Anything else goes through the tolerant slow path.
_AUTH_RE = re.compile(
    r"AWS4-HMAC-SHA256 +Credential=([^/,\s]+)/(\d{8})/([^/,\s]+)/([^/,\s]+)/aws4_request *, *"
    r"SignedHeaders=([a-z0-9;_.\-]+) *, *Signature=([0-9a-f]{64})\s*\Z"
)
_AUTH_PARAM_RE = re.compile(r"(\w+)=([^,\s]*)")
_CREDENTIAL_RE = re.compile(r"([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request\Z")
_AMZ_DATE_RE = re.compile(r"\d{8}T\d{6}Z\Z")


@dataclass(frozen=True)
class SigV4:
    """What a request's signature says (nothing here is verified yet)."""

    access_key_id: str
    signed_at: datetime  # X-Amz-Date (or Date), UTC
    region: str
    service: str  # credential-scope service (signing name): 's3', 'sqs', 'monitoring', ...
    signed_headers: tuple[str, ...]
    signature: str
    presigned: bool
    expires: int | None  # X-Amz-Expires of a presigned URL
    content_sha256: str | None  # x-amz-content-sha256 as sent
    security_token: str | None  # X-Amz-Security-Token
    algorithm: str = ALGORITHM  # 'AWS4-ECDSA-P256-SHA256' for SigV4a (parsed, not verifiable)

    # Computed once per signature (they are read several times while verifying). cached_property stores
    # them in the instance's __dict__, which a frozen dataclass leaves writable; equality ignores them.
    @cached_property
    def amz_date(self) -> str:
        return _basic(self.signed_at)

    @cached_property
    def date_stamp(self) -> str:
        """YYYYMMDD of the signing time, as the credential scope spells it."""
        return _ymd(self.signed_at)

    @cached_property
    def scope(self) -> str:
        return f"{self.date_stamp}/{self.region}/{self.service}/aws4_request"

    @property
    def streaming(self) -> bool:
        """The body is aws-chunked (x-amz-content-sha256 STREAMING-*)."""
        return bool(self.content_sha256) and self.content_sha256.startswith("STREAMING-")


# --------------------------------------------------------------------------------------------------------
# signing key


@lru_cache(maxsize=4096)
def derive_signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """kSigning = HMAC(HMAC(HMAC(HMAC('AWS4' + secret, date), region), service), 'aws4_request')."""
    key = hmac.new(("AWS4" + secret).encode(), date.encode(), hashlib.sha256).digest()
    key = hmac.new(key, region.encode(), hashlib.sha256).digest()
    key = hmac.new(key, service.encode(), hashlib.sha256).digest()
    return hmac.new(key, b"aws4_request", hashlib.sha256).digest()


def hmac_hex(key: bytes, message: str) -> str:
    return hmac.digest(key, message.encode(), "sha256").hex()


# --------------------------------------------------------------------------------------------------------
# parsing


def _infer_style(request: HttpRequest, service: str | None = None) -> str:
    """The error family to use before the service is known (only on error paths)."""
    if service is not None:
        return "s3" if service in S3_SIGNING_NAMES else _json_or_query(request)
    headers = request.headers
    if "x-amz-content-sha256" in headers or (
        "X-Amz-Credential=" in request.query and "Action=" not in request.query
    ):
        return "s3"
    return _json_or_query(request)


def _json_or_query(request: HttpRequest) -> str:
    headers = request.headers
    content_type = headers.get("content-type") or ""
    if "x-amz-target" in headers or "json" in content_type or "cbor" in content_type:
        return "json"
    return "query"


def _incomplete(style: str, message: str) -> ServiceError:
    if style == "json":
        return ServiceError("IncompleteSignatureException", message, 400)
    return ServiceError("IncompleteSignature", message, 400)


@lru_cache(maxsize=256)  # SDKs sign with a whole second: one parse serves every request of that second
def _parse_amz_date(value: str) -> datetime | None:
    if _AMZ_DATE_RE.match(value) is None:
        return None
    try:
        return datetime(
            int(value[0:4]),
            int(value[4:6]),
            int(value[6:8]),
            int(value[9:11]),
            int(value[11:13]),
            int(value[13:15]),
            tzinfo=UTC,
        )
    except ValueError:
        return None


def _parse_http_date(value: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_sigv4(request: HttpRequest, *, error_style: str | None = None) -> SigV4 | None:
    """The SigV4 signature a request carries, or None when it carries none (anonymous, SigV2, bearer).

    Malformed signatures raise the service family's error; `error_style` ('s3', 'query', 'json') forces the
    family, otherwise it is taken from the credential scope or guessed from the request's shape.
    """
    authorization = request.headers.get("authorization")
    if authorization is not None:
        if "X-Amz-Algorithm=" in request.query or "X-Amz-Credential=" in request.query:
            style = error_style or _infer_style(request)
            if style == "s3" and authorization.startswith("AWS4"):
                raise ServiceError(
                    "InvalidArgument",
                    "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature "
                    "query string parameter or the Authorization header should be specified",
                    400,
                    ArgumentName="Authorization",
                    ArgumentValue=authorization,
                )
        match = _AUTH_RE.match(authorization)
        if match is not None:
            access_key, scope_date, region, service, signed, signature = match.groups()
            return _finish_header(
                request,
                authorization,
                access_key,
                scope_date,
                region,
                service,
                signed,
                signature,
                ALGORITHM,
                error_style,
            )
        if authorization.startswith(ALGORITHM) or authorization.startswith(ALGORITHM_SIGV4A):
            return _parse_header_slow(request, authorization, error_style)
        if authorization.startswith("AWS4-"):
            style = error_style or _infer_style(request)
            if style == "s3":
                raise ServiceError(
                    "InvalidArgument",
                    "Unsupported Authorization Type",
                    400,
                    ArgumentName="Authorization",
                    ArgumentValue=authorization,
                )
            raise _incomplete(style, f"Unsupported AWS 'algorithm': '{authorization.split(' ', 1)[0]}'")
        return None  # SigV2 ('AWS AK:sig'), bearer tokens, ...: not SigV4
    query = request.query
    if query and ("X-Amz-Algorithm=" in query or "X-Amz-Credential=" in query):
        return _parse_presigned(request, error_style)
    return None


def _parse_header_slow(request: HttpRequest, authorization: str, error_style: str | None) -> SigV4:
    algorithm, _, rest = authorization.partition(" ")
    params = dict(_AUTH_PARAM_RE.findall(rest))
    credential = params.get("Credential")
    signed = params.get("SignedHeaders")
    signature = params.get("Signature")
    scope_service = None
    parts = credential.split("/") if credential else []
    if len(parts) == 5:
        scope_service = parts[-2]
    style = error_style or _infer_style(request, scope_service)
    if not credential or not signed or not signature:
        if style == "s3":
            raise ServiceError(
                "AuthorizationHeaderMalformed",
                "The authorization header is malformed; the authorization header requires three components: "
                "Credential, SignedHeaders, and Signature.",
                400,
            )
        missing = "".join(
            f"Authorization header requires '{name}' parameter. "
            for name, value in (
                ("Credential", credential),
                ("Signature", signature),
                ("SignedHeaders", signed),
            )
            if not value
        )
        raise _incomplete(style, f"{missing}Authorization={authorization}")
    if algorithm == ALGORITHM_SIGV4A:
        # AK/20250101/s3/aws4_request: no region in the scope; the region set is a header.
        if len(parts) != 4 or parts[3] != "aws4_request":
            raise _malformed_credential(style, credential, presigned=False)
        region = request.headers.get("x-amz-region-set") or "*"
        return _finish_header(
            request,
            authorization,
            parts[0],
            parts[1],
            region,
            parts[2],
            signed,
            signature,
            ALGORITHM_SIGV4A,
            error_style,
        )
    match = _CREDENTIAL_RE.match(credential)
    if match is None:
        raise _malformed_credential(style, credential, presigned=False)
    access_key, scope_date, region, service = match.groups()
    return _finish_header(
        request,
        authorization,
        access_key,
        scope_date,
        region,
        service,
        signed,
        signature,
        algorithm,
        error_style,
    )


def _malformed_credential(style: str, credential: str, *, presigned: bool) -> ServiceError:
    if style == "s3":
        if presigned:
            return ServiceError(
                "AuthorizationQueryParametersError",
                f"Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; {_CREDENTIAL_FORM}",
                400,
            )
        return ServiceError(
            "AuthorizationHeaderMalformed",
            f"The authorization header is malformed; the Credential is mal-formed; {_CREDENTIAL_FORM}",
            400,
        )
    parts = credential.split("/")
    if parts and parts[-1] != "aws4_request":
        return _incomplete(
            style, f"Credential should be scoped with a valid terminator: 'aws4_request', not '{parts[-1]}'."
        )
    return _incomplete(style, f"Credential should be scoped to a valid region, not '{credential}'. ")


def _finish_header(
    request: HttpRequest,
    authorization: str,
    access_key: str,
    scope_date: str,
    region: str,
    service: str,
    signed: str,
    signature: str,
    algorithm: str,
    error_style: str | None,
) -> SigV4:
    headers = request.headers
    amz_date = headers.get("x-amz-date")
    signed_at = None
    if amz_date is not None:
        signed_at = _parse_amz_date(amz_date)
    else:
        date = headers.get("date")
        if date is not None:
            signed_at = _parse_http_date(date)
    if signed_at is None:
        style = error_style or _infer_style(request, service)
        if style == "s3":
            raise ServiceError(
                "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header", 403
            )
        raise _incomplete(
            style,
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
            f"Authorization={authorization}",
        )
    date_text = _ymd(signed_at)
    if scope_date != date_text:
        style = error_style or _infer_style(request, service)
        if style == "s3":
            raise ServiceError(
                "AuthorizationHeaderMalformed",
                "The authorization header is malformed; Invalid credential date. Date is not the same as X-Amz-Date.",
                400,
            )
        raise _signature_error(
            style,
            service,
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
            f"'{scope_date}' != '{date_text}', from '{signed_at.strftime('%Y%m%dT%H%M%SZ')}'.",
        )
    sig = SigV4(
        access_key_id=access_key,
        signed_at=signed_at,
        region=region,
        service=service,
        signed_headers=tuple(signed.split(";")),
        signature=signature.lower(),
        presigned=False,
        expires=None,
        content_sha256=headers.get("x-amz-content-sha256"),
        security_token=headers.get("x-amz-security-token"),
        algorithm=algorithm,
    )
    if amz_date is not None:
        _remember_dates(sig, amz_date)
    return sig


def _remember_dates(sig: SigV4, amz_date: str) -> None:
    """An X-Amz-Date that parsed is already the signature's `amz_date` spelling (so its first 8 characters
    the date stamp): keep it rather than format it again (not for years < 1000, which strftime spells
    unpadded)."""
    if sig.signed_at.year >= 1000:
        sig.__dict__["amz_date"] = amz_date
        sig.__dict__["date_stamp"] = amz_date[:8]


def _query_params(query: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for part in query.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        if key.startswith("X-Amz-") or key.startswith("x-amz-"):
            params[unquote(key) if "%" in key else key] = unquote(value) if "%" in value else value
    return params


def _parse_presigned(request: HttpRequest, error_style: str | None) -> SigV4:
    params = _query_params(request.query)
    algorithm = params.get("X-Amz-Algorithm")
    credential = params.get("X-Amz-Credential")
    amz_date = params.get("X-Amz-Date")
    signed = params.get("X-Amz-SignedHeaders")
    signature = params.get("X-Amz-Signature")
    expires_text = params.get("X-Amz-Expires")
    scope_service = None
    if credential:
        parts = credential.split("/")
        if len(parts) == 5:
            scope_service = parts[-2]
    style = error_style or _infer_style(request, scope_service)
    s3 = style == "s3"

    def fail(message: str) -> ServiceError:
        if s3:
            return ServiceError("AuthorizationQueryParametersError", message, 400)
        return _incomplete(style, message)

    if (
        not algorithm
        or not credential
        or not amz_date
        or not signed
        or not signature
        or (s3 and expires_text is None)
    ):
        raise fail(_PRESIGN_REQUIRED)
    if algorithm != ALGORITHM:
        if algorithm == ALGORITHM_SIGV4A:
            raise ServiceError(
                "NotImplemented",
                "SigV4a presigned URLs are not supported by Overcast",
                501,
                sender_fault=False,
            )
        raise fail('X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"')
    match = _CREDENTIAL_RE.match(credential)
    if match is None:
        raise _malformed_credential(style, credential, presigned=True)
    access_key, scope_date, region, service = match.groups()
    signed_at = _parse_amz_date(amz_date)
    if signed_at is None:
        raise fail("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
    if scope_date != amz_date[:8]:
        if s3:
            raise fail("Invalid credential date. Date is not the same as X-Amz-Date.")
        raise _signature_error(
            style,
            service,
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
            f"'{scope_date}' != '{amz_date[:8]}', from '{amz_date}'.",
        )
    expires = None
    if expires_text is not None:
        try:
            expires = int(expires_text)
        except ValueError:
            raise fail("X-Amz-Expires should be a number") from None
        if expires < 0:
            raise fail("X-Amz-Expires must be non-negative")
        if expires > MAX_PRESIGN_EXPIRES:
            raise fail("X-Amz-Expires must be less than a week (in seconds) that is 604800")
    headers = request.headers
    sig = SigV4(
        access_key_id=access_key,
        signed_at=signed_at,
        region=region,
        service=service,
        signed_headers=tuple(signed.split(";")),
        signature=signature.lower(),
        presigned=True,
        expires=expires,
        # a presigned URL carries its payload hash in the query, or in a header only if that header was signed
        content_sha256=params.get("X-Amz-Content-Sha256")
        or (headers.get("x-amz-content-sha256") if "x-amz-content-sha256" in signed.split(";") else None),
        security_token=params.get("X-Amz-Security-Token") or headers.get("x-amz-security-token"),
    )
    _remember_dates(sig, amz_date)
    return sig


# --------------------------------------------------------------------------------------------------------
# canonical request


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 dot-segment removal, also dropping empty segments (AWS collapses '//')."""
    if not path:
        return "/"
    out: list[str] = []
    for segment in path.split("/"):
        if not segment or segment == ".":
            continue
        if segment == "..":
            if out:
                out.pop()
        else:
            out.append(segment)
    result = "/" + "/".join(out) if path.startswith("/") else "/".join(out)
    if path.endswith("/") and out:
        result += "/"
    return result or "/"


def _primary_uri(path: str, s3: bool) -> str:
    """The first of `_canonical_uris`, alone."""
    path = path or "/"
    return path if s3 else quote(_remove_dot_segments(path), safe="/~")


def _canonical_uris(path: str, s3: bool) -> list[str]:
    """Candidate canonical URIs, the one botocore and most SDKs produce first."""
    path = path or "/"
    if s3:
        candidates = [path]
        reencoded = quote(unquote(path), safe="/~")
        if reencoded != path:
            candidates.append(reencoded)
        return candidates
    normalized = _remove_dot_segments(path)
    candidates = [quote(normalized, safe="/~")]
    reencoded = quote(quote(_remove_dot_segments(unquote(path)), safe="/~"), safe="/~")
    if reencoded != candidates[0]:
        candidates.append(reencoded)
    return candidates


@lru_cache(maxsize=1024)
def _rfc3986(component: str) -> str:
    """A query key or value as the canonical request spells it (decoded, then encoded per RFC 3986)."""
    return quote(unquote(component), safe="-_.~")


def _query_pairs(query: str, presigned: bool) -> list[tuple[str, str]]:
    raw: list[tuple[str, str]] = []
    for part in query.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        if presigned and key == "X-Amz-Signature":
            continue
        raw.append((key, value))
    return raw


def _primary_query(query: str, presigned: bool) -> str:
    """The canonical query string botocore and most SDKs produce (the first of `_canonical_queries`)."""
    if not query:
        return ""
    encoded = sorted((_rfc3986(k), _rfc3986(v)) for k, v in _query_pairs(query, presigned))
    return "&".join(f"{k}={v}" for k, v in encoded)


def _canonical_queries(query: str, presigned: bool) -> list[str]:
    if not query:
        return [""]
    raw = _query_pairs(query, presigned)
    candidates = [_primary_query(query, presigned)]
    raw_form = "&".join(f"{k}={v}" for k, v in sorted(raw))
    if raw_form != candidates[0]:
        candidates.append(raw_form)
    if "+" in query:
        plus = sorted(
            (quote(unquote_plus(k), safe="-_.~"), quote(unquote_plus(v), safe="-_.~")) for k, v in raw
        )
        plus_form = "&".join(f"{k}={v}" for k, v in plus)
        if plus_form not in candidates:
            candidates.append(plus_form)
    return candidates


def _canonical_headers(request: HttpRequest, signed_headers: tuple[str, ...]) -> str:
    headers = request.headers
    lines = []
    for name in signed_headers:
        value = headers.get(name)
        if value is None and name == "host":
            value = request.host
        lines.append(f"{name}:{' '.join(value.split()) if value else ''}\n")
    return "".join(lines)


def _payload_hash(request: HttpRequest, sig: SigV4, s3: bool) -> str:
    if sig.presigned:
        if sig.content_sha256:
            return sig.content_sha256
        if s3:
            return UNSIGNED_PAYLOAD
        return hashlib.sha256(request.body).hexdigest() if request.body else EMPTY_SHA256
    if sig.content_sha256 is not None:
        return sig.content_sha256
    if s3:
        raise ServiceError(
            "InvalidRequest", "Missing required header for this request: x-amz-content-sha256", 400
        )
    return hashlib.sha256(request.body).hexdigest() if request.body else EMPTY_SHA256


def canonical_request(request: HttpRequest, sig: SigV4, *, s3: bool | None = None) -> str:
    """The primary canonical request (as botocore builds it) for `request` under `sig`."""
    if s3 is None:
        s3 = sig.service in S3_SIGNING_NAMES
    return _build_canonical(
        request.method,
        _primary_uri(request.path, s3),
        _primary_query(request.query, sig.presigned),
        _canonical_headers(request, sig.signed_headers),
        ";".join(sig.signed_headers),
        _payload_hash(request, sig, s3),
    )


def _build_canonical(method: str, uri: str, query: str, headers: str, signed: str, payload: str) -> str:
    return f"{method.upper()}\n{uri}\n{query}\n{headers}\n{signed}\n{payload}"


def string_to_sign(sig: SigV4, canonical: str) -> str:
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return f"{ALGORITHM}\n{sig.amz_date}\n{sig.scope}\n{digest}"


# --------------------------------------------------------------------------------------------------------
# verification


def _iso(ts: float | datetime) -> str:
    if not isinstance(ts, datetime):
        ts = datetime.fromtimestamp(ts, UTC)
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def _basic(ts: float | datetime) -> str:
    if not isinstance(ts, datetime):
        ts = datetime.fromtimestamp(ts, UTC)
    if ts.year < 1000:  # strftime's own (unpadded) spelling of such years
        return ts.strftime("%Y%m%dT%H%M%SZ")
    return f"{ts.year}{ts.month:02d}{ts.day:02d}T{ts.hour:02d}{ts.minute:02d}{ts.second:02d}Z"


def _ymd(ts: datetime) -> str:
    """strftime('%Y%m%d') without its cost (it runs on every signed request)."""
    if ts.year < 1000:
        return ts.strftime("%Y%m%d")
    return f"{ts.year}{ts.month:02d}{ts.day:02d}"


def _signature_error(style: str, service: str, message: str) -> ServiceError:
    if style == "json":
        return ServiceError("InvalidSignatureException", message, 400 if service in _JSON_AUTH_400 else 403)
    return ServiceError("SignatureDoesNotMatch", message, 403)


def check_request_time(sig: SigV4, now: float, style: str, real_now: float | None = None) -> None:
    """Presigned expiry against `now` (the virtual clock); clock skew against `real_now` (the wall clock,
    which the client signed with; defaults to `now`)."""
    signed = sig.signed_at.timestamp()
    if sig.presigned and sig.expires is not None:
        if signed - now > MAX_SKEW_SECONDS:
            if style == "s3":
                raise ServiceError(
                    "AccessDenied",
                    "Request is not valid yet",
                    403,
                    **{"X-Amz-Date": sig.amz_date, "ServerTime": _iso(now)},
                )
            raise _signature_error(
                style,
                sig.service,
                f"Signature not yet current: {sig.amz_date} is still later than "
                f"{_basic(now + MAX_SKEW_SECONDS)} ({_basic(now)} + 15 min.)",
            )
        expiry = signed + sig.expires
        if now > expiry:
            if style == "s3":
                raise ServiceError(
                    "AccessDenied",
                    "Request has expired",
                    403,
                    **{"X-Amz-Expires": str(sig.expires), "Expires": _iso(expiry), "ServerTime": _iso(now)},
                )
            raise _signature_error(
                style,
                sig.service,
                f"Signature expired: {_basic(expiry)} is now earlier than {_basic(now)} "
                f"({sig.amz_date} + {sig.expires} sec.)",
            )
        return
    if real_now is not None:
        now = real_now
    skew = signed - now
    if -MAX_SKEW_SECONDS <= skew <= MAX_SKEW_SECONDS:
        return
    if style == "s3":
        raise ServiceError(
            "RequestTimeTooSkewed",
            "The difference between the request time and the current time is too large.",
            403,
            RequestTime=sig.amz_date,
            ServerTime=_iso(now),
            MaxAllowedSkewMilliseconds=str(MAX_SKEW_SECONDS * 1000),
        )
    if skew < 0:
        message = (
            f"Signature expired: {sig.amz_date} is now earlier than {_basic(now - MAX_SKEW_SECONDS)} "
            f"({_basic(now)} - 15 min.)"
        )
    else:
        message = (
            f"Signature not yet current: {sig.amz_date} is still later than "
            f"{_basic(now + MAX_SKEW_SECONDS)} ({_basic(now)} + 15 min.)"
        )
    raise _signature_error(style, sig.service, message)


def verify_sigv4(
    request: HttpRequest,
    sig: SigV4,
    secret_key: str,
    now: float,
    *,
    error_style: str,
    real_now: float | None = None,
) -> None:
    """Recompute `sig` over `request` with `secret_key`; raise the service family's error if it differs.

    `now` is the virtual clock's time (epoch seconds); `error_style` is 's3', 'query' or 'json'.
    For S3 with a hex x-amz-content-sha256 and a buffered body, the body's hash is checked too
    (streamed bodies are the S3 service's to check as it reads them).
    """
    if sig.algorithm != ALGORITHM:
        raise ServiceError(
            "NotImplemented",
            f"Verifying {sig.algorithm} (SigV4a) signatures is not supported by Overcast",
            501,
            sender_fault=False,
        )
    s3 = error_style == "s3" or sig.service in S3_SIGNING_NAMES
    check_request_time(sig, now, error_style, real_now)
    if not sig.presigned and "host" not in sig.signed_headers:
        if error_style == "s3":
            raise ServiceError(
                "AccessDenied",
                "There were headers present in the request which were not signed",
                403,
                HeadersNotSigned="host",
            )
        raise _incomplete(
            error_style, "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
        )

    key = derive_signing_key(secret_key, sig.date_stamp, sig.region, sig.service)
    method = request.method
    headers_text = _canonical_headers(request, sig.signed_headers)
    signed = ";".join(sig.signed_headers)
    payload = _payload_hash(request, sig, s3)
    provided = sig.signature

    # The primary spelling first; the others are only worked out when it does not match.
    primary_uri = _primary_uri(request.path, s3)
    primary_query = _primary_query(request.query, sig.presigned)
    canonical = _build_canonical(method, primary_uri, primary_query, headers_text, signed, payload)
    sts = string_to_sign(sig, canonical)
    if hmac.compare_digest(hmac_hex(key, sts), provided):
        _check_body_hash(request, sig, s3, error_style)
        return
    first_canonical, first_sts = canonical, sts
    uris = _canonical_uris(request.path, s3)
    queries = _canonical_queries(request.query, sig.presigned)
    for uri in uris:
        for query in queries:
            if uri is uris[0] and query == primary_query:
                continue  # tried above
            canonical = _build_canonical(method, uri, query, headers_text, signed, payload)
            sts = string_to_sign(sig, canonical)
            if hmac.compare_digest(hmac_hex(key, sts), provided):
                _check_body_hash(request, sig, s3, error_style)
                return
    raise _mismatch(sig, error_style, first_canonical, first_sts)


def _check_body_hash(request: HttpRequest, sig: SigV4, s3: bool, style: str) -> None:
    declared = sig.content_sha256
    if sig.presigned or declared is None or request.stream is not None or len(declared) != 64:
        return
    actual = hashlib.sha256(request.body).hexdigest()
    if hmac.compare_digest(actual, declared.lower()):
        return
    if s3:
        raise ServiceError(
            "XAmzContentSHA256Mismatch",
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
            400,
            ClientComputedContentSHA256=declared,
            S3ComputedContentSHA256=actual,
        )
    raise _signature_error(
        style,
        sig.service,
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
    )


def _mismatch(sig: SigV4, style: str, canonical: str, sts: str) -> ServiceError:
    if style == "s3":
        return ServiceError(
            "SignatureDoesNotMatch",
            _S3_MISMATCH,
            403,
            AWSAccessKeyId=sig.access_key_id,
            StringToSign=sts,
            SignatureProvided=sig.signature,
            StringToSignBytes=sts.encode().hex(" "),
            CanonicalRequest=canonical,
            CanonicalRequestBytes=canonical.encode().hex(" "),
        )
    message = (
        f"{_AWS_MISMATCH}\n\nThe Canonical String for this request should have been\n'{canonical}'\n\n"
        f"The String-to-Sign should have been\n'{sts}'\n"
    )
    return _signature_error(style, sig.service, message)


def signature_mismatch(sig: SigV4, style: str = "s3") -> ServiceError:
    """The plain SignatureDoesNotMatch error (used for chunk and trailer signatures)."""
    if style == "s3":
        return ServiceError(
            "SignatureDoesNotMatch",
            _S3_MISMATCH,
            403,
            AWSAccessKeyId=sig.access_key_id,
            SignatureProvided=sig.signature,
        )
    return _signature_error(style, sig.service, _AWS_MISMATCH)


# --------------------------------------------------------------------------------------------------------
# S3 Signature Version 2 (legacy, but boto3 still presigns S3 URLs with it unless configured for s3v4)

#: query parameters that are part of a SigV2 canonical resource (S3 sub-resources and response overrides)
_SIGV2_SUBRESOURCES = frozenset(
    """accelerate acl analytics cors defaultObjectAcl delete inventory lifecycle location logging metrics
    notification object-lock partNumber policy replication requestPayment response-cache-control
    response-content-disposition response-content-encoding response-content-language response-content-type
    response-expires restore select select-type storageClass tagging torrent uploadId uploads versionId
    versioning versions website""".split()
)
_SIGV2_HEADER_RE = re.compile(r"AWS ([^:\s]+):(\S+)\s*\Z")


@dataclass(frozen=True)
class SigV2:
    """An S3 SigV2 signature: 'Authorization: AWS AK:sig' or the AWSAccessKeyId/Signature/Expires query."""

    access_key_id: str
    signature: str  # base64 HMAC-SHA1
    presigned: bool
    expires: int | None  # epoch seconds (presigned)
    security_token: str | None


def parse_sigv2(request: HttpRequest) -> SigV2 | None:
    """The SigV2 signature of an S3 request, or None. Call it when `parse_sigv4` returned None."""
    authorization = request.headers.get("authorization")
    if authorization is not None:
        match = _SIGV2_HEADER_RE.match(authorization)
        if match is None:
            return None
        return SigV2(match.group(1), match.group(2), False, None, request.headers.get("x-amz-security-token"))
    query = request.query
    if not query or "Signature=" not in query or "AWSAccessKeyId=" not in query:
        return None
    params = {}
    for part in query.split("&"):
        key, _, value = part.partition("=")
        if key in ("AWSAccessKeyId", "Signature", "Expires", "x-amz-security-token"):
            params[key] = unquote(value)
    if "AWSAccessKeyId" not in params or "Signature" not in params:
        return None
    expires_text = params.get("Expires")
    if expires_text is None:
        raise ServiceError(
            "AccessDenied",
            "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters",
            403,
        )
    try:
        expires = int(expires_text)
    except ValueError:
        raise ServiceError(
            "AccessDenied", "Invalid date (should be seconds since epoch): " + expires_text, 403
        ) from None
    return SigV2(
        params["AWSAccessKeyId"], params["Signature"], True, expires, params.get("x-amz-security-token")
    )


def sigv2_string_to_sign(request: HttpRequest, sig: SigV2, *, virtual_host_bucket: str | None = None) -> str:
    headers = request.headers
    amz: dict[str, str] = {}
    for name, value in headers.items():
        if name.startswith("x-amz-"):
            amz[name] = ",".join(v.strip() for v in value.split(","))
    content_md5 = headers.get("content-md5") or ""
    content_type = headers.get("content-type") or ""
    resource_params: list[tuple[str, str | None]] = []
    if request.query:
        for part in request.query.split("&"):
            key, eq, value = part.partition("=")
            if key in _SIGV2_SUBRESOURCES:
                resource_params.append((key, unquote(value) if eq else None))
            elif sig.presigned and key.startswith("x-amz-"):
                amz[key.lower()] = unquote(value)
    if sig.presigned:
        date = str(sig.expires)
    elif "x-amz-date" in amz:
        date = ""
    else:
        date = headers.get("date") or ""
    path = request.path or "/"
    resource = f"/{virtual_host_bucket}{path}" if virtual_host_bucket else path
    if resource_params:
        resource_params.sort(key=lambda item: item[0])
        resource += "?" + "&".join(k if v is None else f"{k}={v}" for k, v in resource_params)
    amz_lines = "".join(f"{name}:{amz[name]}\n" for name in sorted(amz))
    return f"{request.method.upper()}\n{content_md5.strip()}\n{content_type.strip()}\n{date.strip()}\n{amz_lines}{resource}"


def verify_sigv2(
    request: HttpRequest, sig: SigV2, secret_key: str, now: float, *, virtual_host_bucket: str | None = None
) -> None:
    """Check an S3 SigV2 signature (S3 errors). `virtual_host_bucket`: the bucket named by the Host header."""
    if sig.presigned:
        assert sig.expires is not None
        if now > sig.expires:
            raise ServiceError(
                "AccessDenied", "Request has expired", 403, Expires=_iso(sig.expires), ServerTime=_iso(now)
            )
    else:
        date_text = request.headers.get("x-amz-date") or request.headers.get("date")
        signed_at = _parse_http_date(date_text) if date_text else None
        if signed_at is None and date_text:
            signed_at = _parse_amz_date(date_text)
        if signed_at is None:
            raise ServiceError(
                "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header", 403
            )
        if abs(signed_at.timestamp() - now) > MAX_SKEW_SECONDS:
            raise ServiceError(
                "RequestTimeTooSkewed",
                "The difference between the request time and the current time is too large.",
                403,
                RequestTime=date_text,
                ServerTime=_iso(now),
                MaxAllowedSkewMilliseconds=str(MAX_SKEW_SECONDS * 1000),
            )
    sts = sigv2_string_to_sign(request, sig, virtual_host_bucket=virtual_host_bucket)
    expected = base64.b64encode(hmac.new(secret_key.encode(), sts.encode(), hashlib.sha1).digest()).decode()
    if not hmac.compare_digest(expected, sig.signature):
        raise ServiceError(
            "SignatureDoesNotMatch",
            _S3_MISMATCH,
            403,
            AWSAccessKeyId=sig.access_key_id,
            StringToSign=sts,
            SignatureProvided=sig.signature,
            StringToSignBytes=sts.encode().hex(" "),
        )


__all__ = [
    "SigV2",
    "SigV4",
    "parse_sigv2",
    "verify_sigv2",
    "canonical_request",
    "derive_signing_key",
    "parse_sigv4",
    "signature_mismatch",
    "string_to_sign",
    "verify_sigv4",
]
