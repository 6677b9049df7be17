"""What the CloudFormation tests share: waiting for a stack to settle, reading its events."""

from __future__ import annotations

import json
from typing import Any

from tests.waiting import wait_for

SETTLED_SUFFIXES = ("_COMPLETE", "_FAILED")


def settled(cfn: Any, stack: str, timeout: float = 60) -> dict[str, Any]:
    """The stack once its operation has ended (a *_COMPLETE or *_FAILED status)."""

    def check() -> dict[str, Any] | None:
        found = cfn.describe_stacks(StackName=stack)["Stacks"][0]
        status = found["StackStatus"]
        if status.endswith(SETTLED_SUFFIXES) and "IN_PROGRESS" not in status:
            return found
        return None

    return wait_for(check, timeout=timeout)


def events(cfn: Any, stack: str) -> list[dict[str, Any]]:
    """The stack's events, oldest first."""
    found, token = [], None
    for _ in range(50):
        page = cfn.describe_stack_events(StackName=stack, **({"NextToken": token} if token else {}))
        found.extend(page["StackEvents"])
        token = page.get("NextToken")
        if not token:
            break
    return list(reversed(found))


def statuses(cfn: Any, stack: str, logical_id: str) -> list[str]:
    return [
        event["ResourceStatus"] for event in events(cfn, stack) if event["LogicalResourceId"] == logical_id
    ]


def body(template: dict[str, Any]) -> str:
    return json.dumps(template)


def outputs(stack: dict[str, Any]) -> dict[str, str]:
    return {item["OutputKey"]: item["OutputValue"] for item in stack.get("Outputs", [])}
