"""Rotation: RotateSecret and CancelRotateSecret, and the Rotator that invokes the rotation function with its
four steps (createSecret, setSecret, testSecret, finishSecret) and runs what is due on the clock.

A rotation in progress is a row (`sm_rotations`: the secret, its token, the next step), so one interrupted by a
restart goes on from its step. The function is invoked through Platform.call("lambda", "Invoke") as the
`secretsmanager.amazonaws.com` service principal (with aws:SourceArn / aws:SourceAccount), so the function's
resource policy decides as in AWS. The labels move as AWS moves them: RotateSecret attaches AWSPENDING to a new
version without a value; the function's createSecret puts the value; finishSecret moves AWSCURRENT (the old
version keeps AWSPREVIOUS); then AWSPENDING is removed and LastRotatedDate set.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.identity import service_principal
from overcast.services.base import Operations
from overcast.services.kit.arns import parse_arn
from overcast.services.secretsmanager import rules as errors
from overcast.services.secretsmanager import schedules
from overcast.services.secretsmanager.store import Secret, Version

if TYPE_CHECKING:
    from overcast.services.secretsmanager.provider import SecretsManagerProvider

log = logging.getLogger("overcast.secretsmanager")
STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")
CURRENT, PENDING = "AWSCURRENT", "AWSPENDING"
SERVICE_HOST = "secretsmanager.amazonaws.com"


class RotationOperations(Operations):
    service: SecretsManagerProvider

    def rotate_secret(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        secret = self.service.secret_of(ctx, params["SecretId"], change=True)
        function = params.get("RotationLambdaARN") or secret.rotation_lambda
        if not function:
            raise errors.invalid_request("No Lambda rotation function ARN is associated with this secret.")
        rules = params.get("RotationRules") or secret.rotation_rules
        if rules:
            try:
                schedules.check_rules(rules)
            except schedules.ScheduleError as error:
                raise errors.invalid_parameter(str(error)) from None
        if self.service.rotator.in_progress(secret):
            raise errors.invalid_request(
                "A previous rotation isn't complete. That rotation will be reattempted."
            )
        self.service.rotator.check_can_invoke(secret, function)
        now = self.clock.now()
        secret.rotation_lambda = function
        secret.rotation_rules = rules
        secret.rotation_enabled = True
        secret.next_rotation = schedules.next_rotation(rules, now) if rules else None
        self.service.store.put_secret(secret)
        self.service.schedule_changed()
        result: dict[str, Any] = {"ARN": secret.arn, "Name": secret.name}
        if params.get("RotateImmediately", True):
            token = params.get("ClientRequestToken") or str(uuid.uuid4())
            self.service.rotator.begin(secret, token, ctx.principal.arn)
            result["VersionId"] = token
        return result

    def cancel_rotate_secret(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        secret = self.service.secret_of(ctx, params["SecretId"])
        if not secret.rotation_enabled:
            raise errors.invalid_request("Secret does not have rotation enabled.")
        secret.rotation_enabled = False
        secret.next_rotation = None
        self.service.store.put_secret(secret)
        result: dict[str, Any] = {"ARN": secret.arn, "Name": secret.name}
        pending = self.service.store.stage(secret.arn, PENDING)
        if pending is not None and pending != self.service.store.stage(secret.arn, CURRENT):
            result["VersionId"] = pending
        self.service.store.end_rotation(secret.arn)
        return result


class Rotator:
    def __init__(self, provider: SecretsManagerProvider) -> None:
        self.provider = provider

    def check_can_invoke(self, secret: Secret, function: str) -> None:
        """RotateSecret refuses a function whose policy does not let Secrets Manager invoke it (the engine
        decides, as for the invocations themselves)."""
        platform = self.provider.platform
        if platform.authorizer is None:
            return
        arn = parse_arn(function)
        ctx = RequestContext(
            "lambda",
            "Invoke",
            (arn.account if arn else "") or secret.account,
            (arn.region if arn else "") or secret.region,
            service_principal(SERVICE_HOST, secret.account),
            "rotation-check",
        )
        ctx.extra["condition_keys"] = {"aws:SourceArn": secret.arn, "aws:SourceAccount": secret.account}
        try:
            platform.authorizer(ctx, {"FunctionName": function})
        except ServiceError:
            raise ServiceError(
                "AccessDeniedException",
                "Secrets Manager cannot invoke the specified Lambda function. Ensure that the function policy "
                "grants access to the principal secretsmanager.amazonaws.com.",
                400,
            ) from None

    def in_progress(self, secret: Secret) -> bool:
        store = self.provider.store
        pending = store.stage(secret.arn, PENDING)
        return store.rotation(secret.arn) is not None or (
            pending is not None and pending != store.stage(secret.arn, CURRENT)
        )

    def begin(self, secret: Secret, token: str, principal: str) -> None:
        """A new version labelled AWSPENDING (its value comes from createSecret), and the steps to run."""
        store = self.provider.store
        now = self.provider.clock.now()
        if store.version(secret.arn, token) is None:
            store.put_version(secret.arn, Version(token, now, None, None, None, None, None))
        store.set_stage(secret.arn, PENDING, token)
        store.start_rotation(secret.arn, token, now, principal)
        self.provider.db.after_commit(lambda: self.provider.platform.spawn(self.run(secret.arn)))

    def finished(self, secret: Secret, version_id: str) -> None:
        """AWSCURRENT moved to `version_id`: if it is the rotation's pending version, the rotation is done."""
        store = self.provider.store
        if store.stage(secret.arn, PENDING) == version_id:
            store.remove_stage(secret.arn, PENDING)
            now = self.provider.clock.now()
            secret.last_rotated = now
            if secret.rotation_rules:
                secret.next_rotation = schedules.next_rotation(secret.rotation_rules, now)
            store.put_secret(secret)
            self.provider.schedule_changed()

    async def run(self, arn: str) -> None:
        """Invoke the rotation function for each remaining step; a failing step ends the rotation (the version
        keeps AWSPENDING, and the next RotateSecret says the previous rotation is not complete)."""
        provider = self.provider
        while True:
            with provider.db.transaction():
                found = provider.store.rotation(arn)
                secret = provider.store.secret_by_arn(arn)
            if found is None or secret is None or not secret.rotation_lambda:
                return
            token, step, _ = found
            try:
                await self._invoke(secret, step, token)
            except Exception as error:  # noqa: BLE001 - any failure ends this rotation, as in AWS
                log.warning("rotation of %s failed at %s: %s", arn, step, error)
                with provider.db.transaction():
                    provider.store.end_rotation(arn)
                return
            with provider.db.transaction():
                if step == STEPS[-1]:
                    provider.store.end_rotation(arn)
                    return
                provider.store.set_rotation_step(arn, STEPS[STEPS.index(step) + 1])

    async def _invoke(self, secret: Secret, step: str, token: str) -> None:
        function = parse_arn(secret.rotation_lambda or "")
        account = function.account if function else secret.account
        region = function.region if function else secret.region
        event = {
            "Step": step,
            "SecretId": secret.arn,
            "ClientRequestToken": token,
            "RotationToken": str(uuid.uuid4()),
        }
        answer = await self.provider.platform.call(
            "lambda",
            "Invoke",
            {"FunctionName": secret.rotation_lambda, "Payload": json.dumps(event).encode()},
            principal=service_principal(SERVICE_HOST, secret.account),
            account_id=account or secret.account,
            region=region or secret.region,
            condition_keys={"aws:SourceArn": secret.arn, "aws:SourceAccount": secret.account},
        )
        if answer.get("FunctionError"):
            raise ServiceError("RotationFailed", (answer.get("Payload") or b"").decode("utf-8", "replace"))

    async def run_due(self) -> float | None:
        """Purge secrets whose recovery window ended; start the rotations their schedules make due."""
        provider = self.provider
        store = provider.store
        with provider.db.transaction():
            now = provider.clock.now()
            for secret in store.due("deleted_date", now):
                store.purge(secret.arn)
                provider.tags.forget(secret.arn)
            for secret in store.due("next_rotation", now):
                self._scheduled(secret, now)
            upcoming = [store.earliest("deleted_date"), store.earliest("next_rotation")]
        found = [moment for moment in upcoming if moment is not None]
        return min(found) if found else None

    def _scheduled(self, secret: Secret, now: float) -> None:
        store = self.provider.store
        if secret.rotation_enabled and secret.deleted_date is None and not self.in_progress(secret):
            self.begin(secret, str(uuid.uuid4()), SERVICE_HOST)
        rules = secret.rotation_rules or {}
        following = schedules.next_rotation(rules, now) if secret.rotation_enabled and rules else None
        secret.next_rotation = following
        store.put_secret(secret)
