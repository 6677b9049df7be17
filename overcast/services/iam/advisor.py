"""Access advisor: which services an IAM user, group, role or managed policy allows, and when each was last used.

The platform's authorizer reports every call of a user, role session or federated user
(`record_service_access`); the first call per (entity, service) is written at once, later ones at most once a
minute of virtual time, so the hot path rarely writes. GenerateServiceLastAccessedDetails takes a snapshot
(the job completes at once) that GetServiceLastAccessedDetails and GetServiceLastAccessedDetailsWithEntities
page through.
"""

from __future__ import annotations

import fnmatch
import json
import uuid
from functools import cache
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.identity import Principal
from overcast.policy import document as policy_doc
from overcast.services.base import Operations
from overcast.services.kit.arns import parse_arn

if TYPE_CHECKING:
    from overcast.services.iam.provider import IamProvider
    from overcast.services.iam.store import Entity, IamStore

_WRITE_EVERY = 60.0  # seconds of virtual time between two writes for the same (entity, service)
_KINDS = {"user": "USER", "role": "ROLE", "group": "GROUP"}


@cache
def service_names() -> dict[str, str]:
    """IAM service namespace -> AWS's service name, for the services Overcast serves."""
    import botocore.session

    from overcast.policy.actions import PREFIXES
    from overcast.services import PROVIDERS

    session = botocore.session.get_session()
    names: dict[str, str] = {}
    for service in sorted(PROVIDERS):
        namespace = PREFIXES.get(service, service)
        try:
            full = session.get_service_model(service).metadata.get("serviceFullName", service)
        except Exception:  # a provider without a botocore model of that name
            full = service
        names.setdefault(namespace, full)
    return names


def _invalid(message: str) -> ServiceError:
    return ServiceError("InvalidInput", message, 400)


class AccessRecorder:
    """Records the calls of users and role sessions (the authorizer reports each one), for the access advisor
    and access keys' last use. What it recently wrote is remembered, so the hot path rarely writes."""

    def __init__(self, store: IamStore, clock: Any) -> None:
        self.store = store
        self.clock = clock
        self._seen: dict[tuple[str, str], float] = {}

    def forget(self) -> None:
        self._seen = {}

    def record(self, principal: Principal, namespace: str, region: str) -> None:
        attrs = principal.attributes
        if principal.kind == "user":
            entity_arn = principal.arn
        elif principal.kind == "assumed-role":
            entity_arn = attrs.get("role_arn") or ""
        elif principal.kind == "federated-user":
            entity_arn = attrs.get("parent") or ""
        else:
            return
        if not entity_arn:
            return
        now = self.clock.now()
        last = self._seen.get((entity_arn, namespace))
        if last is not None and abs(now - last) < _WRITE_EVERY:
            return
        if len(self._seen) > 50_000:
            self._seen.clear()
        self._seen[(entity_arn, namespace)] = now
        self.store.record_access(principal.account_id, entity_arn, namespace, now, region)
        if principal.kind == "user" and (principal.access_key_id or "").startswith("AKIA"):
            self.store.touch_access_key(principal.access_key_id, now, namespace, region)


