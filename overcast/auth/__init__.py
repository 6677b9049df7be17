"""Request authentication: SigV4 (Authorization header and presigned URLs) and aws-chunked bodies."""

from overcast.auth.chunked import AwsChunkedStream, Sha256CheckingStream, decode_aws_chunked
from overcast.auth.sigv4 import (
    S3_SIGNING_NAMES,
    SigV2,
    SigV4,
    canonical_request,
    check_request_time,
    derive_signing_key,
    parse_sigv2,
    parse_sigv4,
    signature_mismatch,
    string_to_sign,
    verify_sigv2,
    verify_sigv4,
)

__all__ = [
    "S3_SIGNING_NAMES",
    "AwsChunkedStream",
    "SigV2",
    "SigV4",
    "Sha256CheckingStream",
    "canonical_request",
    "check_request_time",
    "decode_aws_chunked",
    "derive_signing_key",
    "parse_sigv2",
    "parse_sigv4",
    "signature_mismatch",
    "string_to_sign",
    "verify_sigv2",
    "verify_sigv4",
]
