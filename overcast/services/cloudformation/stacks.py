"""Stack operations: create, update, delete, describe, list, events, resources, templates, policies."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.cloudformation import parameters as params_
from overcast.services.cloudformation import template as templates
from overcast.services.cloudformation.parameters import Bound
from overcast.services.cloudformation.store import Resource, Stack
from overcast.services.kit.paging import decode_token, page_of

if TYPE_CHECKING:
    from overcast.services.cloudformation.provider import CloudFormationProvider

BUSY = {
    "CREATE_IN_PROGRESS",
    "ROLLBACK_IN_PROGRESS",
    "DELETE_IN_PROGRESS",
    "UPDATE_IN_PROGRESS",
    "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
    "UPDATE_ROLLBACK_IN_PROGRESS",
    "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
    "REVIEW_IN_PROGRESS",
    "IMPORT_IN_PROGRESS",
    "IMPORT_ROLLBACK_IN_PROGRESS",
}
UPDATABLE = {
    "CREATE_COMPLETE",
    "UPDATE_COMPLETE",
    "UPDATE_ROLLBACK_COMPLETE",
    "IMPORT_COMPLETE",
    "IMPORT_ROLLBACK_COMPLETE",
    "UPDATE_FAILED",
    "CREATE_FAILED",
}
EVENTS_PAGE = 100
RESOURCES_PAGE = 100
STACKS_PAGE = 100


def validation_error(message: str) -> ServiceError:
    return ServiceError("ValidationError", message, 400)


def invalid_token() -> ServiceError:
    return validation_error("Invalid NextToken")


def iso(value: float | None) -> Any:
    from datetime import UTC, datetime

    return None if value is None else datetime.fromtimestamp(value, UTC)


class StackOperations(Operations):
    service: CloudFormationProvider

    # -- create ------------------------------------------------------------------------------------

    async def create_stack(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service = self.service
        name = params["StackName"]
        service.check_stack_name(name)
        if service.store.live_stack(ctx.account_id, ctx.region, name) is not None:
            raise ServiceError("AlreadyExistsException", f"Stack [{name}] already exists", 400)
        on_failure = params.get("OnFailure")
        if on_failure is not None and params.get("DisableRollback") is not None:
            raise validation_error("You can specify either DisableRollback or OnFailure, but not both.")
        if params.get("DisableRollback"):
            on_failure = "DO_NOTHING"
        text = await service.template_text(ctx, params)
        original, processed = await service.processed(
            ctx, text, params.get("Parameters"), name, params.get("Capabilities") or []
        )
        bound = await service.bind_parameters(ctx, processed, params.get("Parameters"))
        arn = service.new_stack_arn(ctx, name)
        settings = self.settings_of(params, processed, bound)
        plan = service.static_plan(service.skeleton(ctx, name, arn, settings), processed, bound)
        needed = service.required_capabilities(original, processed, plan)
        service.check_capabilities(needed, params.get("Capabilities"))
        await self.check_role(ctx, params.get("RoleARN"))
        operation = service.operation_record(
            ctx,
            "CREATE",
            token=params.get("ClientRequestToken"),
            on_failure=on_failure or "ROLLBACK",
            retain_except_on_create=params.get("RetainExceptOnCreate"),
        )
        with self.db.transaction():
            if service.store.live_stack(ctx.account_id, ctx.region, name) is not None:
                raise ServiceError("AlreadyExistsException", f"Stack [{name}] already exists", 400)
            stack = service.store.insert_stack(
                arn,
                ctx.account_id,
                ctx.region,
                name,
                "CREATE_IN_PROGRESS",
                settings,
                processed,
                text,
                self.clock.now(),
                operation=operation,
            )
            service.engine.stack_event(stack, "CREATE_IN_PROGRESS", "User Initiated")
            self.db.after_commit(lambda: service.engine.start(stack.id))
        await service.settle(stack.id)
        return {"StackId": arn}

    def settings_of(
        self, params: dict[str, Any], template: dict[str, Any], bound: list[Bound]
    ) -> dict[str, Any]:
        policy = params.get("StackPolicyBody")
        settings: dict[str, Any] = {
            "description": template.get("Description")
            if isinstance(template.get("Description"), str)
            else None,
            "parameters": [item.stored() for item in bound],
            "capabilities": params.get("Capabilities") or [],
            "role_arn": params.get("RoleARN"),
            "notification_arns": params.get("NotificationARNs") or [],
            "tags": params.get("Tags") or [],
            "disable_rollback": bool(
                params.get("DisableRollback") or params.get("OnFailure") == "DO_NOTHING"
            ),
            "termination_protection": bool(params.get("EnableTerminationProtection")),
            "timeout": params.get("TimeoutInMinutes"),
            "retain_except_on_create": params.get("RetainExceptOnCreate"),
            "policy": policy,
        }
        return settings

    async def check_role(self, ctx: RequestContext, role_arn: str | None) -> None:
        """A service role must exist (and trust CloudFormation, which the engine's first call checks)."""
        if not role_arn:
            return
        import overcast.services.iam.api as iam

        with self.db.transaction():
            found = iam.role(self.platform, role_arn)
        if found is None:
            raise validation_error(f"Role {role_arn} is invalid or cannot be assumed")

    # -- update ------------------------------------------------------------------------------------

    async def update_stack(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service = self.service
        stack = service.lookup_stack(ctx, params["StackName"], deleted=False)
        if stack is None:
            raise validation_error(f"Stack [{params['StackName']}] does not exist")
        self.check_updatable(stack)
        text, original, processed = await self.next_template(ctx, stack, params)
        previous = [Bound.load(item) for item in stack.settings.get("parameters", [])]
        bound = await service.bind_parameters(ctx, processed, params.get("Parameters"), previous)
        settings = self.updated_settings(stack, params, processed, bound)
        probe = service.skeleton(ctx, stack.name, stack.arn, settings)
        probe.id = stack.id
        plan = service.static_plan(probe, processed, bound)
        needed = service.required_capabilities(original, processed, plan)
        service.check_capabilities(needed, params.get("Capabilities"))
        self.check_type_changes(stack, plan.active)
        await self.check_role(ctx, params.get("RoleARN"))
        if (
            processed == stack.template
            and self.same_parameters(stack, bound)
            and settings["tags"] == stack.settings.get("tags")
            and settings["notification_arns"] == stack.settings.get("notification_arns")
        ):
            raise validation_error("No updates are to be performed.")
        operation = service.operation_record(
            ctx,
            "UPDATE",
            token=params.get("ClientRequestToken"),
            disable_rollback=params.get("DisableRollback"),
            role_arn=params.get("RoleARN"),
            policy_during_update=params.get("StackPolicyDuringUpdateBody"),
        )
        with self.db.transaction():
            self.begin_update(stack, text, processed, settings, operation, "UPDATE_IN_PROGRESS")
        await service.settle(stack.id)
        return {"StackId": stack.arn}

    def check_updatable(self, stack: Stack) -> None:
        if stack.status not in UPDATABLE or stack.operation is not None:
            raise validation_error(f"Stack:{stack.arn} is in {stack.status} state and can not be updated.")

    def check_type_changes(self, stack: Stack, active: dict[str, Any]) -> None:
        rows = {row.logical_id: row for row in self.service.store.resources(stack.id)}
        changed = [
            name
            for name, resource in active.items()
            if name in rows and rows[name].type != resource["Type"] and rows[name].status != "DELETE_COMPLETE"
        ]
        if changed:
            raise validation_error(
                "Update of resource type is not permitted. The new template modifies resource type of the "
                f"following resources: [{', '.join(changed)}]"
            )

    async def next_template(
        self, ctx: RequestContext, stack: Stack, params: dict[str, Any]
    ) -> tuple[str, dict[str, Any], dict[str, Any]]:
        """(text, original, processed) of an update's template: given, or the stack's own (UsePreviousTemplate)."""
        if params.get("UsePreviousTemplate"):
            if params.get("TemplateBody") is not None or params.get("TemplateURL") is not None:
                raise validation_error(
                    "Exactly one of TemplateBody, TemplateUrl or UsePreviousTemplate must be specified."
                )
            text = stack.original
        else:
            text = await self.service.template_text(ctx, params)
        original, processed = await self.service.processed(
            ctx, text, params.get("Parameters"), stack.name, params.get("Capabilities") or []
        )
        return text, original, processed

    def updated_settings(
        self, stack: Stack, params: dict[str, Any], processed: dict[str, Any], bound: list[Bound]
    ) -> dict[str, Any]:
        settings = dict(stack.settings)
        settings["parameters"] = [item.stored() for item in bound]
        description = processed.get("Description")
        settings["description"] = description if isinstance(description, str) else None
        if params.get("Capabilities") is not None:
            settings["capabilities"] = params["Capabilities"]
        if params.get("RoleARN"):
            settings["role_arn"] = params["RoleARN"]
        if params.get("NotificationARNs") is not None:
            settings["notification_arns"] = params["NotificationARNs"]
        if params.get("Tags") is not None:
            settings["tags"] = params["Tags"]
        if params.get("StackPolicyBody"):
            settings["policy"] = params["StackPolicyBody"]
        if params.get("DisableRollback") is not None:
            settings["disable_rollback"] = bool(params["DisableRollback"])
        return settings

    @staticmethod
    def same_parameters(stack: Stack, bound: list[Bound]) -> bool:
        before = {
            item["key"]: (item["value"], item.get("resolved"))
            for item in stack.settings.get("parameters", [])
        }
        return before == {item.key: (item.value, item.resolved) for item in bound}

    def begin_update(
        self,
        stack: Stack,
        text: str,
        processed: dict[str, Any],
        settings: dict[str, Any],
        operation: dict[str, Any],
        status: str,
    ) -> None:
        """Inside a transaction: keep what the stack had (to roll back to) and start the update."""
        store, engine = self.service.store, self.service.engine
        previous = {
            "template": stack.template,
            "original": stack.original,
            "parameters": stack.settings.get("parameters", []),
            "outputs": stack.outputs,
            "exports": store.exports_of(stack.id),
        }
        store.set_template(stack.id, processed, text, previous)
        store.set_settings(stack.id, settings)
        store.set_operation(stack.id, operation)
        store.set_status(stack.id, status, None, self.clock.now())
        current = store.stack_by_id(stack.id)
        assert current is not None
        engine.stack_event(current, status, "User Initiated")
        self.db.after_commit(lambda: engine.start(stack.id))

    # -- delete ------------------------------------------------------------------------------------

    async def delete_stack(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.transaction():
            stack_id = self._delete_stack(ctx, params)
        if stack_id is not None:
            await self.service.settle(stack_id)
        return {}

    def _delete_stack(self, ctx: RequestContext, params: dict[str, Any]) -> int | None:
        """Start deleting the stack (inside a transaction); its id when an operation started."""
        service = self.service
        stack = service.lookup_stack(ctx, params["StackName"], deleted=False)
        if stack is None:
            return None  # deleting a stack that is not there succeeds, as in AWS
        if stack.settings.get("termination_protection"):
            raise validation_error(
                f"Stack [{stack.name}] cannot be deleted while TerminationProtection is enabled"
            )
        retain = params.get("RetainResources") or []
        if retain and stack.status != "DELETE_FAILED":
            raise validation_error(
                "Invalid operation on stack. RetainResources can only be specified when the stack is in "
                f"DELETE_FAILED state; stack {stack.name} is in state {stack.status}"
            )
        if stack.status == "DELETE_IN_PROGRESS":
            return stack.id
        if stack.status == "REVIEW_IN_PROGRESS":
            service.store.set_status(stack.id, "DELETE_COMPLETE", None)
            service.engine.stack_event(stack, "DELETE_COMPLETE")
            service.store.mark_deleted(stack.id, self.clock.now())
            return None
        if stack.operation is not None:
            if stack.status == "CREATE_IN_PROGRESS":  # deleted once the creation ends
                settings = {**stack.settings, "delete_requested": params.get("RoleARN") or True}
                service.store.set_settings(stack.id, settings)
                return stack.id
            raise validation_error(f"Stack [{stack.name}] cannot be deleted while in status {stack.status}")
        self.begin_delete(ctx, stack, retain, params.get("RoleARN"), params.get("ClientRequestToken"))
        return stack.id

    def begin_delete(
        self, ctx: RequestContext | None, stack: Stack, retain: list[str], role_arn: Any, token: str | None
    ) -> None:
        service = self.service
        operation = (
            service.operation_record(
                ctx,
                "DELETE",
                retain=retain,
                role_arn=role_arn if isinstance(role_arn, str) else None,
                token=token,
            )
            if ctx is not None
            else {
                "id": __import__("uuid").uuid4().hex,
                "kind": "DELETE",
                "retain": retain,
                "principal": (stack.operation or {}).get("principal"),
            }
        )
        service.store.set_operation(stack.id, operation)
        service.store.set_status(stack.id, "DELETE_IN_PROGRESS", None)
        current = service.store.stack_by_id(stack.id)
        assert current is not None
        service.engine.stack_event(current, "DELETE_IN_PROGRESS", "User Initiated")
        self.db.after_commit(lambda: service.engine.start(stack.id))

    # -- describe ----------------------------------------------------------------------------------

    def describe_stacks(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service = self.service
        name = params.get("StackName")
        if name:
            return {"Stacks": [self.describe(service.find_stack(ctx, name))]}
        after = decode_token(params.get("NextToken"), invalid_token, "DescribeStacks") or 0
        stacks = service.store.stacks(ctx.account_id, ctx.region, after, STACKS_PAGE + 1, live_only=True)
        page, token = page_of(stacks, STACKS_PAGE, lambda stack: stack.id, "DescribeStacks")
        result: dict[str, Any] = {"Stacks": [self.describe(stack) for stack in page]}
        if token:
            result["NextToken"] = token
        return result

    def describe(self, stack: Stack) -> dict[str, Any]:
        settings = stack.settings
        entry: dict[str, Any] = {
            "StackId": stack.arn,
            "StackName": stack.name,
        }
        if settings.get("change_set_id"):
            entry["ChangeSetId"] = settings["change_set_id"]
        if settings.get("description"):
            entry["Description"] = settings["description"]
        parameters = [Bound.load(item).described() for item in settings.get("parameters", [])]
        if parameters:
            entry["Parameters"] = parameters
        entry["CreationTime"] = iso(stack.created_at)
        if stack.deleted_at is not None:
            entry["DeletionTime"] = iso(stack.deleted_at)
        if stack.updated_at is not None:
            entry["LastUpdatedTime"] = iso(stack.updated_at)
        entry["RollbackConfiguration"] = {}
        entry["StackStatus"] = stack.status
        if stack.reason:
            entry["StackStatusReason"] = stack.reason
        entry["DisableRollback"] = bool(settings.get("disable_rollback"))
        entry["NotificationARNs"] = settings.get("notification_arns") or []
        if settings.get("timeout"):
            entry["TimeoutInMinutes"] = settings["timeout"]
        if settings.get("capabilities"):
            entry["Capabilities"] = settings["capabilities"]
        if stack.outputs and stack.status != "DELETE_COMPLETE":
            entry["Outputs"] = stack.outputs
        if settings.get("role_arn"):
            entry["RoleARN"] = settings["role_arn"]
        entry["Tags"] = settings.get("tags") or []
        entry["EnableTerminationProtection"] = bool(settings.get("termination_protection"))
        if stack.parent_arn:
            entry["ParentId"] = stack.parent_arn
            entry["RootId"] = stack.root_arn or stack.parent_arn
        drift = settings.get("drift") or {}
        entry["DriftInformation"] = {"StackDriftStatus": drift.get("status", "NOT_CHECKED")}
        if drift.get("at"):
            entry["DriftInformation"]["LastCheckTimestamp"] = iso(drift["at"])
        if settings.get("retain_except_on_create") is not None:
            entry["RetainExceptOnCreate"] = bool(settings["retain_except_on_create"])
        return entry

    def list_stacks(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        after = decode_token(params.get("NextToken"), invalid_token, "ListStacks") or 0
        statuses = params.get("StackStatusFilter") or None
        stacks = self.service.store.stacks(
            ctx.account_id, ctx.region, after, STACKS_PAGE + 1, False, statuses
        )
        page, token = page_of(stacks, STACKS_PAGE, lambda stack: stack.id, "ListStacks")
        summaries = []
        for stack in page:
            if stack.status == "REVIEW_IN_PROGRESS" and not statuses:
                pass
            summary: dict[str, Any] = {"StackId": stack.arn, "StackName": stack.name}
            if stack.settings.get("description"):
                summary["TemplateDescription"] = stack.settings["description"]
            summary["CreationTime"] = iso(stack.created_at)
            if stack.updated_at is not None:
                summary["LastUpdatedTime"] = iso(stack.updated_at)
            if stack.deleted_at is not None:
                summary["DeletionTime"] = iso(stack.deleted_at)
            summary["StackStatus"] = stack.status
            if stack.reason:
                summary["StackStatusReason"] = stack.reason
            if stack.parent_arn:
                summary["ParentId"] = stack.parent_arn
                summary["RootId"] = stack.root_arn or stack.parent_arn
            summary["DriftInformation"] = {
                "StackDriftStatus": (stack.settings.get("drift") or {}).get("status", "NOT_CHECKED")
            }
            summaries.append(summary)
        result: dict[str, Any] = {"StackSummaries": summaries}
        if token:
            result["NextToken"] = token
        return result

    # -- events ------------------------------------------------------------------------------------

    def describe_stack_events(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stack = self.service.find_stack(ctx, params["StackName"])
        before = decode_token(params.get("NextToken"), invalid_token, f"Events:{stack.id}")
        events = self.service.store.events(stack.id, before, EVENTS_PAGE + 1)
        page, token = page_of(events, EVENTS_PAGE, lambda event: event["id"], f"Events:{stack.id}")
        result: dict[str, Any] = {"StackEvents": [self.event_view(stack, event) for event in page]}
        if token:
            result["NextToken"] = token
        return result

    @staticmethod
    def event_view(stack: Stack, event: dict[str, Any]) -> dict[str, Any]:
        view: dict[str, Any] = {
            "StackId": stack.arn,
            "EventId": event["event_id"],
            "StackName": stack.name,
            "LogicalResourceId": event["logical_id"],
        }
        if event["physical_id"] is not None:
            view["PhysicalResourceId"] = event["physical_id"]
        view["ResourceType"] = event["type"]
        view["Timestamp"] = iso(event["at"])
        view["ResourceStatus"] = event["status"]
        if event["reason"]:
            view["ResourceStatusReason"] = event["reason"]
        if event["properties"] is not None:
            view["ResourceProperties"] = event["properties"]
        if event["token"]:
            view["ClientRequestToken"] = event["token"]
        return view

    # -- resources ---------------------------------------------------------------------------------

    def describe_stack_resources(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service = self.service
        name, physical_id = params.get("StackName"), params.get("PhysicalResourceId")
        if not name and not physical_id:
            raise validation_error("Either StackName or PhysicalResourceId must be specified.")
        if name:
            stack = service.find_stack(ctx, name)
        else:
            owners = [
                row
                for row in service.store.resources_by_physical_id(physical_id)
                if (found := service.store.stack_by_id(row.stack_id)) and found.account == ctx.account_id
            ]
            if not owners:
                raise validation_error(f"Stack for {physical_id} does not exist")
            stack = service.store.stack_by_id(owners[0].stack_id)  # type: ignore[assignment]
            assert stack is not None
        rows = service.store.resources(stack.id)
        wanted = params.get("LogicalResourceId")
        return {
            "StackResources": [
                self.resource_view(stack, row) for row in rows if not wanted or row.logical_id == wanted
            ]
        }

    @staticmethod
    def resource_view(stack: Stack, row: Resource) -> dict[str, Any]:
        view: dict[str, Any] = {
            "StackName": stack.name,
            "StackId": stack.arn,
            "LogicalResourceId": row.logical_id,
        }
        if row.physical_id is not None:
            view["PhysicalResourceId"] = row.physical_id
        view["ResourceType"] = row.type
        view["Timestamp"] = iso(row.updated_at)
        view["ResourceStatus"] = row.status
        if row.reason:
            view["ResourceStatusReason"] = row.reason
        view["DriftInformation"] = {
            "StackResourceDriftStatus": (row.drift or {}).get("status", "NOT_CHECKED")
        }
        return view

    def describe_stack_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stack = self.service.find_stack(ctx, params["StackName"])
        logical_id = params["LogicalResourceId"]
        row = self.service.store.resource(stack.id, logical_id)
        if row is None:
            raise validation_error(f"Resource {logical_id} does not exist for stack {stack.name}")
        definition = (stack.template.get("Resources") or {}).get(logical_id) or {}
        detail: dict[str, Any] = {
            "StackName": stack.name,
            "StackId": stack.arn,
            "LogicalResourceId": logical_id,
        }
        if row.physical_id is not None:
            detail["PhysicalResourceId"] = row.physical_id
        detail["ResourceType"] = row.type
        detail["LastUpdatedTimestamp"] = iso(row.updated_at)
        detail["ResourceStatus"] = row.status
        if row.reason:
            detail["ResourceStatusReason"] = row.reason
        if "Metadata" in definition:
            detail["Metadata"] = json.dumps(definition["Metadata"])
        detail["DriftInformation"] = {
            "StackResourceDriftStatus": (row.drift or {}).get("status", "NOT_CHECKED")
        }
        return {"StackResourceDetail": detail}

    def list_stack_resources(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stack = self.service.find_stack(ctx, params["StackName"])
        after = decode_token(params.get("NextToken"), invalid_token, f"Resources:{stack.id}") or 0
        rows = self.service.store.resources(stack.id)[after : after + RESOURCES_PAGE + 1]
        page = rows[:RESOURCES_PAGE]
        summaries = []
        for row in page:
            summary: dict[str, Any] = {"LogicalResourceId": row.logical_id}
            if row.physical_id is not None:
                summary["PhysicalResourceId"] = row.physical_id
            summary["ResourceType"] = row.type
            summary["LastUpdatedTimestamp"] = iso(row.updated_at)
            summary["ResourceStatus"] = row.status
            if row.reason:
                summary["ResourceStatusReason"] = row.reason
            summary["DriftInformation"] = {
                "StackResourceDriftStatus": (row.drift or {}).get("status", "NOT_CHECKED")
            }
            summaries.append(summary)
        result: dict[str, Any] = {"StackResourceSummaries": summaries}
        if len(rows) > RESOURCES_PAGE:
            from overcast.services.kit.paging import encode_token

            result["NextToken"] = encode_token(after + RESOURCES_PAGE, f"Resources:{stack.id}")
        return result

    # -- templates ---------------------------------------------------------------------------------

    def get_template(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        from overcast.services.cloudformation.change_sets import ChangeSetOperations

        service = self.service
        stage = params.get("TemplateStage") or "Original"
        if params.get("ChangeSetName"):
            change_set = service.family(ChangeSetOperations).find(
                ctx, params["ChangeSetName"], params.get("StackName")
            )
            original, processed = change_set.data["text"], change_set.data["template"]
        else:
            if not params.get("StackName"):
                raise validation_error("Either StackName or ChangeSetName must be specified.")
            stack = service.find_stack(ctx, params["StackName"])
            original, processed = stack.original, stack.template
        if stage == "Processed":
            body = templates.dump(processed)
        else:
            body = original
        return {"TemplateBody": body, "StagesAvailable": ["Original", "Processed"]}

    async def get_template_summary(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service = self.service
        if params.get("StackName"):
            stack = service.find_stack(ctx, params["StackName"])
            original = templates.parse(stack.original)
            processed = stack.template
        else:
            text = await service.template_text(ctx, params)
            original = templates.parse(text)
            if not templates.transforms_of(original):
                templates.check_shape(original)
            processed = original
        resources = processed.get("Resources") or {}
        result: dict[str, Any] = {
            "Parameters": params_.declared(original.get("Parameters") or {}),
        }
        if isinstance(original.get("Description"), str):
            result["Description"] = original["Description"]
        needed = service.required_capabilities(original, processed, None)
        if needed:
            result["Capabilities"] = needed
            result["CapabilitiesReason"] = capabilities_reason(processed)
        result["ResourceTypes"] = sorted(
            {resource.get("Type") for resource in resources.values() if isinstance(resource, dict)}
        )
        result["Version"] = str(original.get("AWSTemplateFormatVersion", "2010-09-09"))
        if "Metadata" in original:
            result["Metadata"] = json.dumps(original["Metadata"])
        transforms = templates.transforms_of(original)
        if transforms:
            result["DeclaredTransforms"] = transforms
        result["ResourceIdentifierSummaries"] = identifier_summaries(resources)
        return result

    async def validate_template(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service = self.service
        text = await service.template_text(ctx, params)
        template = templates.parse(text)
        transforms = templates.transforms_of(template)
        if not transforms:
            templates.check_shape(template)
            for declaration in (template.get("Parameters") or {}).values():
                params_.check_type(declaration.get("Type"))
            from overcast.services.cloudformation.graph import check_acyclic, dependencies

            check_acyclic(dependencies(template.get("Resources") or {}, {}))
        result: dict[str, Any] = {"Parameters": params_.template_parameters(template.get("Parameters") or {})}
        if isinstance(template.get("Description"), str):
            result["Description"] = template["Description"]
        needed = [
            c
            for c in service.required_capabilities(template, template, None)
            if c != "CAPABILITY_AUTO_EXPAND"
        ]
        if needed:
            result["Capabilities"] = needed
            result["CapabilitiesReason"] = capabilities_reason(template)
        if transforms:
            result["DeclaredTransforms"] = transforms
        return result

    # -- policies and protection -------------------------------------------------------------------

    def set_stack_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stack = self.service.find_stack(ctx, params["StackName"], deleted=False)
        body = params.get("StackPolicyBody")
        if body is None and params.get("StackPolicyURL"):
            raise validation_error("StackPolicyURL is not supported by Overcast; give StackPolicyBody")
        if body is not None:
            try:
                json.loads(body)
            except ValueError:
                raise validation_error("Error validating stack policy: Invalid stack policy") from None
        self.service.store.set_settings(stack.id, {**stack.settings, "policy": body})
        return {}

    def get_stack_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stack = self.service.find_stack(ctx, params["StackName"])
        policy = stack.settings.get("policy")
        return {"StackPolicyBody": policy} if policy else {}

    def update_termination_protection(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stack = self.service.find_stack(ctx, params["StackName"], deleted=False)
        if stack.parent_arn:
            raise validation_error(
                "Operation not allowed. Termination protection can only be updated for root stacks."
            )
        settings = {**stack.settings, "termination_protection": bool(params["EnableTerminationProtection"])}
        self.service.store.set_settings(stack.id, settings)
        return {"StackId": stack.arn}

    # -- recovery ----------------------------------------------------------------------------------

    def continue_update_rollback(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stack = self.service.find_stack(ctx, params["StackName"], deleted=False)
        if stack.status != "UPDATE_ROLLBACK_FAILED":
            raise validation_error(
                f"Stack:{stack.arn} is in {stack.status} state and can not continue update rollback."
            )
        store = self.service.store
        for logical_id in params.get("ResourcesToSkip") or []:
            row = store.resource(stack.id, logical_id)
            if row is not None and row.prior:
                row.prior, row.status = None, "UPDATE_COMPLETE"
                store.put_resource(row)
        operation = {
            **(stack.operation or self.service.operation_record(ctx, "UPDATE")),
            "principal": self.service.operation_record(ctx, "UPDATE")["principal"],
        }
        store.set_operation(stack.id, operation)
        store.set_status(stack.id, "UPDATE_ROLLBACK_IN_PROGRESS", None, self.clock.now())
        current = store.stack_by_id(stack.id)
        assert current is not None
        self.service.engine.stack_event(current, "UPDATE_ROLLBACK_IN_PROGRESS", "User Initiated")
        self.db.after_commit(lambda: self.service.engine.start(stack.id))
        return {}


class RecoveryOperations(Operations):
    """Signals, cancelling an update, rolling a failed stack back, and the account's limits."""

    service: CloudFormationProvider

    async def signal_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        from overcast.services.cloudformation.resources.cloudformation import signal_key

        with self.db.transaction():
            stack = self.service.find_stack(ctx, params["StackName"], deleted=False)
            row = self.service.store.resource(stack.id, params["LogicalResourceId"])
        if row is None:
            raise validation_error(
                f"Resource {params['LogicalResourceId']} does not exist for stack {stack.name}"
            )
        if row.status not in ("CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS"):
            raise validation_error(
                f"Resource {row.logical_id} is in {row.status} state and can not be signaled"
            )
        signal = {"Status": params["Status"], "UniqueId": params["UniqueId"], "Reason": "", "Data": ""}
        await self.service.responses.put(
            stack.region, signal_key(stack.arn, row.logical_id), json.dumps(signal).encode()
        )
        return {}

    def cancel_update_stack(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stack = self.service.find_stack(ctx, params["StackName"], deleted=False)
        if stack.status != "UPDATE_IN_PROGRESS":
            raise validation_error(
                f"CancelUpdateStack cannot be called from current stack status {stack.status}"
            )
        self.service.engine.cancelled.add(stack.id)
        return {}

    async def rollback_stack(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service = self.service
        with self.db.transaction():
            stack = service.find_stack(ctx, params["StackName"], deleted=False)
            statuses = {
                "CREATE_FAILED": "ROLLBACK_IN_PROGRESS",
                "UPDATE_FAILED": "UPDATE_ROLLBACK_IN_PROGRESS",
            }
            if stack.status not in statuses or stack.operation is not None:
                raise validation_error(
                    f"Stack {stack.name} is in {stack.status} state and can not be rolled back"
                )
            operation = service.operation_record(
                ctx, "ROLLBACK", role_arn=params.get("RoleARN"), token=params.get("ClientRequestToken")
            )
            if stack.status == "UPDATE_FAILED":
                operation["id"] = stack.settings.get("last_operation") or operation["id"]
            service.store.set_operation(stack.id, operation)
            service.store.set_status(stack.id, statuses[stack.status], None, self.clock.now())
            current = service.store.stack_by_id(stack.id)
            assert current is not None
            service.engine.stack_event(current, statuses[stack.status], "User Initiated")
            self.db.after_commit(lambda: service.engine.start(stack.id))
        await service.settle(stack.id)
        return {"StackId": stack.arn}

    def describe_account_limits(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "AccountLimits": [
                {"Name": "StackLimit", "Value": 2000},
                {"Name": "StackOutputsLimit", "Value": 200},
                {"Name": "ConcurrentResourcesLimit", "Value": 2500},
            ]
        }


def capabilities_reason(template: dict[str, Any]) -> str:
    from overcast.services.cloudformation.provider import IAM_TYPES

    names = [
        name
        for name, resource in (template.get("Resources") or {}).items()
        if isinstance(resource, dict) and resource.get("Type") in IAM_TYPES
    ]
    if names:
        return f"The following resource(s) require capabilities: [{', '.join(sorted({(template['Resources'][n]['Type']) for n in names}))}]"
    return "The template contains macros"


def identifier_summaries(resources: dict[str, Any]) -> list[dict[str, Any]]:
    from overcast.services.cloudformation.resources import handler_for

    by_type: dict[str, list[str]] = {}
    for name, resource in resources.items():
        if isinstance(resource, dict) and isinstance(resource.get("Type"), str):
            by_type.setdefault(resource["Type"], []).append(name)
    summaries = []
    for kind, names in sorted(by_type.items()):
        handler = handler_for(kind)
        if handler is None or kind.startswith("Custom::"):
            continue
        summaries.append(
            {
                "ResourceType": kind,
                "LogicalResourceIds": names,
                "ResourceIdentifiers": [handler.primary_identifier],
            }
        )
    return summaries
