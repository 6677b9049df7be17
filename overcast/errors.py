"""Errors an operation raises; the protocol layer turns them into the wire form its service uses."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """An AWS error: `code` as the service names it (`QueueDoesNotExist`, `NoSuchBucket`, ...).

    `status` defaults to the HTTP status the service model gives the error shape, else 400.
    `fields` are extra members of the error shape (S3's `BucketName`, DynamoDB's `CancellationReasons`, ...)
    and `headers` extra response headers.
    """

    def __init__(
        self,
        code: str,
        message: str = "",
        status: int | None = None,
        *,
        sender_fault: bool = True,
        headers: dict[str, str] | None = None,
        **fields: Any,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.sender_fault = sender_fault
        self.headers = headers or {}
        self.fields = fields


class NotImplementedOperation(ServiceError):
    """An operation (or service) that exists in AWS but not yet in Overcast: 501 at once, never a hang."""

    def __init__(self, service: str, operation: str) -> None:
        super().__init__(
            "NotImplemented",
            f"The operation {operation} of service {service} is not implemented by Overcast yet",
            501,
            sender_fault=False,
        )
