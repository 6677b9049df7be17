"""SSM's provider (Parameter Store): composition, SecureString values through KMS, and the clock's work
(Expiration removes a parameter; notifications go to EventBridge when it is there)."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import struct
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

import overcast.services.kms.api as kms
from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services import is_available
from overcast.services.base import ServiceProvider
from overcast.services.events import api as events
from overcast.services.kit.timers import run_due_work
from overcast.services.ssm.documents import DocumentOperations
from overcast.services.ssm.labels import LabelOperations
from overcast.services.ssm.names import parameter_arn, split_selector
from overcast.services.ssm.parameters import ParameterOperations
from overcast.services.ssm.store import ParameterStore
from overcast.services.ssm.tagging import TagOperations

log = logging.getLogger("overcast.ssm")
DEFAULT_KEY = "alias/aws/ssm"
_DIRECT, _ENVELOPE = b"\x00", b"\x01"  # a KMS ciphertext of the value; a data key and the value under it


class SsmProvider(ServiceProvider):
    service_name = "ssm"
    families = (ParameterOperations, LabelOperations, TagOperations, DocumentOperations)

    def __init__(self, platform) -> None:
        super().__init__(platform)
        self.store = ParameterStore(self.db)
        self.wake = asyncio.Event()

    async def start(self) -> None:
        self.platform.spawn(run_due_work(self.clock, self.wake, self._run_due, "ssm parameter policies"))

    def reset(self) -> None:
        self.store.forget()

    def schedule_changed(self) -> None:
        self.db.after_commit(self.wake.set)

    # -- SecureString values ---------------------------------------------------------------------------

    def announce(
        self, account: str, region: str, operation: str, name: str, kind: str, description: str
    ) -> None:
        """A "Parameter Store Change" event on the account's default bus (Create, Update, Delete,
        LabelParameterVersion), as Parameter Store sends it."""
        events.put_event(
            self.platform,
            account,
            region,
            source="aws.ssm",
            detail_type="Parameter Store Change",
            detail={"operation": operation, "name": name, "type": kind, "description": description},
            resources=[parameter_arn(region, account, name)],
        )

    def seal(self, ctx: RequestContext, name: str, key_id: str, value: str, tier: str) -> bytes:
        """A SecureString's stored form: KMS Encrypt of the value (Standard tier), or a data key and the value
        under it (Advanced tier: values up to 8 KB, more than Encrypt takes); the parameter's ARN is the
        encryption context, as in AWS."""
        context = {"PARAMETER_ARN": parameter_arn(ctx.region, ctx.account_id, name)}
        data = value.encode()
        try:
            if tier == "Standard":
                blob, _ = kms.encrypt(
                    self.platform, ctx.principal, ctx.account_id, ctx.region, key_id, data, context, via="ssm"
                )
                return _DIRECT + blob
            data_key = kms.generate_data_key(
                self.platform, ctx.principal, ctx.account_id, ctx.region, key_id, context, via="ssm"
            )
        except ServiceError as error:
            raise _key_error(error) from None
        nonce = os.urandom(12)
        sealed = nonce + AESGCM(data_key.plaintext).encrypt(nonce, data, context["PARAMETER_ARN"].encode())
        return _ENVELOPE + struct.pack(">H", len(data_key.ciphertext)) + data_key.ciphertext + sealed

    def open(self, ctx: RequestContext, name: str, stored: bytes) -> str:
        context = {"PARAMETER_ARN": parameter_arn(ctx.region, ctx.account_id, name)}
        try:
            if stored[:1] == _DIRECT:
                return kms.decrypt(
                    self.platform, ctx.principal, ctx.account_id, ctx.region, stored[1:], context, via="ssm"
                ).decode()
            (size,) = struct.unpack(">H", stored[1:3])
            blob, sealed = stored[3 : 3 + size], stored[3 + size :]
            data_key = kms.decrypt(
                self.platform, ctx.principal, ctx.account_id, ctx.region, blob, context, via="ssm"
            )
        except ServiceError as error:
            raise _key_error(error) from None
        return AESGCM(data_key).decrypt(sealed[:12], sealed[12:], context["PARAMETER_ARN"].encode()).decode()

    @staticmethod
    def hidden(stored: bytes) -> str:
        """A SecureString's value as returned without decryption: its ciphertext, base64."""
        return base64.b64encode(stored).decode()

    # -- parameter policies on the clock ---------------------------------------------------------------

    async def _run_due(self) -> float | None:
        notices: list[tuple[str, str, str, str]] = []
        with self.db.transaction():
            now = self.clock.now()
            for account, region, name in self.store.due("expires", now):
                self.store.delete(account, region, name)
                self.tags.forget(parameter_arn(region, account, name))
                notices.append((account, region, name, "Expired"))
            for account, region, name in self.store.due("notify_at", now):
                self.store.clear_moment(account, region, name, "notify_at")
                notices.append((account, region, name, "ExpirationNotification"))
            for account, region, name in self.store.due("no_change_at", now):
                self.store.clear_moment(account, region, name, "no_change_at")
                notices.append((account, region, name, "NoChangeNotification"))
            upcoming = self.store.earliest()
        for notice in notices:
            await self._notify(*notice)
        return upcoming

    async def _notify(self, account: str, region: str, name: str, policy: str) -> None:
        """The 'Parameter Store Policy Action' event, to the default event bus when EventBridge runs."""
        if not is_available("events"):
            return
        from overcast.services.kit.delivery import Sender, deliver

        event = {
            "source": "aws.ssm",
            "detail-type": "Parameter Store Policy Action",
            "resources": [parameter_arn(region, account, name)],
            "detail": {"parameter-name": name, "policy-type": policy, "action-status": "Finished"},
        }
        try:
            await deliver(
                self.platform,
                f"arn:aws:events:{region}:{account}:event-bus/default",
                json.dumps(event),
                Sender("ssm.amazonaws.com", account),
            )
        except ServiceError as error:
            log.info("parameter policy event for %s not delivered: %s", name, error.message)

    # -- the policy engine's hooks ---------------------------------------------------------------------

    def resource_arn(self, ctx: RequestContext, params: dict[str, Any]) -> str | None:
        name = params.get("Name")
        if isinstance(name, str) and "Document" in ctx.operation:
            return f"arn:aws:ssm:{ctx.region}:{ctx.account_id}:document/{name}"
        if isinstance(name, str):
            return parameter_arn(ctx.region, ctx.account_id, split_selector(name)[0])
        if params.get("Path"):
            return parameter_arn(ctx.region, ctx.account_id, params["Path"].rstrip("/") or "/")
        if params.get("ResourceId") and params.get("ResourceType") == "Parameter":
            return parameter_arn(ctx.region, ctx.account_id, params["ResourceId"])
        return None


def _key_error(error: ServiceError) -> ServiceError:
    """KMS's refusals as Parameter Store words them."""
    if error.code.startswith("AccessDenied"):
        return error
    if error.code in ("NotFoundException", "InvalidKeyUsageException"):
        return ServiceError("InvalidKeyId", "")
    return ServiceError(error.code, error.message, error.status)
