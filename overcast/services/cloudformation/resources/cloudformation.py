"""CloudFormation's own resource types: custom resources (Lambda- and SNS-backed), wait conditions and their
handles, nested stacks, Lambda-backed macros, and AWS::CDK::Metadata.

Custom resources speak AWS's protocol: a request event with a presigned S3 ResponseURL, sent to the Lambda
function (invoked asynchronously) or SNS topic named by ServiceToken; the provider PUTs its response there,
and CloudFormation waits for it on the virtual clock (an hour by default, ServiceTimeout when given). Nested
stacks are made through CloudFormation's own CreateStack/UpdateStack/DeleteStack.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from overcast.errors import ServiceError
from overcast.services.cloudformation.resources.base import (
    Created,
    HandlerError,
    ResourceContext,
    ResourceHandler,
    integer,
    not_found,
    tag_list,
)

CUSTOM_TIMEOUT = 3600.0


def _strings(value: Any) -> Any:
    """Custom resource properties as the provider receives them: every scalar a string."""
    if isinstance(value, dict):
        return {key: _strings(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_strings(item) for item in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return value


class CustomResource(ResourceHandler):
    type_name = "AWS::CloudFormation::CustomResource"
    service = "cloudformation"
    required = ("ServiceToken",)
    create_only = frozenset({"ServiceToken"})

    async def create(self, ctx, properties):
        response = await self._request(ctx, "Create", properties)
        return Created(response.get("PhysicalResourceId") or _default_physical(ctx), _data(response))

    async def update(self, ctx, physical_id, properties, previous, attributes):
        response = await self._request(ctx, "Update", properties, physical_id, previous)
        new_id = response.get("PhysicalResourceId") or physical_id
        if new_id != physical_id:
            return Created(new_id, _data(response))  # the provider replaced it: the old one is deleted after
        return _data(response)

    async def delete(self, ctx, physical_id, properties):
        await self._request(ctx, "Delete", properties, physical_id)

    async def _request(
        self,
        ctx: ResourceContext,
        kind: str,
        properties: dict[str, Any],
        physical_id: str | None = None,
        previous: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        responses = ctx.extra["responses"]
        token = properties["ServiceToken"]
        request_id = str(uuid.uuid4())
        key = f"{ctx.stack_id.replace(':', '%3A').replace('/', '%7C')}|{ctx.logical_id}|{request_id}"
        url = await responses.url(ctx.region, key)
        event: dict[str, Any] = {
            "RequestType": kind,
            "ServiceToken": token,
            "ResponseURL": url,
            "StackId": ctx.stack_id,
            "RequestId": request_id,
            "LogicalResourceId": ctx.logical_id,
            "ResourceType": ctx.extra.get("resource_type", "AWS::CloudFormation::CustomResource"),
            "ResourceProperties": _strings(properties),
        }
        if physical_id is not None:
            event["PhysicalResourceId"] = physical_id
        if previous is not None:
            event["OldResourceProperties"] = _strings(previous)
        timeout = float(integer(properties.get("ServiceTimeout")) or CUSTOM_TIMEOUT)
        deadline = ctx.now() + timeout
        payload = json.dumps(event)
        if token.startswith("arn:aws:sns:"):
            await ctx.call("sns", "Publish", {"TopicArn": token, "Message": payload})
        elif token.startswith("arn:aws:lambda:") or ":function:" in token:
            try:
                await ctx.call(
                    "lambda",
                    "Invoke",
                    {"FunctionName": token, "InvocationType": "Event", "Payload": payload.encode()},
                )
            except ServiceError as error:
                if kind == "Delete" and not_found(error):
                    return {}
                raise
        else:
            raise HandlerError(f"Invalid service token: {token}" if token else "ServiceToken is required")
        bodies = await responses.wait(ctx.region, key, deadline, lambda found: bool(found))
        if bodies is None:
            raise HandlerError(
                "CloudFormation did not receive a response from your Custom Resource. Please check your logs for "
                f"requestId [{request_id}]. If you are using the Python cfn-response module, you may need to "
                "update your Lambda function code so that CloudFormation can attach the updated version.",
                "NotStabilized",
            )
        try:
            response = json.loads(bodies[-1])
        except ValueError:
            raise HandlerError(
                f"Invalid JSON in response from custom resource (RequestId: {request_id})"
            ) from None
        if response.get("Status") != "SUCCESS":
            raise HandlerError(
                f"Received response status [{response.get('Status')}] from custom resource. Message returned: "
                f"{response.get('Reason', '')} (RequestId: {request_id})",
                "GeneralServiceException",
            )
        return response


def _data(response: dict[str, Any]) -> dict[str, Any]:
    data = response.get("Data") or {}
    return {str(key): value for key, value in data.items()} if isinstance(data, dict) else {}


def _default_physical(ctx: ResourceContext) -> str:
    return ctx.generated_name(255)


class WaitConditionHandle(ResourceHandler):
    """Ref: a presigned URL that signals (`cfn-signal`, curl -T) are PUT to."""

    type_name = "AWS::CloudFormation::WaitConditionHandle"
    service = "cloudformation"

    async def create(self, ctx, properties):
        key = f"waitcondition/{ctx.stack_id.rsplit('/', 1)[-1]}/{ctx.logical_id}/{uuid.uuid4().hex}"
        url = await ctx.extra["responses"].url(ctx.region, key)
        return Created(url)

    async def update(self, ctx, physical_id, properties, previous, attributes):
        return attributes

    async def delete(self, ctx, physical_id, properties):
        return None


def _signal_key(url: str) -> str:
    from urllib.parse import unquote, urlsplit

    path = unquote(urlsplit(url).path).lstrip("/")
    return path.split("/", 1)[1] if "/" in path else path


def signal_key(stack_id: str, logical_id: str) -> str:
    """Where SignalResource's signals for a resource with a CreationPolicy go."""
    return f"signals/{stack_id.rsplit('/', 1)[-1]}/{logical_id}"


