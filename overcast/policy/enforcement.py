"""The platform's authorizer: every request is checked here before its operation runs (Platform.authorizer).

Modes (config.iam):
- off: identity policies are not evaluated, but resource-side rules hold: an anonymous caller gets only what a
  resource policy makes public, and a caller from another account needs the resource's policy to allow it.
- enforce: AWS's full evaluation (SCPs, resource policies, identity policies, boundaries, session policies), and
  AWS's denial text.
- soft: evaluate like enforce, never deny; every decision is recorded, and `least_privilege_report(platform)`
  turns the record into one policy per principal granting exactly what it used.

What the engine knows of a service comes from the hooks its provider declares (services/base.py): the
resource a request acts on (`resource_arn`), service condition keys (`condition_keys`) and its resources'
owners, policies and tags (`authorization_resource -> ResourcePolicy | None`). A service that does not declare
`authorization_resource` has no resource policies yet, and resource-side checks allow its calls.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.identity import Principal
from overcast.policy import document as policy_doc
from overcast.policy.actions import iam_action, resource_account, resource_arn
from overcast.policy.evaluate import Decision, Policies, Request, denial_message, evaluate
from overcast.policy.store import ObservationStore

if TYPE_CHECKING:
    from overcast.platform import Platform

log = logging.getLogger("overcast.iam")


_UNKNOWN = object()  # the resource has not been looked up yet


@dataclass
class ResourcePolicy:
    """What a service tells the engine about one of its resources."""

    owner: str  # the account that owns the resource
    document: str | None = None  # the resource-based policy (bucket/queue/topic/function policy), if any
    tags: dict[str, str] = field(default_factory=dict)  # for aws:ResourceTag/<key>
    arn: str | None = None  # the resource's full ARN, when the request named it without a part (IAM paths)
    # The resource policy must allow even callers of the owning account (a KMS key policy): identity policies
    # count only where it delegates to the account ("Principal": {"AWS": "arn:aws:iam::<account>:root"}).
    required: bool = False


@dataclass
class Identity:
    """The identity-side policies of a principal, as IAM stores them (cached per IAM generation)."""

    policies: list[policy_doc.Policy]
    boundary: policy_doc.Policy | None = None
    tags: dict[str, str] = field(default_factory=dict)


# Services whose denials are called AccessDenied (XML/query protocols and SQS); JSON ones say AccessDeniedException.
_ACCESS_DENIED = {
    "s3",
    "sqs",
    "iam",
    "sts",
    "cloudformation",
    "elasticloadbalancing",
    "elbv2",  # botocore's name of the same service (requests carry it)
    "elb",
    "autoscaling",
    "monitoring",
    "ses",
    "rds",
    "elasticache",
    "redshift",
    "elasticbeanstalk",
    "sdb",
    "cloudfront",
    "route53",
}
# JSON services whose AccessDeniedException is a 400 (a client error like their others), not a 403.
_DENIED_WITH_400 = {"dynamodb", "kms", "secretsmanager", "ssm"}
# STS checks role trust policies itself (the trust policy is the role's resource policy).
_SELF_CHECKED = {
    ("sts", "AssumeRole"),
    ("sts", "AssumeRoleWithWebIdentity"),
    ("sts", "AssumeRoleWithSAML"),
    ("sts", "GetCallerIdentity"),
}

# Principals whose calls feed IAM's access advisor (and their access keys' last use).
_ADVISED = {"user", "assumed-role", "federated-user"}


def access_denied(service: str, message: str) -> ServiceError:
    if service == "ec2":
        return ServiceError("UnauthorizedOperation", message, 403)
    if service == "sns":  # SNS's model: AuthorizationErrorException
        return ServiceError("AuthorizationError", message, 403)
    if service in _ACCESS_DENIED:
        return ServiceError("AccessDenied", message, 403)
    return ServiceError("AccessDeniedException", message, 400 if service in _DENIED_WITH_400 else 403)


def request_tags(params: dict[str, Any]) -> dict[str, str]:
    """Tags a request sets, in any of the shapes AWS APIs use ([{Key, Value}] lists or {key: value} maps)."""
    for name in ("Tags", "tags", "TagList", "Tagging"):
        value = params.get(name)
        if isinstance(value, dict) and "TagSet" in value:
            value = value["TagSet"]
        if isinstance(value, dict):
            return {str(k): str(v) for k, v in value.items()}
        if isinstance(value, list):
            tags = {}
            for tag in value:
                if isinstance(tag, dict):
                    key = tag.get("Key", tag.get("key", tag.get("TagKey")))
                    if key is not None:
                        tags[str(key)] = str(tag.get("Value", tag.get("value", tag.get("TagValue", ""))))
            return tags
    return {}


def principal_type(principal: Principal) -> str:
    return {
        "root": "Account",
        "user": "User",
        "assumed-role": "AssumedRole",
        "federated-user": "FederatedUser",
        "anonymous": "Anonymous",
        "service": "AWSService",
    }.get(principal.kind, principal.kind)


def build_context(
    principal: Principal,
    now: float,
    *,
    identity: Identity | None = None,
    org_id: str | None = None,
    region: str | None = None,
    source_ip: str | None = None,
    secure: bool = False,
    tags: dict[str, str] | None = None,
    resource_tags: dict[str, str] | None = None,
    resource_account: str | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, list[str]]:
    """The global condition keys of a request (lower-cased names, list values)."""
    attrs = principal.attributes
    context: dict[str, list[str]] = {
        "aws:currenttime": [datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")],
        "aws:epochtime": [str(int(now))],
        "aws:securetransport": ["true" if secure else "false"],
        "aws:principaltype": [principal_type(principal)],
        "aws:viaawsservice": ["false"],
    }
    if not principal.is_anonymous:
        context["aws:principalarn"] = [attrs.get("role_arn") or principal.arn]
        context["aws:principalaccount"] = [principal.account_id]
        context["aws:userid"] = [principal.user_id]
    if principal.kind == "user":
        context["aws:username"] = [attrs.get("user_name", principal.arn.rsplit("/", 1)[-1])]
    if principal.kind == "service":
        context["aws:principalservicename"] = [principal.arn]
    if principal.kind in ("assumed-role", "federated-user") or "mfa" in attrs:  # absent for long-term keys
        context["aws:multifactorauthpresent"] = ["true" if attrs.get("mfa") else "false"]
        if attrs.get("issued_at"):
            context["aws:tokenissuetime"] = [
                datetime.fromtimestamp(attrs["issued_at"], UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            ]
            if attrs.get("mfa"):
                context["aws:multifactorauthage"] = [str(int(now - attrs["issued_at"]))]
        if attrs.get("source_identity"):
            context["aws:sourceidentity"] = [attrs["source_identity"]]
    if attrs.get("assumed_root"):  # a session from STS AssumeRoot
        context["aws:assumedroot"] = ["true"]
    principal_tags = dict(identity.tags) if identity else {}
    principal_tags.update(attrs.get("tags") or {})
    for key, value in principal_tags.items():
        context[f"aws:principaltag/{key.lower()}"] = [value]
    if org_id:
        context["aws:principalorgid"] = [org_id]
    if region:
        context["aws:requestedregion"] = [region]
    if source_ip:
        context["aws:sourceip"] = [source_ip]
    if tags:
        for key, value in tags.items():
            context[f"aws:requesttag/{key.lower()}"] = [value]
        context["aws:tagkeys"] = list(tags)
    for key, value in (resource_tags or {}).items():
        context[f"aws:resourcetag/{key.lower()}"] = [value]
    if resource_account:
        context["aws:resourceaccount"] = [resource_account]
    # Keys a web identity's session carries (`cognito-identity.amazonaws.com:sub`...), for policy variables.
    for key, value in (attrs.get("context_keys") or {}).items():
        context[key.lower()] = value if isinstance(value, list) else [str(value)]
    for key, value in (extra or {}).items():
        context[key.lower()] = value if isinstance(value, list) else [str(value)]
    return context


class LazyContext(dict):
    """A request context built on first use: most statements have no conditions or variables, and then the
    request's condition keys are never computed."""

    def __init__(self, build: Callable[[], dict[str, list[str]]]) -> None:
        super().__init__()
        self._build: Callable[[], dict[str, list[str]]] | None = build

    def _ready(self) -> None:
        if self._build is not None:
            build, self._build = self._build, None
            self.update(build())

    def get(self, key: str, default: Any = None) -> Any:
        self._ready()
        return super().get(key, default)

    def __getitem__(self, key: str) -> list[str]:
        self._ready()
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self._ready()
        return super().__contains__(key)

    def __iter__(self):
        self._ready()
        return super().__iter__()

    def __len__(self) -> int:
        self._ready()
        return super().__len__()

    def items(self):
        self._ready()
        return super().items()


