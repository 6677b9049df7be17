"""SSE-KMS of topics with a `KmsMasterKeyId`: the KMS requests SNS makes for its publishers, as AWS's SNS does.

A publisher needs `kms:GenerateDataKey` and `kms:Decrypt` on the topic's key (AWS's documented publisher
permissions), with the encryption context `aws:sns:topicArn` and through SNS (`kms:ViaService`). A principal
that was allowed keeps its data key for five minutes per topic (as SQS's default reuse period; a principal asks
KMS at most once per period). A disabled, missing or denied key fails the publish with KMS's message under SNS's
`KMS*` codes (HTTP 400, as in the SNS model). Message bodies themselves are kept as the rest of the data
directory is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from overcast.errors import ServiceError
from overcast.services.kms import api as kms

if TYPE_CHECKING:
    from overcast.context import RequestContext
    from overcast.services.sns.provider import SnsProvider
    from overcast.services.sns.store import Topic

REUSE_SECONDS = 300
_CODES = {
    "NotFoundException": "KMSNotFound",
    "DisabledException": "KMSDisabled",
    "KMSInvalidStateException": "KMSInvalidState",
    "AccessDeniedException": "KMSAccessDenied",
    "InvalidCiphertextException": "KMSAccessDenied",
    "ThrottlingException": "KMSThrottling",
}


class TopicKeys:
    def __init__(self, service: SnsProvider) -> None:
        self.service = service
        self._allowed = kms.RecentUses()  # (topic, key, principal)

    def before_publish(self, ctx: RequestContext, topic: Topic) -> None:
        key_id = topic.attributes.get("KmsMasterKeyId")
        if not key_id:
            return
        remembered = (topic.arn, key_id, ctx.principal.arn)
        now = self.service.clock.now()
        if self._allowed.fresh(remembered, now):
            return
        context = {"aws:sns:topicArn": topic.arn}
        platform = self.service.platform
        try:
            data_key = kms.generate_data_key(
                platform, ctx.principal, topic.account, topic.region, key_id, context, via="sns"
            )
            kms.decrypt(
                platform, ctx.principal, topic.account, topic.region, data_key.ciphertext, context, via="sns"
            )
        except ServiceError as error:
            raise _as_sns(error) from error
        self._allowed.remember(remembered, now + REUSE_SECONDS)

    def forget(self) -> None:
        self._allowed.forget()


def _as_sns(error: ServiceError) -> ServiceError:
    """KMS's error as SNS passes it on: its `KMS*` code."""
    return kms.passed_on(error, _CODES)
