"""Which IAM action and resource ARN a request is: `iam_action(service, operation)` and `resource_arn(ctx,
params)`.

The IAM action of most operations is `<service prefix>:<OperationName>`; the exceptions (S3's ListObjectsV2 is
s3:ListBucket, Lambda's Invoke is lambda:InvokeFunction, ...) come from AWS's Service Authorization Reference
(iam_actions.json), and where its data cannot tell, from the service's own `iam_actions`. The resource is the
service's answer (its provider's `resource_arn`) or built from AWS's ARN templates; operations that act on no
particular resource (List*, Create* of account-level things) are `*`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from overcast.context import RequestContext

# botocore service name -> IAM service prefix, where they differ
PREFIXES = {
    "monitoring": "cloudwatch",
    "dynamodbstreams": "dynamodb",
    "elbv2": "elasticloadbalancing",
    "elb": "elasticloadbalancing",
    "stepfunctions": "states",
    "sesv2": "ses",
    "s3control": "s3",
    "lambda": "lambda",
    "apigatewayv2": "apigateway",
    "events": "events",
    "logs": "logs",
}

_DATA_FILE = Path(__file__).with_name("iam_actions.json")


@cache
def _data() -> dict[str, Any]:
    """AWS's actions, resource types and ARN templates (generate_actions.py), loaded on first use."""
    return json.loads(_DATA_FILE.read_text())


_ACTIONS: dict[tuple[str, str], str] = {}


_DECLARED: dict[str, Mapping[str, str]] = {}  # botocore service name -> its provider's iam_actions


def declare_actions(service: str, overrides: Mapping[str, str]) -> None:
    """A service's own {operation: action name} where AWS's data cannot tell (the platform declares each
    provider's `iam_actions` as it loads it)."""
    if _DECLARED.get(service) != overrides:
        _DECLARED[service] = overrides
        for key in [key for key in _ACTIONS if key[0] == service]:
            del _ACTIONS[key]


def iam_action(service: str, operation: str) -> str:
    """The IAM action of `operation` of botocore service `service` (`iam_action(service, "")`: "prefix:")."""
    key = (service, operation)
    found = _ACTIONS.get(key)
    if found is None:
        found = _ACTIONS[key] = _derive_action(service, operation, _DECLARED.get(service) or {})
    return found


def iam_prefix(service: str) -> str:
    return PREFIXES.get(service) or _data()["services"].get(service, service)


def _derive_action(service: str, operation: str, overrides: Mapping[str, str]) -> str:
    prefix = iam_prefix(service)
    if not operation:
        return f"{prefix}:"
    hand = overrides.get(operation)
    if hand:
        return f"{prefix}:{hand}"
    entry = _data()["prefixes"].get(prefix)
    if entry is not None:
        if prefix == "apigateway":  # API Gateway's management actions are the HTTP methods
            model = _operation_model(service, operation)
            if model is not None:
                return f"apigateway:{model.http.get('method', 'GET')}"
        if operation not in entry["actions"]:
            alias = _data()["aliases"].get(service, {}).get(operation)
            if alias:
                return f"{prefix}:{alias}"
    return f"{prefix}:{operation}"


def _operation_model(service: str, operation: str) -> Any:
    from overcast.protocol.models import get_operation_model

    try:
        return get_operation_model(service, operation)
    except Exception:  # an unknown operation (embedded providers, tests)
        return None


# -- resources -------------------------------------------------------------------------------------------

ServiceArn = Callable[[RequestContext, dict[str, Any]], str | None]


def resource_arn(ctx: RequestContext, params: dict[str, Any], service_arn: ServiceArn | None = None) -> str:
    """The resource a request acts on: the service's own answer (its provider's `resource_arn` hook), else one
    built from AWS's ARN templates, else "*"."""
    found = service_arn(ctx, params) if service_arn is not None else None
    if found is None:
        key = (ctx.service, ctx.operation)
        try:
            plan = _PLANS[key]
        except KeyError:
            plan = _PLANS[key] = _plan(ctx.service, ctx.operation)
        found = plan(ctx, params) if plan is not None else None
    return found or "*"


