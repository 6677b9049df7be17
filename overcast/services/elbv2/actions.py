"""Listener and rule actions and rule conditions: AWS's validation and the shapes Describe* returns (pure).

AWS fills in what a request left implicit: a forward action naming one TargetGroupArn is described with its
ForwardConfig (weight 1, stickiness off); host-header and path-pattern conditions given as `Values` are
described with their Config too.
"""

from __future__ import annotations

import copy
import ipaddress
import re
from collections.abc import Callable
from typing import Any

from overcast.errors import ServiceError
from overcast.services.elbv2.common import validation

FIELDS = ("http-header", "http-request-method", "host-header", "path-pattern", "query-string", "source-ip")
_CONFIG = {
    "host-header": "HostHeaderConfig",
    "path-pattern": "PathPatternConfig",
    "http-header": "HttpHeaderConfig",
    "query-string": "QueryStringConfig",
    "http-request-method": "HttpRequestMethodConfig",
    "source-ip": "SourceIpConfig",
}
MAX_CONDITION_VALUES = 5
AUTHENTICATE = ("authenticate-oidc", "authenticate-cognito")
TERMINAL = ("forward", "redirect", "fixed-response")


def invalid_action(message: str) -> ServiceError:
    return ServiceError("InvalidLoadBalancerAction", message, 400)


def normalize_actions(
    actions: list[dict[str, Any]],
    *,
    lb_type: str,
    listener_protocol: str,
    target_group: Callable[[str], dict[str, Any] | None],
) -> list[dict[str, Any]]:
    """The actions as Describe* returns them, after AWS's checks. `target_group(arn)` is a target group's
    document or None."""
    if not actions:
        raise validation("At least one action must be specified")
    orders = [action.get("Order") for action in actions]
    if len(actions) > 1 and any(order is None for order in orders):
        raise validation("An action order must be specified when there is more than one action")
    given = [order for order in orders if order is not None]
    if len(set(given)) != len(given):
        raise validation("Action orders must be unique")
    ordered = sorted(actions, key=lambda action: action.get("Order") or 0)
    kinds = [action["Type"] for action in ordered]
    terminal = [kind for kind in kinds if kind in TERMINAL]
    if len(terminal) != 1 or kinds[-1] not in TERMINAL:
        raise invalid_action(
            "The last action must be one of the following types: forward, redirect, fixed-response"
        )
    if lb_type != "application" and kinds != ["forward"]:
        raise invalid_action(
            f"The action type '{kinds[0]}' is not supported on a load balancer of type '{lb_type}'"
        )
    if any(kind in AUTHENTICATE for kind in kinds) and listener_protocol != "HTTPS":
        raise invalid_action("Authenticate actions are supported only on HTTPS listeners")
    return [_action(action, lb_type, target_group) for action in ordered]


def _action(
    action: dict[str, Any], lb_type: str, target_group: Callable[[str], dict[str, Any] | None]
) -> dict[str, Any]:
    kind = action["Type"]
    out: dict[str, Any] = {"Type": kind}
    if kind == "forward":
        out.update(_forward(action, lb_type, target_group))
    elif kind == "redirect":
        config = action.get("RedirectConfig")
        if not config:
            raise validation("A redirect configuration must be specified for a redirect action")
        out["RedirectConfig"] = {
            "Protocol": config.get("Protocol", "#{protocol}"),
            "Port": config.get("Port", "#{port}"),
            "Host": config.get("Host", "#{host}"),
            "Path": config.get("Path", "/#{path}"),
            "Query": config.get("Query", "#{query}"),
            "StatusCode": config["StatusCode"],
        }
        protocol = out["RedirectConfig"]["Protocol"]
        if protocol not in ("HTTP", "HTTPS", "#{protocol}"):
            raise validation("The redirect protocol must be HTTP, HTTPS or #{protocol}")
        if not out["RedirectConfig"]["Path"].startswith("/"):
            raise validation("The redirect path must start with a '/' character")
    elif kind == "fixed-response":
        config = action.get("FixedResponseConfig")
        if not config:
            raise validation("A fixed response configuration must be specified for a fixed-response action")
        fixed = {"StatusCode": config["StatusCode"]}
        if "MessageBody" in config:
            fixed["MessageBody"] = config["MessageBody"]
        if config.get("ContentType"):
            fixed["ContentType"] = config["ContentType"]
        out = {"Type": kind, "FixedResponseConfig": fixed}
    elif kind == "authenticate-oidc":
        config = dict(action.get("AuthenticateOidcConfig") or {})
        if not config:
            raise validation("An OIDC configuration must be specified for an authenticate-oidc action")
        config.pop("ClientSecret", None)  # never described back (kept apart for the token requests)
        config.pop("UseExistingClientSecret", None)
        config.setdefault("SessionCookieName", "AWSELBAuthSessionCookie")
        config.setdefault("Scope", "openid")
        config.setdefault("SessionTimeout", 604800)
        config.setdefault("OnUnauthenticatedRequest", "authenticate")
        out["AuthenticateOidcConfig"] = config
    elif kind == "authenticate-cognito":
        config = dict(action.get("AuthenticateCognitoConfig") or {})
        if not config:
            raise validation("A Cognito configuration must be specified for an authenticate-cognito action")
        config.setdefault("SessionCookieName", "AWSELBAuthSessionCookie")
        config.setdefault("Scope", "openid")
        config.setdefault("SessionTimeout", 604800)
        config.setdefault("OnUnauthenticatedRequest", "authenticate")
        out["AuthenticateCognitoConfig"] = config
    else:
        raise invalid_action(f"The action type '{kind}' is not supported")
    if action.get("Order") is not None:
        out["Order"] = action["Order"]
    return out


