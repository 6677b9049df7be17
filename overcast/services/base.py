"""What a service package implements: a provider whose methods are its operations, and the hooks it declares.

An operation is a method named like boto3's method for it (`send_message` for SendMessage), or any method
registered with `@operation("AwsOperationName")`, that takes the request context and the parsed request (a dict
shaped like the boto3 call's arguments) and returns a dict shaped like the boto3 response. A plain method runs
inside one database transaction, so the request is all-or-nothing; an `async def` method (streaming bodies,
long polls) opens its own short transactions (`self.db.transaction()`) and never awaits inside one.

A provider keeps its operations in families (`Operations` subclasses, one module per resource family) and holds
only composition and the hooks below; `docs/adding-a-service.md` walks through one.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from overcast.context import RequestContext
from overcast.http import HttpRequest, HttpResponse
from overcast.services.kit.metrics import MetricPoint

if TYPE_CHECKING:
    from overcast.identity import Credential
    from overcast.platform import Platform
    from overcast.policy.enforcement import ResourcePolicy
    from overcast.services.kit.tags import ResourceTags

FamilyT = TypeVar("FamilyT", bound="Operations")
Handler = Callable[[RequestContext, dict[str, Any]], dict[str, Any] | Awaitable[dict[str, Any]]]

# CORS headers for services whose APIs browsers call with their own headers (S3 answers by bucket rules).
OPEN_CORS = (
    ("access-control-allow-origin", "*"),
    ("access-control-allow-methods", "HEAD,GET,PUT,POST,DELETE,OPTIONS,PATCH"),
    ("access-control-allow-headers", "*"),
    ("access-control-expose-headers", "*"),
)


def operation(*names: str) -> Callable[[Callable], Callable]:
    """Register the decorated method as the AWS operation(s) `names`, where its own name is not boto3's name
    for it (one method serving several operations, or a name that reads better in its family)."""

    def register(method: Callable) -> Callable:
        method.__aws_operations__ = (*getattr(method, "__aws_operations__", ()), *names)  # type: ignore[attr-defined]
        return method

    return register


@dataclass(frozen=True)
class HttpRoute:
    """A request a service serves outside the AWS protocols: a website, a browser's form POST or CORS
    preflight, a function URL, an invoke URL, a JWKS document.

    It matches when the Host header contains `host` or the path starts with `path` (at least one is given),
    the method is one of `methods` (any when empty) and `when(request)` holds (when given). Before AWS routing
    the server tries the routes of the services that are running, those naming a host first, then by the
    longest path (a service with resources is
    running: it started with its first request, or at start-up for a data directory it has tables in).
    `handler` names an async provider method `(request) -> HttpResponse | None`; None means the request is
    not the service's after all and the server goes on. `operation` is its name in the request log.

    A route with `websocket=True` takes WebSocket upgrade requests (and only those): its handler is called
    `(request, socket: overcast.http.WebSocket) -> None` and serves the connection until it ends; a socket
    it neither accepted nor denied is refused with 403."""

    handler: str
    operation: str
    host: str | None = None
    path: str | None = None
    methods: frozenset[str] = frozenset()
    when: Callable[[HttpRequest], bool] | None = None
    read_body: bool = True  # the whole body is read into request.body before the handler runs
    websocket: bool = False  # a route for WebSocket upgrades (see above)

    def matches(self, request: HttpRequest) -> bool:
        if not (
            (self.host is not None and self.host in request.host)
            or (self.path is not None and request.path.startswith(self.path))
        ):
            return False
        if self.methods and request.method not in self.methods:
            return False
        return self.when is None or self.when(request)


class ServiceProvider:
    """Base class of every service's provider. Subclasses set `service_name` (botocore's name)."""

    service_name: ClassVar[str]
    # The operation families whose methods this provider serves besides its own (see Operations).
    families: ClassVar[tuple[type[Operations], ...]] = ()
    # HTTP requests served outside the AWS protocols (see HttpRoute).
    routes: ClassVar[tuple[HttpRoute, ...]] = ()
    # IAM action names that differ from the operation name, as AWS's Service Authorization Reference gives
    # them where its data cannot tell (several operations sharing one action): {"HeadObject": "GetObject"}.
    iam_actions: ClassVar[dict[str, str]] = {}
    # Operations AWS serves without a signature besides those its model marks (SNS's SubscribeURL and
    # UnsubscribeURL are plain links: ConfirmSubscription and Unsubscribe).
    unsigned_operations: ClassVar[frozenset[str]] = frozenset()
    # Operations that authorize each resource they act on themselves (Platform.authorize), with no check of
    # the request as a whole before they run: S3's DeleteObjects authorizes every key as s3:DeleteObject.
    self_authorized: ClassVar[frozenset[str]] = frozenset()
    # Read operations whose answer depends only on the request and the stored rows (and the clock): answered
    # again from memory while nothing is written (state/answers.py). Nothing else may go in: not an operation
    # with an effect beyond its answer (an occasional write is fine: GetSecretValue's LastAccessedDate, written
    # once a day, is written by an answer that is then not kept; its KMS call is made again), nor one that reads
    # process or in-memory state.
    remembered: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.db = platform.db
        self.clock = platform.clock
        self._handlers: dict[str, tuple[Handler, bool] | None] = {}
        self.operations = [family(self) for family in self.families]

    # -- dispatch ----------------------------------------------------------------------------------------

    def handler(self, operation: str) -> tuple[Handler, bool] | None:
        """The method implementing `operation` and whether it is a coroutine, or None."""
        if operation not in self._handlers:
            method = self.find_operation(operation)
            self._handlers[operation] = (method, inspect.iscoroutinefunction(method)) if method else None
        return self._handlers[operation]

    def find_operation(self, operation: str) -> Callable | None:
        """The bound method serving `operation`: one registered with @operation, else the one named like
        boto3's method (provider first, then its families)."""
        registered = self.__dict__.get("_registered")
        if registered is None:
            registered = self.__dict__["_registered"] = registered_operations(self, *self.operations)
        if operation in registered:
            return registered[operation]
        from botocore import xform_name

        name = xform_name(operation)
        for owner in (self, *self.operations):
            method = getattr(owner, name, None)
            if callable(method) and not name.startswith("_"):
                return method
        return None

    def family(self, kind: type[FamilyT]) -> FamilyT:
        """This provider's instance of the family `kind`, for the hooks and routes that hand it a request."""
        for owner in self.operations:
            if isinstance(owner, kind):
                return owner
        raise LookupError(f"{type(self).__name__} does not compose {kind.__name__}")

    # -- lifecycle ---------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start background workers (`self.platform.spawn(...)`). Called once, when the provider is loaded."""

    async def stop(self) -> None:
        """Stop background workers."""

    def reset(self) -> None:
        """Forget in-memory state after the database was emptied (`overcast reset`)."""

    # -- declared hooks (each optional: the defaults say "nothing of this kind") -------------------------------

    async def internal_endpoint(self, request: HttpRequest, path: str) -> HttpResponse | None:
        """Answer `/_overcast/<service>/...`, Overcast's own endpoints for this service (SNS's outbox, DynamoDB's
        throttling switch); None: no such endpoint (the server answers a JSON 404)."""
        return None

    def credential(self, access_key_id: str) -> Credential | None:
        """The credential behind an access key this service issued (IAM users' keys, STS sessions), or None.
        Asked only of the services in `services.CREDENTIAL_ISSUERS`."""
        return None

    def resource_arn(self, ctx: RequestContext, params: dict[str, Any]) -> str | None:
        """The ARN of the resource a request acts on, for authorization; None lets the policy layer build it
        from AWS's ARN templates (most services need nothing here)."""
        return None

    def published_metrics(self, minutes: list[float]) -> Iterable[MetricPoint]:
        """The datapoints this service publishes to CloudWatch for the whole minutes `minutes` (virtual
        seconds, oldest first) that passed since CloudWatch last asked: AWS/SQS queue depths, AWS/Lambda
        invocations, ... (services/kit/metrics.py). Most services publish none."""
        return ()

    def request_action(self, ctx: RequestContext, params: dict[str, Any]) -> str | None:
        """The IAM action of this very request, where it depends on the request and not only on the operation
        (S3: a GetObject with a version id is s3:GetObjectVersion); None: the operation's (`iam_actions`, AWS's
        data)."""
        return None

    def condition_keys(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        """Service-specific condition keys of a request (`s3:prefix`, `kms:EncryptionContext:...`)."""
        return {}

    def authorization_resource(self, ctx: RequestContext, arn: str) -> ResourcePolicy | None:
        """What the policy engine needs of one of this service's resources (owner, resource policy, tags), or
        None when it does not exist. A service that does not override this has no resource policies."""
        return None

    @property
    def has_resource_policies(self) -> bool:
        return type(self).authorization_resource is not ServiceProvider.authorization_resource

    def damaged_data(self) -> Iterator[tuple[str, str, str | None]]:
        """`overcast check`: (what, what is wrong, blob id or None) for each piece of this service's stored
        data that no longer matches its record (S3: an object whose content lost its checksum). Blob files
        missing or of the wrong size are the platform's to find; a service checks what only it knows."""
        return iter(())

    def tagging_request(
        self, arn: str, add: Mapping[str, str] | None = None, remove: Sequence[str] | None = None
    ) -> tuple[str, dict[str, Any]] | None:
        """The service's own operation (name, params) adding the tags `add` to, or removing the keys `remove`
        from, the resource `arn`: how the Resource Groups Tagging API tags it, through Platform.call as the
        caller (who needs the service's own tag permission too, as in AWS). None: not taggable that way."""
        return None

    def accepts_origin(self, request: HttpRequest) -> bool:
        """Whether a signed request from a page of another web origin is the resource owner's intent (S3: the
        bucket's CORS rules allow that origin and method). Without it such requests are refused: the default
        credentials are no secret, so any page could sign (server/origins.py)."""
        return False

    def cors_headers(self, request: HttpRequest) -> tuple[tuple[str, str], ...] | list[tuple[str, str]]:
        """The CORS headers of a response to a request that carried an Origin."""
        return OPEN_CORS

    # -- shared needs ------------------------------------------------------------------------------------

    @cached_property
    def tags(self) -> ResourceTags:
        """Resource tags, kept for every service in one place (services.kit.tags)."""
        from overcast.services.kit.tags import ResourceTags

        return ResourceTags(self.platform.tag_store)


class Operations:
    """A family of a service's operations (one module per resource family: buckets, objects, ...).

    Families are siblings: none inherits from another. Each reaches what the service shares (its store, its
    helpers) through `self.service`, the provider that composes it."""

    def __init__(self, service: Any) -> None:
        self.service = service
        self.platform = service.platform
        self.db = service.db
        self.clock = service.clock


def registered_operations(*owners: object) -> dict[str, Callable]:
    """{AWS operation name: bound method} for the methods of `owners` registered with @operation."""
    table: dict[str, Callable] = {}
    for owner in owners:
        for name, member in inspect.getmembers(type(owner), callable):
            for aws_name in getattr(member, "__aws_operations__", ()):
                if aws_name in table:
                    raise TypeError(f"{aws_name} is registered twice: {table[aws_name]} and {member}")
                table[aws_name] = getattr(owner, name)
    return table


def serves(provider: type[ServiceProvider], operation: str) -> bool:
    """Whether a provider class (with its families) implements `operation`, without instantiating it."""
    from botocore import xform_name

    name = xform_name(operation)
    for owner in (provider, *provider.families):
        if callable(getattr(owner, name, None)) and not name.startswith("_"):
            return True
        for _, member in inspect.getmembers(owner, callable):
            if operation in getattr(member, "__aws_operations__", ()):
                return True
    return False
