"""Writing API Gateway's logs to CloudWatch Logs: access log lines (a stage's `accessLogSettings`) and
execution logs (`loggingLevel` INFO or ERROR), through `Platform.call` as apigateway.amazonaws.com."""

from __future__ import annotations

from typing import TYPE_CHECKING

from overcast.errors import ServiceError
from overcast.identity import service_principal
from overcast.services.kit.arns import parse_arn

if TYPE_CHECKING:
    from overcast.platform import Platform


def execution_group(api_id: str, stage: str) -> str:
    """The log group AWS writes a stage's execution logs to."""
    return f"API-Gateway-Execution-Logs_{api_id}/{stage}"


async def write_log(
    platform: Platform,
    group: str,
    stream: str,
    lines: list[str],
    *,
    account: str,
    region: str,
    create_group: bool = False,
) -> None:
    """Append `lines` to `group`/`stream` (created when missing; the group too when `create_group`, as AWS does
    for execution logs). `group` may be a log group ARN. Lines that cannot be delivered are dropped, as AWS
    drops them."""
    arn = parse_arn(group) if group.startswith("arn:") else None
    if arn is not None:
        if arn.service != "logs":
            return
        group, account, region = (
            arn.resource_id.removesuffix(":*"),
            arn.account or account,
            arn.region or region,
        )
    where = {
        "principal": service_principal("apigateway.amazonaws.com", account),
        "account_id": account,
        "region": region,
    }
    now_ms = int(platform.clock.now() * 1000)
    try:
        if create_group:
            await _create(platform, "CreateLogGroup", {"logGroupName": group}, where)
        await _create(platform, "CreateLogStream", {"logGroupName": group, "logStreamName": stream}, where)
        events = [{"timestamp": now_ms, "message": line} for line in lines]
        await platform.call(
            "logs",
            "PutLogEvents",
            {"logGroupName": group, "logStreamName": stream, "logEvents": events},
            **where,
        )
    except ServiceError:
        pass


async def _create(platform: Platform, operation: str, params: dict, where: dict) -> None:
    try:
        await platform.call("logs", operation, params, **where)
    except ServiceError as error:
        if error.code != "ResourceAlreadyExistsException":
            raise
