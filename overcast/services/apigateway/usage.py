"""API keys and usage plans (throttle and quota per key, for the stages a plan covers).

A quota counts requests per key in the plan's period (DAY, WEEK starting Monday, MONTH; UTC, on the
virtual clock), in the store (apigw_usage), so it survives a restart and the clock's advance resets it.
"""

from __future__ import annotations

import secrets
import string
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.services.apigateway.common import (
    apply_patch,
    as_bool,
    as_float,
    as_int,
    bad_request,
    conflict,
    new_id,
    not_found,
    set_field,
)
from overcast.services.base import Operations

if TYPE_CHECKING:
    from overcast.services.apigateway.provider import ApiGatewayProvider

_KEY_ALPHABET = string.ascii_letters + string.digits


def period_of(now: float, period: str, offset: int = 0) -> tuple[str, date]:
    """(the name of the quota period holding `now`, its first day)."""
    today = datetime.fromtimestamp(now, UTC).date()
    if period == "DAY":
        start = today
    elif period == "WEEK":
        start = today - timedelta(days=(today.weekday() - offset) % 7)
    else:  # MONTH
        start = today.replace(day=1)
    return f"{period}:{start.isoformat()}", start


class ApiKeyOperations(Operations):
    service: ApiGatewayProvider

    def create_api_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        value = params.get("value") or "".join(secrets.choice(_KEY_ALPHABET) for _ in range(40))
        if len(value) < 20:
            raise bad_request("API Key value should be at least 20 characters")
        if self.service.store.by_lookup("apikey", value) is not None:
            raise conflict("API Key already exists")
        now = int(self.clock.now())
        key: dict[str, Any] = {
            "id": new_id(),
            "value": value,
            "name": params.get("name") or "",
            "enabled": bool(params.get("enabled", False)),
            "createdDate": now,
            "lastUpdatedDate": now,
            "stageKeys": [f"{s['restApiId']}/{s['stageName']}" for s in params.get("stageKeys") or []],
        }
        for field in ("description", "customerId"):
            if params.get(field):
                key[field] = params[field]
        self.service.save(ctx, "apikey", "", key["id"], key, lookup=value)
        if params.get("tags"):
            self.service.tags.add(
                self._arn(ctx, key["id"]), params["tags"], account=ctx.account_id, region=ctx.region
            )
        return self.describe(ctx, key, True)

    def _arn(self, ctx: RequestContext, key_id: str) -> str:
        return self.service.arn(ctx, f"/apikeys/{key_id}")

    def describe(self, ctx: RequestContext, key: dict[str, Any], with_value: bool) -> dict[str, Any]:
        shown = key if with_value else {k: v for k, v in key.items() if k != "value"}
        return self.service.with_tags(ctx, f"/apikeys/{key['id']}", shown)

    def key(self, ctx: RequestContext, key_id: str) -> dict[str, Any]:
        return self.service.doc(ctx, "apikey", "", key_id, "Invalid API Key identifier specified")

    def get_api_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self.describe(ctx, self.key(ctx, params["apiKey"]), bool(params.get("includeValue")))

    def get_api_keys(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        keys = self.service.store.list(ctx.account_id, ctx.region, "apikey")
        if params.get("nameQuery"):
            keys = [k for k in keys if k["name"].startswith(params["nameQuery"])]
        if params.get("customerId"):
            keys = [k for k in keys if k.get("customerId") == params["customerId"]]
        items = [self.describe(ctx, k, bool(params.get("includeValues"))) for k in keys]
        return self.service.page(items, params, "id", "apikeys")

    def update_api_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        key = self.key(ctx, params["apiKey"])
        apply_patch(
            key,
            params.get("patchOperations"),
            [
                ("/name", set_field()),
                ("/description", set_field()),
                ("/enabled", set_field(as_bool)),
                ("/customerId", set_field()),
                ("/stages", _stage_keys),
            ],
        )
        key["lastUpdatedDate"] = int(self.clock.now())
        self.service.save(ctx, "apikey", "", key["id"], key, lookup=key["value"])
        return self.describe(ctx, key, False)

    def delete_api_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        key = self.key(ctx, params["apiKey"])
        self.service.store.delete(ctx.account_id, ctx.region, "apikey", "", key["id"])
        for plan_id, _ in list(self.service.store.iter_kind(ctx.account_id, ctx.region, "usageplankey")):
            self.service.store.delete(ctx.account_id, ctx.region, "usageplankey", plan_id, key["id"])
        self.service.tags.forget(self._arn(ctx, key["id"]))
        return {}

    def import_api_keys(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        """A CSV of keys (columns name, key, description, enabled, usageplanIds), as the console imports."""
        if params.get("format") != "csv":
            raise bad_request("Only the csv format is supported")
        import csv
        import io

        try:
            text = params["body"].decode() if isinstance(params["body"], bytes) else params["body"]
        except UnicodeDecodeError:
            raise bad_request("Invalid API keys file: it is not UTF-8 text") from None
        rows = list(csv.DictReader(io.StringIO(text)))
        ids, warnings = [], []
        for row in rows:
            lowered = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
            value = lowered.get("key") or lowered.get("value")
            if not value:
                warnings.append("A row has no key")
                continue
            created = self.create_api_key(
                ctx,
                {
                    "name": lowered.get("name") or value[:8],
                    "value": value,
                    "description": lowered.get("description"),
                    "enabled": lowered.get("enabled", "true").lower() == "true",
                },
            )
            ids.append(created["id"])
            for plan_id in filter(None, lowered.get("usageplanids", "").split(":")):
                self.service.family(UsagePlanOperations).create_usage_plan_key(
                    ctx, {"usagePlanId": plan_id, "keyId": created["id"], "keyType": "API_KEY"}
                )
        result: dict[str, Any] = {"ids": ids}
        if warnings:
            result["warnings"] = warnings
        return result


def _stage_keys(doc: dict[str, Any], op: str, parts: list[str], value: Any) -> None:
    keys = doc.setdefault("stageKeys", [])
    if op == "remove":
        doc["stageKeys"] = [k for k in keys if k != value]
    elif value not in keys:
        keys.append(value)


def _quota(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if not value:
        return None
    if value.get("period") not in ("DAY", "WEEK", "MONTH"):
        raise bad_request("Quota period must be one of DAY, WEEK, MONTH")
    if value.get("limit", 0) < 0:
        raise bad_request("Quota limit must be a non-negative integer")
    quota = {
        "limit": int(value.get("limit", 0)),
        "offset": int(value.get("offset", 0)),
        "period": value["period"],
    }
    return quota


class UsagePlanOperations(Operations):
    service: ApiGatewayProvider

    def _check_stages(self, ctx: RequestContext, stages: list[dict[str, Any]]) -> None:
        import overcast.services.apigatewayv2.api as websockets

        for item in stages:
            api = self.service.store.get(ctx.account_id, ctx.region, "restapi", "", item.get("apiId", ""))
            if api is None and websockets.has_stage(
                self.platform, ctx.account_id, ctx.region, item.get("apiId", ""), item.get("stage", "")
            ):
                continue  # a WebSocket API's stage
            if api is None:
                raise not_found(f"Invalid API identifier specified {ctx.account_id}:{item.get('apiId')}")
            if (
                self.service.store.get(ctx.account_id, ctx.region, "stage", api["id"], item.get("stage", ""))
                is None
            ):
                raise not_found("Invalid stage identifier specified")

    def create_usage_plan(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stages = params.get("apiStages") or []
        self._check_stages(ctx, stages)
        plan: dict[str, Any] = {"id": new_id(6), "name": params["name"], "apiStages": stages}
        if params.get("description"):
            plan["description"] = params["description"]
        if params.get("throttle"):
            plan["throttle"] = params["throttle"]
        quota = _quota(params.get("quota"))
        if quota:
            plan["quota"] = quota
        self.service.save(ctx, "usageplan", "", plan["id"], plan)
        if params.get("tags"):
            self.service.tags.add(
                self._arn(ctx, plan["id"]), params["tags"], account=ctx.account_id, region=ctx.region
            )
        return self.describe(ctx, plan)

    def _arn(self, ctx: RequestContext, plan_id: str) -> str:
        return self.service.arn(ctx, f"/usageplans/{plan_id}")

    def describe(self, ctx: RequestContext, plan: dict[str, Any]) -> dict[str, Any]:
        return self.service.with_tags(ctx, f"/usageplans/{plan['id']}", plan)

    def plan(self, ctx: RequestContext, plan_id: str) -> dict[str, Any]:
        return self.service.doc(ctx, "usageplan", "", plan_id, "Invalid Usage Plan ID specified")

    def get_usage_plan(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self.describe(ctx, self.plan(ctx, params["usagePlanId"]))

    def get_usage_plans(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        plans = self.service.store.list(ctx.account_id, ctx.region, "usageplan")
        if params.get("keyId"):
            plans = [
                p
                for p in plans
                if self.service.store.get(
                    ctx.account_id, ctx.region, "usageplankey", p["id"], params["keyId"]
                )
            ]
        return self.service.page([self.describe(ctx, p) for p in plans], params, "id", "usageplans")

    def update_usage_plan(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        plan = self.plan(ctx, params["usagePlanId"])

        def api_stages(doc: dict[str, Any], op: str, parts: list[str], value: Any) -> None:
            api_id, _, stage = (value or "").partition(":")
            stages = doc.setdefault("apiStages", [])
            if op == "remove":
                doc["apiStages"] = [s for s in stages if (s["apiId"], s["stage"]) != (api_id, stage)]
            else:
                self._check_stages(ctx, [{"apiId": api_id, "stage": stage}])
                if not any((s["apiId"], s["stage"]) == (api_id, stage) for s in stages):
                    stages.append({"apiId": api_id, "stage": stage})

        def numbers(group: str, member: str, converter):
            def apply(doc: dict[str, Any], op: str, parts: list[str], value: Any) -> None:
                target = doc.setdefault(group, {})
                if op == "remove":
                    target.pop(member, None)
                else:
                    target[member] = converter(value) if member != "period" else value
                if not target:
                    doc.pop(group, None)

            return apply

        apply_patch(
            plan,
            params.get("patchOperations"),
            [
                ("/name", set_field()),
                ("/description", set_field()),
                ("/productCode", set_field()),
                ("/apiStages", api_stages),
                ("/throttle/rateLimit", numbers("throttle", "rateLimit", as_float)),
                ("/throttle/burstLimit", numbers("throttle", "burstLimit", as_int)),
                ("/quota/limit", numbers("quota", "limit", as_int)),
                ("/quota/offset", numbers("quota", "offset", as_int)),
                ("/quota/period", numbers("quota", "period", str)),
                ("/throttle", _clear("throttle")),
                ("/quota", _clear("quota")),
            ],
        )
        if plan.get("quota"):
            plan["quota"] = _quota(plan["quota"])
        self.service.save(ctx, "usageplan", "", plan["id"], plan)
        return self.describe(ctx, plan)

    def delete_usage_plan(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        plan = self.plan(ctx, params["usagePlanId"])
        store = self.service.store
        store.delete(ctx.account_id, ctx.region, "usageplan", "", plan["id"])
        store.delete_children(ctx.account_id, ctx.region, plan["id"])
        store.forget_usage(ctx.account_id, ctx.region, plan["id"])
        self.service.tags.forget(self._arn(ctx, plan["id"]))
        return {}

    # -- keys of a plan ------------------------------------------------------------------------------

    def create_usage_plan_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        plan = self.plan(ctx, params["usagePlanId"])
        if params["keyType"] != "API_KEY":
            raise bad_request("Invalid key type specified: only API_KEY is supported")
        key = self.service.family(ApiKeyOperations).key(ctx, params["keyId"])
        if (
            self.service.store.get(ctx.account_id, ctx.region, "usageplankey", plan["id"], key["id"])
            is not None
        ):
            raise conflict(
                f"Usage Plan {plan['id']} cannot be added because API Key {key['id']} cannot reference "
                "multiple Usage Plans with the same API Stage"
            )
        entry = {"id": key["id"], "type": "API_KEY", "value": key["value"], "name": key["name"]}
        self.service.save(ctx, "usageplankey", plan["id"], key["id"], {"id": key["id"], "type": "API_KEY"})
        return entry

    def _entry(self, ctx: RequestContext, plan_id: str, key_id: str) -> dict[str, Any]:
        key = self.service.store.get(ctx.account_id, ctx.region, "apikey", "", key_id) or {}
        return {"id": key_id, "type": "API_KEY", "value": key.get("value", ""), "name": key.get("name", "")}

    def get_usage_plan_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        plan = self.plan(ctx, params["usagePlanId"])
        self.service.doc(
            ctx, "usageplankey", plan["id"], params["keyId"], "Invalid Usage Plan Key identifier specified"
        )
        return self._entry(ctx, plan["id"], params["keyId"])

    def get_usage_plan_keys(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        plan = self.plan(ctx, params["usagePlanId"])
        entries = [
            self._entry(ctx, plan["id"], k["id"])
            for k in self.service.store.list(ctx.account_id, ctx.region, "usageplankey", plan["id"])
        ]
        if params.get("nameQuery"):
            entries = [e for e in entries if e["name"].startswith(params["nameQuery"])]
        return self.service.page(entries, params, "id", f"usageplankeys:{plan['id']}")

    def delete_usage_plan_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        plan = self.plan(ctx, params["usagePlanId"])
        if not self.service.store.delete(
            ctx.account_id, ctx.region, "usageplankey", plan["id"], params["keyId"]
        ):
            raise not_found("Invalid Usage Plan Key identifier specified")
        self.service.store.forget_usage(ctx.account_id, ctx.region, plan["id"], params["keyId"])
        return {}

    # -- usage ---------------------------------------------------------------------------------------

    def get_usage(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        """Per key, one [used, remaining] pair per day from startDate to endDate."""
        plan = self.plan(ctx, params["usagePlanId"])
        try:
            start = date.fromisoformat(params["startDate"])
            end = date.fromisoformat(params["endDate"])
        except ValueError:
            raise bad_request("Invalid date format, must be yyyy-MM-dd") from None
        if end < start:
            raise bad_request("The end date must be after the start date")
        limit = (plan.get("quota") or {}).get("limit")
        used: dict[str, dict[str, int]] = {}
        for key_id, period, count in self.service.store.usage(ctx.account_id, ctx.region, plan["id"]):
            used.setdefault(key_id, {})[period.split(":", 1)[1]] = count
        keys = [
            k["id"] for k in self.service.store.list(ctx.account_id, ctx.region, "usageplankey", plan["id"])
        ]
        if params.get("keyId"):
            keys = [k for k in keys if k == params["keyId"]]
        days = [(start + timedelta(days=n)).isoformat() for n in range((end - start).days + 1)]
        items = {}
        for key_id in keys:
            counts = [used.get(key_id, {}).get(day, 0) for day in days]
            items[key_id] = [[c, (limit - c) if limit is not None else 0] for c in counts]
        return {
            "usagePlanId": plan["id"],
            "startDate": params["startDate"],
            "endDate": params["endDate"],
            "items": items,
        }

    def update_usage(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        """Grant a key remaining quota in the current period (`/remaining` replace)."""
        plan = self.plan(ctx, params["usagePlanId"])
        self.service.doc(
            ctx, "usageplankey", plan["id"], params["keyId"], "Invalid Usage Plan Key identifier specified"
        )
        quota = plan.get("quota")
        if not quota:
            raise bad_request("Usage plan has no quota")
        period, _ = period_of(self.clock.now(), quota["period"], quota.get("offset", 0))
        for operation in params.get("patchOperations") or []:
            if operation.get("path") != "/remaining" or operation.get("op", "replace") != "replace":
                raise bad_request(f"Invalid patch path {operation.get('path')}")
            remaining = as_int(operation.get("value"))
            self.service.store.set_usage(
                ctx.account_id,
                ctx.region,
                plan["id"],
                params["keyId"],
                period,
                max(0, quota["limit"] - remaining),
            )
        today = datetime.fromtimestamp(self.clock.now(), UTC).date().isoformat()
        return self.get_usage(
            ctx, {"usagePlanId": plan["id"], "keyId": params["keyId"], "startDate": today, "endDate": today}
        )


def _clear(group: str):
    def apply(doc: dict[str, Any], op: str, parts: list[str], value: Any) -> None:
        if op == "remove":
            doc.pop(group, None)
        else:
            raise bad_request(f"Invalid patch path /{group}")

    return apply
