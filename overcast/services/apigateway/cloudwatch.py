"""Writing API Gateway's logs to CloudWatch Logs: access log lines (a stage's `accessLogSettings`) and
execution logs (`loggingLevel` INFO or ERROR), through `Platform.call` as apigateway.amazonaws.com; the
lines of an execution log as AWS words them."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from overcast.errors import ServiceError
from overcast.identity import service_principal
from overcast.services.kit.arns import parse_arn

if TYPE_CHECKING:
    from overcast.http import HttpResponse
    from overcast.platform import Platform
    from overcast.services.apigateway.gateway import Call


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


MAX_EVENT = 1024  # API Gateway truncates execution log events past this many bytes


def truncated(line: str) -> str:
    """An execution log event as API Gateway submits it: cut at 1024 bytes, marked `[TRUNCATED]`."""
    data = line.encode()
    if len(data) <= MAX_EVENT:
        return line
    return data[:MAX_EVENT].decode("utf-8", "ignore") + " [TRUNCATED]"


def java_map(values: dict[str, Any]) -> str:
    """A map as AWS's execution logs print it (`{id=42, color=red}`)."""
    return "{" + ", ".join(f"{k}={v}" for k, v in values.items()) + "}"


def usage_plan_check(call: Call, key: str | None) -> str:
    return (
        f"Verifying Usage Plan for request: {call.context['requestId']}. API Key: {masked(key or '')} "
        f"API Stage: {call.api_id}/{call.stage_name}"
    )


def masked(key: str) -> str:
    """An API key as execution logs show it: all but its last four characters hidden."""
    return "*" * max(len(key) - 4, 0) + key[-4:] if key else ""


def execution_lines(call: Call, response: HttpResponse, data_trace: bool) -> list[str]:
    """A request's way through the method as execution logs and TestInvokeMethod tell it: the method
    request, what the integration noted (endpoint request and response), the method response; headers
    and bodies only with data tracing."""
    before, during = call.trace[: call.executing], call.trace[call.executing :]
    lines = [text for text, is_data in before if data_trace or not is_data]
    lines += [
        f"Starting execution for request: {call.context['requestId']}",
        f"HTTP Method: {call.verb}, Resource Path: {call.path}",
        f"Method request path: {java_map(call.path_parameters)}",
        f"Method request query string: {java_map(call.method_params()['querystring'])}",
    ]
    if data_trace:
        lines.append(f"Method request headers: {java_map(dict(call.headers))}")
        lines.append(f"Method request body before transformations: {call.body.decode('utf-8', 'replace')}")
    lines += [text for text, is_data in during if data_trace or not is_data]
    if data_trace:
        data = response.body if isinstance(response.body, (bytes, bytearray)) else b""
        lines.append(f"Method response body after transformations: {bytes(data).decode('utf-8', 'replace')}")
        lines.append(f"Method response headers: {java_map(dict(response.headers))}")
    if response.status >= 500:
        lines.append(f"Execution failed due to configuration error: {failure_text(response)}")
    else:
        lines.append("Successfully completed execution")
    lines.append(f"Method completed with status: {response.status}")
    return lines


def failure_text(response: HttpResponse) -> str:
    data = response.body if isinstance(response.body, (bytes, bytearray)) else b""
    try:
        return str(json.loads(data).get("message"))
    except (ValueError, AttributeError):
        return bytes(data).decode("utf-8", "replace")
