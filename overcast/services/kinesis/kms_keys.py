"""Server-side encryption of streams with a KMS key (`StartStreamEncryption`): the KMS requests Kinesis makes for
its callers, as AWS's Kinesis does.

A producer needs a data key (`kms:GenerateDataKey` on the stream's key), a consumer's GetRecords needs to
decrypt it (`kms:Decrypt`); both through Kinesis (`kms:ViaService`) with the encryption context
`aws:kinesis:arn`. Kinesis renews its data keys every five minutes, so a principal asks KMS at most once per
five minutes per stream. StartStreamEncryption itself checks that the caller can use the key. A disabled, missing
or denied key fails the request with KMS's message under Kinesis's `KMS*Exception` codes (HTTP 400).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from overcast.errors import ServiceError
from overcast.services.kms import api as kms

if TYPE_CHECKING:
    from overcast.context import RequestContext
    from overcast.services.kinesis.provider import KinesisProvider
    from overcast.services.kinesis.store import Stream

REUSE_SECONDS = 300
MAX_REMEMBERED = 10_000
_CODES = {
    "NotFoundException": "KMSNotFoundException",
    "DisabledException": "KMSDisabledException",
    "KMSInvalidStateException": "KMSInvalidStateException",
    "AccessDeniedException": "KMSAccessDeniedException",
    "InvalidCiphertextException": "KMSAccessDeniedException",
    "ThrottlingException": "KMSThrottlingException",
}


class StreamKeys:
    def __init__(self, service: KinesisProvider) -> None:
        self.service = service
        self._data_keys: dict[tuple[int, str], bytes] = {}  # (stream id, key) -> the encrypted data key
        self._allowed = kms.RecentUses()  # (stream, key, principal, action)

    def check_key(self, ctx: RequestContext, stream: Stream, key_id: str) -> None:
        """StartStreamEncryption: the caller must be able to use the key."""
        self._generate(ctx, stream, key_id)

    def before_put(self, ctx: RequestContext, stream: Stream) -> None:
        if stream.encryption != "KMS" or not stream.key_id or self._still_allowed(ctx, stream, "put"):
            return
        self._generate(ctx, stream, stream.key_id)
        self._remember(ctx, stream, "put")

    def before_get(self, ctx: RequestContext, stream: Stream) -> None:
        if stream.encryption != "KMS" or not stream.key_id or self._still_allowed(ctx, stream, "get"):
            return
        found = self._data_keys.get((stream.id, stream.key_id))
        if found is None:  # no record written under this key since the server started: nothing to decrypt
            return
        try:
            kms.decrypt(
                self.service.platform,
                ctx.principal,
                stream.account,
                stream.region,
                found,
                _context(stream),
                via="kinesis",
            )
        except ServiceError as error:
            raise _as_kinesis(error) from error
        self._remember(ctx, stream, "get")

    def forget(self) -> None:
        self._data_keys.clear()
        self._allowed.forget()

    def _generate(self, ctx: RequestContext, stream: Stream, key_id: str) -> None:
        try:
            data_key = kms.generate_data_key(
                self.service.platform,
                ctx.principal,
                stream.account,
                stream.region,
                key_id,
                _context(stream),
                via="kinesis",
            )
        except ServiceError as error:
            raise _as_kinesis(error) from error
        if len(self._data_keys) > MAX_REMEMBERED:
            self._data_keys.clear()
        self._data_keys[(stream.id, key_id)] = data_key.ciphertext

    def _still_allowed(self, ctx: RequestContext, stream: Stream, action: str) -> bool:
        use = (stream.id, stream.key_id or "", ctx.principal.arn, action)
        return self._allowed.fresh(use, self.service.clock.now())

    def _remember(self, ctx: RequestContext, stream: Stream, action: str) -> None:
        use = (stream.id, stream.key_id or "", ctx.principal.arn, action)
        self._allowed.remember(use, self.service.clock.now() + REUSE_SECONDS)


def _context(stream: Stream) -> dict[str, str]:
    return {"aws:kinesis:arn": stream.arn}


def _as_kinesis(error: ServiceError) -> ServiceError:
    """KMS's error as Kinesis passes it on: its `KMS*Exception` code."""
    return kms.passed_on(error, _CODES)