class WaitCondition(ResourceHandler):
    type_name = "AWS::CloudFormation::WaitCondition"
    service = "cloudformation"
    create_only = frozenset({"Handle", "Timeout", "Count"})
    attributes = ("Data",)

    async def create(self, ctx, properties):
        creation_policy = ctx.extra.get("creation_policy") or {}
        signal = creation_policy.get("ResourceSignal") or {}
        if properties.get("Handle"):
            key = _signal_key(properties["Handle"])
            count = integer(properties.get("Count")) or 1
            timeout = float(integer(properties.get("Timeout")) or 43200)
        elif signal:
            key = signal_key(ctx.stack_id, ctx.logical_id)
            count = integer(signal.get("Count")) or 1
            timeout = iso_duration(signal.get("Timeout", "PT5M"))
        else:
            return Created(ctx.generated_name(255), {"Data": "{}"})
        deadline = ctx.now() + timeout
        signals: dict[str, dict[str, Any]] = {}

        def enough(bodies: list[bytes]) -> bool:
            signals.clear()
            for body in bodies:
                try:
                    parsed = json.loads(body)
                except ValueError:
                    continue
                signals[str(parsed.get("UniqueId", len(signals)))] = parsed
            failed = [s for s in signals.values() if s.get("Status") not in ("SUCCESS", None)]
            return bool(failed) or len(signals) >= count

        bodies = await ctx.extra["responses"].wait(ctx.region, key, deadline, enough)
        if bodies is None:
            raise HandlerError(
                f"WaitCondition timed out. Received {len(signals)} conditions when expecting {count}",
                "NotStabilized",
            )
        for unique, parsed in signals.items():
            if parsed.get("Status") not in ("SUCCESS", None):
                raise HandlerError(
                    f"WaitCondition received failed message: '{parsed.get('Reason', '')}' for uniqueId: {unique}"
                )
        data = {unique: parsed.get("Data", "") for unique, parsed in signals.items()}
        return Created(ctx.generated_name(255), {"Data": json.dumps(data)})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        return attributes

    async def delete(self, ctx, physical_id, properties):
        return None


