"""Cognito user pools' provider: the families it composes, its HTTP routes (each pool's JWKS and OpenID
discovery, the hosted UI's OAuth 2.0 endpoints), the outbox endpoint, and what the families share: finding
pools, app clients and users, the pool's signing key, messages and Lambda triggers (in their own modules)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections import OrderedDict
from typing import Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.http import HttpRequest, HttpResponse, json_response
from overcast.services.base import HttpRoute, ServiceProvider
from overcast.services.cognitoidp.accounts import Accounts
from overcast.services.cognitoidp.auth import AuthOperations
from overcast.services.cognitoidp.clients import ClientOperations
from overcast.services.cognitoidp.groups import GroupOperations
from overcast.services.cognitoidp.hosted import HostedUI
from overcast.services.cognitoidp.messages import Messages
from overcast.services.cognitoidp.pools import UserPoolOperations
from overcast.services.cognitoidp.self_service import SelfServiceOperations
from overcast.services.cognitoidp.signup import SignUpOperations
from overcast.services.cognitoidp.store import CognitoIdpStore, Pool, User
from overcast.services.cognitoidp.tokens import Tokens
from overcast.services.cognitoidp.triggers import Triggers
from overcast.services.cognitoidp.users import AdminUserOperations
from overcast.services.kit import jws as signing

OUTBOX_PATH = "/_overcast/cognito-idp/outbox"
# /<region>_<id>/...: a pool's own documents and endpoints. No S3 bucket name has an "_" or capitals, so the
# path cannot be a bucket's.
POOL_PATH = re.compile(r"^/([a-z]{2}(?:-[a-z]+)+-\d+_[0-9A-Za-z]+)(/.*)$")
HOSTED_PATHS = ("/oauth2/", "/login", "/logout", "/.well-known/")


def _pool_path(request: HttpRequest) -> bool:
    return POOL_PATH.match(request.path) is not None


def _hosted_path(request: HttpRequest) -> bool:
    return request.path.startswith(HOSTED_PATHS)


class CognitoIdpProvider(ServiceProvider):
    service_name = "cognito-idp"
    families = (
        UserPoolOperations,
        ClientOperations,
        GroupOperations,
        AdminUserOperations,
        SignUpOperations,
        AuthOperations,
        SelfServiceOperations,
    )
    routes = (
        HttpRoute("serve_pool_path", "PoolEndpoint", path="/", when=_pool_path),
        HttpRoute("serve_domain", "HostedUI", host=".auth.", when=_hosted_path),
    )

    def __init__(self, platform) -> None:
        super().__init__(platform)
        self.store = CognitoIdpStore(self.db)
        self.accounts = Accounts(self)
        self.messages = Messages(self)
        self.triggers = Triggers(self)
        self.tokens = Tokens(self)
        self.hosted = HostedUI(self)
        self._keys: OrderedDict[str, Any] = OrderedDict()  # pool id -> loaded private key (bounded)

    # -- lookups the families share ----------------------------------------------------------------------

    def pool_for(self, ctx: RequestContext, pool_id: str) -> Pool:
        """The pool `pool_id` of the caller's account (any account's for a request AWS serves unsigned)."""
        pool = self.store.pool(pool_id)
        if pool is None or (
            not ctx.principal.is_anonymous and (pool.account != ctx.account_id or pool.region != ctx.region)
        ):
            raise ServiceError("ResourceNotFoundException", f"User pool {pool_id} does not exist.", 400)
        return pool

    def client_for(self, client_id: str, pool: Pool | None = None) -> tuple[Pool, dict[str, Any]]:
        """The app client `client_id` and its pool (which must be `pool` when given; else the store's shared,
        read-only copy: sign-ins and sign-ups read the pool's settings, never change them)."""
        client = self.store.client(client_id)
        if client is None or (pool is not None and client["UserPoolId"] != pool.id):
            raise ServiceError(
                "ResourceNotFoundException", f"User pool client {client_id} does not exist.", 400
            )
        owner = pool or self.store.pool_readonly(client["UserPoolId"])
        if owner is None:
            raise ServiceError(
                "ResourceNotFoundException", f"User pool client {client_id} does not exist.", 400
            )
        return owner, client

    def find_user(self, pool: Pool, name: str) -> User | None:
        """The user `name` signs in as: the username itself, or an email/phone number used as username, or a
        verified alias (email, phone number, preferred username)."""
        user = self.store.user(pool.id, pool.key_of(name))
        if user is not None:
            return user
        config = pool.config
        for attribute in config.get("UsernameAttributes") or ():
            for key in self.store.keys_with(pool.id, attribute, name, fold=attribute == "email"):
                return self.store.user(pool.id, key)
        for attribute in config.get("AliasAttributes") or ():
            for key in self.store.keys_with(
                pool.id, attribute, name, fold=not pool.case_sensitive or attribute == "email"
            ):
                found = self.store.user(pool.id, key)
                verified = attribute == "preferred_username" or (
                    found is not None and found.attributes.get(f"{attribute}_verified") == "true"
                )
                if found is not None and verified:
                    return found
        return None

    def user_or_error(self, pool: Pool, name: str) -> User:
        user = self.find_user(pool, name)
        if user is None:
            raise ServiceError("UserNotFoundException", "User does not exist.", 400)
        return user

    def check_secret_hash(self, client: dict[str, Any], username: str, given: str | None) -> None:
        """A client with a secret must send SECRET_HASH = Base64(HMAC-SHA256(secret, username + client id))."""
        secret = client.get("ClientSecret")
        if not secret:
            return
        client_id = client["ClientId"]
        if not given:
            raise ServiceError(
                "NotAuthorizedException",
                f"Client {client_id} is configured with secret but SECRET_HASH was not received",
                400,
            )
        expected = base64.b64encode(
            hmac.new(secret.encode(), (username + client_id).encode(), hashlib.sha256).digest()
        ).decode()
        if not hmac.compare_digest(expected, given):
            raise ServiceError(
                "NotAuthorizedException", f"Unable to verify secret hash for client {client_id}", 400
            )

    @staticmethod
    def check_writable(client: dict[str, Any], attributes: dict[str, str]) -> None:
        writable = client.get("WriteAttributes")
        if writable is not None and any(name not in writable for name in attributes):
            raise ServiceError(
                "NotAuthorizedException", "A client attempted to write unauthorized attribute", 400
            )

    def signing_key(self, pool: Pool) -> Any:
        key = self._keys.get(pool.id)
        if key is None:
            key = self._keys[pool.id] = signing.load_key(pool.key_pem)
            if len(self._keys) > 256:
                self._keys.popitem(last=False)
        else:
            self._keys.move_to_end(pool.id)
        return key

    def issuer(self, ctx: RequestContext | None, pool: Pool) -> str:
        return f"{self.base_url(ctx.request if ctx else None)}/{pool.id}"

    def base_url(self, request: HttpRequest | None) -> str:
        """Where the caller reaches Overcast: the issuer of its tokens and the root of the pool's endpoints."""
        if request is not None and request.host:
            return f"{request.scheme}://{request.host}"
        return self.platform.config.endpoint

    def reset(self) -> None:
        self._keys.clear()
        self.tokens.forget()
        self.store.forget()

    # -- hooks ---------------------------------------------------------------------------------------------

    def resource_arn(self, ctx: RequestContext, params: dict[str, Any]) -> str | None:
        if params.get("ResourceArn"):
            return params["ResourceArn"]
        if params.get("UserPoolId"):
            return f"arn:aws:cognito-idp:{ctx.region}:{ctx.account_id}:userpool/{params['UserPoolId']}"
        return None

    async def internal_endpoint(self, request: HttpRequest, path: str) -> HttpResponse | None:
        """/_overcast/cognito-idp/outbox: GET the codes and messages Cognito would have sent (?pool=<id>,
        ?after=<id>, ?limit=<n>), DELETE to empty it."""
        if path != OUTBOX_PATH:
            return json_response({"error": f"no internal endpoint {request.method} {request.path}"}, 404)
        if request.method == "DELETE":
            with self.db.transaction():
                self.store.clear_messages()
            return json_response({"cleared": True})
        if request.method != "GET":
            return json_response({"error": "use GET or DELETE"}, 405)
        query = {name: values[-1] for name, values in request.query_params().items()}
        try:
            after, limit = int(query.get("after", 0)), min(int(query.get("limit", 1000)), 10_000)
        except ValueError:
            return json_response({"error": "after and limit must be integers"}, 400)
        return json_response({"messages": list(self.store.messages(query.get("pool"), after, limit))})

    # -- HTTP routes ---------------------------------------------------------------------------------------

    async def serve_pool_path(self, request: HttpRequest) -> HttpResponse | None:
        found = POOL_PATH.match(request.path)
        if found is None:
            return None
        pool = self.store.pool(found.group(1))
        if pool is None:
            return (
                None
                if not found.group(2).startswith("/.well-known/")
                else json_response({"message": f"User pool {found.group(1)} does not exist."}, 404)
            )
        return await self.hosted.serve(request, pool, found.group(2))

    async def serve_domain(self, request: HttpRequest) -> HttpResponse | None:
        prefix = request.host.split(".auth.", 1)[0]
        owner = self.store.domain(prefix)
        pool = self.store.pool(owner[0]) if owner else None
        if pool is None:
            return None
        return await self.hosted.serve(request, pool, request.path)
