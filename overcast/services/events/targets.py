"""A rule's targets: where matching events go, what they receive (Input, InputPath, InputTransformer), and how
failed deliveries are retried and dead-lettered."""

from __future__ import annotations

import json
from typing import Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.events import transform
from overcast.services.kit.arns import parse_arn
from overcast.services.kit.paging import decode_token, page_of

MAX_TARGETS = 5
MAX_INPUT_PATHS = 100


def _validation(message: str) -> ServiceError:
    return ServiceError("ValidationException", message, 400)


def _invalid_token() -> ServiceError:
    return ServiceError("ValidationException", "The nextToken provided is invalid.", 400)


def check_target(target: dict[str, Any]) -> None:
    """Raise AWS's ValidationException for a target PutTargets refuses as a whole."""
    target_id = target["Id"]
    arn = parse_arn(target["Arn"])
    if arn is None:
        raise _validation(
            f"Parameter {target['Arn']} is not valid. Reason: Provided Arn is not in correct format."
        )
    given = [name for name in ("Input", "InputPath", "InputTransformer") if name in target]
    if len(given) > 1:
        raise _validation(
            f"Only one of Input, InputPath, or InputTransformer can be specified for target: {target_id}."
        )
    if "Input" in target:
        try:
            json.loads(target["Input"])
        except ValueError:
            raise _validation(f"Input for target {target_id} is not valid JSON text.") from None
    if "InputPath" in target and not transform.valid_path(target["InputPath"]):
        raise _validation(f"InputPath for target {target_id} is not valid JSONPath.")
    transformer = target.get("InputTransformer")
    if transformer is not None:
        paths = transformer.get("InputPathsMap") or {}
        if len(paths) > MAX_INPUT_PATHS:
            raise _validation(
                f"InputPathsMap for target {target_id} has more than {MAX_INPUT_PATHS} entries."
            )
        for key, path in paths.items():
            if key in transform.RESERVED or key in transform.RAW:
                raise _validation(f"InputTransformer for target {target_id} uses the reserved key {key}.")
            if not transform.valid_path(path):
                raise _validation(
                    f"Invalid InputPathsMap[{key}] for target {target_id}: the value must be a valid JSON path."
                )
        if transformer["InputTemplate"].lstrip().startswith("{"):
            _check_json_template(target_id, transformer["InputTemplate"], paths)
    if (
        arn.service == "sqs"
        and arn.resource.endswith(".fifo")
        and not (target.get("SqsParameters") or {}).get("MessageGroupId")
    ):
        raise _validation(f"Parameter(s) SqsParameters must be specified for target: {target_id}.")
    dead_letter = (target.get("DeadLetterConfig") or {}).get("Arn")
    if dead_letter:
        dlq = parse_arn(dead_letter)
        if dlq is None or dlq.service != "sqs":
            raise _validation("Only SQS queues are supported as dead-letter queues.")
        if dlq.resource.endswith(".fifo"):
            raise _validation("FIFO queues are not supported as dead-letter queues.")


def _check_json_template(target_id: str, template: str, paths: dict[str, str]) -> None:
    """A template shaped as a JSON object must be valid JSON once each placeholder stands for a value."""
    values = {name: "x" for name in (*paths, *transform.RESERVED)}
    values.update({name: "{}" for name in transform.RAW})
    trial = transform.fill(template, {}, {}, values)
    try:
        json.loads(trial)
    except ValueError:
        raise _validation(f"InputTemplate for target {target_id} contains invalid JSON.") from None


class TargetOperations(Operations):
    def put_targets(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        rule = self.service.require_rule(ctx, params["Rule"], params.get("EventBusName"))
        store = self.service.store
        existing = {t["Id"] for t in store.targets(rule.account, rule.region, rule.bus, rule.name)}
        targets = params["Targets"]
        for target in targets:
            check_target(target)
        if len(existing | {t["Id"] for t in targets}) > MAX_TARGETS:
            raise ServiceError(
                "LimitExceededException",
                f"The requested resource exceeds the maximum number allowed. Rule {rule.name} can have at most "
                f"{MAX_TARGETS} targets.",
                400,
            )
        for target in targets:
            store.put_target(rule.account, rule.region, rule.bus, rule.name, target)
        return {"FailedEntryCount": 0, "FailedEntries": []}

    def remove_targets(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        rule = self.service.require_rule(ctx, params["Rule"], params.get("EventBusName"))
        for target_id in params["Ids"]:
            self.service.store.remove_target(rule.account, rule.region, rule.bus, rule.name, target_id)
        return {"FailedEntryCount": 0, "FailedEntries": []}

    def list_targets_by_rule(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        rule = self.service.require_rule(ctx, params["Rule"], params.get("EventBusName"))
        limit = params.get("Limit") or 100
        scope = f"targets:{rule.arn}"
        after = decode_token(params.get("NextToken"), _invalid_token, scope) or 0
        targets = self.service.store.targets(rule.account, rule.region, rule.bus, rule.name)[after:]
        page, token = page_of(targets, limit, lambda _: after + limit, scope)
        result: dict[str, Any] = {"Targets": page}
        if token:
            result["NextToken"] = token
        return result