# -- resources from AWS's ARN templates --------------------------------------------------------------------
#
# For an operation without a hand-written builder, its action's resource types (iam_actions.json) are tried in
# order: those of the service's own ARNs before others (kinesis:StartStreamEncryption names a stream and a KMS
# key: the stream is what it acts on), those the operation names (StartReplay: the replay) first, required
# before optional. A type is built either from a request parameter that already is such an ARN (ResourceARN,
# StreamARN, stateMachineArn ...), or by filling its template: ${Partition}, ${Region} and ${Account} from the
# request, every other placeholder from the parameter of the same name (${StreamName} from StreamName, any
# case), its plural holding one value (${InstanceId} from InstanceIds=[one]), or `Name`/`Id` when the operation
# names the resource (events PutRule's Name fills ${RuleName}). The first type that can be built wins; none: "*".

_PLANS: dict[tuple[str, str], Callable[[RequestContext, dict[str, Any]], str | None] | None] = {}
_PLACEHOLDER = re.compile(r"\$\{(\w+)\}")
_FROM_CONTEXT = {"Partition", "Region", "Account"}


class _TemplatePlan:
    """Alternatives tried in order: ("arn", members, regex) or ("fill", parts, regex)."""

    __slots__ = ("alternatives",)

    def __init__(self, alternatives: list[tuple[str, Any, re.Pattern[str]]]) -> None:
        self.alternatives = alternatives

    def __call__(self, ctx: RequestContext, params: dict[str, Any]) -> str | None:
        for kind, spec, regex in self.alternatives:
            if kind == "arn":
                for member in spec:
                    value = params.get(member)
                    if isinstance(value, str) and value.startswith("arn:") and regex.fullmatch(value):
                        return value
                continue
            built = _fill(ctx, params, spec, regex)
            if built:
                return built
        return None


def _fill(
    ctx: RequestContext, params: dict[str, Any], parts: list[tuple[str, str, str]], regex: re.Pattern[str]
) -> str | None:
    out = []
    for kind, name, before in parts:
        if kind == "text":
            out.append(name)
        elif kind == "ctx":
            out.append(
                ctx.partition if name == "Partition" else ctx.region if name == "Region" else ctx.account_id
            )
        else:
            value = params.get(name)
            if isinstance(value, list):
                value = value[0] if len(value) == 1 else None
            if not isinstance(value, str) or not value:
                return None
            if value.startswith(
                "arn:"
            ):  # a name parameter given as a whole ARN (FunctionName, KeyId, SecretId)
                return value if regex.fullmatch(value) else None
            if kind == "id" or kind == "noslash":
                value = value.removeprefix("/")
            if before and value.startswith(
                before
            ):  # alias/x for alias/${Alias}, hostedzone/Z1 for hostedzone/${Id}
                value = value[len(before) :]
            if kind == "id" and value.startswith(
                "alias/"
            ):  # a KMS alias for a key id: its key is not known here
                return None
            out.append(value)
    return "".join(out)


