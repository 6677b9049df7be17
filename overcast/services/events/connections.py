"""Connections (how to authorize against an HTTP endpoint: basic, API key, OAuth client credentials) and API
destinations (an endpoint, a method and a connection), the targets that call HTTP endpoints.

A connection's secrets are kept in EventBridge's own table (AWS keeps them in a Secrets Manager secret whose
ARN DescribeConnection names; Overcast names one in the same form) and never returned.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.kit.arns import parse_arn

_NAME = re.compile(r"^[\.\-_A-Za-z0-9]{1,64}$")
CONNECTIONS = "events_connections"
DESTINATIONS = "events_destinations"


def _not_found(message: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", message, 400)


def public_auth(kind: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """AuthParameters as DescribeConnection shows them: the secrets left out."""
    shown: dict[str, Any] = {}
    if kind == "BASIC" and parameters.get("BasicAuthParameters"):
        shown["BasicAuthParameters"] = {"Username": parameters["BasicAuthParameters"]["Username"]}
    if kind == "API_KEY" and parameters.get("ApiKeyAuthParameters"):
        shown["ApiKeyAuthParameters"] = {"ApiKeyName": parameters["ApiKeyAuthParameters"]["ApiKeyName"]}
    if kind == "OAUTH_CLIENT_CREDENTIALS" and parameters.get("OAuthParameters"):
        oauth = parameters["OAuthParameters"]
        shown["OAuthParameters"] = {
            "ClientParameters": {"ClientID": oauth["ClientParameters"]["ClientID"]},
            "AuthorizationEndpoint": oauth["AuthorizationEndpoint"],
            "HttpMethod": oauth["HttpMethod"],
        }
        if oauth.get("OAuthHttpParameters"):
            shown["OAuthParameters"]["OAuthHttpParameters"] = _hide_secret_values(
                oauth["OAuthHttpParameters"]
            )
    if parameters.get("InvocationHttpParameters"):
        shown["InvocationHttpParameters"] = _hide_secret_values(parameters["InvocationHttpParameters"])
    return shown


def _hide_secret_values(parameters: dict[str, Any]) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    for group, items in parameters.items():
        shown[group] = [
            {k: v for k, v in item.items() if not (k == "Value" and item.get("IsValueSecret"))}
            for item in items
        ]
    return shown


def _check_auth(kind: str, parameters: dict[str, Any]) -> None:
    needed = {
        "BASIC": "BasicAuthParameters",
        "API_KEY": "ApiKeyAuthParameters",
        "OAUTH_CLIENT_CREDENTIALS": "OAuthParameters",
    }[kind]
    if not parameters.get(needed):
        raise ServiceError(
            "ValidationException", f"{needed} must be specified for authorization type {kind}.", 400
        )


class ConnectionOperations(Operations):
    def create_connection(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["Name"]
        store = self.service.store
        if store.named(CONNECTIONS, ctx.account_id, ctx.region, name) is not None:
            raise ServiceError("ResourceAlreadyExistsException", f"Connection {name} already exists.", 400)
        kind = params["AuthorizationType"]
        _check_auth(kind, params["AuthParameters"])
        now = self.clock.now()
        arn = ctx.arn("events", f"connection/{name}/{uuid.uuid4()}")
        config = {
            "Description": params.get("Description"),
            "AuthorizationType": kind,
            "AuthParameters": params["AuthParameters"],
            "SecretArn": ctx.arn("secretsmanager", f"secret:events!connection/{name}/{uuid.uuid4()}"),
            "LastAuthorizedTime": now,
        }
        store.put_named(
            CONNECTIONS, (ctx.account_id, ctx.region, name, arn, json.dumps(config), "AUTHORIZED", now, now)
        )
        return {
            "ConnectionArn": arn,
            "ConnectionState": "AUTHORIZED",
            "CreationTime": now,
            "LastModifiedTime": now,
        }

    def describe_connection(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        _, _, name, arn, config_text, state, created, modified = self._connection(ctx, params["Name"])
        config = json.loads(config_text)
        result: dict[str, Any] = {"ConnectionArn": arn, "Name": name}
        if config.get("Description"):
            result["Description"] = config["Description"]
        result.update(
            ConnectionState=state,
            AuthorizationType=config["AuthorizationType"],
            SecretArn=config["SecretArn"],
            AuthParameters=public_auth(config["AuthorizationType"], config["AuthParameters"]),
            CreationTime=created,
            LastModifiedTime=modified,
            LastAuthorizedTime=config["LastAuthorizedTime"],
        )
        return result

    def list_connections(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        found = []
        for _, _, name, arn, config_text, state, created, modified in self.service.store.all_named(
            CONNECTIONS, ctx.account_id, ctx.region
        ):
            if not name.startswith(params.get("NamePrefix") or ""):
                continue
            if params.get("ConnectionState") and state != params["ConnectionState"]:
                continue
            config = json.loads(config_text)
            found.append(
                {
                    "ConnectionArn": arn,
                    "Name": name,
                    "ConnectionState": state,
                    "AuthorizationType": config["AuthorizationType"],
                    "CreationTime": created,
                    "LastModifiedTime": modified,
                    "LastAuthorizedTime": config["LastAuthorizedTime"],
                }
            )
        return {"Connections": found}

    def update_connection(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        account, region, name, arn, config_text, state, created, _ = self._connection(ctx, params["Name"])
        config = json.loads(config_text)
        if params.get("Description") is not None:
            config["Description"] = params["Description"]
        if params.get("AuthorizationType"):
            config["AuthorizationType"] = params["AuthorizationType"]
        if params.get("AuthParameters"):
            merged = dict(config["AuthParameters"])
            merged.update(params["AuthParameters"])
            config["AuthParameters"] = merged
        _check_auth(config["AuthorizationType"], config["AuthParameters"])
        now = self.clock.now()
        config["LastAuthorizedTime"] = now
        self.service.store.put_named(
            CONNECTIONS, (account, region, name, arn, json.dumps(config), "AUTHORIZED", created, now)
        )
        return {
            "ConnectionArn": arn,
            "ConnectionState": "AUTHORIZED",
            "CreationTime": created,
            "LastModifiedTime": now,
            "LastAuthorizedTime": now,
        }

    def deauthorize_connection(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        account, region, name, arn, config_text, _, created, _ = self._connection(ctx, params["Name"])
        now = self.clock.now()
        self.service.store.put_named(
            CONNECTIONS, (account, region, name, arn, config_text, "DEAUTHORIZED", created, now)
        )
        config = json.loads(config_text)
        return {
            "ConnectionArn": arn,
            "ConnectionState": "DEAUTHORIZING",
            "CreationTime": created,
            "LastModifiedTime": now,
            "LastAuthorizedTime": config["LastAuthorizedTime"],
        }

    def delete_connection(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        _, _, name, arn, config_text, _, created, modified = self._connection(ctx, params["Name"])
        self.service.store.delete_named(CONNECTIONS, ctx.account_id, ctx.region, name)
        return {
            "ConnectionArn": arn,
            "ConnectionState": "DELETING",
            "CreationTime": created,
            "LastModifiedTime": modified,
            "LastAuthorizedTime": json.loads(config_text)["LastAuthorizedTime"],
        }

    def _connection(self, ctx: RequestContext, name: str) -> tuple:
        row = self.service.store.named(CONNECTIONS, ctx.account_id, ctx.region, name)
        if row is None:
            raise _not_found(f"Failed to describe the connection(s). Connection '{name}' does not exist.")
        return row

    # -- API destinations ------------------------------------------------------------------------------------

    def create_api_destination(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["Name"]
        store = self.service.store
        if store.named(DESTINATIONS, ctx.account_id, ctx.region, name) is not None:
            raise ServiceError(
                "ResourceAlreadyExistsException", f"An api-destination '{name}' already exists.", 400
            )
        self._connection_by_arn(params["ConnectionArn"])
        self._check_endpoint(params["InvocationEndpoint"])
        now = self.clock.now()
        arn = ctx.arn("events", f"api-destination/{name}/{uuid.uuid4()}")
        config = {
            "Description": params.get("Description"),
            "ConnectionArn": params["ConnectionArn"],
            "InvocationEndpoint": params["InvocationEndpoint"],
            "HttpMethod": params["HttpMethod"],
            "InvocationRateLimitPerSecond": params.get("InvocationRateLimitPerSecond") or 300,
        }
        store.put_named(DESTINATIONS, (ctx.account_id, ctx.region, name, arn, json.dumps(config), now, now))
        return {
            "ApiDestinationArn": arn,
            "ApiDestinationState": "ACTIVE",
            "CreationTime": now,
            "LastModifiedTime": now,
        }

    def describe_api_destination(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        _, _, name, arn, config_text, created, modified = self._destination(ctx, params["Name"])
        config = json.loads(config_text)
        result: dict[str, Any] = {"ApiDestinationArn": arn, "Name": name}
        if config.get("Description"):
            result["Description"] = config["Description"]
        result.update(
            ApiDestinationState="ACTIVE",
            ConnectionArn=config["ConnectionArn"],
            InvocationEndpoint=config["InvocationEndpoint"],
            HttpMethod=config["HttpMethod"],
            InvocationRateLimitPerSecond=config["InvocationRateLimitPerSecond"],
            CreationTime=created,
            LastModifiedTime=modified,
        )
        return result

    def list_api_destinations(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        found = []
        for _, _, name, arn, config_text, created, modified in self.service.store.all_named(
            DESTINATIONS, ctx.account_id, ctx.region
        ):
            config = json.loads(config_text)
            if not name.startswith(params.get("NamePrefix") or ""):
                continue
            if params.get("ConnectionArn") and config["ConnectionArn"] != params["ConnectionArn"]:
                continue
            found.append(
                {
                    "ApiDestinationArn": arn,
                    "Name": name,
                    "ApiDestinationState": "ACTIVE",
                    "ConnectionArn": config["ConnectionArn"],
                    "InvocationEndpoint": config["InvocationEndpoint"],
                    "HttpMethod": config["HttpMethod"],
                    "InvocationRateLimitPerSecond": config["InvocationRateLimitPerSecond"],
                    "CreationTime": created,
                    "LastModifiedTime": modified,
                }
            )
        return {"ApiDestinations": found}

    def update_api_destination(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        account, region, name, arn, config_text, created, _ = self._destination(ctx, params["Name"])
        config = json.loads(config_text)
        if params.get("ConnectionArn"):
            self._connection_by_arn(params["ConnectionArn"])
        if params.get("InvocationEndpoint"):
            self._check_endpoint(params["InvocationEndpoint"])
        for member in (
            "Description",
            "ConnectionArn",
            "InvocationEndpoint",
            "HttpMethod",
            "InvocationRateLimitPerSecond",
        ):
            if params.get(member) is not None:
                config[member] = params[member]
        now = self.clock.now()
        self.service.store.put_named(
            DESTINATIONS, (account, region, name, arn, json.dumps(config), created, now)
        )
        return {
            "ApiDestinationArn": arn,
            "ApiDestinationState": "ACTIVE",
            "CreationTime": created,
            "LastModifiedTime": now,
        }

    def delete_api_destination(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self._destination(ctx, params["Name"])
        self.service.store.delete_named(DESTINATIONS, ctx.account_id, ctx.region, params["Name"])
        return {}

    def _destination(self, ctx: RequestContext, name: str) -> tuple:
        row = self.service.store.named(DESTINATIONS, ctx.account_id, ctx.region, name)
        if row is None:
            raise _not_found(f"An api-destination '{name}' does not exist.")
        return row

    def _connection_by_arn(self, arn: str) -> tuple:
        row = self.service.store.named_by_arn(CONNECTIONS, arn)
        parsed = parse_arn(arn)
        if row is None:
            name = parsed.resource.split("/")[1] if parsed and parsed.resource.count("/") >= 1 else arn
            raise _not_found(f"Connection '{name}' does not exist.")
        return row

    @staticmethod
    def _check_endpoint(endpoint: str) -> None:
        if not endpoint.startswith(("https://", "http://")):
            raise ServiceError(
                "ValidationException", "Invalid InvocationEndpoint: must be an HTTPS URL.", 400
            )
