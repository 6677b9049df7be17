"""The running Overcast: its store, clock, credentials and services, and the one path every call takes.

HTTP requests (from `server`) and calls between services (`Platform.call`) both end in `invoke`, so an
integration is validated and dispatched exactly like a client's request.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import itertools
import logging
import os
import random
import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from overcast.config import Config
from overcast.context import RequestContext
from overcast.errors import NotImplementedOperation, ServiceError
from overcast.http import HttpRequest
from overcast.identity import Credential, Credentials, Principal
from overcast.services import CREDENTIAL_ISSUERS, PROVIDERS, is_available, started_with
from overcast.services.base import HttpRoute, ServiceProvider
from overcast.state import BlobStore, Clock, Database
from overcast.state.answers import NestedCall

log = logging.getLogger("overcast")

# An observer of calls: (context, parameters, result or None, error or None), after each `Platform.invoke`.
Observer = Callable[[RequestContext, dict[str, Any], dict[str, Any] | None, BaseException | None], None]


class Platform:
    def __init__(self, config: Config) -> None:
        config.validate()
        self.config = config
        if config.ephemeral:
            self._tempdir: str | None = tempfile.mkdtemp(prefix="overcast-")
            root = Path(self._tempdir)
            self.db = Database(None)
        else:
            self._tempdir = None
            root = config.data_dir
            root.mkdir(parents=True, exist_ok=True)
            self.db = Database(root / "overcast.db", fsync=config.fsync)
        self.root = root
        self.blobs = BlobStore(root / "blobs", self.db)
        swept = self.blobs.sweep()
        if swept:
            log.info("removed %d unacknowledged blob file(s) left by an interrupted write", swept)
        self.clock = Clock(self.db)
        from overcast.services.kit.store import TagStore

        self.tag_store = TagStore(self.db)  # every service's resource tags (services/kit/tags.py)
        self.credentials = Credentials(config.root_access_key, config.root_secret_key, config.default_account)
        self.credentials.add_source(self._issued_credential)
        self._providers: dict[str, ServiceProvider] = {}
        self.generation = 0  # bumped by every reset: caches of resources key on it
        from overcast.state.answers import RememberedAnswers

        self.answers = RememberedAnswers(self.db, self.clock)  # providers' `remembered` read operations
        # The HTTP routes (outside the AWS protocols) of the running services, tried in order by the server.
        self.routes: list[tuple[HttpRoute, ServiceProvider]] = []
        self._tasks: set[asyncio.Task] = set()
        self._blocking: ThreadPoolExecutor | None = None  # run_blocking's threads, made on first use
        # Decides whether ctx.principal may make a call; raises ServiceError (AccessDenied) if not.
        # Installed by the policy engine (overcast/policy); None means every authenticated call is allowed.
        self.authorizer: Callable[[RequestContext, dict[str, Any]], None] | None = None
        from overcast.policy.enforcement import make_authorizer

        self.authorizer = make_authorizer(self)
        # Told of every `invoke` (client requests and calls between services): see `observe`.
        self.observers: list[Observer] = []

    # -- services ----------------------------------------------------------------------------------

    def provider(self, service: str) -> ServiceProvider | None:
        """The provider of `service`, imported and started on first use; None if Overcast lacks it."""
        found = self._providers.get(service)
        if found is None and is_available(service):
            module_name, class_name = PROVIDERS[service].split(":")
            found = getattr(importlib.import_module(module_name), class_name)(self)
            self.install_provider(found)
            if self.db.in_transaction:
                # Built inside a request's transaction (a call from another service): its tables are part of
                # that transaction. If it rolls back they are gone, so the provider is too (built again on
                # next use); its workers start once its tables are committed.
                self.db.after_rollback(lambda: self._uninstall(found))
                self.db.after_commit(lambda: self.spawn(found.start()))
            else:
                self.spawn(found.start())
        return found

    def _uninstall(self, provider: ServiceProvider) -> None:
        if self._providers.get(provider.service_name) is provider:
            del self._providers[provider.service_name]
            self.routes = [(route, owner) for route, owner in self.routes if owner is not provider]

    def running(self, service: str) -> ServiceProvider | None:
        """The provider of `service` if it is already running (never starts one)."""
        return self._providers.get(service)

    def running_providers(self) -> list[ServiceProvider]:
        """The providers running now (CloudWatch collects their published metrics)."""
        return list(self._providers.values())

    def resume_services(self) -> None:
        """Start the services this data directory was used with: their workers (lifecycle rules, TTLs,
        restores, retries, event source mappings) go on after a restart without waiting for a request.
        A new data directory starts none: each service still loads on its first request."""
        for service in self.db.namespaces():
            if service in PROVIDERS:
                self.provider(service)
        for service in started_with(self.config.dns_port):  # observers (CloudTrail), the DNS server
            self.provider(service)

    def install_provider(self, provider: ServiceProvider) -> None:
        """Serve `provider.service_name` with `provider` (embedding Overcast, protocol test handlers)."""
        from overcast.policy.actions import declare_actions

        declare_actions(provider.service_name, provider.iam_actions)
        replaced = self._providers.get(provider.service_name)
        self._providers[provider.service_name] = provider
        self.routes = [(route, owner) for route, owner in self.routes if owner is not replaced]
        self.routes.extend((route, provider) for route in provider.routes)
        # The most specific first: routes by host name, then by the longest path prefix.
        self.routes.sort(key=lambda entry: (entry[0].host is None, -len(entry[0].path or "")))

    def _issued_credential(self, access_key_id: str) -> Credential | None:
        """Keys in AWS's issued formats (AKIA..., ASIA...) are looked up by the services that issue them."""
        if not access_key_id.startswith(("AKIA", "ASIA")):
            return None
        for service in CREDENTIAL_ISSUERS:
            provider = self.provider(service)
            found = provider.credential(access_key_id) if provider else None
            if found:
                return found
        return None

    def serves_unsigned(self, service: str, operation: str) -> bool:
        """Whether AWS serves the operation without a signature: its model says so, or its service does
        (`ServiceProvider.unsigned_operations`)."""
        from overcast.protocol.models import is_unauthenticated

        if is_unauthenticated(service, operation):
            return True
        provider = self.provider(service)
        return provider is not None and operation in provider.unsigned_operations

    def authenticate(self, request: HttpRequest) -> Principal | None:
        """The principal a signed request acts as (its signature verified as for any API call), or None for an
        unsigned one; raises ServiceError for a bad signature or key. For services' own HTTP routes (function
        URLs, invoke URLs) that accept AWS-signed requests."""
        from overcast.auth.authenticate import authenticate
        from overcast.auth.sigv4 import parse_sigv4

        sig = parse_sigv4(request)
        if sig is None:
            return None
        principal, _ = authenticate(self, request, sig, "json", request.path)
        return principal

    def loaded_services(self) -> list[str]:
        return sorted(self._providers)

    def health(self) -> dict[str, Any]:
        """What `/_overcast/health` (and `overcast status`) report: version, mode, store and services."""
        from overcast import __version__

        loaded = set(self._providers)
        return {
            "version": __version__,
            "edition": "overcast",
            "status": "running",
            "iam": self.config.iam,
            "persistent": not self.config.ephemeral,
            "data_dir": None if self.config.ephemeral else str(self.root),
            "services": {
                name: ("running" if name in loaded else "available")
                for name in sorted(PROVIDERS)
                if is_available(name)
            },
        }

    async def run_blocking(self, fn: Callable[..., Any], *args: Any) -> Any:
        """`fn(*args)` in a worker thread, awaited: CPU-heavy work (S3 Select, log filters, decompression) off
        the event loop, so one request cannot stall every other. The work should check its own limits (size,
        time) and stop with the service's error; Python code still shares the interpreter lock, but the loop
        gets it back every few milliseconds instead of waiting for the whole job."""
        if self._blocking is None:
            self._blocking = ThreadPoolExecutor(max_workers=2, thread_name_prefix="overcast-blocking")
        return await asyncio.get_running_loop().run_in_executor(self._blocking, functools.partial(fn, *args))

    def spawn(self, coroutine: Any) -> None:
        """Run a background coroutine owned by the platform (cancelled at shutdown)."""
        try:
            task = asyncio.get_running_loop().create_task(coroutine)
        except RuntimeError:  # no loop yet (a provider loaded outside the server): start it later
            coroutine.close()
            return
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- the call path -----------------------------------------------------------------------------

    def observe(self, observer: Observer) -> None:
        """Call `observer(ctx, params, result, error)` after every `invoke`, with the result or the error it
        raised (CloudTrail records calls this way). Observers must be cheap and must not raise. Until one is
        registered `invoke` is the plain dispatch: observing costs nothing when nobody observes."""
        self.observers.append(observer)
        self.invoke = self._observed_invoke  # type: ignore[method-assign]

    async def _observed_invoke(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        try:
            result = await Platform.invoke(self, ctx, params)
        except Exception as error:
            for observer in self.observers:
                observer(ctx, params, None, error)
            raise
        for observer in self.observers:
            observer(ctx, params, result, None)
        return result

    async def invoke(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        provider = self.provider(ctx.service)
        entry = provider.handler(ctx.operation) if provider else None
        if entry is None:
            raise NotImplementedOperation(ctx.service, ctx.operation)
        handler, is_async = entry
        if self.authorizer is not None:
            self.authorizer(ctx, params)
        if is_async:
            return await handler(ctx, params)
        request = ctx.request
        if request is not None and ctx.operation in provider.remembered:  # a client's request (not a call)
            # what an answer may show of the request (queue URLs) and its protocol (its serialized form)
            seen = (request.scheme, request.host, request.path, request.headers.get("content-type"))
            key = (
                ctx.service,
                ctx.operation,
                ctx.account_id,
                ctx.region,
                seen,
                repr(params),
                ctx.principal.arn,
            )
            return self.answers.answer(
                key, self.generation, lambda: handler(ctx, params), ctx.principal, self._call_again
            )
        with self.db.transaction():
            return handler(ctx, params)

    def authorize(
        self, ctx: RequestContext, action: str, resource: str, params: dict[str, Any] | None = None
    ) -> None:
        """Authorize one more (action, resource) of the request in hand, as its own was before the operation ran:
        for operations AWS authorizes on more than one resource (CopyObject also needs s3:GetObject on its
        source). Raises the service's AccessDenied when the mode's evaluation refuses it."""
        authorize = getattr(self.authorizer, "authorize", None)
        if authorize is not None:
            authorize(ctx, params or {}, action, resource)

    async def call(
        self,
        service: str,
        operation: str,
        params: dict[str, Any],
        *,
        principal: Principal,
        account_id: str,
        region: str,
        condition_keys: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A call from one service to another (S3 notifying SQS, Lambda polling a queue, ...).

        `condition_keys` are request context keys the calling service supplies, as AWS services do for
        their resource policies (`aws:SourceArn`, `aws:SourceAccount`)."""
        ctx = self._call_context(service, operation, params, principal, account_id, region, condition_keys)
        return await self.invoke(ctx, params)

    def call_now(
        self,
        service: str,
        operation: str,
        params: dict[str, Any],
        *,
        principal: Principal,
        account_id: str,
        region: str,
        condition_keys: dict[str, Any] | None = None,
        built: bool = False,
    ) -> dict[str, Any]:
        """`call` for code that runs inside a transaction and cannot await (an operation calling KMS's Decrypt
        on a caller's behalf): validated, authorized and observed the same way; the callee's (synchronous)
        handler runs in a savepoint of the caller's transaction. `built`: every param was made by Overcast
        itself (a stored ciphertext and its context), not taken from a user: validation is skipped."""
        ctx = self._call_context(
            service, operation, params, principal, account_id, region, condition_keys, validated=built
        )
        provider = self.provider(service)
        entry = provider.handler(operation) if provider else None
        if entry is None:
            raise NotImplementedOperation(service, operation)
        handler, is_async = entry
        if is_async:
            raise ServiceError(
                "InternalFailure",
                f"{service} cannot serve {operation} synchronously",
                500,
                sender_fault=False,
            )
        error: Exception | None = None
        result: dict[str, Any] | None = None
        try:
            if self.authorizer is not None:
                self.authorizer(ctx, params)
            with self.db.transaction():
                result = handler(ctx, params)
            return result
        except Exception as raised:
            error = raised
            raise
        finally:
            for observer in self.observers:
                observer(ctx, params, result, error)
            if self.answers.calls is not None:  # part of an answer to remember: to be made again with it
                self.answers.calls.append(
                    NestedCall(
                        service, operation, params, principal, account_id, region, condition_keys, result
                    )
                )

    def _call_again(self, caller: Principal, calls: tuple[NestedCall, ...]) -> bool:
        """A remembered answer's nested calls, made again for `caller`'s request but for their handlers (their
        results are the remembered ones): authorized, then observed. False, and nothing observed, if one is
        refused now."""
        contexts = []
        for call in calls:
            ctx = self._call_context(
                call.service,
                call.operation,
                call.params,
                caller,
                call.account_id,
                call.region,
                call.condition_keys,
                validated=True,
            )
            if self.authorizer is not None:
                try:
                    self.authorizer(ctx, call.params)
                except Exception:
                    return False
            contexts.append(ctx)
        for ctx, call in zip(contexts, calls, strict=True):
            for observer in self.observers:
                observer(ctx, call.params, call.result, None)
        return True

    def _call_context(
        self,
        service: str,
        operation: str,
        params: dict[str, Any],
        principal: Principal,
        account_id: str,
        region: str,
        condition_keys: dict[str, Any] | None,
        validated: bool = False,
    ) -> RequestContext:
        if not validated:
            from overcast.protocol.models import get_service_model
            from overcast.protocol.validate import validate

            validate(get_service_model(service).operation_model(operation), params)
        ctx = RequestContext(service, operation, account_id, region, principal, new_request_id())
        if condition_keys:
            ctx.extra["condition_keys"] = condition_keys
        return ctx

    # -- lifecycle ---------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget every resource of every account (`overcast reset`) and return the clock to real time."""
        self.generation += 1
        self.answers.forget()
        self.db.reset()
        self.blobs.sweep()
        self.clock.reset()
        for provider in self._providers.values():
            provider.reset()

    async def shutdown(self) -> None:
        for provider in self._providers.values():
            await provider.stop()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._blocking is not None:
            self._blocking.shutdown(wait=False, cancel_futures=True)
        self.db.close()
        if self._tempdir:
            shutil.rmtree(self._tempdir, ignore_errors=True)


def new_request_id() -> str:
    """A version 4 UUID, as AWS request ids are: random in its first 80 bits (drawn again at each start and in
    a forked child), a counter in its last 48. One is made per request: ids need to be unique, not unguessable,
    and a counter costs a fraction of drawing and formatting 128 random bits."""
    return f"{_id_prefix}{next(_id_counter) & 0xFFFFFFFFFFFF:012x}"


def _new_id_space() -> None:
    global _id_prefix, _id_counter
    h = f"{random.SystemRandom().getrandbits(128):032x}"
    _id_prefix = f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-"
    _id_counter = itertools.count(int(h[20:], 16))


_id_prefix = ""
_id_counter = itertools.count()
_new_id_space()
os.register_at_fork(after_in_child=_new_id_space)  # a forked child must not repeat its parent's ids