class AdvisorOperations(Operations):
    service: IamProvider

    def generate_service_last_accessed_details(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        arn = params["Arn"]
        granularity = params.get("Granularity") or "SERVICE_LEVEL"
        if granularity not in ("SERVICE_LEVEL", "ACTION_LEVEL"):
            raise _invalid(f"Invalid granularity: {granularity}")
        documents, entities = self._advised(ctx, arn)
        allowed = _allowed_namespaces(documents, set(service_names()))
        accesses = self.service.store.accesses(ctx.account_id, [e.arn for e in entities])
        services = []
        for namespace in sorted(allowed):
            used = [row for row in accesses if row[1] == namespace]
            item: dict[str, Any] = {
                "ServiceName": service_names()[namespace],
                "ServiceNamespace": namespace,
                "TotalAuthenticatedEntities": len({row[0] for row in used}),
            }
            if used:
                entity_arn, _, moment, region = max(used, key=lambda row: row[2])
                item.update(
                    LastAuthenticated=moment,
                    LastAuthenticatedEntity=entity_arn,
                    LastAuthenticatedRegion=region,
                )
            services.append(item)
        by_arn = {e.arn: e for e in entities}
        per_service = {
            namespace: [
                {"arn": row[0], "moment": row[2], "entity": _entity_info(by_arn[row[0]])}
                for row in accesses
                if row[1] == namespace and row[0] in by_arn
            ]
            for namespace in allowed
        }
        job_id = str(uuid.uuid4())
        now = self.clock.now()
        snapshot = {
            "type": granularity,
            "services": services,
            "entities": per_service,
            "all_entities": [_entity_info(e) for e in entities],
        }
        self.service.store.put_access_job(job_id, ctx.account_id, arn, now, json.dumps(snapshot))
        return {"JobId": job_id}

    def get_service_last_accessed_details(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        created, snapshot = self._job(ctx, params["JobId"])
        items, paging = self._page(ctx, params, snapshot["services"])
        return {
            "JobStatus": "COMPLETED",
            "JobType": snapshot["type"],
            "JobCreationDate": created,
            "JobCompletionDate": created,
            "ServicesLastAccessed": items,
            **paging,
        }

    def get_service_last_accessed_details_with_entities(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        created, snapshot = self._job(ctx, params["JobId"])
        namespace = params["ServiceNamespace"]
        if namespace not in snapshot["entities"]:
            raise _invalid(
                f"The service namespace {namespace} is not in the report of job {params['JobId']}."
            )
        used = {row["arn"]: row for row in snapshot["entities"][namespace]}
        details = []
        for info in snapshot["all_entities"]:
            detail: dict[str, Any] = {"EntityInfo": info}
            if info["Arn"] in used:
                detail["LastAuthenticated"] = used[info["Arn"]]["moment"]
            details.append(detail)
        details.sort(key=lambda d: (-(d.get("LastAuthenticated") or 0), d["EntityInfo"]["Arn"]))
        items, paging = self._page(ctx, params, details)
        return {
            "JobStatus": "COMPLETED",
            "JobCreationDate": created,
            "JobCompletionDate": created,
            "EntityDetailsList": items,
            **paging,
        }

    # -- helpers -------------------------------------------------------------------------------------------

    def _page(self, ctx: RequestContext, params: dict[str, Any], items: list[Any]) -> tuple[list[Any], dict]:
        """A page of a job's snapshot: the Marker holds the offset it resumes at."""
        start = self.service.marker_position(ctx, params) or 0
        if not isinstance(start, int):
            raise _invalid("Invalid Marker.")
        rows = list(enumerate(items, 1))[start:]
        found, paging = self.service.page(ctx, params, rows, lambda row: row[0])
        return [item for _, item in found], paging

    def _job(self, ctx: RequestContext, job_id: str) -> tuple[float, dict[str, Any]]:
        found = self.service.store.access_job(ctx.account_id, job_id)
        if found is None:
            raise ServiceError("NoSuchEntity", f"No job found with id {job_id}.", 404)
        return found[0], json.loads(found[1])

    def list_policies_granting_service_access(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        """For each namespace asked about, the permissions policies (managed, and inline with their owner) of a
        user (with its groups'), group or role that allow some action of that service. Boundaries, resource
        policies and SCPs play no part, as AWS documents."""
        arn = params["Arn"]
        parsed = parse_arn(arn)
        kind = parsed.resource_type if parsed is not None and parsed.service == "iam" else ""
        if kind not in ("user", "group", "role"):
            raise _invalid(f"ARN {arn} is not valid.")
        entity = self.service.store.by_arn(arn)
        if entity is None or entity.account != ctx.account_id or entity.kind != kind:
            raise ServiceError("NoSuchEntity", f"The entity {arn} does not exist.", 404)
        owners = [entity]
        if kind == "user":
            owners += [
                g
                for g in (
                    self.service.store.get(ctx.account_id, "group", key)
                    for key in self.service.store.groups_of(ctx.account_id, entity.key)
                )
                if g is not None
            ]
        granted: dict[str, list[dict[str, Any]]] = {ns: [] for ns in params["ServiceNamespaces"]}
        for policy, document in self._policies_of(ctx.account_id, owners):
            for namespace in _allowed_namespaces([document], set(granted)):
                granted[namespace].append(policy)
        return {
            "PoliciesGrantingServiceAccess": [
                {"ServiceNamespace": namespace, "Policies": policies}
                for namespace, policies in granted.items()
            ],
            "IsTruncated": False,
        }

    def _policies_of(self, account: str, owners: list[Entity]) -> list[tuple[dict[str, Any], str]]:
        """(the answer's entry, document) of every managed and inline policy of `owners`."""
        found = []
        for owner in owners:
            for arn in self.service.store.attached(account, owner.kind, owner.key):
                document = self.service.managed_document(account, arn)
                found.append(
                    (
                        {"PolicyName": arn.rsplit("/", 1)[1], "PolicyType": "MANAGED", "PolicyArn": arn},
                        document,
                    )
                )
            for name, document in self.service.store.inline(account, owner.kind, owner.key):
                entry = {
                    "PolicyName": name,
                    "PolicyType": "INLINE",
                    "EntityType": owner.kind.upper(),
                    "EntityName": owner.name,
                }
                found.append((entry, document))
        return found

    def _advised(self, ctx: RequestContext, arn: str) -> tuple[list[str], list[Entity]]:
        """The policy documents that grant, and the users/roles whose calls count, for `arn` (a group counts
        its members, a managed policy the users, groups' members and roles it is attached to)."""
        account = ctx.account_id
        parsed = parse_arn(arn)
        is_iam = parsed is not None and (parsed.partition, parsed.service, parsed.region) == (
            "aws",
            "iam",
            "",
        )
        kind = parsed.resource_type if parsed is not None and is_iam else ""
        if kind not in ("user", "group", "role", "policy"):
            raise _invalid(f"ARN {arn} is not valid.")
        if kind == "policy":
            policy = self.service.attachable_policy(ctx, arn)
            owners = [
                self.service.store.get(account, k, key)
                for k, key in self.service.store.attachments_of(account, arn)
            ]
            return [policy["document"]], self._callers([o for o in owners if o is not None])
        entity = self.service.store.by_arn(arn)
        if entity is None or entity.account != account or entity.kind != kind:
            raise ServiceError("NoSuchEntity", f"The entity {arn} does not exist.", 404)
        documents = self.service.policy_documents(account, entity.kind, entity.key)
        if entity.kind == "user":
            for group_key in self.service.store.groups_of(account, entity.key):
                documents += self.service.policy_documents(account, "group", group_key)
        return documents, self._callers([entity])

    def _callers(self, entities: list[Entity]) -> list[Entity]:
        """Users and roles (groups replaced by their members), each once."""
        found: dict[str, Entity] = {}
        for entity in entities:
            if entity.kind == "group":
                for user_key in self.service.store.members_of(entity.account, entity.key):
                    user = self.service.store.get(entity.account, "user", user_key)
                    if user is not None:
                        found.setdefault(user.arn, user)
            else:
                found.setdefault(entity.arn, entity)
        return sorted(found.values(), key=lambda e: e.arn)


def _entity_info(entity: Entity) -> dict[str, Any]:
    kind = entity.kind
    return {
        "Arn": entity.arn,
        "Name": entity.name,
        "Type": _KINDS.get(kind, kind.upper()),
        "Id": entity.id,
        "Path": entity.path,
    }


def _allowed_namespaces(documents: list[str], known: set[str]) -> set[str]:
    """The services (of `known`) that some Allow statement of `documents` grants an action of."""
    allowed: set[str] = set()
    for text in documents:
        policy = policy_doc.parse(text)
        if policy is None:
            continue
        for statement in policy.statements:
            if statement.effect != "Allow":
                continue
            if statement.actions is None:  # NotAction: everything but some actions
                allowed |= known
                continue
            for pattern in statement.actions:
                namespace = pattern.split(":", 1)[0].lower() if ":" in pattern else pattern.lower()
                allowed |= {n for n in known if fnmatch.fnmatchcase(n, namespace)}
    return allowed
