"""Cloud Control API: single resources through CloudFormation's resource handlers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import overcast.services.cloudformation.api as cloudformation
from overcast.services.base import ServiceProvider
from overcast.services.cloudcontrol.resources import ResourceOperations
from overcast.services.cloudcontrol.store import CloudControlStore


class CloudControlProvider(ServiceProvider):
    service_name = "cloudcontrol"
    families = (ResourceOperations,)

    def __init__(self, platform) -> None:
        super().__init__(platform)
        self.store = CloudControlStore(self.db)
        cloudformation.prepare(platform)
        import overcast.services.sts.api as sts

        sts.prepare(platform)
        self._fail_interrupted()

    def _fail_interrupted(self) -> None:
        """Requests cut short by a restart are failed (their handler's outcome is unknown); this runs when the
        provider is built, before it takes any request."""
        with self.db.transaction():
            for token in self.store.unfinished():
                found = self.store.request(token)
                if found is None:
                    continue
                account, region, event = found
                event = {
                    **event,
                    "OperationStatus": "FAILED",
                    "ErrorCode": "ServiceInternalError",
                    "StatusMessage": "The request was interrupted by a restart of Overcast",
                }
                self.store.put_request(token, account, region, None, event, self.clock.now())

    @staticmethod
    def view(event: dict[str, Any]) -> dict[str, Any]:
        shown = dict(event)
        shown["EventTime"] = datetime.fromtimestamp(float(event["EventTime"]), UTC)
        if isinstance(shown.get("ResourceModel"), dict):
            shown["ResourceModel"] = json.dumps(shown["ResourceModel"])
        return shown