def iso_duration(text: str) -> float:
    """An ISO 8601 duration (PT1H30M) in seconds."""
    import re

    match = re.fullmatch(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?", text or "")
    if not match:
        raise HandlerError(f"Invalid timeout {text}")
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return float(((days * 24 + hours) * 60 + minutes) * 60 + seconds)


class NestedStack(ResourceHandler):
    type_name = "AWS::CloudFormation::Stack"
    service = "cloudformation"
    required = ("TemplateURL",)

    def _params(self, ctx: ResourceContext, properties: dict[str, Any]) -> dict[str, Any]:
        params: dict[str, Any] = {
            "TemplateURL": properties["TemplateURL"],
            "Parameters": [
                {
                    "ParameterKey": key,
                    "ParameterValue": value
                    if isinstance(value, str)
                    else ",".join(map(str, value))
                    if isinstance(value, list)
                    else str(value),
                }
                for key, value in (properties.get("Parameters") or {}).items()
            ],
            "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
        }
        if properties.get("NotificationARNs"):
            params["NotificationARNs"] = properties["NotificationARNs"]
        if properties.get("Tags"):
            params["Tags"] = tag_list(properties["Tags"])
        if properties.get("TimeoutInMinutes"):
            params["TimeoutInMinutes"] = integer(properties["TimeoutInMinutes"])
        return params

    async def create(self, ctx, properties):
        name = ctx.generated_name(128)
        nested = ctx.extra["nested"]
        arn = (
            await ctx.call(
                "cloudformation", "CreateStack", {"StackName": name, **self._params(ctx, properties)}
            )
        )["StackId"]
        nested.adopt(arn)
        stack = await nested.settle(arn)
        if stack["StackStatus"] != "CREATE_COMPLETE":
            raise HandlerError(
                f"Embedded stack {arn} was not successfully created: {stack.get('StackStatusReason', '')}"
            )
        return Created(arn, _outputs(stack))

    async def update(self, ctx, physical_id, properties, previous, attributes):
        try:
            await ctx.call(
                "cloudformation", "UpdateStack", {"StackName": physical_id, **self._params(ctx, properties)}
            )
        except ServiceError as error:
            if error.message == "No updates are to be performed.":
                return attributes
            raise
        stack = await ctx.extra["nested"].settle(physical_id)
        if stack["StackStatus"] != "UPDATE_COMPLETE":
            raise HandlerError(
                f"Embedded stack {physical_id} was not successfully updated. Currently in {stack['StackStatus']} with reason: {stack.get('StackStatusReason', '')}"
            )
        return _outputs(stack)

    async def delete(self, ctx, physical_id, properties):
        await ctx.call("cloudformation", "DeleteStack", {"StackName": physical_id})
        stack = await ctx.extra["nested"].settle(physical_id)
        if stack["StackStatus"] != "DELETE_COMPLETE":
            raise HandlerError(
                f"Embedded stack {physical_id} was not successfully deleted: {stack.get('StackStatusReason', '')}"
            )


def _outputs(stack: dict[str, Any]) -> dict[str, Any]:
    return {f"Outputs.{item['OutputKey']}": item["OutputValue"] for item in stack.get("Outputs", [])}


class CdkMetadata(ResourceHandler):
    """What the CDK adds to every stack: analytics metadata, which AWS keeps and does nothing with."""

    type_name = "AWS::CDK::Metadata"
    service = "cloudformation"

    async def create(self, ctx, properties):
        return Created(str(uuid.uuid4()))

    async def update(self, ctx, physical_id, properties, previous, attributes):
        return attributes

    async def delete(self, ctx, physical_id, properties):
        return None


class Macro(ResourceHandler):
    """A Lambda-backed macro: its name becomes usable in the Transform section and in Fn::Transform of the
    templates of its account and region (macros.py invokes the function)."""

    type_name = "AWS::CloudFormation::Macro"
    service = "cloudformation"
    required = ("FunctionName", "Name")
    create_only = frozenset({"Name"})

    async def create(self, ctx, properties):
        name = properties["Name"]
        store = ctx.extra["macros"]
        if not store.add_macro(
            ctx.account, ctx.region, name, properties["FunctionName"], ctx.stack_id, _macro_data(properties)
        ):
            raise HandlerError(
                f"Resource of type '{self.type_name}' with identifier '{name}' already exists.",
                "AlreadyExists",
            )
        return Created(name)

    async def update(self, ctx, physical_id, properties, previous, attributes):
        ctx.extra["macros"].set_macro(
            ctx.account, ctx.region, physical_id, properties["FunctionName"], _macro_data(properties)
        )
        return attributes

    async def delete(self, ctx, physical_id, properties):
        ctx.extra["macros"].remove_macro(ctx.account, ctx.region, physical_id)

    async def read(self, ctx, physical_id, properties):
        found = ctx.extra["macros"].macro_function(ctx.account, ctx.region, physical_id)
        return None if found is None else {**properties, "FunctionName": found}


def _macro_data(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        key: properties[key] for key in ("Description", "LogGroupName", "LogRoleARN") if key in properties
    }


HANDLERS = (CustomResource, WaitConditionHandle, WaitCondition, NestedStack, CdkMetadata, Macro)
