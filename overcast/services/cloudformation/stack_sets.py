"""StackSets: one template deployed as stack instances across accounts and regions.

Self-managed stack sets reach each target account through its execution role (AWSCloudFormationStack-
SetExecutionRole by default), which must exist there, as the administration role must in the stack set's
account; service-managed ones deploy to the accounts of Organizations units. Each instance is an ordinary
stack (`StackSet-<name>-<id>`) made through CreateStack/UpdateStack/DeleteStack in its account and region, so
the engine runs it and it shows in that account's DescribeStacks. Stack set operations are stored and resume
after a restart.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.identity import Principal, root_principal
from overcast.services.base import Operations
from overcast.services.cloudformation import template as templates
from overcast.services.cloudformation.parameters import bind

if TYPE_CHECKING:
    from overcast.services.cloudformation.provider import CloudFormationProvider

ADMIN_ROLE = "AWSCloudFormationStackSetAdministrationRole"
EXECUTION_ROLE = "AWSCloudFormationStackSetExecutionRole"
ALL_CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]


def _time(at: float | None) -> datetime | None:
    return None if at is None else datetime.fromtimestamp(at, UTC)


def not_found(name: str) -> ServiceError:
    return ServiceError("StackSetNotFoundException", f"StackSet {name} not found", 404)


class StackSetOperations(Operations):
    service: CloudFormationProvider

    def _find(self, ctx: RequestContext, name: str) -> tuple[str, str, str, dict[str, Any]]:
        found = self.service.store.stack_set(ctx.account_id, ctx.region, name)
        if found is None:
            raise not_found(name)
        return found

    # -- stack sets ------------------------------------------------------------------------------------

    async def create_stack_set(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service = self.service
        name = params["StackSetName"]
        with self.db.transaction():
            if service.store.stack_set(ctx.account_id, ctx.region, name) is not None:
                raise ServiceError("NameAlreadyExistsException", f"StackSet {name} already exists", 409)
        text = await service.template_text(ctx, params)
        template = templates.parse(text)
        if not templates.transforms_of(template):
            templates.check_shape(template)
        bind(template.get("Parameters") or {}, params.get("Parameters"))  # the values must fit the template
        set_id = f"{name}:{uuid.uuid4()}"
        data = {
            "text": text,
            "description": params.get("Description")
            or (template.get("Description") if isinstance(template.get("Description"), str) else None),
            "parameters": params.get("Parameters") or [],
            "capabilities": params.get("Capabilities") or [],
            "tags": params.get("Tags") or [],
            "permission_model": params.get("PermissionModel") or "SELF_MANAGED",
            "admin_role": params.get("AdministrationRoleARN")
            or f"arn:aws:iam::{ctx.account_id}:role/{ADMIN_ROLE}",
            "execution_role": params.get("ExecutionRoleName") or EXECUTION_ROLE,
            "auto_deployment": params.get("AutoDeployment"),
        }
        if data["permission_model"] == "SERVICE_MANAGED":
            data.pop("admin_role")
            data.pop("execution_role")
        with self.db.transaction():
            service.store.insert_stack_set(set_id, ctx.account_id, ctx.region, name, data)
        return {"StackSetId": set_id}

    def describe_stack_set(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        set_id, name, status, data = self._find(ctx, params["StackSetName"])
        view: dict[str, Any] = {"StackSetName": name, "StackSetId": set_id}
        if data.get("description"):
            view["Description"] = data["description"]
        view.update(
            Status=status,
            TemplateBody=data["text"],
            Parameters=[
                {"ParameterKey": p["ParameterKey"], "ParameterValue": p.get("ParameterValue", "")}
                for p in data["parameters"]
            ],
            Capabilities=data["capabilities"],
            Tags=data["tags"],
            StackSetARN=f"arn:aws:cloudformation:{ctx.region}:{ctx.account_id}:stackset/{set_id}",
            PermissionModel=data["permission_model"],
            ManagedExecution={"Active": False},
            Regions=sorted({i["region"] for i in self.service.store.instances(set_id)}),
        )
        if data.get("admin_role"):
            view["AdministrationRoleARN"] = data["admin_role"]
            view["ExecutionRoleName"] = data["execution_role"]
        if data.get("auto_deployment"):
            view["AutoDeployment"] = data["auto_deployment"]
        return {"StackSet": view}

    def list_stack_sets(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        wanted = params.get("Status")
        summaries = []
        for set_id, name, status, data in self.service.store.stack_sets(ctx.account_id, ctx.region):
            if wanted and status != wanted:
                continue
            summary: dict[str, Any] = {"StackSetName": name, "StackSetId": set_id}
            if data.get("description"):
                summary["Description"] = data["description"]
            summary.update(
                Status=status, PermissionModel=data["permission_model"], ManagedExecution={"Active": False}
            )
            summaries.append(summary)
        return {"Summaries": summaries}

    async def update_stack_set(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service = self.service
        with self.db.transaction():
            set_id, name, status, data = self._find(ctx, params["StackSetName"])
            self._idle(set_id, name)
        if not params.get("UsePreviousTemplate"):
            data["text"] = await service.template_text(ctx, params)
        template = templates.parse(data["text"])
        if params.get("Parameters") is not None:
            data["parameters"] = params["Parameters"]
        bind(
            template.get("Parameters") or {}, [p for p in data["parameters"] if not p.get("UsePreviousValue")]
        )
        for key, field in (
            ("Capabilities", "capabilities"),
            ("Tags", "tags"),
            ("Description", "description"),
        ):
            if params.get(key) is not None:
                data[field] = params[key]
        with self.db.transaction():
            service.store.set_stack_set(set_id, status, data)
            targets = [(i["account"], i["region"]) for i in service.store.instances(set_id)]
            operation_id = self._start(ctx, set_id, "UPDATE", targets, params)
        await self._settle(operation_id)
        return {"OperationId": operation_id}

    def delete_stack_set(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        set_id, name, status, data = self._find(ctx, params["StackSetName"])
        self._idle(set_id, name)
        if self.service.store.instances(set_id):
            raise ServiceError("StackSetNotEmptyException", f"StackSet {name} is not empty", 409)
        self.service.store.set_stack_set(set_id, "DELETED", data)
        return {}

    # -- instances -------------------------------------------------------------------------------------

    async def create_stack_instances(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.transaction():
            set_id, name, _, data = self._find(ctx, params["StackSetName"])
            self._idle(set_id, name)
        accounts = await self._accounts(ctx, params, data)
        targets = [(account, region) for account in accounts for region in params["Regions"]]
        with self.db.transaction():
            for account, region in targets:
                existing = [
                    i
                    for i in self.service.store.instances(set_id)
                    if (i["account"], i["region"]) == (account, region)
                ]
                if not existing:
                    self.service.store.put_instance(
                        set_id,
                        account,
                        region,
                        None,
                        "OUTDATED",
                        "User Initiated",
                        {"overrides": params.get("ParameterOverrides") or []},
                    )
            operation_id = self._start(ctx, set_id, "CREATE", targets, params)
        await self._settle(operation_id)
        return {"OperationId": operation_id}

    async def update_stack_instances(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.transaction():
            set_id, name, _, data = self._find(ctx, params["StackSetName"])
            self._idle(set_id, name)
        accounts = await self._accounts(ctx, params, data)
        targets = [(account, region) for account in accounts for region in params["Regions"]]
        with self.db.transaction():
            known = {(i["account"], i["region"]): i for i in self.service.store.instances(set_id)}
            for target in targets:
                if target not in known:
                    raise ServiceError(
                        "StackInstanceNotFoundException",
                        f"Stack instance in account {target[0]} and region {target[1]} does not exist",
                        404,
                    )
                instance = known[target]
                self.service.store.put_instance(
                    set_id,
                    *target,
                    instance["stack_arn"],
                    "OUTDATED",
                    "User Initiated",
                    {"overrides": params.get("ParameterOverrides") or []},
                )
            operation_id = self._start(ctx, set_id, "UPDATE", targets, params)
        await self._settle(operation_id)
        return {"OperationId": operation_id}

    async def delete_stack_instances(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.transaction():
            set_id, name, _, data = self._find(ctx, params["StackSetName"])
            self._idle(set_id, name)
        accounts = await self._accounts(ctx, params, data)
        targets = [(account, region) for account in accounts for region in params["Regions"]]
        with self.db.transaction():
            operation_id = self._start(
                ctx, set_id, "DELETE", targets, params, retain=bool(params.get("RetainStacks"))
            )
        await self._settle(operation_id)
        return {"OperationId": operation_id}

    def list_stack_instances(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        set_id, _, _, _ = self._find(ctx, params["StackSetName"])
        summaries = []
        for instance in self.service.store.instances(set_id):
            if params.get("StackInstanceAccount") and instance["account"] != params["StackInstanceAccount"]:
                continue
            if params.get("StackInstanceRegion") and instance["region"] != params["StackInstanceRegion"]:
                continue
            summaries.append(self._instance_view(set_id, instance))
        return {"Summaries": summaries}

    def describe_stack_instance(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        set_id, _, _, _ = self._find(ctx, params["StackSetName"])
        for instance in self.service.store.instances(set_id):
            if (instance["account"], instance["region"]) == (
                params["StackInstanceAccount"],
                params["StackInstanceRegion"],
            ):
                view = self._instance_view(set_id, instance)
                view["ParameterOverrides"] = instance.get("overrides") or []
                return {"StackInstance": view}
        raise ServiceError(
            "StackInstanceNotFoundException",
            f"Stack instance in account {params['StackInstanceAccount']} and region {params['StackInstanceRegion']} does not exist",
            404,
        )

    @staticmethod
    def _instance_view(set_id: str, instance: dict[str, Any]) -> dict[str, Any]:
        detailed = {
            "CURRENT": "SUCCEEDED",
            "INOPERABLE": "FAILED",
            "OUTDATED": "FAILED" if instance.get("failed") else "PENDING",
        }[instance["status"]]
        view: dict[str, Any] = {
            "StackSetId": set_id,
            "Region": instance["region"],
            "Account": instance["account"],
        }
        if instance.get("stack_arn"):
            view["StackId"] = instance["stack_arn"]
        view["Status"] = instance["status"]
        if instance.get("reason"):
            view["StatusReason"] = instance["reason"]
        view["StackInstanceStatus"] = {"DetailedStatus": detailed}
        view["DriftStatus"] = "NOT_CHECKED"
        if instance.get("operation"):
            view["LastOperationId"] = instance["operation"]
        return view

    # -- operations ------------------------------------------------------------------------------------

    def describe_stack_set_operation(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        set_id, _, _, _ = self._find(ctx, params["StackSetName"])
        operation = self.service.store.set_operation_of_set(params["OperationId"])
        if operation is None or operation["set_id"] != set_id:
            raise ServiceError(
                "OperationNotFoundException", f"Operation {params['OperationId']} not found", 404
            )
        view: dict[str, Any] = {
            "OperationId": operation["id"],
            "StackSetId": set_id,
            "Action": operation["action"],
            "Status": operation["status"],
            "OperationPreferences": operation.get("preferences") or {},
            "CreationTimestamp": _time(operation["created_at"]),
        }
        if operation["action"] == "DELETE":
            view["RetainStacks"] = operation.get("retain", False)
        if operation.get("ended_at"):
            view["EndTimestamp"] = _time(operation["ended_at"])
        results = operation.get("results") or {}
        failed = sum(1 for result in results.values() if result["status"] == "FAILED")
        view["StatusDetails"] = {"FailedStackInstancesCount": failed}
        return {"StackSetOperation": view}

    def list_stack_set_operations(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        set_id, _, _, _ = self._find(ctx, params["StackSetName"])
        summaries = []
        for operation in self.service.store.set_operations(set_id):
            summary: dict[str, Any] = {
                "OperationId": operation["id"],
                "Action": operation["action"],
                "Status": operation["status"],
                "CreationTimestamp": _time(operation["created_at"]),
            }
            if operation.get("ended_at"):
                summary["EndTimestamp"] = _time(operation["ended_at"])
            summaries.append(summary)
        return {"Summaries": summaries}

    def list_stack_set_operation_results(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        set_id, _, _, _ = self._find(ctx, params["StackSetName"])
        operation = self.service.store.set_operation_of_set(params["OperationId"])
        if operation is None or operation["set_id"] != set_id:
            raise ServiceError(
                "OperationNotFoundException", f"Operation {params['OperationId']} not found", 404
            )
        summaries = []
        for key, result in sorted((operation.get("results") or {}).items()):
            account, region = key.split("/")
            summary: dict[str, Any] = {"Account": account, "Region": region, "Status": result["status"]}
            if result.get("reason"):
                summary["StatusReason"] = result["reason"]
            summary["AccountGateResult"] = {
                "Status": "SKIPPED",
                "StatusReason": "Function not found: arn:aws:lambda:::function:AWSCloudFormationStackSetAccountGate",
            }
            summaries.append(summary)
        return {"Summaries": summaries}

    # -- running them --------------------------------------------------------------------------------------

    def _idle(self, set_id: str, name: str) -> None:
        for operation in self.service.store.set_operations(set_id):
            if operation["status"] == "RUNNING":
                raise ServiceError(
                    "OperationInProgressException",
                    f"Another Operation on StackSet {set_id} is in progress",
                    409,
                )

    async def _accounts(self, ctx: RequestContext, params: dict[str, Any], data: dict[str, Any]) -> list[str]:
        targets = params.get("DeploymentTargets") or {}
        accounts = list(params.get("Accounts") or targets.get("Accounts") or [])
        for unit in targets.get("OrganizationalUnitIds") or []:
            if data["permission_model"] != "SERVICE_MANAGED":
                raise ServiceError(
                    "ValidationError",
                    "OrganizationalUnitIds are supported only by stack sets with SERVICE_MANAGED permissions",
                    400,
                )
            listed = await self.platform.call(
                "organizations",
                "ListAccountsForParent",
                {"ParentId": unit},
                principal=ctx.principal,
                account_id=ctx.account_id,
                region=ctx.region,
            )
            accounts += [
                account["Id"] for account in listed.get("Accounts", []) if account["Id"] not in accounts
            ]
        if not accounts:
            raise ServiceError("ValidationError", "Accounts or DeploymentTargets must be specified", 400)
        return accounts

    def _start(
        self,
        ctx: RequestContext,
        set_id: str,
        action: str,
        targets: list[tuple[str, str]],
        params: dict[str, Any],
        retain: bool = False,
    ) -> str:
        operation_id = params.get("OperationId") or str(uuid.uuid4())
        if self.service.store.set_operation_of_set(operation_id) is not None:
            raise ServiceError(
                "OperationIdAlreadyExistsException", f"Operation {operation_id} already exists", 409
            )
        self.service.store.insert_set_operation(
            operation_id,
            set_id,
            action,
            self.clock.now(),
            {
                "targets": [list(t) for t in targets],
                "retain": retain,
                "preferences": params.get("OperationPreferences") or {},
                "admin": ctx.account_id,
                "admin_region": ctx.region,
            },
        )
        self.db.after_commit(lambda: self.service.start_set_operation(operation_id))
        return operation_id

    async def _settle(self, operation_id: str) -> None:
        task = self.service.set_operation_task(operation_id)
        if task is not None:
            await asyncio.wait({task}, timeout=2.0)


async def run_set_operation(service: CloudFormationProvider, operation_id: str) -> None:
    """Deploy (or delete) each target's stack instance, all at once, then record the operation's outcome."""
    store, db = service.store, service.db
    with db.transaction():
        operation = store.set_operation_of_set(operation_id)
    if operation is None or operation["status"] != "RUNNING":
        return
    with db.transaction():
        set_row = store.stack_set_by_id(operation["set_id"])
    if set_row is None:
        return
    results = dict(operation.get("results") or {})
    pending = [(a, r) for a, r in operation["targets"] if f"{a}/{r}" not in results]
    outcomes = await asyncio.gather(
        *(_instance(service, operation, set_row, account, region) for account, region in pending)
    )
    for (account, region), outcome in zip(pending, outcomes, strict=True):
        results[f"{account}/{region}"] = outcome
    failed = any(result["status"] == "FAILED" for result in results.values())
    with db.transaction():
        data = {
            key: value
            for key, value in operation.items()
            if key not in ("id", "set_id", "action", "status", "created_at", "ended_at")
        }
        store.finish_set_operation(
            operation_id,
            "FAILED" if failed else "SUCCEEDED",
            service.clock.now(),
            {**data, "results": results},
        )


async def _instance(
    service: CloudFormationProvider,
    operation: dict[str, Any],
    stack_set: dict[str, Any],
    account: str,
    region: str,
) -> dict[str, Any]:
    """One target of an operation; {"status": SUCCEEDED|FAILED, "reason": ...}."""
    store, db = service.store, service.db
    set_id, data = stack_set["id"], stack_set["data"]
    with db.transaction():
        instance = next(
            (i for i in store.instances(set_id) if (i["account"], i["region"]) == (account, region)), None
        )
    acting: list[Principal] = []  # who the instance's stack calls act as, found at the first call

    async def call(operation_name: str, params: dict[str, Any]) -> dict[str, Any]:
        if not acting:
            acting.append(await _acting_principal(service, data, stack_set["account"], account, region))
        return await service.platform.call(
            "cloudformation", operation_name, params, principal=acting[0], account_id=account, region=region
        )

    def record(stack_arn: str | None, status: str, reason: str | None, failed: bool = False) -> None:
        with db.transaction():
            overrides = (instance or {}).get("overrides") or []
            store.put_instance(
                set_id,
                account,
                region,
                stack_arn,
                status,
                reason,
                {"overrides": overrides, "operation": operation["id"], "failed": failed},
            )

    if operation["action"] == "DELETE":
        if instance is None:
            return {"status": "SUCCEEDED"}
        if instance.get("stack_arn") and not operation.get("retain"):
            try:
                await call("DeleteStack", {"StackName": instance["stack_arn"]})
                stack = await _settled(service, instance["stack_arn"])
            except ServiceError as error:
                record(instance.get("stack_arn"), "INOPERABLE", error.message, True)
                return {"status": "FAILED", "reason": error.message}
            if stack is not None and stack.status != "DELETE_COMPLETE":
                record(instance["stack_arn"], "INOPERABLE", stack.reason or stack.status, True)
                return {"status": "FAILED", "reason": stack.reason or stack.status}
        with db.transaction():
            store.delete_instance(set_id, account, region)
        return {"status": "SUCCEEDED"}

    refusal = _role_refusal(service, data, stack_set["account"], account)
    if refusal:
        record(instance.get("stack_arn") if instance else None, "OUTDATED", refusal, True)
        return {"status": "FAILED", "reason": refusal}
    parameters = _merged(data["parameters"], (instance or {}).get("overrides") or [])
    try:
        if instance and instance.get("stack_arn"):
            stack_arn = instance["stack_arn"]
            try:
                await call(
                    "UpdateStack",
                    {
                        "StackName": stack_arn,
                        "TemplateBody": data["text"],
                        "Parameters": parameters,
                        "Capabilities": ALL_CAPABILITIES,
                    },
                )
            except ServiceError as error:
                if error.message != "No updates are to be performed.":
                    raise
        else:
            name = f"StackSet-{stack_set['name']}-{uuid.uuid4()}"[:128]
            stack_arn = (
                await call(
                    "CreateStack",
                    {
                        "StackName": name,
                        "TemplateBody": data["text"],
                        "Parameters": parameters,
                        "Capabilities": ALL_CAPABILITIES,
                        "Tags": data["tags"],
                    },
                )
            )["StackId"]
            record(stack_arn, "OUTDATED", "User Initiated")
    except ServiceError as error:
        record(instance.get("stack_arn") if instance else None, "OUTDATED", error.message, True)
        return {"status": "FAILED", "reason": error.message}
    stack = await _settled(service, stack_arn)
    if stack is None or stack.status not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
        reason = "ResourceLogicalId:" + (stack.reason or stack.status if stack else "gone")
        record(stack_arn, "OUTDATED", reason, True)
        return {"status": "FAILED", "reason": reason}
    record(stack_arn, "CURRENT", None)
    return {"status": "SUCCEEDED"}


def _merged(parameters: list[dict[str, Any]], overrides: list[dict[str, Any]]) -> list[dict[str, Any]]:
    merged = {p["ParameterKey"]: p for p in parameters}
    merged.update({p["ParameterKey"]: p for p in overrides})
    return [{"ParameterKey": key, "ParameterValue": p.get("ParameterValue", "")} for key, p in merged.items()]


def _role_refusal(
    service: CloudFormationProvider, data: dict[str, Any], admin_account: str, account: str
) -> str | None:
    """Why a self-managed stack set cannot reach `account` (its roles are missing), or None."""
    if data["permission_model"] != "SELF_MANAGED":
        return None
    import overcast.services.iam.api as iam

    with service.db.transaction():
        admin = iam.role(service.platform, data["admin_role"])
        execution = iam.role(service.platform, f"arn:aws:iam::{account}:role/{data['execution_role']}")
    if admin is None:
        return f"Cannot assume the administration role {data['admin_role']}: it does not exist"
    if execution is None:
        return (
            f"Account {account} should have '{data['execution_role']}' role with trust relationship to Role "
            f"'{data['admin_role'].rsplit('/', 1)[-1]}'."
        )
    return None


async def _acting_principal(
    service: CloudFormationProvider, data: dict[str, Any], admin_account: str, account: str, region: str
) -> Principal:
    """Who an instance's stack operations act as in `account`. Self-managed: the execution role, assumed by
    a session of the administration role (which CloudFormation assumes), as AWS chains them, so the
    execution role's trust and policies decide; a role that cannot be assumed fails the instance with AWS's
    reason. Service-managed: the account's own root (AWS uses its service-linked role there)."""
    if data["permission_model"] != "SELF_MANAGED":
        return root_principal(account)
    import overcast.services.sts.api as sts

    admin_role = data["admin_role"]
    refused = ServiceError(
        "AccessDenied",
        f"Account {account} should have '{data['execution_role']}' role with trust relationship to Role "
        f"'{admin_role.rsplit('/', 1)[-1]}'.",
        403,
    )
    try:
        with service.db.transaction():
            admin = sts.credentials_for_role(
                service.platform, admin_role, "cloudformation.amazonaws.com", "AWSCloudFormationStackSet"
            )
        admin_session = service.platform.credentials.lookup(admin["AccessKeyId"])
        if admin_session is None:
            raise refused
        assumed = await service.platform.call(
            "sts",
            "AssumeRole",
            {
                "RoleArn": f"arn:aws:iam::{account}:role/{data['execution_role']}",
                "RoleSessionName": "AWSCloudFormationStackSet",
            },
            principal=admin_session.principal,
            account_id=admin_account,
            region=region,
        )
    except ServiceError:
        raise refused from None
    session = service.platform.credentials.lookup(assumed["Credentials"]["AccessKeyId"])
    if session is None:
        raise refused
    return session.principal


async def _settled(service: CloudFormationProvider, stack_arn: str):
    """The stack once its operation has ended."""
    while True:
        with service.db.transaction():
            stack = service.store.stack_by_arn(stack_arn)
        if stack is None or stack.operation is None:
            return stack
        task = service.engine.task(stack.id)
        if task is not None:
            await asyncio.wait({task}, timeout=1.0)
        else:
            await asyncio.sleep(0.05)
