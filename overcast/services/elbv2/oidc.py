"""`authenticate-oidc` actions of Application Load Balancers: OpenID Connect's authorization code flow.

A request without a valid session cookie is sent to the IdP's authorization endpoint (or refused, or let
through, as `OnUnauthenticatedRequest` says); the IdP sends the user back to `/oauth2/idpresponse`, where the
load balancer exchanges the code at the token endpoint (the client's id and secret, HTTP Basic), asks the user
info endpoint for the user's claims, sets the session cookie (`<SessionCookieName>-0`, signed, lasting
`SessionTimeout` of virtual time) and redirects to the page first asked for. Requests with the session reach
targets with `X-Amzn-Oidc-Accesstoken`, `X-Amzn-Oidc-Identity` (the `sub` claim) and `X-Amzn-Oidc-Data` (the
claims as a JWT the load balancer signs with ES256; its public key at `/_overcast/elbv2/public-keys/<kid>`,
where AWS publishes it at `public-keys.auth.elb.<region>.amazonaws.com/<kid>`).

The IdP's endpoints are reached only on this machine's loopback addresses (a local Keycloak, dex, ...).
"""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from email.utils import formatdate
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from overcast.services.elbv2.http1 import BadMessage, MessageReader, serialize_request

if TYPE_CHECKING:
    from overcast.services.elbv2.proxy import DataPlane, Outcome, View

IDP_RESPONSE = "/oauth2/idpresponse"
IDP_ERROR = 561  # the load balancer's status when the IdP refuses or fails


class IdpError(Exception):
    """The IdP could not be reached or refused the exchange."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode()  # padded, as the load balancer's JWTs are


class Oidc:
    def __init__(self, plane: DataPlane) -> None:
        self.plane = plane
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.kid = str(uuid.uuid4())

    def public_key(self, kid: str) -> bytes | None:
        if kid != self.kid:
            return None
        return self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def configs(self, view: View) -> list[dict[str, Any]]:
        return [action["AuthenticateOidcConfig"] for _, (actions, _) in view.rules for action in actions
                if action["Type"] == "authenticate-oidc"]  # fmt: skip

    # -- a request meeting an authenticate-oidc action ----------------------------------------------------------

    def authenticate(
        self, view: View, config: dict[str, Any], target: str, host: str, cookies: dict[str, str]
    ) -> Outcome | list[tuple[str, str]]:
        """The headers a signed-in user's request carries to targets, or the answer to a user who is not."""
        from overcast.services.elbv2.proxy import Outcome, _own_headers, error_page

        session = self.plane._unsign(cookies.get(f"{config['SessionCookieName']}-0", ""))
        if session and session[0] == config["ClientId"] and session[3] > self.plane.service.clock.now():
            return self._headers(view, config, session)
        mode = config.get("OnUnauthenticatedRequest", "authenticate")
        if mode == "deny":
            return error_page(401)
        if mode == "allow":
            return []
        state = self.plane._sign([config["ClientId"], target])
        query = {"client_id": config["ClientId"], "redirect_uri": f"https://{host}{IDP_RESPONSE}",
                 "response_type": "code", "scope": config.get("Scope", "openid"), "state": state,
                 **(config.get("AuthenticationRequestExtraParams") or {})}  # fmt: skip
        endpoint = config["AuthorizationEndpoint"]
        location = endpoint + ("&" if "?" in endpoint else "?") + urlencode(query)
        return Outcome(302, [*_own_headers("text/html"), ("Location", location)], error_page(302).body)

    def _headers(self, view: View, config: dict[str, Any], session: list[Any]) -> list[tuple[str, str]]:
        client_id, claims, access_token, expiry = session
        header = {"typ": "JWT", "kid": self.kid, "alg": "ES256", "iss": config["Issuer"], "client": client_id,
                  "signer": view.lb.arn, "exp": int(expiry)}  # fmt: skip
        signed = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        r, s = decode_dss_signature(self.key.sign(signed.encode(), ec.ECDSA(hashes.SHA256())))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return [("X-Amzn-Oidc-Accesstoken", access_token), ("X-Amzn-Oidc-Identity", str(claims.get("sub", ""))),
                ("X-Amzn-Oidc-Data", f"{signed}.{_b64(signature)}")]  # fmt: skip

    # -- the IdP sending the user back --------------------------------------------------------------------------

    async def idp_response(self, view: View, query: str, host: str) -> Outcome:
        from overcast.services.elbv2.proxy import Outcome, _own_headers, error_page

        params = dict(parse_qsl(query))
        state = self.plane._unsign(params.get("state", ""))
        config = next((c for c in self.configs(view) if state and c["ClientId"] == state[0]), None)
        if config is None or not params.get("code"):
            return error_page(401)
        secret = self.plane.service.store.client_secret(view.lb.arn, config["ClientId"]) or ""
        try:
            tokens = await _call(
                "POST", config["TokenEndpoint"],
                urlencode({"grant_type": "authorization_code", "code": params["code"],
                           "redirect_uri": f"https://{host}{IDP_RESPONSE}"}).encode(),
                [("Content-Type", "application/x-www-form-urlencoded"),
                 ("Authorization", "Basic " + base64.b64encode(f"{config['ClientId']}:{secret}".encode()).decode())],
            )  # fmt: skip
            access_token = tokens["access_token"]
            claims = await _call(
                "GET", config["UserInfoEndpoint"], b"", [("Authorization", f"Bearer {access_token}")]
            )
        except (IdpError, KeyError, TypeError):
            return error_page(IDP_ERROR)
        expiry = self.plane.service.clock.now() + int(config.get("SessionTimeout", 604800))
        cookie = self.plane._sign([config["ClientId"], claims, access_token, expiry])
        headers = [*_own_headers("text/html"), ("Location", f"https://{host}{state[1]}"),
                   ("Set-Cookie", f"{config['SessionCookieName']}-0={cookie}; Expires={formatdate(expiry, usegmt=True)}; "
                                  "Path=/; Secure; HttpOnly")]  # fmt: skip
        return Outcome(302, headers, error_page(302).body)


async def _call(method: str, url: str, body: bytes, headers: list[tuple[str, str]]) -> Any:
    """One JSON exchange with the IdP, on this machine only."""
    from overcast.services.elbv2.proxy import _client_tls, allowed_address

    parts = urlsplit(url)
    tls = parts.scheme == "https"
    port = parts.port or (443 if tls else 80)
    loop = asyncio.get_running_loop()
    try:
        found = await loop.getaddrinfo(parts.hostname or "", port)
    except OSError as error:
        raise IdpError(str(error)) from None
    address = next((info[4][0] for info in found if allowed_address(info[4][0])), None)
    if address is None:
        raise IdpError(f"{parts.hostname} is not on this machine")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    request = serialize_request(method, target, [("Host", parts.netloc), ("Accept", "application/json"),
                                                 ("Connection", "close"), *headers], body)  # fmt: skip
    try:
        async with asyncio.timeout(5):
            reader, writer = await asyncio.open_connection(
                address,
                port,
                ssl=_client_tls() if tls else None,
                server_hostname=parts.hostname if tls else None,
            )
            try:
                writer.write(request)
                response = await MessageReader(reader, False).next()
            finally:
                writer.close()
    except (OSError, TimeoutError, BadMessage) as error:
        raise IdpError(str(error)) from None
    if response is None or not 200 <= response.status < 300:
        raise IdpError(f"the IdP answered {response.status if response else 'nothing'}")
    try:
        return json.loads(response.body)
    except ValueError:
        raise IdpError("the IdP's answer is not JSON") from None
