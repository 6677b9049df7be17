"""SSE-KMS of queues with a `KmsMasterKeyId`: the KMS requests SQS makes for its callers, as AWS's SQS does.

A sender needs a data key (`kms:GenerateDataKey` on the queue's key, with the encryption context
`aws:sqs:arn`), a receiver of messages needs to decrypt it (`kms:Decrypt`); both through SQS
(`kms:ViaService`). SQS reuses a data key for the queue's `KmsDataKeyReusePeriodSeconds`, so each principal
asks KMS at most once per period per queue. A disabled, missing or denied key fails the request with KMS's
error under SQS's `KMS.*` codes. Message bodies themselves are kept as the rest of the data directory is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from overcast.errors import ServiceError
from overcast.services.kms import api as kms

if TYPE_CHECKING:
    from overcast.context import RequestContext
    from overcast.services.sqs.provider import SqsProvider
    from overcast.services.sqs.store import Queue

_CODES = {
    "NotFoundException": "KMS.NotFoundException",
    "DisabledException": "KMS.DisabledException",
    "KMSInvalidStateException": "KMS.InvalidStateException",
    "AccessDeniedException": "KMS.AccessDeniedException",
    "InvalidKeyUsageException": "KMS.InvalidKeyUsageException",
    "ThrottlingException": "KMS.ThrottlingException",
    "InvalidCiphertextException": "KMS.AccessDeniedException",
}


class QueueKeys:
    def __init__(self, service: SqsProvider) -> None:
        self.service = service
        self._data_keys: dict[int, tuple[bytes, float]] = {}  # queue id -> (encrypted data key, reuse until)
        self._allowed = kms.RecentUses()  # (queue id, principal, action)

    def before_send(self, ctx: RequestContext, queue: Queue) -> None:
        key_id = queue.attributes.get("KmsMasterKeyId")
        if not key_id or self._still_allowed(ctx, queue, "send"):
            return
        try:
            data_key = kms.generate_data_key(
                self.service.platform,
                ctx.principal,
                queue.account,
                queue.region,
                key_id,
                _context(queue),
                via="sqs",
            )
        except ServiceError as error:
            raise _as_sqs(error) from error
        until = self._remember(ctx, queue, "send")
        self._data_keys[queue.id] = (data_key.ciphertext, until)

    def before_receive(self, ctx: RequestContext, queue: Queue) -> None:
        """For a receive that returns messages: the receiver must be able to decrypt the queue's data key."""
        if not queue.attributes.get("KmsMasterKeyId") or self._still_allowed(ctx, queue, "receive"):
            return
        found = self._data_keys.get(queue.id)
        if found is None:  # no data key since the server started: nothing to decrypt with yet
            return
        try:
            kms.decrypt(
                self.service.platform,
                ctx.principal,
                queue.account,
                queue.region,
                found[0],
                _context(queue),
                via="sqs",
            )
        except ServiceError as error:
            raise _as_sqs(error) from error
        self._remember(ctx, queue, "receive")

    def forget(self) -> None:
        self._data_keys.clear()
        self._allowed.forget()

    def _still_allowed(self, ctx: RequestContext, queue: Queue, action: str) -> bool:
        return self._allowed.fresh((queue.id, ctx.principal.arn, action), self.service.clock.now())

    def _remember(self, ctx: RequestContext, queue: Queue, action: str) -> float:
        period = int(queue.attributes.get("KmsDataKeyReusePeriodSeconds") or 300)
        until = self.service.clock.now() + period
        self._allowed.remember((queue.id, ctx.principal.arn, action), until)
        return until


def _context(queue: Queue) -> dict[str, str]:
    return {"aws:sqs:arn": queue.arn}


def _as_sqs(error: ServiceError) -> ServiceError:
    """KMS's error as SQS passes it on: its `KMS.*` code."""
    return kms.passed_on(error, _CODES)
