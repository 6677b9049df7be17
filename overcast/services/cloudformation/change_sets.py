"""Change sets: create (CREATE, UPDATE and IMPORT types), describe with the planned changes, execute, delete."""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.cloudformation.changes import plan_changes
from overcast.services.cloudformation.parameters import Bound
from overcast.services.cloudformation.stacks import StackOperations, iso
from overcast.services.cloudformation.store import ChangeSet, Resource, Stack

if TYPE_CHECKING:
    from overcast.services.cloudformation.provider import CloudFormationProvider

_NAME = re.compile(r"^[a-zA-Z][-a-zA-Z0-9]*$")
NO_CHANGES = (
    "The submitted information didn't contain changes. Submit different information to create a change set."
)


def validation_error(message: str) -> ServiceError:
    return ServiceError("ValidationError", message, 400)


def change_set_not_found(name: str) -> ServiceError:
    return ServiceError("ChangeSetNotFoundException", f"ChangeSet [{name}] does not exist", 404)


class ChangeSetOperations(Operations):
    service: CloudFormationProvider

    def _stacks(self) -> StackOperations:
        return self.service.family(StackOperations)

    async def create_change_set(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service, store = self.service, self.service.store
        name, stack_name = params["ChangeSetName"], params["StackName"]
        if not _NAME.match(name) or len(name) > 128:
            raise validation_error(
                f"1 validation error detected: Value '{name}' at 'changeSetName' failed to satisfy "
                "constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*"
            )
        kind = params.get("ChangeSetType") or "UPDATE"
        stack = service.lookup_stack(ctx, stack_name, deleted=False)
        if kind == "CREATE":
            if stack is not None and stack.status != "REVIEW_IN_PROGRESS":
                raise ServiceError(
                    "AlreadyExistsException",
                    f"Stack [{stack_name}] already exists and cannot be created again with the changeSet [{name}].",
                    400,
                )
            service.check_stack_name(stack_name)
        elif stack is None:
            if kind == "IMPORT":
                service.check_stack_name(stack_name)
            else:
                raise validation_error(f"Stack [{stack_name}] does not exist")
        elif stack.status == "REVIEW_IN_PROGRESS" and kind == "UPDATE":
            raise validation_error(f"Stack [{stack_name}] does not exist")
        if stack is not None and stack.status not in ("REVIEW_IN_PROGRESS",):
            self._stacks().check_updatable(stack)
        if stack is not None and store.change_set(stack.id, name) is not None:
            raise ServiceError("AlreadyExistsException", f"ChangeSet [{name}] already exists", 400)
        if params.get("UsePreviousTemplate"):
            if stack is None or stack.status == "REVIEW_IN_PROGRESS":
                raise validation_error("UsePreviousTemplate can only be used for updates")
            text = stack.original
        else:
            text = await service.template_text(ctx, params)
        original, processed = await service.processed(ctx, text, params.get("Parameters"), stack_name)
        previous = (
            [Bound.load(item) for item in stack.settings.get("parameters", [])]
            if stack and stack.status != "REVIEW_IN_PROGRESS"
            else None
        )
        bound = await service.bind_parameters(ctx, processed, params.get("Parameters"), previous)
        arn = stack.arn if stack else service.new_stack_arn(ctx, stack_name)
        settings = self._stacks().settings_of(params, processed, bound)
        probe = service.skeleton(ctx, stack_name, arn, settings)
        if stack is not None:
            probe.id = stack.id
        plan = service.static_plan(probe, processed, bound)
        service.check_capabilities(
            service.required_capabilities(original, processed, plan),
            params.get("Capabilities"),
            macros_expanded=True,
        )
        await self._stacks().check_role(ctx, params.get("RoleARN"))
        imports = self._imports(params, plan.active) if kind == "IMPORT" else {}
        rows = store.resources(stack.id) if stack is not None else []
        if stack is not None:
            self._stacks().check_type_changes(stack, plan.active)
        changes = plan_changes(plan.active, plan.graph, plan.scope, rows, imports)
        no_changes = (
            kind == "UPDATE"
            and not changes
            and stack is not None
            and processed.get("Outputs") == stack.template.get("Outputs")
            and self._stacks().same_parameters(stack, bound)
            and (params.get("Tags") is None or params.get("Tags") == stack.settings.get("tags"))
        )
        change_set_arn = ctx.arn("cloudformation", f"changeSet/{name}/{uuid.uuid4()}")
        data = {
            "type": kind,
            "text": text,
            "template": processed,
            "parameters": [item.stored() for item in bound],
            "settings": settings,
            "changes": changes,
            "description": params.get("Description"),
            "imports": imports,
            "on_stack_failure": params.get("OnStackFailure"),
            "role_arn": params.get("RoleARN"),
            "capabilities": params.get("Capabilities") or [],
            "tags": params.get("Tags"),
            "notification_arns": params.get("NotificationARNs"),
            "include_nested": bool(params.get("IncludeNestedStacks")),
        }
        with self.db.transaction():
            current = service.lookup_stack(ctx, stack_name, deleted=False)
            if current is None:
                current = store.insert_stack(
                    arn,
                    ctx.account_id,
                    ctx.region,
                    stack_name,
                    "REVIEW_IN_PROGRESS",
                    settings,
                    processed,
                    text,
                    self.clock.now(),
                )
                service.engine.stack_event(current, "REVIEW_IN_PROGRESS", "User Initiated")
            store.insert_change_set(
                change_set_arn, current.id, name, "CREATE_COMPLETE", self.clock.now(), data
            )
            created = store.change_set_by_arn(change_set_arn)
            assert created is not None
            if no_changes:
                store.update_change_set(created.id, status="FAILED", reason=NO_CHANGES)
            else:
                store.update_change_set(created.id, execution_status="AVAILABLE")
        return {"Id": change_set_arn, "StackId": arn}

    def _imports(self, params: dict[str, Any], active: dict[str, Any]) -> dict[str, dict[str, Any]]:
        imports = {}
        for entry in params.get("ResourcesToImport") or []:
            logical_id = entry["LogicalResourceId"]
            definition = active.get(logical_id)
            if definition is None or definition.get("Type") != entry["ResourceType"]:
                raise validation_error(
                    f"Resource {logical_id} of type {entry['ResourceType']} is not in the template"
                )
            if "DeletionPolicy" not in definition:
                raise validation_error(
                    "The following resources to import ["
                    + logical_id
                    + "] must have DeletionPolicy attribute specified in the template."
                )
            imports[logical_id] = entry["ResourceIdentifier"]
        if not imports:
            raise validation_error("ResourcesToImport must be specified for change sets of type IMPORT")
        return imports

    # -- finding -----------------------------------------------------------------------------------

    def find(self, ctx: RequestContext, name: str, stack_name: str | None) -> ChangeSet:
        store = self.service.store
        if name.startswith("arn:"):
            found = store.change_set_by_arn(name)
            if found is None:
                raise change_set_not_found(name)
            stack = store.stack_by_id(found.stack_id)
            if stack is None or stack.account != ctx.account_id or stack.region != ctx.region:
                raise change_set_not_found(name)
            return found
        if not stack_name:
            raise validation_error("StackName must be specified if ChangeSetName is not specified as an ARN.")
        stack = self.service.lookup_stack(ctx, stack_name)
        if stack is None:
            raise change_set_not_found(name)
        found = store.change_set(stack.id, name)
        if found is None:
            raise change_set_not_found(name)
        return found

    # -- describe ----------------------------------------------------------------------------------

    def describe_change_set(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        change_set = self.find(ctx, params["ChangeSetName"], params.get("StackName"))
        stack = self.service.store.stack_by_id(change_set.stack_id)
        assert stack is not None
        data = change_set.data
        result: dict[str, Any] = {
            "ChangeSetName": change_set.name,
            "ChangeSetId": change_set.arn,
            "StackId": stack.arn,
            "StackName": stack.name,
        }
        if data.get("description"):
            result["Description"] = data["description"]
        parameters = [Bound.load(item).described() for item in data.get("parameters", [])]
        if parameters:
            result["Parameters"] = parameters
        result["CreationTime"] = iso(change_set.created_at)
        result["ExecutionStatus"] = change_set.execution_status
        result["Status"] = change_set.status
        if change_set.reason:
            result["StatusReason"] = change_set.reason
        result["NotificationARNs"] = data.get("notification_arns") or []
        result["RollbackConfiguration"] = {}
        if data.get("capabilities"):
            result["Capabilities"] = data["capabilities"]
        result["Tags"] = data.get("tags") or []
        result["Changes"] = data.get("changes", [])
        result["IncludeNestedStacks"] = data.get("include_nested", False)
        if data.get("on_stack_failure"):
            result["OnStackFailure"] = data["on_stack_failure"]
        return result

    def list_change_sets(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stack = self.service.find_stack(ctx, params["StackName"])
        summaries = []
        for change_set in self.service.store.change_sets(stack.id):
            summary: dict[str, Any] = {
                "StackId": stack.arn,
                "StackName": stack.name,
                "ChangeSetId": change_set.arn,
                "ChangeSetName": change_set.name,
                "ExecutionStatus": change_set.execution_status,
                "Status": change_set.status,
            }
            if change_set.reason:
                summary["StatusReason"] = change_set.reason
            summary["CreationTime"] = iso(change_set.created_at)
            if change_set.data.get("description"):
                summary["Description"] = change_set.data["description"]
            summary["IncludeNestedStacks"] = change_set.data.get("include_nested", False)
            summaries.append(summary)
        return {"Summaries": summaries}

    def delete_change_set(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, stack_name = params["ChangeSetName"], params.get("StackName")
        if not name.startswith("arn:") and stack_name:
            # By name, AWS answers success whenever the stack exists, change set or not (the CDK relies on
            # it before each of its change sets).
            stack = self.service.lookup_stack(ctx, stack_name)
            if stack is not None and self.service.store.change_set(stack.id, name) is None:
                return {}
        change_set = self.find(ctx, name, stack_name)
        if change_set.execution_status == "EXECUTE_IN_PROGRESS":
            raise ServiceError(
                "InvalidChangeSetStatus",
                f"Cannot delete ChangeSet in status {change_set.execution_status}",
                400,
            )
        self.service.store.delete_change_set(change_set.id)
        return {}

    # -- execute -----------------------------------------------------------------------------------

    async def execute_change_set(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.transaction():
            stack_id = self._execute(ctx, params)
        await self.service.settle(stack_id)
        return {}

    def _execute(self, ctx: RequestContext, params: dict[str, Any]) -> int:
        """Start running the change set (inside a transaction); the stack's id."""
        service, store = self.service, self.service.store
        change_set = self.find(ctx, params["ChangeSetName"], params.get("StackName"))
        stack = store.stack_by_id(change_set.stack_id)
        assert stack is not None
        if change_set.status != "CREATE_COMPLETE" or change_set.execution_status != "AVAILABLE":
            raise ServiceError(
                "InvalidChangeSetStatus",
                f"ChangeSet [{change_set.arn}] cannot be executed in its current status of [{change_set.status}]"
                if change_set.status != "CREATE_COMPLETE"
                else f"ChangeSet [{change_set.arn}] cannot be executed in its current execution status of [{change_set.execution_status}]",
                400,
            )
        if stack.status != "REVIEW_IN_PROGRESS":
            self._stacks().check_updatable(stack)
        data = change_set.data
        disable_rollback = params.get("DisableRollback")
        on_failure = data.get("on_stack_failure") or ("DO_NOTHING" if disable_rollback else "ROLLBACK")
        settings = {**(stack.settings if stack.status != "REVIEW_IN_PROGRESS" else data["settings"])}
        settings["parameters"] = data["parameters"]
        settings["change_set_id"] = change_set.arn
        settings["description"] = data["settings"].get("description")
        if data.get("capabilities"):
            settings["capabilities"] = data["capabilities"]
        for key, field in (
            ("role_arn", "role_arn"),
            ("tags", "tags"),
            ("notification_arns", "notification_arns"),
        ):
            if data.get(field) is not None:
                settings[key] = data[field]
        if disable_rollback is not None:
            settings["disable_rollback"] = bool(disable_rollback)
        store.update_change_set(change_set.id, execution_status="EXECUTE_IN_PROGRESS")
        for other in store.change_sets(stack.id):
            if other.id != change_set.id:
                store.delete_change_set(other.id)
        operation = service.operation_record(
            ctx,
            data["type"],
            token=params.get("ClientRequestToken"),
            change_set=change_set.arn,
            on_failure=on_failure,
            disable_rollback=disable_rollback,
            retain_except_on_create=params.get("RetainExceptOnCreate"),
            role_arn=data.get("role_arn"),
        )
        if stack.status == "REVIEW_IN_PROGRESS" and data["type"] != "IMPORT":
            store.set_template(stack.id, data["template"], data["text"], None)
            store.set_settings(stack.id, settings)
            store.set_operation(stack.id, operation)
            store.set_status(stack.id, "CREATE_IN_PROGRESS", None)
            current = store.stack_by_id(stack.id)
            assert current is not None
            service.engine.stack_event(current, "CREATE_IN_PROGRESS", "User Initiated")
            self.db.after_commit(lambda: service.engine.start(stack.id))
            return stack.id
        status = "IMPORT_IN_PROGRESS" if data["type"] == "IMPORT" else "UPDATE_IN_PROGRESS"
        self._stacks().begin_update(stack, data["text"], data["template"], settings, operation, status)
        if data["type"] == "IMPORT":
            current = store.stack_by_id(stack.id)
            assert current is not None
            self._import_rows(current, data, operation["id"])
        return stack.id

    def _import_rows(self, stack: Stack, data: dict[str, Any], operation_id: str) -> None:
        """The resources an IMPORT change set brings in, recorded with the identifiers given (their
        properties as the template declares them: the engine then leaves them as they are)."""
        from overcast.services.cloudformation.intrinsics import resolve

        bound = [Bound.load(item) for item in data["parameters"]]
        plan = self.service.engine.plan(stack, data["template"], bound)
        for logical_id, identifier in data["imports"].items():
            definition = plan.active[logical_id]
            properties = resolve(definition.get("Properties") or {}, plan.scope)
            physical_id = str(next(iter(identifier.values())))
            row = Resource(
                stack.id,
                logical_id,
                definition["Type"],
                physical_id,
                "IMPORT_COMPLETE",
                None,
                properties,
                self.service.imported_attributes(stack, definition["Type"], physical_id),
                self.clock.now(),
                operation_id,
                {"absent": True},
                None,
            )
            self.service.store.put_resource(row)
            self.service.engine.event(
                stack, logical_id, definition["Type"], "IMPORT_IN_PROGRESS", None, physical_id, properties
            )
            self.service.engine.event(
                stack, logical_id, definition["Type"], "IMPORT_COMPLETE", None, physical_id, properties
            )
