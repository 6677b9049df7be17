"""State machines, their versions and aliases, definitions' validation, and tags."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.kit.paging import decode_token, page_of
from overcast.services.kit.tags import tag_dict, tag_list
from overcast.services.stepfunctions import definition as definitions
from overcast.services.stepfunctions.common import (
    TAG_RULES,
    check_name,
    invalid_arn,
    invalid_token,
    iso_date,
)
from overcast.services.stepfunctions.store import Alias, Machine, Version

if TYPE_CHECKING:
    from overcast.services.stepfunctions.provider import StepFunctionsProvider

MAX_VERSIONS = 1000
MAX_ALIASES = 100
_DEFAULT_LOGGING = {"level": "OFF", "includeExecutionData": False}
_DEFAULT_TRACING = {"enabled": False}
_DEFAULT_ENCRYPTION = {"type": "AWS_OWNED_KEY"}


def _validation(message: str) -> ServiceError:
    return ServiceError("ValidationException", message, 400)


class MachineOperations(Operations):
    service: StepFunctionsProvider

    # -- state machines --------------------------------------------------------------------------------------

    async def create_state_machine(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["name"]
        check_name(name)
        kind = params.get("type") or "STANDARD"
        text = params["definition"]
        _load(text, kind)
        logging = _logging(params.get("loggingConfiguration"), kind)
        await self.service.check_role(ctx, params["roleArn"])
        arn = ctx.arn("states", f"stateMachine:{name}")
        tags = tag_dict(params.get("tags"), "key", "value")
        with self.db.transaction():
            store = self.service.store
            existing = store.machine(arn)
            definition_id = store.definition_id(text)
            if existing is not None:
                same = (
                    existing.definition_id == definition_id
                    and existing.role_arn == params["roleArn"]
                    and existing.type == kind
                    and existing.logging == logging
                )
                if not same:
                    raise ServiceError(
                        "StateMachineAlreadyExists", f"State Machine Already Exists: '{arn}'", 400
                    )
                return {"stateMachineArn": arn, "creationDate": iso_date(existing.created_at)}
            now = self.clock.now()
            machine = Machine(
                0,
                ctx.account_id,
                ctx.region,
                name,
                arn,
                kind,
                definition_id,
                params["roleArn"],
                "",
                logging,
                params.get("tracingConfiguration") or dict(_DEFAULT_TRACING),
                params.get("encryptionConfiguration") or dict(_DEFAULT_ENCRYPTION),
                str(uuid.uuid4()),
                now,
                None,
                0,
            )
            machine.id = store.add_machine(machine)
            if tags:
                self.service.tags.add(arn, tags, TAG_RULES, account=ctx.account_id, region=ctx.region)
            result: dict[str, Any] = {"stateMachineArn": arn, "creationDate": iso_date(now)}
            if params.get("publish"):
                version = self._publish(machine, params.get("versionDescription") or "")
                result["stateMachineVersionArn"] = version.arn
            elif params.get("versionDescription"):
                raise _validation("Version description can only be set when publish is true")
            return result

    def describe_state_machine(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        machine, version, alias = self.service.resolve(ctx, params["stateMachineArn"])
        if alias is not None:
            raise invalid_arn(params["stateMachineArn"], "Resource type not valid in this context: alias")
        return self._shape(machine, version)

    def _shape(self, machine: Machine, version: Version | None) -> dict[str, Any]:
        source: Any = version or machine
        result: dict[str, Any] = {
            "stateMachineArn": version.arn if version else machine.arn,
            "name": machine.name,
            "status": "ACTIVE",
            "definition": self.service.store.definition_text(source.definition_id),
            "roleArn": source.role_arn,
            "type": machine.type,
            "creationDate": iso_date(source.created_at),
            "loggingConfiguration": source.logging,
            "tracingConfiguration": source.tracing,
            "revisionId": source.revision_id,
            "encryptionConfiguration": source.encryption,
        }
        if version is not None and version.description:
            result["description"] = version.description
        variables = _variable_references(self.service.engine.definition(source.definition_id).doc)
        if variables:
            result["variableReferences"] = variables
        return result

    async def update_state_machine(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["stateMachineArn"]
        with self.db.transaction():
            machine, version, alias = self.service.resolve(ctx, arn)
        if version is not None or alias is not None:
            raise invalid_arn(arn, "Resource type not valid in this context: version")
        changes = (
            "definition",
            "roleArn",
            "loggingConfiguration",
            "tracingConfiguration",
            "encryptionConfiguration",
        )
        if not any(params.get(key) is not None for key in changes):
            raise ServiceError(
                "MissingRequiredParameter",
                "Either the definition, the role ARN, the LoggingConfiguration, the EncryptionConfiguration or the "
                "TracingConfiguration must be specified",
                400,
            )
        if params.get("definition") is not None:
            _load(params["definition"], machine.type)
        if params.get("roleArn"):
            await self.service.check_role(ctx, params["roleArn"])
        with self.db.transaction():
            store = self.service.store
            machine = store.machine(machine.arn) or machine
            now = self.clock.now()
            revised = False
            if params.get("definition") is not None:
                definition_id = store.definition_id(params["definition"])
                revised = revised or definition_id != machine.definition_id
                machine.definition_id = definition_id
            if params.get("roleArn"):
                revised = revised or params["roleArn"] != machine.role_arn
                machine.role_arn = params["roleArn"]
            if params.get("loggingConfiguration") is not None:
                machine.logging = _logging(params["loggingConfiguration"], machine.type)
            if params.get("tracingConfiguration") is not None:
                machine.tracing = params["tracingConfiguration"]
            if params.get("encryptionConfiguration") is not None:
                machine.encryption = params["encryptionConfiguration"]
            if revised:
                machine.revision_id = str(uuid.uuid4())
            machine.updated_at = now
            store.update_machine(machine)
            result: dict[str, Any] = {"updateDate": iso_date(now), "revisionId": machine.revision_id}
            if params.get("publish"):
                result["stateMachineVersionArn"] = self._publish(
                    machine, params.get("versionDescription") or ""
                ).arn
            return result

    def delete_state_machine(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["stateMachineArn"]
        parsed = self.service.parse_arn(ctx, arn, ("stateMachine",))
        if len(parsed.resource.split(":")) != 2:
            raise _validation(
                f"Invalid Arn: '{arn}'. Use DeleteStateMachineVersion or DeleteStateMachineAlias."
            )
        machine = self.service.store.machine(arn)
        if machine is None:
            return {}  # AWS answers a missing machine with success
        for alias in self.service.store.aliases(machine.id, "", MAX_ALIASES + 1):
            self.service.tags.forget(alias.arn)
        self.service.tags.forget(arn)
        self.service.store.delete_machine(machine.id)
        return {}

    def list_state_machines(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = params.get("maxResults") or 100
        after = decode_token(params.get("nextToken"), invalid_token, "machines") or ""
        rows = self.service.store.machines_after(ctx.account_id, ctx.region, after, limit + 1)
        page, token = page_of(rows, limit, lambda m: m.name, "machines")
        result: dict[str, Any] = {
            "stateMachines": [
                {
                    "stateMachineArn": m.arn,
                    "name": m.name,
                    "type": m.type,
                    "creationDate": iso_date(m.created_at),
                }
                for m in page
            ]
        }
        if token:
            result["nextToken"] = token
        return result

    def validate_state_machine_definition(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        _, diagnostics = definitions.parse(params["definition"], params.get("type") or "STANDARD")
        limit = params.get("maxResults") or 100
        errors = [d for d in diagnostics if d.severity == "ERROR"]
        shown = diagnostics[:limit]
        return {
            "result": "FAIL" if errors else "OK",
            "diagnostics": [d.shape() for d in shown],
            "truncated": len(diagnostics) > limit,
        }

    # -- versions --------------------------------------------------------------------------------------------

    def publish_state_machine_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        machine, version, alias = self.service.resolve(ctx, params["stateMachineArn"])
        if version is not None or alias is not None:
            raise invalid_arn(params["stateMachineArn"], "Resource type not valid in this context: version")
        if params.get("revisionId") and params["revisionId"] != machine.revision_id:
            raise ServiceError(
                "ConflictException",
                f"Failed to publish the State Machine version for revision {params['revisionId']}. The current "
                f"State Machine revision is {machine.revision_id}.",
                400,
            )
        published = self._publish(machine, params.get("description") or "")
        return {"creationDate": iso_date(published.created_at), "stateMachineVersionArn": published.arn}

    def _publish(self, machine: Machine, description: str) -> Version:
        store = self.service.store
        latest = store.latest_version(machine.id)
        if latest is not None and latest.revision_id == machine.revision_id:
            return latest  # the current revision is already published: AWS returns that version
        if store.count_versions(machine.id) >= MAX_VERSIONS:
            raise ServiceError(
                "ServiceQuotaExceededException",
                f"Maximum number of versions ({MAX_VERSIONS}) reached for state machine {machine.arn}",
                400,
            )
        number = machine.last_version + 1
        version = Version(
            machine.id,
            number,
            f"{machine.arn}:{number}",
            machine.definition_id,
            machine.role_arn,
            description,
            machine.revision_id,
            machine.logging,
            machine.tracing,
            machine.encryption,
            self.clock.now(),
        )
        store.add_version(version)
        machine.last_version = number
        store.update_machine(machine)
        return version

    def list_state_machine_versions(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        machine, version, alias = self.service.resolve(ctx, params["stateMachineArn"])
        if version is not None or alias is not None:
            raise invalid_arn(params["stateMachineArn"], "Resource type not valid in this context: version")
        limit = params.get("maxResults") or 100
        below = decode_token(params.get("nextToken"), invalid_token, f"versions:{machine.arn}") or 1 << 62
        rows = self.service.store.versions(machine.id, below, limit + 1)
        page, token = page_of(rows, limit, lambda v: v.version, f"versions:{machine.arn}")
        result: dict[str, Any] = {
            "stateMachineVersions": [
                {"stateMachineVersionArn": v.arn, "creationDate": iso_date(v.created_at)} for v in page
            ]
        }
        if token:
            result["nextToken"] = token
        return result

    def delete_state_machine_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["stateMachineVersionArn"]
        parsed = self.service.parse_arn(ctx, arn, ("stateMachine",))
        parts = parsed.resource.split(":")
        if len(parts) != 3 or not parts[2].isdigit():
            raise invalid_arn(arn)
        if self.service.store.version(arn) is None:
            return {}
        routing = self.service.store.aliases_routing_to(arn)
        if routing:
            raise ServiceError(
                "ConflictException",
                "Version to be deleted must not be referenced by an alias. Current list of aliases referencing "
                f"this version: [{', '.join(routing)}]",
                400,
            )
        self.service.store.delete_version(arn)
        return {}

    # -- aliases ---------------------------------------------------------------------------------------------

    def create_state_machine_alias(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["name"]
        routing = params["routingConfiguration"]
        machine = self._routing_machine(ctx, routing)
        arn = f"{machine.arn}:{name}"
        store = self.service.store
        existing = store.alias(arn)
        if existing is not None:
            if existing.routing == routing and existing.description == (params.get("description") or ""):
                return {"stateMachineAliasArn": arn, "creationDate": iso_date(existing.created_at)}
            raise ServiceError(
                "ConflictException",
                f"Failed to create alias because an alias with the same name and a "
                f"different routing configuration already exists: {arn}",
                400,
            )
        if store.count_aliases(machine.id) >= MAX_ALIASES:
            raise ServiceError(
                "ServiceQuotaExceededException",
                f"Maximum number of aliases ({MAX_ALIASES}) reached for state machine {machine.arn}",
                400,
            )
        now = self.clock.now()
        store.add_alias(Alias(machine.id, name, arn, params.get("description") or "", routing, now, None))
        return {"stateMachineAliasArn": arn, "creationDate": iso_date(now)}

    def _routing_machine(self, ctx: RequestContext, routing: list[dict[str, Any]]) -> Machine:
        """The machine whose versions a routing configuration names (one or two, weights summing to 100)."""
        machines = set()
        found: Machine | None = None
        for entry in routing:
            machine, version, _ = self.service.resolve(ctx, entry["stateMachineVersionArn"])
            if version is None:
                raise _validation(
                    f"Routing configuration must contain state machine version ARNs: "
                    f"{entry['stateMachineVersionArn']}"
                )
            machines.add(machine.arn)
            found = machine
        if len({e["stateMachineVersionArn"] for e in routing}) != len(routing):
            raise _validation("Routing configuration must contain distinct state machine version ARNs")
        if len(machines) != 1:
            raise _validation(
                "Routing configuration must contain state machine versions of the same state machine"
            )
        if sum(e["weight"] for e in routing) != 100:
            raise _validation("Sum of routing configuration weights must be equal to 100")
        assert found is not None
        return found

    def describe_state_machine_alias(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        alias = self._alias(ctx, params["stateMachineAliasArn"])
        result: dict[str, Any] = {
            "stateMachineAliasArn": alias.arn,
            "name": alias.name,
            "routingConfiguration": alias.routing,
            "creationDate": iso_date(alias.created_at),
        }
        if alias.description:
            result["description"] = alias.description
        if alias.updated_at is not None:
            result["updateDate"] = iso_date(alias.updated_at)
        return result

    def _alias(self, ctx: RequestContext, arn: str) -> Alias:
        parsed = self.service.parse_arn(ctx, arn, ("stateMachine",))
        parts = parsed.resource.split(":")
        if len(parts) != 3 or parts[2].isdigit():
            raise invalid_arn(arn)
        alias = self.service.store.alias(arn)
        if alias is None:
            raise ServiceError("ResourceNotFound", f"Resource not found: '{arn}'", 400)
        return alias

    def update_state_machine_alias(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        alias = self._alias(ctx, params["stateMachineAliasArn"])
        if params.get("description") is None and params.get("routingConfiguration") is None:
            raise _validation("Either the description or the RoutingConfiguration must be specified")
        if params.get("routingConfiguration") is not None:
            machine = self._routing_machine(ctx, params["routingConfiguration"])
            if machine.id != alias.machine_id:
                raise _validation("Routing configuration must contain versions of the alias's state machine")
            alias.routing = params["routingConfiguration"]
        if params.get("description") is not None:
            alias.description = params["description"]
        alias.updated_at = self.clock.now()
        self.service.store.update_alias(alias)
        return {"updateDate": iso_date(alias.updated_at)}

    def delete_state_machine_alias(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        alias = self._alias(ctx, params["stateMachineAliasArn"])
        self.service.store.delete_alias(alias.arn)
        self.service.tags.forget(alias.arn)
        return {}

    def list_state_machine_aliases(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        machine, version, alias = self.service.resolve(ctx, params["stateMachineArn"])
        if alias is not None:
            raise invalid_arn(params["stateMachineArn"], "Resource type not valid in this context: alias")
        limit = params.get("maxResults") or 100
        after = decode_token(params.get("nextToken"), invalid_token, f"aliases:{machine.arn}") or ""
        rows = self.service.store.aliases(machine.id, after, limit + 1)
        if version is not None:
            rows = [a for a in rows if any(r["stateMachineVersionArn"] == version.arn for r in a.routing)]
        page, token = page_of(rows, limit, lambda a: a.name, f"aliases:{machine.arn}")
        result: dict[str, Any] = {
            "stateMachineAliases": [
                {"stateMachineAliasArn": a.arn, "creationDate": iso_date(a.created_at)} for a in page
            ]
        }
        if token:
            result["nextToken"] = token
        return result

    # -- tags ------------------------------------------------------------------------------------------------

    def _taggable(self, ctx: RequestContext, arn: str) -> str:
        parsed = self.service.parse_arn(ctx, arn, ("stateMachine", "activity"))
        store = self.service.store
        kind = parsed.resource.split(":", 1)[0]
        exists = store.machine(arn) if kind == "stateMachine" else store.activity(arn)
        if kind == "stateMachine" and exists is None and len(parsed.resource.split(":")) == 3:
            exists = store.alias(arn)
        if exists is None:
            raise ServiceError("ResourceNotFound", f"Resource not found: '{arn}'", 400, resourceName=arn)
        return arn

    def tag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = self._taggable(ctx, params["resourceArn"])
        self.service.tags.add(
            arn,
            tag_dict(params["tags"], "key", "value"),
            TAG_RULES,
            account=ctx.account_id,
            region=ctx.region,
        )
        return {}

    def untag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = self._taggable(ctx, params["resourceArn"])
        self.service.tags.remove(arn, params["tagKeys"])
        return {}

    def list_tags_for_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = self._taggable(ctx, params["resourceArn"])
        return {"tags": tag_list(self.service.tags.get(arn), "key", "value")}


def _load(text: str, kind: str) -> definitions.Definition:
    try:
        return definitions.load(text, kind)
    except definitions.DefinitionProblem as problem:
        raise ServiceError("InvalidDefinition", str(problem), 400) from None


def _logging(config: dict[str, Any] | None, kind: str) -> dict[str, Any]:
    if not config:
        return dict(_DEFAULT_LOGGING)
    level = config.get("level") or "OFF"
    destinations = config.get("destinations") or []
    if level != "OFF" and len(destinations) != 1:
        raise ServiceError(
            "InvalidLoggingConfiguration",
            "Invalid Logging Configuration: Must specify exactly one Log Destination.",
            400,
        )
    for destination in destinations:
        group = (destination.get("cloudWatchLogsLogGroup") or {}).get("logGroupArn") or ""
        if not group.startswith("arn:") or ":log-group:" not in group:
            raise ServiceError(
                "InvalidLoggingConfiguration",
                f"Invalid Logging Configuration: Invalid Log Group ARN: {group}",
                400,
            )
    found: dict[str, Any] = {"level": level, "includeExecutionData": bool(config.get("includeExecutionData"))}
    if destinations:
        found["destinations"] = destinations
    return found


def _variable_references(doc: dict[str, Any]) -> dict[str, list[str]]:
    """The variables each state reads ($name in JSONata expressions and JSONPath fields), by state name."""
    import re

    found: dict[str, list[str]] = {}
    pattern = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)\b(?!\s*\()")

    def walk(container: dict[str, Any]) -> None:
        for name, state in (container.get("States") or {}).items():
            names = sorted({m for m in pattern.findall(_text_of(state)) if m not in ("states",)})
            if names:
                found[name] = names
            for branch in state.get("Branches") or ():
                walk(branch)
            processor = state.get("ItemProcessor") or state.get("Iterator")
            if processor:
                walk(processor)

    walk(doc)
    return found


def _text_of(state: dict[str, Any]) -> str:
    import json

    shallow = {k: v for k, v in state.items() if k not in ("Branches", "ItemProcessor", "Iterator")}
    return json.dumps(shallow)
