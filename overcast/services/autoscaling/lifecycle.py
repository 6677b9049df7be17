"""Lifecycle hooks: a launching instance waits in `Pending:Wait` (a terminating one in `Terminating:Wait`)
until CompleteLifecycleAction (CONTINUE or ABANDON) or its heartbeat timeout on the virtual clock (then the
hook's DefaultResult); RecordLifecycleActionHeartbeat restarts the timeout."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.autoscaling.store import GROUP
from overcast.services.base import Operations

if TYPE_CHECKING:
    from overcast.services.autoscaling.provider import AutoScalingProvider

log = logging.getLogger("overcast.autoscaling")
HOOK = "hook"
LAUNCHING = "autoscaling:EC2_INSTANCE_LAUNCHING"
TERMINATING = "autoscaling:EC2_INSTANCE_TERMINATING"
DEFAULT_TIMEOUT = 3600
MAX_TIMEOUT = 7200


def validation(message: str) -> ServiceError:
    return ServiceError("ValidationError", message)


class LifecycleOperations(Operations):
    service: AutoScalingProvider

    def put_lifecycle_hook(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group = self.service.group(ctx, params["AutoScalingGroupName"])
        name = f"{group['AutoScalingGroupName']}/{params['LifecycleHookName']}"
        existing = self.service.store.get(ctx.account_id, ctx.region, HOOK, name) or {}
        transition = params.get("LifecycleTransition") or existing.get("LifecycleTransition")
        if transition not in (LAUNCHING, TERMINATING):
            raise validation(f"Invalid Lifecycle Transition: {transition}" if transition else
                             "LifecycleTransition is required when creating a lifecycle hook")  # fmt: skip
        timeout = params.get("HeartbeatTimeout", existing.get("HeartbeatTimeout", DEFAULT_TIMEOUT))
        if not 30 <= timeout <= MAX_TIMEOUT:
            raise validation(f"Heartbeat timeout must be between 30 and {MAX_TIMEOUT} seconds")
        result = params.get("DefaultResult") or existing.get("DefaultResult") or "ABANDON"
        if result not in ("CONTINUE", "ABANDON"):
            raise validation(f"Invalid DefaultResult: {result}")
        hook = {
            "LifecycleHookName": params["LifecycleHookName"],
            "AutoScalingGroupName": group["AutoScalingGroupName"],
            "LifecycleTransition": transition,
            "HeartbeatTimeout": timeout,
            "GlobalTimeout": timeout * 100 if timeout * 100 < 172800 else 172800,
            "DefaultResult": result,
        }
        for key in ("NotificationTargetARN", "RoleARN", "NotificationMetadata"):
            value = params.get(key, existing.get(key))
            if value is not None:
                hook[key] = value
        self.service.store.put(ctx.account_id, ctx.region, HOOK, name, hook)
        if hook.get("NotificationTargetARN") and not existing:
            self._notify(ctx.account_id, group, hook["NotificationTargetARN"], {
                "AccountId": ctx.account_id,
                "RequestId": str(uuid.uuid4()),
                "AutoScalingGroupARN": group["AutoScalingGroupARN"],
                "AutoScalingGroupName": group["AutoScalingGroupName"],
                "Service": "AWS Auto Scaling",
                "Event": "autoscaling:TEST_NOTIFICATION",
                "Time": self._now(),
            })  # fmt: skip
        return {}

    def _now(self) -> str:
        return datetime.fromtimestamp(self.service.clock.now(), UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def _notify(self, account: str, group: dict[str, Any], target: str, message: dict[str, Any]) -> None:
        """Send a lifecycle notification to the hook's target (SQS, SNS ...) once the transaction commits."""
        from overcast.services.kit.delivery import Sender, deliver

        sender = Sender("autoscaling.amazonaws.com", account, source_arn=group["AutoScalingGroupARN"])

        async def send() -> None:
            try:
                await deliver(self.service.platform, target, json.dumps(message), sender)
            except Exception:  # a target that refuses is the user's to mend; the action goes on
                log.warning("Auto Scaling: the lifecycle notification to %s failed", target, exc_info=True)

        self.service.db.after_commit(lambda: self.service.platform.spawn(send()))

    def describe_lifecycle_hooks(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group = self.service.group(ctx, params["AutoScalingGroupName"])
        hooks = self.hooks(ctx.account_id, ctx.region, group["AutoScalingGroupName"])
        if params.get("LifecycleHookNames"):
            hooks = [h for h in hooks if h["LifecycleHookName"] in params["LifecycleHookNames"]]
        return {"LifecycleHooks": hooks}

    def delete_lifecycle_hook(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group = self.service.group(ctx, params["AutoScalingGroupName"])
        name = f"{group['AutoScalingGroupName']}/{params['LifecycleHookName']}"
        if self.service.store.get(ctx.account_id, ctx.region, HOOK, name) is None:
            raise validation(f"No Lifecycle Hook found with name {params['LifecycleHookName']} for group "
                             f"{group['AutoScalingGroupName']}")  # fmt: skip
        self.service.store.delete(ctx.account_id, ctx.region, HOOK, name)
        return {}

    def hooks(self, account: str, region: str, group_name: str, transition: str | None = None) -> list[dict]:
        return [h for h in self.service.store.listing(account, region, HOOK)
                if h["AutoScalingGroupName"] == group_name and transition in (None, h["LifecycleTransition"])]  # fmt: skip

    def wait(
        self, account: str, region: str, group: dict[str, Any], member: dict[str, Any], transition: str
    ) -> bool:
        """Put a member in the wait state of `transition` when the group has a hook for it; whether it waits."""
        hooks = self.hooks(account, region, group["AutoScalingGroupName"], transition)
        if not hooks:
            return False
        hook = hooks[0]
        member["LifecycleState"] = "Pending:Wait" if transition == LAUNCHING else "Terminating:Wait"
        member["_action"] = {
            "token": str(uuid.uuid4()),
            "hook": hook["LifecycleHookName"],
            "timeout": hook["HeartbeatTimeout"],
            "deadline": self.service.clock.now() + hook["HeartbeatTimeout"],
            "default": hook["DefaultResult"],
            "transition": transition,
        }
        self._announce(account, region, group, hook, member, transition)
        if hook.get("NotificationTargetARN"):
            launching = transition == LAUNCHING
            notice = {
                "Origin": "EC2" if launching else "AutoScalingGroup",
                "Destination": "AutoScalingGroup" if launching else "EC2",
                "LifecycleHookName": hook["LifecycleHookName"],
                "AccountId": account,
                "RequestId": str(uuid.uuid4()),
                "LifecycleTransition": transition,
                "AutoScalingGroupName": group["AutoScalingGroupName"],
                "Service": "AWS Auto Scaling",
                "Time": self._now(),
                "EC2InstanceId": member["InstanceId"],
                "LifecycleActionToken": member["_action"]["token"],
            }
            if hook.get("NotificationMetadata"):
                notice["NotificationMetadata"] = hook["NotificationMetadata"]
            self._notify(account, group, hook["NotificationTargetARN"], notice)
        return True

    def _announce(self, account: str, region: str, group: dict[str, Any], hook: dict[str, Any],
                  member: dict[str, Any], transition: str) -> None:  # fmt: skip
        """The EventBridge event of an instance put in a wait state (default bus), in AWS's shape."""
        from overcast.services.events.api import put_event

        launching = transition == LAUNCHING
        detail = {
            "LifecycleActionToken": member["_action"]["token"],
            "AutoScalingGroupName": group["AutoScalingGroupName"],
            "LifecycleHookName": hook["LifecycleHookName"],
            "EC2InstanceId": member["InstanceId"],
            "LifecycleTransition": transition,
        }
        if hook.get("NotificationMetadata"):
            detail["NotificationMetadata"] = hook["NotificationMetadata"]
        detail["Origin"] = "EC2" if launching else "AutoScalingGroup"
        detail["Destination"] = "AutoScalingGroup" if launching else "EC2"
        kind = (
            "EC2 Instance-launch Lifecycle Action" if launching else "EC2 Instance-terminate Lifecycle Action"
        )
        put_event(self.service.platform, account, region, source="aws.autoscaling", detail_type=kind, detail=detail,
                  resources=[group["AutoScalingGroupARN"]])  # fmt: skip

    def _waiting(self, ctx: RequestContext, params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        group = self.service.group(ctx, params["AutoScalingGroupName"])
        for member in group["Instances"]:
            action = member.get("_action")
            if action and action["hook"] == params["LifecycleHookName"] and (
                member["InstanceId"] == params.get("InstanceId") or action["token"] == params.get("LifecycleActionToken")
            ):  # fmt: skip
                return group, member
        raise validation("No active Lifecycle Action found with instance ID " + str(params.get("InstanceId")))

    def complete_lifecycle_action(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        result = params["LifecycleActionResult"]
        if result not in ("CONTINUE", "ABANDON"):
            raise validation(f"Invalid LifecycleActionResult: {result}")
        group, member = self._waiting(ctx, params)
        member["_action"]["result"] = result
        member["_action"]["deadline"] = 0  # the worker acts on it now
        self.service.store.put(ctx.account_id, ctx.region, GROUP, group["AutoScalingGroupName"], group)
        self.service.kick()
        return {}

    def record_lifecycle_action_heartbeat(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        group, member = self._waiting(ctx, params)
        action = member["_action"]
        action["deadline"] = self.service.clock.now() + action["timeout"]
        self.service.store.put(ctx.account_id, ctx.region, GROUP, group["AutoScalingGroupName"], group)
        return {}
