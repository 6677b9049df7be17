"""CloudTrail: composition, hooks, the call recorder it registers with the platform, and what its families
share (finding trails, their configuration)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import ServiceProvider
from overcast.services.cloudtrail.lookup import LookupOperations
from overcast.services.cloudtrail.recorder import Recorder
from overcast.services.cloudtrail.store import CloudTrailStore
from overcast.services.cloudtrail.trails import TrailOperations
from overcast.services.kit.arns import parse_arn


class CloudTrailProvider(ServiceProvider):
    service_name = "cloudtrail"
    families = (TrailOperations, LookupOperations)

    def __init__(self, platform) -> None:
        super().__init__(platform)
        self.store = CloudTrailStore(self.db)
        self.recorder = Recorder(self)
        self.trails_changed = asyncio.Event()
        platform.observe(self.recorder)

    async def start(self) -> None:
        from overcast.services.cloudtrail import workers

        self.platform.spawn(workers.deliver_forever(self))

    async def stop(self) -> None:
        self.recorder.flush()

    def reset(self) -> None:
        self.recorder.pending.clear()
        self.recorder.trails_changed()

    def resource_arn(self, ctx: RequestContext, params: dict[str, Any]) -> str | None:
        name = params.get("Name") or params.get("TrailName") or params.get("ResourceId")
        if not name:
            return None
        return name if name.startswith("arn:") else ctx.arn("cloudtrail", f"trail/{name}")

    # -- trails ----------------------------------------------------------------------------------------------

    def require_trail(self, ctx: RequestContext, name_or_arn: str) -> tuple:
        """The trail a request names (by name, or by ARN), or AWS's TrailNotFoundException."""
        arn = parse_arn(name_or_arn)
        if arn is not None:
            if arn.service != "cloudtrail" or arn.resource_type != "trail":
                raise ServiceError("CloudTrailARNInvalidException", f"Invalid trail ARN: {name_or_arn}", 400)
            row = self.store.trail_by_arn(name_or_arn)
        else:
            row = self.store.trail(ctx.account_id, name_or_arn)
        if row is None:
            shown = name_or_arn if arn else ctx.arn("cloudtrail", f"trail/{name_or_arn}")
            raise ServiceError(
                "TrailNotFoundException", f"Unknown trail: {shown} for the user: {ctx.account_id}", 400
            )
        return row

    @staticmethod
    def config_of(row: tuple) -> dict[str, Any]:
        return json.loads(row[4])

    def save_config(self, row: tuple, config: dict[str, Any]) -> None:
        self.store.put_trail(row[0], row[1], row[2], row[3], config, row[8])

    def describe_trail(self, row: tuple) -> dict[str, Any]:
        config = self.config_of(row)
        trail: dict[str, Any] = {"Name": row[1], "S3BucketName": config["S3BucketName"]}
        for member in ("S3KeyPrefix", "SnsTopicName"):
            if config.get(member):
                trail[member] = config[member]
        trail.update(
            IncludeGlobalServiceEvents=config.get("IncludeGlobalServiceEvents", True),
            IsMultiRegionTrail=config.get("IsMultiRegionTrail", False),
            HomeRegion=row[2],
            TrailARN=row[3],
            LogFileValidationEnabled=config.get("LogFileValidationEnabled", False),
        )
        for member in ("CloudWatchLogsLogGroupArn", "CloudWatchLogsRoleArn", "KmsKeyId"):
            if config.get(member):
                trail[member] = config[member]
        trail["HasCustomEventSelectors"] = bool(
            config.get("EventSelectors") or config.get("AdvancedEventSelectors")
        )
        trail["HasInsightSelectors"] = False
        trail["IsOrganizationTrail"] = config.get("IsOrganizationTrail", False)
        return trail
