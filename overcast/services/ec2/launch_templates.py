"""Launch templates with versions ($Default, $Latest, numbers; a new version may start from another), and
what RunInstances takes from one (the request's own members win over the template's)."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.ec2 import kinds
from overcast.services.ec2.errors import invalid, missing
from overcast.services.ec2.filters import tag_specifications
from overcast.services.ec2.ids import new_id
from overcast.services.ec2.store import Resource

if TYPE_CHECKING:
    from overcast.services.ec2.provider import Ec2Provider

FILTERS = {"launch-template-name": "LaunchTemplateName", "create-time": "CreateTime"}
NAME_TAKEN = "Launch template name already in use."


class LaunchTemplateOperations(Operations):
    service: Ec2Provider

    def create_launch_template(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["LaunchTemplateName"]
        store = self.service.store
        if store.named(ctx.account_id, ctx.region, kinds.LAUNCH_TEMPLATE.name, name):
            raise ServiceError("InvalidLaunchTemplateName.AlreadyExistsException", NAME_TAKEN)
        if not 3 <= len(name) <= 128:
            raise invalid(f"Value ({name}) for parameter launchTemplateName is invalid.")
        template_id = new_id("lt")
        now = round(self.service.clock.now(), 3)
        body: dict[str, Any] = {
            "LaunchTemplateId": template_id,
            "LaunchTemplateName": name,
            "CreateTime": now,
            "CreatedBy": f"arn:aws:iam::{ctx.account_id}:root",
            "DefaultVersionNumber": 1,
            "LatestVersionNumber": 1,
            "Operator": {"Managed": False},
            "_versions": [
                self._version(1, params.get("VersionDescription"), params["LaunchTemplateData"], now)
            ],
        }
        template = store.insert(Resource(template_id, ctx.account_id, ctx.region, kinds.LAUNCH_TEMPLATE.name,
                                         body, name=name))  # fmt: skip
        self.service.net.tag(template, tag_specifications(params, "launch-template"))
        return {"LaunchTemplate": self.service.net.render(template)}

    @staticmethod
    def _version(number: int, description: str | None, data: dict[str, Any], now: float) -> dict[str, Any]:
        version = {"VersionNumber": number, "CreateTime": now, "LaunchTemplateData": data}
        if description:
            version["VersionDescription"] = description
        return version

    def find(self, ctx: RequestContext, template_id: str | None, name: str | None) -> Resource:
        if template_id:
            return self.service.net.require(ctx, kinds.LAUNCH_TEMPLATE, template_id)
        if name:
            found = self.service.store.named(ctx.account_id, ctx.region, kinds.LAUNCH_TEMPLATE.name, name)
            if not found:
                raise ServiceError("InvalidLaunchTemplateName.NotFoundException",
                                   f"The specified launch template, with template name {name}, does not exist.")  # fmt: skip
            return found[0]
        raise missing("LaunchTemplateId or LaunchTemplateName")

    def version(self, template: Resource, wanted: str | None) -> dict[str, Any]:
        """A version by number, `$Latest` or `$Default` (the default one when not given)."""
        body = template.body
        if wanted in (None, "", "$Default"):
            number = body["DefaultVersionNumber"]
        elif wanted == "$Latest":
            number = body["LatestVersionNumber"]
        elif str(wanted).isdigit():
            number = int(wanted)
        else:
            raise ServiceError("InvalidLaunchTemplateId.VersionNotFound",
                               f"Could not find launch template version {wanted}.")  # fmt: skip
        for version in body["_versions"]:
            if version["VersionNumber"] == number:
                return version
        raise ServiceError("InvalidLaunchTemplateId.VersionNotFound",
                           f"Could not find launch template version {wanted}.")  # fmt: skip

    def create_launch_template_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        template = self.find(ctx, params.get("LaunchTemplateId"), params.get("LaunchTemplateName"))
        data = params["LaunchTemplateData"]
        if params.get("SourceVersion"):
            data = {
                **copy.deepcopy(self.version(template, params["SourceVersion"])["LaunchTemplateData"]),
                **data,
            }
        number = template.body["LatestVersionNumber"] + 1
        version = self._version(
            number, params.get("VersionDescription"), data, round(self.service.clock.now(), 3)
        )
        template.body["_versions"].append(version)
        template.body["LatestVersionNumber"] = number
        self.service.store.save(template)
        return {"LaunchTemplateVersion": self._describe_version(template, version)}

    def _describe_version(self, template: Resource, version: dict[str, Any]) -> dict[str, Any]:
        return {
            "LaunchTemplateId": template.id,
            "LaunchTemplateName": template.name,
            "CreatedBy": template.body["CreatedBy"],
            "DefaultVersion": version["VersionNumber"] == template.body["DefaultVersionNumber"],
            "Operator": {"Managed": False},
            **version,
        }

    def describe_launch_templates(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ids = list(params.get("LaunchTemplateIds") or ())
        ids += [self.find(ctx, None, name).id for name in params.get("LaunchTemplateNames") or ()]
        return self.service.net.describe(ctx, params, kinds.LAUNCH_TEMPLATE, ids or None, FILTERS,
                                         "LaunchTemplates")  # fmt: skip

    def describe_launch_template_versions(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        template = self.find(ctx, params.get("LaunchTemplateId"), params.get("LaunchTemplateName"))
        if params.get("Versions"):
            versions = [self.version(template, v) for v in params["Versions"]]
        else:
            versions = sorted(template.body["_versions"], key=lambda v: -v["VersionNumber"])
        low, high = params.get("MinVersion"), params.get("MaxVersion")
        versions = [v for v in versions if (not low or v["VersionNumber"] >= int(low))
                    and (not high or v["VersionNumber"] <= int(high))]  # fmt: skip
        return {"LaunchTemplateVersions": [self._describe_version(template, v) for v in versions]}

    def modify_launch_template(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        template = self.find(ctx, params.get("LaunchTemplateId"), params.get("LaunchTemplateName"))
        if params.get("DefaultVersion"):
            template.body["DefaultVersionNumber"] = self.version(template, params["DefaultVersion"])[
                "VersionNumber"
            ]
            self.service.store.save(template)
        return {"LaunchTemplate": self.service.net.render(template)}

    def delete_launch_template(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        template = self.find(ctx, params.get("LaunchTemplateId"), params.get("LaunchTemplateName"))
        described = self.service.net.render(template)
        self.service.net.forget(template)
        return {"LaunchTemplate": described}

    def merged(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        """RunInstances' parameters with its launch template's data under them."""
        spec = params.get("LaunchTemplate")
        if not spec:
            return params
        template = self.find(ctx, spec.get("LaunchTemplateId"), spec.get("LaunchTemplateName"))
        data = copy.deepcopy(self.version(template, spec.get("Version"))["LaunchTemplateData"])
        merged = {**data, **{k: v for k, v in params.items() if v is not None}}
        tags = list(data.get("TagSpecifications") or []) + list(params.get("TagSpecifications") or [])
        if tags:
            merged["TagSpecifications"] = tags
        return merged