def _forward(
    action: dict[str, Any], lb_type: str, target_group: Callable[[str], dict[str, Any] | None]
) -> dict[str, Any]:
    config = action.get("ForwardConfig") or {}
    groups = [dict(group) for group in config.get("TargetGroups") or ()]
    single = action.get("TargetGroupArn")
    if single and groups and (len(groups) != 1 or groups[0].get("TargetGroupArn") != single):
        raise validation(
            "You cannot specify both a target group ARN and a forward config with different target groups"
        )
    if single and not groups:
        groups = [{"TargetGroupArn": single}]
    if not groups:
        raise validation("A target group ARN must be specified")
    if len(groups) > 5:
        raise validation("A forward action can have at most 5 target groups")
    arns = [group["TargetGroupArn"] for group in groups]
    if len(set(arns)) != len(arns):
        raise validation("A target group can be specified only once in a forward action")
    for group in groups:
        doc = target_group(group["TargetGroupArn"])
        if doc is None:
            raise ServiceError(
                "TargetGroupNotFound", f"Target group '{group['TargetGroupArn']}' not found", 400
            )
        _check_compatible(doc, lb_type)
        group.setdefault("Weight", 1)
        if not 0 <= group["Weight"] <= 999:
            raise validation("The weight of a target group must be between 0 and 999")
    stickiness = dict(config.get("TargetGroupStickinessConfig") or {"Enabled": False})
    if stickiness.get("Enabled") and not 1 <= stickiness.get("DurationSeconds", 0) <= 604800:
        raise validation("The target group stickiness duration must be between 1 and 604800 seconds")
    if lb_type != "application" and len(groups) > 1:
        raise validation("A forward action of a network load balancer can have only one target group")
    out: dict[str, Any] = {}
    if len(groups) == 1:
        out["TargetGroupArn"] = groups[0]["TargetGroupArn"]
    out["ForwardConfig"] = {"TargetGroups": groups, "TargetGroupStickinessConfig": stickiness}
    return out


def _check_compatible(doc: dict[str, Any], lb_type: str) -> None:
    protocol = doc.get("Protocol")
    kind = doc["TargetType"]
    if lb_type == "application":
        ok = kind == "lambda" or protocol in ("HTTP", "HTTPS")
    elif lb_type == "network":
        ok = kind != "lambda" and protocol in ("TCP", "TLS", "UDP", "TCP_UDP", "QUIC", "TCP_QUIC")
    else:
        ok = protocol == "GENEVE"
    if not ok:
        raise ServiceError(
            "InvalidConfigurationRequest",
            f"The target group '{doc['TargetGroupArn']}' is not compatible with a load balancer of type "
            f"'{lb_type}'",
            400,
        )


def forwarded_groups(actions: list[dict[str, Any]]) -> set[str]:
    """The target groups `actions` (as described) forward to."""
    found: set[str] = set()
    for action in actions:
        for group in (action.get("ForwardConfig") or {}).get("TargetGroups") or ():
            found.add(group["TargetGroupArn"])
    return found


# -- conditions ---------------------------------------------------------------------------------------------


