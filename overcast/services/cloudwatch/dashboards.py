"""Dashboards: PutDashboard (with the body validated as CloudWatch validates it), GetDashboard, ListDashboards,
DeleteDashboards. Dashboards belong to the account, not to a region (their ARNs name none)."""

from __future__ import annotations

import json
import re
from typing import Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.kit.paging import decode_token, page_of
from overcast.services.kit.tags import tag_dict

_NAME = re.compile(r"^[A-Za-z0-9_\-]{1,255}$")
WIDGET_TYPES = ("metric", "text", "log", "alarm", "explorer", "custom")
MAX_BODY = 100 * 1024  # characters a dashboard body may hold


def dashboard_arn(account: str, name: str) -> str:
    return f"arn:aws:cloudwatch::{account}:dashboard/{name}"


def _check_name(name: str) -> None:
    if not _NAME.match(name):
        raise ServiceError(
            "InvalidParameterValue",
            "The value for field DashboardName contains invalid characters. It can only contain alphanumerics, "
            "dash (-) and underscore (_).",
            400,
        )


def body_problems(body: Any) -> list[dict[str, str]]:
    """CloudWatch's validation messages for a dashboard body (decoded JSON): [{DataPath, Message}]."""
    if not isinstance(body, dict):
        return [{"DataPath": "", "Message": "Should be object"}]
    if "widgets" not in body:
        return [{"DataPath": "", "Message": "Should have required property 'widgets'"}]
    widgets = body["widgets"]
    if not isinstance(widgets, list):
        return [{"DataPath": "/widgets", "Message": "Should be array"}]
    problems: list[dict[str, str]] = []
    for index, widget in enumerate(widgets):
        path = f"/widgets/{index}"
        if not isinstance(widget, dict):
            problems.append({"DataPath": path, "Message": "Should be object"})
            continue
        if "type" not in widget:
            problems.append({"DataPath": path, "Message": "Should have required property 'type'"})
        elif widget["type"] not in WIDGET_TYPES:
            problems.append(
                {"DataPath": f"{path}/type", "Message": "Should be equal to one of the allowed values"}
            )
        for name, low, high in (("x", 0, 23), ("y", 0, None), ("width", 1, 24), ("height", 1, 1000)):
            if name not in widget:
                continue
            value = widget[name]
            if not isinstance(value, int) or isinstance(value, bool):
                problems.append({"DataPath": f"{path}/{name}", "Message": "Should be integer"})
            elif value < low:
                problems.append({"DataPath": f"{path}/{name}", "Message": f"Should be >= {low}"})
            elif high is not None and value > high:
                problems.append({"DataPath": f"{path}/{name}", "Message": f"Should be <= {high}"})
        properties = widget.get("properties")
        if widget.get("type") in WIDGET_TYPES and not isinstance(properties, dict):
            problems.append({"DataPath": path, "Message": "Should have required property 'properties'"})
        elif widget.get("type") == "text" and "markdown" not in properties:
            problems.append(
                {"DataPath": f"{path}/properties", "Message": "Should have required property 'markdown'"}
            )
    return problems


class DashboardOperations(Operations):
    def put_dashboard(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, text = params["DashboardName"], params["DashboardBody"]
        _check_name(name)
        try:
            body = json.loads(text)
        except ValueError:
            raise ServiceError(
                "InvalidParameterInput", "The field DashboardBody must be a valid JSON object", 400
            ) from None
        if len(text) > MAX_BODY:
            raise ServiceError(
                "InvalidParameterInput", "The field DashboardBody must be at most 102400 characters.", 400
            )
        problems = body_problems(body)
        if problems:
            listed = json.dumps(
                [{"dataPath": p["DataPath"], "message": p["Message"]} for p in problems], indent=1
            )
            raise ServiceError(
                "InvalidParameterInput",
                f"The dashboard body is invalid, there are {len(problems)} validation errors:\n{listed}",
                400,
                dashboardValidationMessages=problems,
            )
        self.service.store.put_dashboard(ctx.account_id, name, text, self.clock.now())
        if params.get("Tags"):
            self.service.tags.add(
                dashboard_arn(ctx.account_id, name),
                tag_dict(params["Tags"]),
                account=ctx.account_id,
                region="",
            )
        return {"DashboardValidationMessages": []}

    def get_dashboard(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["DashboardName"]
        found = self.service.store.dashboard(ctx.account_id, name)
        if found is None:
            raise ServiceError("ResourceNotFound", f"Dashboard {name} does not exist", 404)
        return {
            "DashboardArn": dashboard_arn(ctx.account_id, name),
            "DashboardBody": found[0],
            "DashboardName": name,
        }

    def list_dashboards(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        prefix = params.get("DashboardNamePrefix") or ""

        def invalid() -> ServiceError:
            return ServiceError("InvalidParameterValue", "The value for parameter NextToken is invalid.", 400)

        after = decode_token(params.get("NextToken"), invalid, f"dashboards:{prefix}") or ""
        rows = self.service.store.dashboards(ctx.account_id, prefix, after, 1001)
        page, token = page_of(rows, 1000, lambda row: row[0], f"dashboards:{prefix}")
        result: dict[str, Any] = {
            "DashboardEntries": [
                {
                    "DashboardName": name,
                    "DashboardArn": dashboard_arn(ctx.account_id, name),
                    "LastModified": modified,
                    "Size": len(body.encode()),
                }
                for name, body, modified in page
            ]
        }
        if token:
            result["NextToken"] = token
        return result

    def delete_dashboards(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        store = self.service.store
        for name in params["DashboardNames"]:
            if store.dashboard(ctx.account_id, name) is None:
                raise ServiceError("ResourceNotFound", f"Dashboard {name} does not exist", 404)
        for name in params["DashboardNames"]:
            store.delete_dashboard(ctx.account_id, name)
            self.service.tags.forget(dashboard_arn(ctx.account_id, name))
        return {}
