"""Parameters: PutParameter, GetParameter(s), GetParametersByPath, DescribeParameters, GetParameterHistory,
DeleteParameter(s); public parameters and Secrets Manager references answered read-only."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import overcast.services.secretsmanager.api as secrets
from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.kit.paging import decode_token, encode_token
from overcast.services.kit.tags import tag_dict
from overcast.services.ssm import names, public
from overcast.services.ssm.names import parameter_arn, validation
from overcast.services.ssm.store import ParameterVersion

if TYPE_CHECKING:
    from overcast.services.ssm.provider import SsmProvider

REFERENCE = "/aws/reference/secretsmanager/"
_BATCH = 200  # rows read per step when a listing filters


def not_found() -> ServiceError:
    return ServiceError("ParameterNotFound", "")


def invalid_token() -> ServiceError:
    return ServiceError("InvalidNextToken", "The specified token is not valid.")


def version_not_found(name: str, selector: str) -> ServiceError:
    what = f"version {selector}" if selector.isdigit() else f"label {selector}"
    return ServiceError(
        "ParameterVersionNotFound",
        f"Systems Manager could not find {what} of {name}. Verify the version and try again.",
    )


class ParameterOperations(Operations):
    service: SsmProvider

    # -- writing -------------------------------------------------------------------------------------------

    def put_parameter(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, value = params["Name"], params["Value"]
        names.check_name(name)
        store = self.service.store
        existing = store.latest(ctx.account_id, ctx.region, name)
        if existing is not None and not params.get("Overwrite"):
            raise ServiceError(
                "ParameterAlreadyExists",
                "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.",
            )
        if existing is not None and params.get("Tags"):
            raise validation(
                "Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please "
                "remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or "
                "RemoveTagsFromResource."
            )
        kind = params.get("Type") or (existing.type if existing else None)
        if kind is None:
            raise validation("A parameter type is required when you create a parameter.")
        if params.get("KeyId") and kind != "SecureString":
            raise validation("KeyId is required for SecureString type parameter only.")
        now = self.clock.now()
        policies = names.parse_policies(params["Policies"], now) if params.get("Policies") else None
        tier = self._tier(params.get("Tier"), existing, value, policies)
        names.check_value(value, tier)
        pattern = params.get("AllowedPattern", existing.allowed_pattern if existing else None)
        names.check_pattern(pattern, value)
        data_type = params.get("DataType") or (existing.data_type if existing else "text")
        names.check_data_type(data_type, kind, value)
        if existing is None:
            self._check_count(ctx, tier)
        version = (existing.version + 1) if existing else 1
        self._make_room(ctx, name)
        key_id = (
            (params.get("KeyId") or (existing.key_id if existing else None) or "alias/aws/ssm")
            if kind == "SecureString"
            else None
        )
        stored = (
            self.service.seal(ctx, name, key_id, value, tier) if kind == "SecureString" else value.encode()
        )
        found = ParameterVersion(
            name=name,
            version=version,
            type=kind,
            value=stored,
            key_id=key_id,
            tier=tier,
            data_type=data_type,
            description=params.get("Description", existing.description if existing else None),
            allowed_pattern=pattern,
            policies=policies.texts if policies else [],
            modified=now,
            user=ctx.principal.arn,
        )
        no_change = now + policies.no_change_after if policies and policies.no_change_after else None
        moments = (policies.expires, policies.notify_at, no_change) if policies else (None, None, None)
        store.put(ctx.account_id, ctx.region, found, moments)
        self.service.announce(
            ctx.account_id,
            ctx.region,
            "Update" if existing else "Create",
            name,
            kind,
            found.description or "",
        )
        if policies:
            self.service.schedule_changed()
        tags = tag_dict(params.get("Tags"))
        if tags:
            from overcast.services.ssm.tagging import TAG_RULES

            self.service.tags.add(
                parameter_arn(ctx.region, ctx.account_id, name),
                tags,
                TAG_RULES,
                account=ctx.account_id,
                region=ctx.region,
            )
        return {"Version": version, "Tier": tier}

    @staticmethod
    def _tier(asked: str | None, existing: ParameterVersion | None, value: str, policies: Any) -> str:
        if asked == "Intelligent-Tiering":
            big = len(value.encode()) > names.STANDARD_VALUE_BYTES
            asked = (
                "Advanced" if big or policies or (existing and existing.tier == "Advanced") else "Standard"
            )
        tier = asked or (existing.tier if existing else "Standard")
        if existing is not None and existing.tier == "Advanced" and tier == "Standard":
            raise validation(
                "This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the "
                "advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the advanced "
                "parameter and recreate it as a standard parameter."
            )
        if policies and tier == "Standard":
            raise validation(
                "Standard tier parameters don't support parameter policies. To attach a policy to a parameter, use "
                "the advanced-parameter tier."
            )
        return tier

    def _check_count(self, ctx: RequestContext, tier: str) -> None:
        limit = names.STANDARD_LIMIT if tier == "Standard" else names.ADVANCED_LIMIT
        if self.service.store.count(ctx.account_id, ctx.region, tier) >= limit:
            if tier == "Standard":
                message = (
                    "You have reached the maximum number of standard parameters for this AWS account and Region "
                    "(10000). To add more parameters, either delete existing parameters or upgrade to the "
                    "advanced-parameter tier (charges apply)."
                )
            else:
                message = "You have reached the maximum number of advanced parameters for this AWS account and Region (100000)."
            raise ServiceError("ParameterLimitExceeded", message)

    def _make_room(self, ctx: RequestContext, name: str) -> None:
        """A parameter keeps 100 versions: the oldest goes, unless a label holds it."""
        store = self.service.store
        if store.version_count(ctx.account_id, ctx.region, name) < names.MAX_VERSIONS:
            return
        oldest = store.oldest_version(ctx.account_id, ctx.region, name)
        if oldest is None:
            return
        if store.labels_of(ctx.account_id, ctx.region, name, oldest):
            raise ServiceError(
                "ParameterMaxVersionLimitExceeded",
                f"You attempted to create a new version of {name} by calling the PutParameter API with the overwrite "
                f"flag. Version {oldest}, the oldest version, can't be deleted because it has a label associated with "
                "it. Move the label to another version of the parameter, and try again.",
            )
        store.delete_version(ctx.account_id, ctx.region, name, oldest)

    def delete_parameter(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        if not self._delete(ctx, params["Name"]):
            raise not_found()
        return {}

    def delete_parameters(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        deleted, invalid = [], []
        for name in dict.fromkeys(params["Names"]):
            (deleted if self._delete(ctx, name) else invalid).append(name)
        return {"DeletedParameters": deleted, "InvalidParameters": invalid}

    def _delete(self, ctx: RequestContext, name: str) -> bool:
        found = self.service.store.latest(ctx.account_id, ctx.region, name)
        if found is None or not self.service.store.delete(ctx.account_id, ctx.region, name):
            return False
        self.service.tags.forget(parameter_arn(ctx.region, ctx.account_id, name))
        self.service.announce(ctx.account_id, ctx.region, "Delete", name, found.type, found.description or "")
        return True

    # -- reading -------------------------------------------------------------------------------------------

    def _value(self, ctx: RequestContext, found: ParameterVersion, decrypt: bool) -> str:
        if found.type != "SecureString":
            return found.value.decode()
        return (
            self.service.open(ctx, found.name, found.value) if decrypt else self.service.hidden(found.value)
        )

    def entry(
        self, ctx: RequestContext, found: ParameterVersion, decrypt: bool, selector: str | None = None
    ) -> dict[str, Any]:
        """GetParameter's Parameter for a stored version."""
        result: dict[str, Any] = {
            "Name": found.name,
            "Type": found.type,
            "Value": self._value(ctx, found, decrypt),
            "Version": found.version,
        }
        if selector is not None:
            result["Selector"] = f":{selector}"
        result["LastModifiedDate"] = found.modified
        result["ARN"] = parameter_arn(ctx.region, ctx.account_id, found.name)
        result["DataType"] = found.data_type
        return result

    def lookup(self, ctx: RequestContext, text: str, decrypt: bool) -> dict[str, Any]:
        """The Parameter a name (with an optional `:version` or `:label` selector) names."""
        name, selector = names.split_selector(text)
        if name.startswith(REFERENCE):
            return self._reference(ctx, name[len(REFERENCE) :], selector, decrypt)
        if public.is_public(name):
            return self._public(ctx, name, selector)
        store = self.service.store
        if selector is None:
            found = store.latest(ctx.account_id, ctx.region, name)
            if found is None:
                raise not_found()
            return self.entry(ctx, found, decrypt)
        if not store.exists(ctx.account_id, ctx.region, name):
            raise not_found()
        version = (
            int(selector) if selector.isdigit() else store.label(ctx.account_id, ctx.region, name, selector)
        )
        found = store.version(ctx.account_id, ctx.region, name, version) if version is not None else None
        if found is None:
            raise version_not_found(name, selector)
        return self.entry(ctx, found, decrypt, selector)

    def _public(self, ctx: RequestContext, name: str, selector: str | None) -> dict[str, Any]:
        value = public.lookup(ctx.region, name)
        if value is None or selector not in (None, "1"):
            raise not_found() if value is None else version_not_found(name, selector or "")
        result: dict[str, Any] = {"Name": name, "Type": "String", "Value": value[0], "Version": 1}
        if selector is not None:
            result["Selector"] = f":{selector}"
        result["LastModifiedDate"] = public.PUBLISHED
        result["ARN"] = f"arn:aws:ssm:{ctx.region}::parameter{name}"
        result["DataType"] = value[1]
        return result

    def _reference(
        self, ctx: RequestContext, secret_id: str, selector: str | None, decrypt: bool
    ) -> dict[str, Any]:
        if not decrypt:
            raise validation("WithDecryption flag must be True for retrieving a Secret Manager secret.")
        stage = selector if selector and selector.startswith("AWS") else None
        version = selector if selector and not stage else None
        try:
            answer = secrets.get_secret_value(
                self.platform,
                ctx.principal,
                ctx.account_id,
                ctx.region,
                secret_id,
                version_id=version,
                version_stage=stage,
            )
        except ServiceError as error:
            if error.code == "ResourceNotFoundException":
                raise not_found() from None
            raise
        source = {k: v for k, v in answer.items() if k != "SecretBinary"}
        source["CreatedDate"] = answer["CreatedDate"]
        result: dict[str, Any] = {
            "Name": REFERENCE + secret_id,
            "Type": "SecureString",
            "Value": answer.get("SecretString", ""),
            "Version": 0,
        }
        if selector is not None:
            result["Selector"] = f":{selector}"
        result["SourceResult"] = json.dumps(source, default=str)
        result["LastModifiedDate"] = answer["CreatedDate"]
        result["ARN"] = answer["ARN"]
        result["DataType"] = "text"
        return result

    def get_parameter(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"Parameter": self.lookup(ctx, params["Name"], bool(params.get("WithDecryption")))}

    def get_parameters(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        found, invalid = [], []
        decrypt = bool(params.get("WithDecryption"))
        for text in dict.fromkeys(params["Names"]):
            try:
                found.append(self.lookup(ctx, text, decrypt))
            except ServiceError as error:
                if error.code not in ("ParameterNotFound", "ParameterVersionNotFound"):
                    raise
                invalid.append(text)
        return {"Parameters": found, "InvalidParameters": invalid}

    def get_parameters_by_path(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        path = params["Path"]
        if not path.startswith("/"):
            raise validation(
                'The parameter doesn\'t meet the parameter name requirements. The parameter name must begin with a forward slash "/".'
            )
        if path.count("/") > names.MAX_DEPTH + 1:
            raise validation("The path has too many levels; a hierarchy can have a maximum of 15 levels.")
        recursive = bool(params.get("Recursive"))
        filters = _filters(params.get("ParameterFilters") or [], by_path=True)
        limit = params.get("MaxResults") or 10
        decrypt = bool(params.get("WithDecryption"))
        prefix = path if path.endswith("/") else path + "/"
        scope = f"path:{prefix}:{int(recursive)}"
        if public.is_public(prefix):
            rows = [r for r in public.under(ctx.region, prefix, recursive)]
            after = decode_token(params.get("NextToken"), invalid_token, scope) or ""
            rows = [r for r in rows if r[0] > after]
            page = [self._public(ctx, name, None) for name, _, _ in rows[:limit]]
            result: dict[str, Any] = {"Parameters": page}
            if len(rows) > limit:
                result["NextToken"] = encode_token(rows[limit - 1][0], scope)
            return result

        def matches(found: ParameterVersion) -> bool:
            return (recursive or "/" not in found.name[len(prefix) :]) and self._filtered(ctx, found, filters)

        versions, token = self._scan(
            ctx, prefix, prefix + "\uffff", params.get("NextToken"), scope, limit, matches
        )
        result = {"Parameters": [self.entry(ctx, v, decrypt) for v in versions]}
        if token:
            result["NextToken"] = token
        return result

    def _scan(
        self, ctx, low, high, token, scope, limit, matches
    ) -> tuple[list[ParameterVersion], str | None]:
        """Up to `limit` parameters named in [low, high) that `matches`, after the token's position; read in
        batches so that a filter skipping most rows never loads the table at once."""
        store = self.service.store
        cursor = decode_token(token, invalid_token, scope) or ""
        found: list[ParameterVersion] = []
        while True:
            batch = store.names_after(ctx.account_id, ctx.region, low, high, cursor, _BATCH)
            for name in batch:
                cursor = name
                version = store.latest(ctx.account_id, ctx.region, name)
                if version is not None and matches(version):
                    found.append(version)
                    if len(found) == limit:
                        more = store.names_after(ctx.account_id, ctx.region, low, high, cursor, 1)
                        return found, encode_token(cursor, scope) if more else None
            if len(batch) < _BATCH:
                return found, None

    def _filtered(
        self, ctx: RequestContext, found: ParameterVersion, filters: list[tuple[str, str, list[str]]]
    ) -> bool:
        for key, option, values in filters:
            if key.startswith("tag:"):
                tags = self.service.tags.get(parameter_arn(ctx.region, ctx.account_id, found.name))
                tag = key[4:]
                if tag not in tags or (values and tags[tag] not in values):
                    return False
                continue
            if key == "Label":
                labels = self.service.store.labels_of(ctx.account_id, ctx.region, found.name, found.version)
                if not set(labels) & set(values):
                    return False
                continue
            if key == "Path":
                prefix = values[0] if values[0].endswith("/") else values[0] + "/"
                rest = found.name[len(prefix) :] if found.name.startswith(prefix) else None
                if rest is None or (option != "Recursive" and "/" in rest):
                    return False
                continue
            field = {
                "Name": found.name,
                "Type": found.type,
                "KeyId": found.key_id or "",
                "Tier": found.tier,
                "DataType": found.data_type,
            }[key]
            if option == "BeginsWith":
                ok = any(field.startswith(v) for v in values)
            elif option == "Contains":
                ok = any(v in field for v in values)
            else:
                ok = field in values or (key == "Name" and any(field == "/" + v.lstrip("/") for v in values))
            if not ok:
                return False
        return True

    def describe_parameters(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("Filters") and params.get("ParameterFilters"):
            raise validation("You can use either Filters or ParameterFilters in a single request.")
        legacy = [
            (f["Key"], "BeginsWith" if f["Key"] == "Name" else "Equals", f["Values"])
            for f in params.get("Filters") or []
        ]
        filters = legacy or _filters(params.get("ParameterFilters") or [], by_path=False)
        limit = params.get("MaxResults") or 50
        scope = f"describe:{json.dumps(filters)}"
        versions, token = self._scan(
            ctx,
            "",
            "\uffff",
            params.get("NextToken"),
            scope,
            limit,
            lambda v: self._filtered(ctx, v, filters),
        )
        result: dict[str, Any] = {"Parameters": [self._metadata(ctx, v) for v in versions]}
        if token:
            result["NextToken"] = token
        return result

    def _metadata(
        self, ctx: RequestContext, found: ParameterVersion, history: bool = False
    ) -> dict[str, Any]:
        meta: dict[str, Any] = {"Name": found.name}
        if not history:
            meta["ARN"] = parameter_arn(ctx.region, ctx.account_id, found.name)
        meta["Type"] = found.type
        if found.key_id:
            meta["KeyId"] = found.key_id
        meta["LastModifiedDate"] = found.modified
        meta["LastModifiedUser"] = found.user
        if found.description is not None:
            meta["Description"] = found.description
        if found.allowed_pattern:
            meta["AllowedPattern"] = found.allowed_pattern
        meta["Version"] = found.version
        meta["Tier"] = found.tier
        meta["Policies"] = found.policies
        meta["DataType"] = found.data_type
        return meta

    def get_parameter_history(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["Name"]
        store = self.service.store
        if not store.exists(ctx.account_id, ctx.region, name):
            raise not_found()
        limit = params.get("MaxResults") or 50
        scope = f"history:{name}"
        after = decode_token(params.get("NextToken"), invalid_token, scope) or 0
        rows = store.versions(ctx.account_id, ctx.region, name, after, limit + 1)
        decrypt = bool(params.get("WithDecryption"))
        entries = []
        for found in rows[:limit]:
            entry = self._metadata(ctx, found, history=True)
            entry["Value"] = self._value(ctx, found, decrypt)
            entry["Labels"] = store.labels_of(ctx.account_id, ctx.region, name, found.version)
            entries.append(dict(sorted(entry.items(), key=lambda item: _HISTORY_ORDER.index(item[0]))))
        result: dict[str, Any] = {"Parameters": entries}
        if len(rows) > limit:
            result["NextToken"] = encode_token(rows[limit - 1].version, scope)
        return result


_HISTORY_ORDER = [
    "Name",
    "Type",
    "KeyId",
    "LastModifiedDate",
    "LastModifiedUser",
    "Description",
    "Value",
    "AllowedPattern",
    "Version",
    "Labels",
    "Tier",
    "Policies",
    "DataType",
]
_PATH_KEYS = ("Type", "KeyId", "Label", "DataType")
_DESCRIBE_KEYS = ("Name", "Type", "KeyId", "Path", "Label", "Tier", "DataType")
_OPTIONS = {
    "Name": ("Equals", "BeginsWith", "Contains"),
    "Path": ("OneLevel", "Recursive"),
    "KeyId": ("Equals", "BeginsWith"),
}


def _filters(items: list[dict[str, Any]], *, by_path: bool) -> list[tuple[str, str, list[str]]]:
    """ParameterFilters as (key, option, values), checked with Parameter Store's error codes."""
    allowed = _PATH_KEYS if by_path else _DESCRIBE_KEYS
    found = []
    for item in items:
        key = item["Key"]
        if not key.startswith("tag:") and key not in allowed:
            raise ServiceError(
                "InvalidFilterKey",
                f"The following filter key is not valid: {key}. Valid filter keys include: [{', '.join(allowed)}, tag].",
            )
        option = item.get("Option") or ("OneLevel" if key == "Path" else "Equals")
        valid = _OPTIONS.get(key, ("Equals",))
        if option not in valid:
            raise ServiceError(
                "InvalidFilterOption",
                f"The following filter option is not valid: {option}. Valid options include: [{', '.join(valid)}].",
            )
        values = item.get("Values") or []
        if not values and not key.startswith("tag:"):
            raise ServiceError(
                "InvalidFilterValue", f"The following filter values are missing : null for filter key {key}."
            )
        found.append((key, option, values))
    return found
