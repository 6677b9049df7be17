"""ARNs: `arn:partition:service:region:account:resource`, parsed once and built one way."""

from __future__ import annotations

from dataclasses import dataclass

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

    @property
    def resource_type(self) -> str:
        """The type the resource part starts with ("table", "function", "log-group"), or the service's only
        type for ARNs that name none (an SQS queue, an SNS topic, an S3 bucket)."""
        head, found, _ = self._split()
        if found and head:
            if self.service == "s3":  # bucket/key: an object
                return "object"
            if self.service == "sns":  # topic:subscription-id
                return "subscription"
            return head
        return _UNTYPED.get(self.service, "")

    @property
    def resource_id(self) -> str:
        """The resource part after its type ("t" of "table/t", "f:3" of "function:f:3"); the whole resource
        part when it names no type."""
        head, found, rest = self._split()
        return rest if found and head else self.resource

    def _split(self) -> tuple[str, str, str]:
        """The resource part cut at its first separator, "/" or ":" (log-group:/aws/x is a log group)."""
        cuts = [i for i in (self.resource.find("/"), self.resource.find(":")) if i >= 0]
        if not cuts:
            return self.resource, "", ""
        cut = min(cuts)
        return self.resource[:cut], self.resource[cut], self.resource[cut + 1 :]


def parse_arn(text: str) -> Arn | None:
    """The ARN `text`, or None when it is not one (fewer than six colon-separated parts, or no 'arn:')."""
    if not isinstance(text, str) or not text.startswith("arn:"):
        return None
    parts = text.split(":", 5)
    if len(parts) != 6 or not parts[1] or not parts[2]:
        return None
    return Arn(parts[1], parts[2], parts[3], parts[4], parts[5])


def build_arn(service: str, region: str, account: str, resource: str, partition: str = "aws") -> str:
    return f"arn:{partition}:{service}:{region}:{account}:{resource}"
