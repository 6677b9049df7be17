"""Trails: which events an account logs to an S3 bucket (its event selectors), and whether it is logging."""

from __future__ import annotations

import re
from typing import Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.identity import service_principal
from overcast.services.base import Operations
from overcast.services.cloudtrail import selectors
from overcast.services.kit.arns import parse_arn
from overcast.services.kit.tags import tag_dict, tag_list

DELIVERY_INTERVAL = 300.0  # virtual seconds between a logging trail's deliveries to S3
MAX_TRAILS_PER_REGION = 5
_ALLOWED = re.compile(r"^[A-Za-z0-9._\-]+$")


def invalid_name(message: str) -> ServiceError:
    return ServiceError("InvalidTrailNameException", message, 400)


def check_name(name: str) -> None:
    if len(name) < 3:
        raise invalid_name(
            f"Trail name too short. Minimum allowed length: 3 characters. Specified name length: {len(name)} characters."
        )
    if len(name) > 128:
        raise invalid_name(
            f"Trail name too long. Maximum allowed length: 128 characters. Specified name length: {len(name)} characters."
        )
    if not name[0].isalnum():
        raise invalid_name("Trail name must starts with a letter or number.")
    if not name[-1].isalnum():
        raise invalid_name("Trail name must ends with a letter or number.")
    if not _ALLOWED.match(name):
        raise invalid_name(
            "Trail name or ARN can only contain uppercase letters, lowercase letters, numbers, periods (.), "
            "hyphens (-), and underscores (_)."
        )
    if re.search(r"[._\-]{2}", name):
        raise invalid_name("Trail name must not have adjacent periods, underscores or dashes.")


