"""ARNs: `arn:partition:service:region:account:resource`, parsed once and built one way."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

# Services whose ARNs carry no resource type; the Tagging API and CloudFormation name their resources so.
_UNTYPED = {"sqs": "queue", "sns": "topic", "s3": "bucket"}


@dataclass(frozen=True)
class Arn:
    partition: str
    service: str
    region: str
    account: str
    resource: str  # everything after the fifth colon: "table/t", "function:f:3", "my-queue"

    def __str__(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"

    @cached_property
    def resource_type(self) -> str:
        """The type the resource part starts with ("table", "function", "log-group"), or the service's only
        type for ARNs that name none (an SQS queue, an SNS topic, an S3 bucket)."""
        head, found, _ = _split(self.resource)
        if found:
            if self.service == "s3":  # bucket/key: an object
                return "object"
            if self.service == "sns":  # topic:subscription-id
                return "subscription"
            return head
        return _UNTYPED.get(self.service, "")

    @cached_property
    def resource_id(self) -> str:
        """The resource part after its type ("t" of "table/t", "f:3" of "function:f:3"); the whole resource
        part when it names no type."""
        _, found, rest = _split(self.resource)
        return rest if found else self.resource


def _split(resource: str) -> tuple[str, str, str]:
    """A resource part split at its first "/" or ":", whichever comes first ("log-group:/aws/x" is of type
    log-group); ("", "", resource) when it has neither or starts with one."""
    for index, char in enumerate(resource):
        if char in "/:":
            return (resource[:index], char, resource[index + 1 :]) if index else ("", "", resource)
    return "", "", resource


def parse_arn(text: str) -> Arn | None:
    """The ARN `text`, or None when it is not one (fewer than six colon-separated parts, or no 'arn:')."""
    if not isinstance(text, str) or not text.startswith("arn:"):
        return None
    return _parse(text)


# Services parse the same few ARNs on every request (a queue's, a table's): an Arn is immutable, so the
# parse of each is kept (a bounded number of them), and its resource_type and resource_id are computed once.
@lru_cache(maxsize=4096)
def _parse(text: str) -> Arn | None:
    parts = text.split(":", 5)
    if len(parts) != 6 or not parts[1] or not parts[2]:
        return None
    return Arn(parts[1], parts[2], parts[3], parts[4], parts[5])


def build_arn(service: str, region: str, account: str, resource: str, partition: str = "aws") -> str:
    return f"arn:{partition}:{service}:{region}:{account}:{resource}"