def _words(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _plan(service: str, operation: str) -> Callable[[RequestContext, dict[str, Any]], str | None] | None:
    prefix = iam_prefix(service)
    entry = _data()["prefixes"].get(prefix)
    if entry is None:
        return None
    model = _operation_model(service, operation)
    members = dict(model.input_shape.members) if model is not None and model.input_shape is not None else {}
    if prefix == "apigateway":
        return _apigateway_plan(model, members) if model is not None else None
    types = entry["actions"].get(iam_action(service, operation).split(":", 1)[1]) or []
    op = operation.lower()
    ordered = sorted(
        enumerate(types),
        key=lambda item: (
            f":{prefix}:" not in entry["resources"].get(item[1], f":{prefix}:"),
            _words(item[1]) not in op,
            item[0],
        ),
    )
    by_lower = {name.lower(): name for name in members}
    arn_members = [
        name
        for name, shape in members.items()
        if name.lower().endswith("arn") and shape.type_name == "string"
    ]
    alternatives: list[tuple[str, Any, re.Pattern[str]]] = []
    for _, kind in ordered:
        template = entry["resources"].get(kind)
        if not template:
            continue
        parts = _template_parts(template, op, by_lower)
        regex = _template_regex(template)
        if arn_members:
            alternatives.append(("arn", arn_members, regex))
        if parts is not None:
            alternatives.append(("fill", parts, regex))
    return _TemplatePlan(alternatives) if alternatives else None


def _template_parts(
    template: str, operation: str, members: dict[str, str]
) -> list[tuple[str, str, str]] | None:
    """The template as ("text", literal, "") / ("ctx", Partition|Region|Account, "") / (kind, member, literal
    before it) parts; None if a placeholder matches no member."""
    parts: list[tuple[str, str, str]] = []
    position = 0
    for found in _PLACEHOLDER.finditer(template):
        text = template[position : found.start()]
        if text:
            parts.append(("text", text, ""))
        position = found.end()
        placeholder = found.group(1)
        if placeholder in _FROM_CONTEXT:
            parts.append(("ctx", placeholder, ""))
            continue
        member, kind = _member_for(placeholder, operation, members)
        if member is None:
            return None
        before = text.rsplit(":", 1)[-1].rsplit("/", 2)
        parts.append((kind, member, before[-2] + "/" if len(before) > 1 and before[-2] else ""))
    if template[position:]:
        parts.append(("text", template[position:], ""))
    return parts


def _template_regex(template: str) -> re.Pattern[str]:
    """What ARNs of a template look like (any partition, region, account; names of one or more characters)."""
    out = []
    position = 0
    for found in _PLACEHOLDER.finditer(template):
        out.append(re.escape(template[position : found.start()]))
        position = found.end()
        placeholder = found.group(1)
        out.append(
            "[^:]+" if placeholder == "Partition" else "[^:]*" if placeholder in _FROM_CONTEXT else ".+"
        )
    out.append(re.escape(template[position:]))
    return re.compile("".join(out))


def _member_for(placeholder: str, operation: str, members: dict[str, str]) -> tuple[str | None, str]:
    kind = "param"
    name = placeholder
    if name.endswith("WithoutLeadingSlash"):  # ssm parameter/${ParameterNameWithoutLeadingSlash}
        name, kind = name.removesuffix("WithoutLeadingSlash"), "noslash"
    if name.endswith("Id"):
        kind = "id"
    candidates = [name, name + "s", name + "List", name + "Name"]  # ${Alias} from AliasName
    for suffix in ("Name", "Id"):
        if name.endswith(suffix):
            stem = name[: -len(suffix)]
            if stem:
                candidates.append(stem)
            if stem.lower() in operation:  # PutRule's Name is ${RuleName}
                candidates += [suffix, suffix + "s"]
    for candidate in candidates:
        member = members.get(candidate.lower())
        if member:
            return member, kind
    return None, kind


class _ApiGatewayPlan:
    """API Gateway's management resources are its REST paths: arn:aws:apigateway:REGION::/restapis/ID/..."""

    __slots__ = ("labels", "path")

    def __init__(self, path: str, labels: dict[str, str]) -> None:
        self.path = path
        self.labels = labels

    def __call__(self, ctx: RequestContext, params: dict[str, Any]) -> str | None:
        path = self.path
        for label, member in self.labels.items():
            value = params.get(member)
            if not isinstance(value, str) or not value:
                return None
            path = path.replace(label, value)
        return f"arn:{ctx.partition}:apigateway:{ctx.region}::{path}"


def _apigateway_plan(model: Any, members: dict[str, Any]) -> _ApiGatewayPlan:
    path = model.http.get("requestUri", "/").split("?", 1)[0]
    path = path.removeprefix("/v2") or "/"
    labels = {}
    for name, shape in members.items():
        if shape.serialization.get("location") == "uri":
            label = shape.serialization.get("name", name)
            labels["{" + label + "}"] = name
            labels["{" + label + "+}"] = name
    return _ApiGatewayPlan(path, {label: member for label, member in labels.items() if label in path})


def resource_account(arn: str) -> str | None:
    """The account an ARN names ('' for S3 buckets, whose ARNs name none)."""
    parts = arn.split(":", 5)
    return parts[4] if len(parts) == 6 else None
