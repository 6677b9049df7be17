"""What a resource handler is, and what it is handed.

A handler (one class per resource type, in a module per AWS service) creates, updates, deletes and reads its
resources through the owning service's own operations, `await ctx.call(service, operation, params)` (that is
`Platform.call`, as the stack's service role or its caller), never through another service's storage. It
declares what CloudFormation's resource schema says of the type: which properties are required, which
changes need a replacement (`create_only`), which attributes Fn::GetAtt returns, and the property that
identifies a resource for the Cloud Control API (`primary_identifier`).
"""

from __future__ import annotations

import asyncio
import json
import random
import string
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from overcast.errors import ServiceError

Caller = Callable[..., Awaitable[dict[str, Any]]]


class HandlerError(Exception):
    """A resource operation failed; `message` becomes the resource's status reason."""

    def __init__(self, message: str, code: str = "InvalidRequest") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass
class Created:
    physical_id: str
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class ResourceContext:
    """What a handler knows of the resource in hand and how it reaches the services."""

    caller: Caller  # (service, operation, params, region=None) -> response
    account: str
    region: str
    stack_name: str
    stack_id: str
    logical_id: str
    now: Callable[[], float]
    request_token: str = ""
    extra: dict[str, Any] = field(default_factory=dict)  # what the engine lends special handlers
    partition: str = "aws"
    url_suffix: str = "amazonaws.com"
    sleep_until: Callable[[float], Awaitable[None]] | None = None  # the virtual clock's

    async def settle(
        self, probe: Callable[[], Awaitable[Any]], *, every: float = 0.5, limit: float = 3600.0
    ) -> Any:
        """`probe()` again and again, on the virtual clock, until it answers something other than None: what
        CloudFormation's handlers do while a resource stabilizes (a NAT gateway becoming available)."""
        deadline = self.now() + limit
        while True:
            found = await probe()
            if found is not None:
                return found
            if self.now() >= deadline:
                raise HandlerError(f"Resource {self.logical_id} did not stabilize", "NotStabilized")
            if self.sleep_until is None:
                await asyncio.sleep(every)
            else:
                await self.sleep_until(self.now() + every)

    async def call(
        self, service: str, operation: str, params: dict[str, Any], region: str | None = None
    ) -> dict[str, Any]:
        return await self.caller(service, operation, params, region=region)

    def arn(
        self, service: str, resource: str, *, region: str | None = None, account: str | None = None
    ) -> str:
        region = self.region if region is None else region
        return f"arn:{self.partition}:{service}:{region}:{self.account if account is None else account}:{resource}"

    def generated_name(self, max_length: int = 255, *, lowercase: bool = False, suffix: str = "") -> str:
        """A physical name as CloudFormation makes one: `<stack>-<logical id>-<13 random characters>`,
        the first two parts shortened to fit `max_length`."""
        alphabet = (
            string.ascii_lowercase + string.digits if lowercase else string.ascii_uppercase + string.digits
        )
        tail = "".join(random.choices(alphabet, k=13 if not lowercase else 12))
        stack, logical = self.stack_name, self.logical_id
        room = max_length - len(tail) - len(suffix) - 2
        if len(stack) + len(logical) > room:
            logical = logical[: max(room // 2, room - len(stack))]
            stack = stack[: max(room - len(logical), 0)]
        name = f"{stack}-{logical}-{tail}{suffix}"
        return name.lower() if lowercase else name


class ResourceHandler:
    """One resource type. Subclasses set `type_name` and `service` and implement the operations."""

    type_name: ClassVar[str]
    service: ClassVar[str]  # the botocore service it acts through (its tests skip while it answers 501)
    required: ClassVar[tuple[str, ...]] = ()
    create_only: ClassVar[frozenset[str]] = frozenset()  # a change replaces the resource
    attributes: ClassVar[tuple[str, ...]] = ()  # what Fn::GetAtt may name
    primary_identifier: ClassVar[str] = "Id"  # the Cloud Control identifier (the Ref value)
    needs_iam: ClassVar[bool] = False  # CAPABILITY_IAM
    name_property: ClassVar[str | None] = None  # a given name makes an IAM resource need CAPABILITY_NAMED_IAM
    stabilize_seconds: ClassVar[float] = 0  # how long create/update may take (custom resources, waits)

    async def create(self, ctx: ResourceContext, properties: dict[str, Any]) -> Created:
        raise NotImplementedError

    async def update(
        self,
        ctx: ResourceContext,
        physical_id: str,
        properties: dict[str, Any],
        previous: dict[str, Any],
        attributes: dict[str, Any],
    ) -> dict[str, Any]:
        """Update in place; returns the attributes after. Only called when no create-only property changed."""
        raise HandlerError(f"Update of resource type {self.type_name} is not supported", "NotUpdatable")

    async def delete(self, ctx: ResourceContext, physical_id: str, properties: dict[str, Any]) -> None:
        raise NotImplementedError

    async def read(
        self, ctx: ResourceContext, physical_id: str, properties: dict[str, Any]
    ) -> dict[str, Any] | None:
        """The live resource's properties (drift detection, Cloud Control's GetResource), None once it is
        gone. The default says it exists as it was created."""
        return dict(properties)

    async def list(self, ctx: ResourceContext) -> list[str] | None:
        """The physical ids of every resource of the type in the account and region (Cloud Control's
        ListResources); None: the type does not support listing."""
        return None

    def known_attributes(self, ctx: ResourceContext, physical_id: str) -> dict[str, Any]:
        """The attributes its physical id alone tells (for an imported resource)."""
        return {}

    def needs_replacement(self, properties: dict[str, Any], previous: dict[str, Any]) -> bool:
        return any(properties.get(name) != previous.get(name) for name in self.create_only)


# -- value conversions: template values (often strings) to the services' types -------------------------


def integer(value: Any) -> int | None:
    if value is None:
        return None
    try:
        return int(str(value))
    except ValueError:
        raise HandlerError(f"Value {value!r} is not an integer") from None


def boolean(value: Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    text = str(value).lower()
    if text not in ("true", "false"):
        raise HandlerError(f"Value {value!r} is not a boolean")
    return text == "true"


def text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def document(value: Any) -> str | None:
    """A policy document given as an object or as JSON text, as the text the service takes."""
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value)


def tag_list(value: Any) -> list[dict[str, str]]:
    """A template's Tags ([{Key, Value}] or {key: value}) as a [{Key, Value}] list."""
    if not value:
        return []
    if isinstance(value, dict):
        return [{"Key": str(k), "Value": text(v) or ""} for k, v in value.items()]
    return [{"Key": str(tag["Key"]), "Value": text(tag.get("Value")) or ""} for tag in value]


def tag_map(value: Any) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in tag_list(value)}


def drop_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def service_error_code(error: ServiceError) -> str:
    return error.code


def not_found(error: ServiceError) -> bool:
    """Whether a service error says the resource is already gone (deletes succeed then)."""
    code = error.code
    return (
        "NotFound" in code
        or "NoSuch" in code
        or "NonExistent" in code
        or "DoesNotExist" in code
        or code.startswith("InvalidAssociationID")  # EC2's word for an association already gone
        or code in ("ResourceNotFoundException", "ParameterNotFound", "RepositoryNotFoundException")
    )


async def ignore_missing(call: Awaitable[Any]) -> None:
    """Await `call` (a delete, a detach), taking a resource that is already gone as success."""
    try:
        await call
    except ServiceError as error:
        if not not_found(error):
            raise


def shaped(service: str, operation: str, params: dict[str, Any], *, prune: bool = False) -> dict[str, Any]:
    """`params` with the template's scalars (numbers and booleans often written as text, dates as ISO text)
    turned into the types the operation's input shape declares in botocore's model, so nested structures
    (a schedule's target, a pipe's source parameters) pass to the service as a template writes them. `prune`
    drops what the shape does not name (an update operation takes fewer members than the create)."""
    from overcast.protocol.models import get_service_model

    model = get_service_model(service).operation_model(operation).input_shape
    return _convert(params, model, prune) if model is not None else params


def _convert(value: Any, shape: Any, prune: bool = False) -> Any:
    kind = shape.type_name
    if value is None:
        return None
    if kind == "structure" and isinstance(value, dict):
        return {
            key: _convert(item, shape.members[key], prune) if key in shape.members else item
            for key, item in value.items()
            if key in shape.members or not prune
        }
    if kind == "list" and isinstance(value, list):
        return [_convert(item, shape.member, prune) for item in value]
    if kind == "map" and isinstance(value, dict):
        return {key: _convert(item, shape.value, prune) for key, item in value.items()}
    if kind in ("integer", "long") and isinstance(value, str):
        return integer(value)
    if kind in ("double", "float") and isinstance(value, (str, int)) and not isinstance(value, bool):
        try:
            return float(value)
        except ValueError:
            raise HandlerError(f"Value {value!r} is not a number") from None
    if kind == "boolean" and isinstance(value, str):
        return boolean(value)
    if kind == "string" and isinstance(value, (bool, int, float)):
        return text(value)
    if kind == "timestamp" and isinstance(value, str):
        from datetime import datetime

        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise HandlerError(f"Value {value!r} is not a timestamp") from None
    return value