def normalize_conditions(conditions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = [_condition(condition) for condition in conditions]
    fields = [condition["Field"] for condition in out]
    for once in ("host-header", "path-pattern", "http-request-method", "source-ip"):
        if fields.count(once) > 1:
            raise validation(f"A rule can only have one '{once}' condition")
    if sum(_value_count(condition) for condition in out) > MAX_CONDITION_VALUES:
        raise validation(f"A rule can only have '{MAX_CONDITION_VALUES}' condition values")
    return out


def _value_count(condition: dict[str, Any]) -> int:
    config = condition.get(_CONFIG[condition["Field"]]) or {}
    return len(config.get("Values") or ()) + len(config.get("RegexValues") or ())


REGEX_FIELDS = ("http-header", "host-header", "path-pattern")


def _regex(value: str, limit: int) -> None:
    if len(value) > limit:
        raise validation(f"The regular expression '{value}' cannot be longer than {limit} characters")
    try:
        re.compile(value)
    except re.error:
        raise validation(f"The regular expression '{value}' is not valid") from None


def _condition(condition: dict[str, Any]) -> dict[str, Any]:
    field = condition.get("Field")
    if field not in FIELDS:
        raise validation(f"Condition field '{field}' must be one of '[{', '.join(FIELDS)}]'")
    key = _CONFIG[field]
    config = copy.deepcopy(condition.get(key) or {})
    if condition.get("RegexValues") is not None:
        if field not in REGEX_FIELDS:
            raise validation(
                f"'RegexValues' can be specified only for the condition fields '{', '.join(REGEX_FIELDS)}'"
            )
        config["RegexValues"] = list(condition["RegexValues"])
    regexes = config.get("RegexValues")
    if regexes is not None:
        if field not in REGEX_FIELDS:
            raise validation(
                f"'RegexValues' can be specified only for the condition fields '{', '.join(REGEX_FIELDS)}'"
            )
        if config.get("Values") or condition.get("Values"):
            raise validation(
                f"You cannot specify both 'Values' and 'RegexValues' for the condition field '{field}'"
            )
        if field == "http-header" and not config.get("HttpHeaderName"):
            raise validation("A header name must be specified for an http-header condition")
        if not regexes:
            raise validation(f"A condition value must be specified for the condition field '{field}'")
        for value in regexes:
            _regex(value, 128)
        out = {"Field": field, key: config}
        if field != "http-header":
            out["RegexValues"] = list(regexes)
        return out
    values = condition.get("Values")
    if values and config:
        raise validation(f"You cannot specify both 'Values' and '{key}' for the condition field '{field}'")
    if values is not None and field not in ("host-header", "path-pattern"):
        raise validation(f"'Values' cannot be specified for the condition field '{field}'; use '{key}'")
    if values:
        config = {"Values": list(values)}
    if field == "http-header":
        if not config.get("HttpHeaderName"):
            raise validation("A header name must be specified for an http-header condition")
    if field == "query-string":
        pairs = config.get("Values") or []
        if not pairs or any(not pair.get("Value") for pair in pairs):
            raise validation("A query string condition needs key/value pairs with values")
        return {"Field": field, key: config}
    if not config.get("Values"):
        raise validation(f"A condition value must be specified for the condition field '{field}'")
    for value in config["Values"]:
        if len(value) > 128:
            raise validation(f"The condition value '{value}' cannot be longer than 128 characters")
    if field == "source-ip":
        for value in config["Values"]:
            try:
                ipaddress.ip_network(value, strict=False)
            except ValueError:
                raise validation(f"The source IP '{value}' is not a valid CIDR block") from None
    if field == "http-request-method":
        for value in config["Values"]:
            if not all(c.isupper() or c in "-_" for c in value):
                raise validation(f"The HTTP request method '{value}' is not valid")
    out: dict[str, Any] = {"Field": field}
    if field in ("host-header", "path-pattern"):
        out["Values"] = list(config["Values"])
    out[key] = config
    return out


# -- transforms ------------------------------------------------------------------------------------------------

_TRANSFORM_CONFIG = {"host-header-rewrite": "HostHeaderRewriteConfig", "url-rewrite": "UrlRewriteConfig"}


def normalize_transforms(transforms: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A rule's transforms, checked: one host header rewrite and one URL rewrite at most, each one regular
    expression and its replacement."""
    out = []
    for transform in transforms:
        kind = transform.get("Type")
        if kind not in _TRANSFORM_CONFIG:
            raise validation(f"Transform type '{kind}' must be one of '[{', '.join(_TRANSFORM_CONFIG)}]'")
        if any(item["Type"] == kind for item in out):
            raise validation(f"A rule can only have one '{kind}' transform")
        key = _TRANSFORM_CONFIG[kind]
        rewrites = (transform.get(key) or {}).get("Rewrites") or []
        if len(rewrites) != 1:
            raise validation(f"A '{kind}' transform must have exactly one rewrite")
        for rewrite in rewrites:
            _regex(rewrite["Regex"], 1024)
            if len(rewrite["Replace"]) > 1024:
                raise validation("A replacement cannot be longer than 1024 characters")
        out.append(
            {
                "Type": kind,
                key: {"Rewrites": [{"Regex": r["Regex"], "Replace": r["Replace"]} for r in rewrites]},
            }
        )
    return out


def rewrite(transform: dict[str, Any], text: str) -> str:
    """`text` after a transform's rewrite: the first match of its expression replaced (`$1`... name groups);
    unchanged when nothing matches."""
    rule = transform[_TRANSFORM_CONFIG[transform["Type"]]]["Rewrites"][0]
    replacement = re.sub(r"\$(\d+)", r"\\g<\1>", rule["Replace"].replace("\\", "\\\\"))
    return re.sub(rule["Regex"], replacement, text, count=1)