class TrailOperations(Operations):
    async def create_trail(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["Name"]
        check_name(name)
        store = self.service.store
        if store.trail(ctx.account_id, name) is not None:
            raise ServiceError(
                "TrailAlreadyExistsException",
                f"Trail {name} already exists for customer: {ctx.account_id}",
                400,
            )
        arn = ctx.arn("cloudtrail", f"trail/{name}")
        await self._check_bucket(ctx, params["S3BucketName"], arn)
        config = {
            "Name": name,
            "S3BucketName": params["S3BucketName"],
            "IncludeGlobalServiceEvents": params.get("IncludeGlobalServiceEvents", True),
            "IsMultiRegionTrail": params.get("IsMultiRegionTrail", False),
            "LogFileValidationEnabled": params.get("EnableLogFileValidation", False),
            "IsOrganizationTrail": params.get("IsOrganizationTrail", False),
        }
        for member in (
            "S3KeyPrefix",
            "SnsTopicName",
            "CloudWatchLogsLogGroupArn",
            "CloudWatchLogsRoleArn",
            "KmsKeyId",
        ):
            if params.get(member):
                config[member] = params[member]
        if config["IsMultiRegionTrail"] is False and config["IncludeGlobalServiceEvents"] is None:
            config["IncludeGlobalServiceEvents"] = True
        with self.db.transaction():
            if store.trail(ctx.account_id, name) is not None:
                raise ServiceError(
                    "TrailAlreadyExistsException",
                    f"Trail {name} already exists for customer: {ctx.account_id}",
                    400,
                )
            regional = [t for t in store.trails(ctx.account_id) if t[2] == ctx.region]
            if len(regional) >= MAX_TRAILS_PER_REGION:
                raise ServiceError(
                    "MaximumNumberOfTrailsExceededException",
                    f"User: {ctx.account_id} already has {MAX_TRAILS_PER_REGION} trails in {ctx.region}.",
                    400,
                )
            store.put_trail(ctx.account_id, name, ctx.region, arn, config, store.last_event_id())
            if params.get("TagsList"):
                self.service.tags.add(
                    arn, tag_dict(params["TagsList"]), account=ctx.account_id, region=ctx.region
                )
        return self._trail_output(config, arn)

    async def update_trail(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self.service.require_trail(ctx, params["Name"])
        config = self.service.config_of(row)
        if params.get("S3BucketName") and params["S3BucketName"] != config["S3BucketName"]:
            await self._check_bucket(ctx, params["S3BucketName"], row[3])
        with self.db.transaction():
            row = self.service.require_trail(ctx, params["Name"])
            config = self.service.config_of(row)
            for member in (
                "S3BucketName",
                "S3KeyPrefix",
                "SnsTopicName",
                "IncludeGlobalServiceEvents",
                "IsMultiRegionTrail",
                "CloudWatchLogsLogGroupArn",
                "CloudWatchLogsRoleArn",
                "KmsKeyId",
                "IsOrganizationTrail",
            ):
                if member in params:
                    config[member] = params[member]
            if "EnableLogFileValidation" in params:
                config["LogFileValidationEnabled"] = params["EnableLogFileValidation"]
            self.service.save_config(row, config)
        return self._trail_output(config, row[3])

    def delete_trail(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self.service.require_trail(ctx, params["Name"])
        self.service.store.delete_trail(row[0], row[1])
        self.service.tags.forget(row[3])
        self.service.recorder.trails_changed()
        return {}

    def get_trail(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"Trail": self.service.describe_trail(self.service.require_trail(ctx, params["Name"]))}

    def describe_trails(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        wanted = params.get("trailNameList") or []
        shadows = params.get("includeShadowTrails", True)
        found = []
        for row in self.service.store.trails(ctx.account_id):
            config = self.service.config_of(row)
            if wanted and row[1] not in wanted and row[3] not in wanted:
                continue
            if row[2] != ctx.region and not (shadows and config.get("IsMultiRegionTrail")):
                continue
            found.append(self.service.describe_trail(row))
        return {"trailList": found}

    def list_trails(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "Trails": [
                {"TrailARN": row[3], "Name": row[1], "HomeRegion": row[2]}
                for row in self.service.store.trails(ctx.account_id)
            ]
        }

    def start_logging(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self.service.require_trail(ctx, params["Name"])
        now = self.clock.now()
        self.service.recorder.flush()  # calls made before logging started are not the trail's
        self.service.store.set_logging(row[0], row[1], True, now, now + DELIVERY_INTERVAL)
        self.service.recorder.trails_changed()
        self.db.after_commit(self.service.trails_changed.set)
        return {}

    def stop_logging(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self.service.require_trail(ctx, params["Name"])
        self.service.store.set_logging(row[0], row[1], False, self.clock.now(), None)
        self.service.recorder.trails_changed()
        return {}

    def get_trail_status(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self.service.require_trail(ctx, params["Name"])
        _, _, _, _, _, logging, started, stopped, _, last_delivery, last_attempt, last_error, _ = row
        status: dict[str, Any] = {"IsLogging": bool(logging)}
        if last_error:
            status["LatestDeliveryError"] = last_error
        if last_delivery is not None:
            status["LatestDeliveryTime"] = last_delivery
        if started is not None:
            status["StartLoggingTime"] = started
        if stopped is not None:
            status["StopLoggingTime"] = stopped
        if last_attempt is not None:
            status["LatestDeliveryAttemptTime"] = _stamp(last_attempt)
            status["LatestDeliveryAttemptSucceeded"] = "" if last_error else _stamp(last_attempt)
        status["LatestNotificationAttemptTime"] = ""
        status["LatestNotificationAttemptSucceeded"] = ""
        status["TimeLoggingStarted"] = _stamp(started) if started is not None else ""
        status["TimeLoggingStopped"] = _stamp(stopped) if stopped is not None else ""
        return status

    def put_event_selectors(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self.service.require_trail(ctx, params["TrailName"])
        basic, advanced = params.get("EventSelectors"), params.get("AdvancedEventSelectors")
        if (basic is None) == (advanced is None):
            raise ServiceError(
                "InvalidParameterCombinationException",
                "You cannot use EventSelectors and AdvancedEventSelectors in the same request.",
                400,
            )
        config = self.service.config_of(row)
        try:
            if basic is not None:
                config["EventSelectors"] = selectors.check_basic(basic)
                config.pop("AdvancedEventSelectors", None)
            else:
                selectors.check_advanced(advanced)
                config["AdvancedEventSelectors"] = advanced
                config.pop("EventSelectors", None)
        except selectors.SelectorError as error:
            raise ServiceError("InvalidEventSelectorsException", str(error), 400) from None
        self.service.save_config(row, config)
        self.service.recorder.trails_changed()
        result: dict[str, Any] = {"TrailARN": row[3]}
        if basic is not None:
            result["EventSelectors"] = config["EventSelectors"]
        else:
            result["AdvancedEventSelectors"] = advanced
        return result

    def get_event_selectors(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self.service.require_trail(ctx, params["TrailName"])
        config = self.service.config_of(row)
        result: dict[str, Any] = {"TrailARN": row[3]}
        if config.get("AdvancedEventSelectors"):
            result["AdvancedEventSelectors"] = config["AdvancedEventSelectors"]
        else:
            result["EventSelectors"] = config.get("EventSelectors") or selectors.DEFAULT_SELECTORS
        return result

    # -- tags ------------------------------------------------------------------------------------------------

    def add_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self._tagged(ctx, params["ResourceId"])
        self.service.tags.add(
            row[3], tag_dict(params.get("TagsList")), account=ctx.account_id, region=ctx.region
        )
        return {}

    def remove_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self._tagged(ctx, params["ResourceId"])
        self.service.tags.remove(row[3], [tag["Key"] for tag in params.get("TagsList") or []])
        return {}

    def list_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "ResourceTagList": [
                {"ResourceId": row[3], "TagsList": tag_list(self.service.tags.get(row[3]))}
                for row in (self._tagged(ctx, arn) for arn in params["ResourceIdList"])
            ]
        }

    def _tagged(self, ctx: RequestContext, resource: str) -> tuple:
        arn = parse_arn(resource)
        if arn is None or arn.service != "cloudtrail":
            raise ServiceError("CloudTrailARNInvalidException", f"Invalid trail ARN: {resource}", 400)
        row = self.service.store.trail_by_arn(resource)
        if row is None:
            raise ServiceError("ResourceNotFoundException", f"Resource {resource} not found.", 400)
        return row

    # -- helpers ---------------------------------------------------------------------------------------------

    async def _check_bucket(self, ctx: RequestContext, bucket: str, trail_arn: str) -> None:
        """The bucket must exist and its policy let cloudtrail.amazonaws.com write to it."""
        try:
            await self.platform.call(
                "s3",
                "GetBucketAcl",
                {"Bucket": bucket},
                principal=service_principal("cloudtrail.amazonaws.com", ctx.account_id),
                account_id=ctx.account_id,
                region=ctx.region,
                condition_keys={"aws:SourceArn": trail_arn, "aws:SourceAccount": ctx.account_id},
            )
        except ServiceError as error:
            if error.code == "NoSuchBucket":
                raise ServiceError(
                    "S3BucketDoesNotExistException", f"S3 bucket {bucket} does not exist.", 400
                ) from None
            if error.code in ("AccessDenied", "AccessDeniedException"):
                raise ServiceError(
                    "InsufficientS3BucketPolicyException",
                    f"Incorrect S3 bucket policy is detected for bucket: {bucket}",
                    400,
                ) from None
            raise

    @staticmethod
    def _trail_output(config: dict[str, Any], arn: str) -> dict[str, Any]:
        result = {k: v for k, v in config.items() if k not in ("EventSelectors", "AdvancedEventSelectors")}
        result["TrailARN"] = arn
        if config.get("SnsTopicName"):
            topic = config["SnsTopicName"]
            result["SnsTopicARN"] = (
                topic
                if topic.startswith("arn:")
                else arn.replace(":cloudtrail:", ":sns:").rsplit(":", 1)[0] + f":{topic}"
            )
        return result


def _stamp(moment: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + "000Z"