class Authorizer:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.mode = platform.config.iam
        self._identities: OrderedDict[tuple[str, int], Identity] = OrderedDict()
        self.observations = ObservationStore(platform.db)  # soft mode's record
        self._orgs: Any = None  # the Organizations provider, once it runs (False: not running yet)
        self._iam: Any = None  # the IAM provider, looked up once (False: not available)
        self._logged: set[tuple[str, str, str]] = set()  # soft mode: would-be denials already logged

    # -- the hook ------------------------------------------------------------------------------------------

    def __call__(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        if ctx.principal.kind in _ADVISED:  # access advisor and access keys' last use, in every mode
            self._note_access(ctx)
        if (ctx.service, ctx.operation) in _SELF_CHECKED or self._self_authorized(ctx):
            return
        if ctx.principal.is_anonymous and self.platform.serves_unsigned(ctx.service, ctx.operation):
            return  # AWS serves it unsigned: its tokens (a Cognito session, a web identity) authorize it
        self.authorize(ctx, params)

    def authorize(
        self,
        ctx: RequestContext,
        params: dict[str, Any],
        action: str | None = None,
        arn: str | None = None,
    ) -> None:
        """Whether ctx.principal may perform `action` on `arn` (by default the request's own action and
        resource), in the platform's mode; raises AccessDenied if not. An operation that AWS authorizes on more
        than one resource (CopyObject reads its source too) asks again here for each further (action, arn):
        `Platform.authorize(ctx, action, arn)`."""
        if action is None:
            action = self.action_of(ctx, params)
        if self.mode == "off":
            self._resource_side_only(ctx, params, action, arn)
            return
        principal = ctx.principal
        scps = self.scp_levels(principal.account_id) if principal.kind != "service" else None
        known = _UNKNOWN
        attrs = principal.attributes
        if (
            principal.kind == "root"
            and not scps
            and not attrs.get("session_policies")
            and not attrs.get("task_policies")
        ):
            if not self._has_resource_policies(ctx.service):
                return  # the own account's root, no SCPs in play: nothing can deny
            # Only a resource policy could deny the root of the account that owns the resource: without one
            # (or without the resource), evaluate() would allow exactly when the resource is the root's own.
            arn = arn or self.resource_of(ctx, params)
            known = self.resource_policy(ctx, arn)
            if known is None or not known.document:
                owner = known.owner if known is not None else (resource_account(arn) or None)
                if owner is None or owner == principal.account_id:
                    return
        request, decision = self.decide(ctx, params, scps, known, action, arn)
        if self.mode == "soft":
            if principal.kind != "root":  # policies cannot be attached to a root: nothing to report
                self.observe(request, decision)
            if not decision.allowed:
                self._log_soft_denial(ctx.service, request, decision)
            return
        if not decision.allowed:
            raise access_denied(ctx.service, self._denial_text(ctx, request, decision))

    def _denial_text(self, ctx: RequestContext, request: Request, decision: Decision) -> str:
        """Why a request was refused; S3 says it only within the resource's account or organization (AWS:
        anyone else, anonymous callers included, reads "Access Denied")."""
        if ctx.service == "s3" and not self._within_resource_organization(ctx, request.resource):
            return "Access Denied"
        return denial_message(request, decision)

    def _within_resource_organization(self, ctx: RequestContext, arn: str) -> bool:
        principal = ctx.principal
        if principal.is_anonymous:
            return False
        resource = self.resource_policy(ctx, arn)
        owner = resource.owner if resource is not None else resource_account(arn)
        if not owner or owner == principal.account_id:
            return True
        org = self.org_id(principal.account_id)
        return org is not None and org == self.org_id(owner)

    def _self_authorized(self, ctx: RequestContext) -> bool:
        provider = self.platform.provider(ctx.service)
        return provider is not None and ctx.operation in provider.self_authorized

    def action_of(self, ctx: RequestContext, params: dict[str, Any]) -> str:
        """The IAM action a request asks for: its service's answer for this request (`request_action`), else
        the operation's."""
        provider = self.platform.provider(ctx.service)
        found = provider.request_action(ctx, params) if provider is not None else None
        return found or iam_action(ctx.service, ctx.operation)

    def _note_access(self, ctx: RequestContext) -> None:
        iam = self._iam
        if iam is None:
            iam = self._iam = self.platform.provider("iam") or False
        if iam:
            iam.record_service_access(ctx.principal, iam_action(ctx.service, "").split(":")[0], ctx.region)

    def _has_resource_policies(self, service: str) -> bool:
        provider = self.platform.provider(service)
        return provider is not None and provider.has_resource_policies

    def resource_of(self, ctx: RequestContext, params: dict[str, Any]) -> str:
        """The ARN of the resource a request acts on ("*" for none)."""
        provider = self.platform.provider(ctx.service)
        return resource_arn(ctx, params, provider.resource_arn if provider is not None else None)

    def _resource_side_only(
        self, ctx: RequestContext, params: dict[str, Any], action: str, arn: str | None
    ) -> None:
        principal = ctx.principal
        if principal.kind == "service" or not self._has_resource_policies(ctx.service):
            return
        arn = arn or self.resource_of(ctx, params)
        named = resource_account(arn)
        if not principal.is_anonymous and named == principal.account_id:
            return
        resource = self.resource_policy(ctx, arn)
        if resource is None or (resource.owner == principal.account_id and not principal.is_anonymous):
            return
        request = Request(principal, action, arn, self._context(ctx, params, None, resource, arn))
        policy = policy_doc.parse(resource.document, policy_doc.RESOURCE) if resource.document else None
        root_like = Principal(
            principal.account_id, principal.arn, principal.user_id, "root", None, principal.attributes
        )
        # Identity policies are not evaluated in this mode: the caller's own account is taken to allow.
        evaluated = Request(
            principal if principal.is_anonymous else root_like, request.action, arn, request.context
        )
        decision = evaluate(evaluated, Policies(resource=policy, resource_account=resource.owner))
        if not decision.allowed:
            raise access_denied(ctx.service, self._denial_text(ctx, request, decision))

    # -- evaluation ----------------------------------------------------------------------------------------

    def decide(
        self,
        ctx: RequestContext,
        params: dict[str, Any],
        scps: list[list[policy_doc.Policy]] | None,
        known: Any = _UNKNOWN,
        action: str | None = None,
        arn: str | None = None,
    ) -> tuple[Request, Decision]:
        """`known`: the resource (or None) as the caller already looked it up; left out, it is looked up here.
        `action` and `arn`: what is asked (by default the request's own action and resource)."""
        principal = ctx.principal
        arn = arn or self.resource_of(ctx, params)
        if known is not _UNKNOWN:
            resource = known
        else:
            resource = self.resource_policy(ctx, arn) if self._has_resource_policies(ctx.service) else None
        if resource is not None and resource.arn:
            arn = resource.arn
        identity = self.identity(principal)
        request = Request(
            principal,
            action or iam_action(ctx.service, ctx.operation),
            arn,
            self._context(ctx, params, identity, resource, arn),
        )
        policies = Policies(
            identity=identity.policies,
            resource=policy_doc.parse(resource.document, policy_doc.RESOURCE)
            if resource and resource.document
            else None,
            resource_account=resource.owner if resource else (resource_account(arn) or None),
            boundary=identity.boundary,
            session=[
                p
                for p in (policy_doc.parse(t) for t in principal.attributes.get("session_policies") or ())
                if p
            ],
            scp_levels=scps or (),
            resource_required=bool(resource and resource.required),
        )
        return request, evaluate(request, policies)

    def decide_action(
        self,
        principal: Principal,
        action: str,
        arn: str,
        *,
        region: str,
        resource: ResourcePolicy | None = None,
        source_ip: str | None = None,
    ) -> tuple[Request, Decision] | None:
        """Whether `principal` may perform `action` on `arn`, for actions no AWS operation of Overcast's
        carries (API Gateway's execute-api:Invoke of an API method), with the resource's policy when it has
        one. None in the `off` mode (nothing is evaluated); soft mode records and allows."""
        if self.mode == "off":
            return None
        identity = self.identity(principal)
        context = build_context(
            principal,
            self.platform.clock.now(),
            identity=identity,
            org_id=self.org_id(principal.account_id),
            region=region,
            source_ip=source_ip,
        )
        request = Request(principal, action, arn, context)
        document = (
            policy_doc.parse(resource.document, policy_doc.RESOURCE)
            if resource and resource.document
            else None
        )
        scps = self.scp_levels(principal.account_id) if principal.kind != "service" else None
        policies = Policies(
            identity=identity.policies,
            resource=document,
            resource_account=resource.owner if resource else (resource_account(arn) or None),
            boundary=identity.boundary,
            session=[
                p
                for p in (policy_doc.parse(t) for t in principal.attributes.get("session_policies") or ())
                if p
            ],
            scp_levels=scps or (),
        )
        decision = evaluate(request, policies)
        if self.mode == "soft":
            if principal.kind != "root":
                self.observe(request, decision)
            return request, Decision(True, matched=decision.matched)
        return request, decision

    def _context(
        self,
        ctx: RequestContext,
        params: dict[str, Any],
        identity: Identity | None,
        resource: ResourcePolicy | None,
        arn: str | None = None,
    ) -> dict[str, list[str]]:
        http = ctx.request
        owner = resource.owner if resource is not None else (resource_account(arn) if arn else None)
        return LazyContext(
            lambda: build_context(
                ctx.principal,
                self.platform.clock.now(),
                identity=identity,
                org_id=self.org_id(ctx.principal.account_id),
                region=ctx.region,
                source_ip=http.client_ip if http else None,
                secure=bool(http and http.headers.get("x-forwarded-proto") == "https"),
                tags=request_tags(params),
                resource_tags=resource.tags if resource else None,
                resource_account=owner or None,
                extra=self._condition_keys(ctx, params),
            )
        )

    def _condition_keys(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any] | None:
        """The keys the calling service supplied (aws:SourceArn ...) and the request's service-specific keys."""
        supplied = ctx.extra.get("condition_keys")
        provider = self.platform.provider(ctx.service)
        own = provider.condition_keys(ctx, params) if provider is not None else None
        return {**own, **(supplied or {})} if own else supplied

    def resource_policy(self, ctx: RequestContext, arn: str) -> ResourcePolicy | None:
        provider = self.platform.provider(ctx.service)
        return provider.authorization_resource(ctx, arn) if provider is not None and arn != "*" else None

    def identity(self, principal: Principal) -> Identity:
        if principal.attributes.get("task_policies"):  # an AssumeRoot session: the root, within its task
            return Identity([p for p in map(policy_doc.parse, principal.attributes["task_policies"]) if p])
        if principal.kind not in ("user", "assumed-role", "federated-user"):
            return Identity([])
        iam = self.platform.provider("iam")
        if iam is None:
            return Identity([])
        key = (principal.arn, iam.generation)  # type: ignore[attr-defined]
        found = self._identities.get(key)
        if found is None:
            found = iam.identity_of(principal)  # type: ignore[attr-defined]
            self._identities[key] = found
            if len(self._identities) > 2048:
                self._identities.popitem(last=False)
        return found

    def _organizations(self) -> Any:
        """The Organizations provider if it runs. Not started here: an authorization may happen inside an
        operation's transaction (Platform.authorize), and without Organizations running there is no
        organization anyway (a data directory that has one starts the service with the server)."""
        if not self._orgs:
            self._orgs = self.platform.running("organizations") or False
        return self._orgs or None

    def scp_levels(self, account: str) -> list[list[policy_doc.Policy]] | None:
        orgs = self._organizations()
        return orgs.scp_levels(account) if orgs is not None else None

    def org_id(self, account: str) -> str | None:
        orgs = self._organizations()
        return orgs.org_id_of(account) if orgs is not None else None

    # -- soft mode -----------------------------------------------------------------------------------------

    def _log_soft_denial(self, service: str, request: Request, decision: Decision) -> None:
        """Soft mode: say once per (principal, action, resource) what enforce mode would have refused."""
        key = (request.principal.arn, request.action, request.resource)
        if key in self._logged:
            return
        if len(self._logged) > 10_000:
            self._logged.clear()
        self._logged.add(key)
        code = access_denied(service, "").code
        log.warning("iam soft: would deny (%s): %s", code, denial_message(request, decision))

    def observe(self, request: Request, decision: Decision) -> None:
        principal = request.principal.attributes.get("role_arn") or request.principal.arn
        self.observations.observe(principal, request.action, request.resource, decision.allowed)


def make_authorizer(platform: Platform) -> Authorizer:
    return Authorizer(platform)


def least_privilege_report(platform: Platform) -> dict[str, Any]:
    """Soft mode's result: per principal (a role's sessions count as the role), the calls its current policies
    would have denied, and the least-privilege policy granting what it was observed to do (one statement per
    set of resources, the actions used on them), with resources generalized the way a person writes a policy
    (`bucket/*` for the objects of a bucket, `index/*` for a table's indexes, ...; `generalized` says which)."""
    rows = ObservationStore(platform.db).observations()
    report: dict[str, Any] = {}
    for principal, action, resource, allowed, calls in rows:
        entry = report.setdefault(principal, {"calls": 0, "denied": [], "grants": {}, "generalized": {}})
        entry["calls"] += calls
        for general in generalize(resource):
            entry["grants"].setdefault(action, set()).add(general)
            if general != resource:
                entry["generalized"].setdefault(general, set()).add(resource)
        if not allowed:
            entry["denied"].append({"action": action, "resource": resource, "calls": calls})
    for entry in report.values():
        by_resources: dict[tuple[str, ...], list[str]] = {}
        for action, resources in sorted(entry.pop("grants").items()):
            by_resources.setdefault(tuple(sorted(resources)), []).append(action)
        statements = [
            {
                "Effect": "Allow",
                "Action": actions[0] if len(actions) == 1 else actions,
                "Resource": resources[0] if len(resources) == 1 else list(resources),
            }
            for resources, actions in sorted(by_resources.items(), key=lambda item: item[1])
        ]
        entry["policy"] = {"Version": "2012-10-17", "Statement": statements}
        entry["generalized"] = {
            general: sorted(seen) for general, seen in sorted(entry["generalized"].items())
        }
    return report


def generalize(resource: str) -> list[str]:
    """The resource(s) a person would write in a policy for a resource a call acted on."""
    parts = resource.split(":", 5)
    if len(parts) != 6:
        return [resource]
    service, path = parts[2], parts[5]
    head = ":".join(parts[:5])
    if service == "s3" and "/" in path:  # an object: the bucket's objects
        return [f"{head}:{path.split('/', 1)[0]}/*"]
    if service == "dynamodb":
        pieces = path.split("/")
        if len(pieces) >= 4 and pieces[0] == "table" and pieces[2] in ("index", "stream", "backup", "export"):
            return [f"{head}:table/{pieces[1]}/{pieces[2]}/*"]
    if service == "lambda" and path.startswith("function:") and path.count(":") >= 2:
        name = path.split(":")[1]  # a version or alias: the function and all its qualifiers
        return [f"{head}:function:{name}", f"{head}:function:{name}:*"]
    if service == "logs" and ":log-stream:" in path:
        return [f"{head}:{path.split(':log-stream:', 1)[0]}:*"]
    return [resource]


def report_json(platform: Platform) -> str:
    return json.dumps(least_privilege_report(platform), indent=2)
