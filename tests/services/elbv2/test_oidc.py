"""authenticate-oidc: an HTTPS listener sends users without a session to the IdP, exchanges the code the IdP
sends back, and forwards signed-in users' requests with their claims (a local IdP of the test's own)."""

from __future__ import annotations

import base64
import http.client
import json
import ssl
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from tests.helpers import shared_network
from tests.services.elbv2.conftest import port_of

AUTHORITY = (
    "arn:aws:acm-pca:us-east-1:000000000000:certificate-authority/12345678-1234-1234-1234-123456789012"
)


@pytest.fixture
def idp() -> Iterator[str]:
    """An OpenID provider: /token takes the code `good-code` from client-1 (secret s3cret), /userinfo tells
    who the token's user is."""

    class Provider(BaseHTTPRequestHandler):
        def _json(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:  # noqa: N802
            form = dict(urllib.parse.parse_qsl(self.rfile.read(int(self.headers["Content-Length"])).decode()))
            basic = "Basic " + base64.b64encode(b"client-1:s3cret").decode()
            if (
                self.path == "/token"
                and self.headers["Authorization"] == basic
                and form.get("code") == "good-code"
            ):
                self._json(
                    200, {"access_token": "at-123", "id_token": "header.payload.sig", "token_type": "Bearer"}
                )
            else:
                self._json(400, {"error": "invalid_grant"})

        def do_GET(self) -> None:  # noqa: N802
            if self.path == "/userinfo" and self.headers["Authorization"] == "Bearer at-123":
                self._json(200, {"sub": "alice", "email": "alice@example.com"})
            else:
                self._json(401, {"error": "invalid_token"})

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Provider)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_users_sign_in_through_the_idp_and_targets_get_their_claims(overcast, elb, backends, idp):
    web = backends("web")
    lb = elb.create_load_balancer(Name="signed-in", Subnets=shared_network(elb)[1])["LoadBalancers"][0]
    tg = elb.create_target_group(Name="app", Protocol="HTTP", Port=80, VpcId=lb["VpcId"], TargetType="ip")[
        "TargetGroups"
    ][0]
    elb.register_targets(TargetGroupArn=tg["TargetGroupArn"], Targets=[{"Id": "127.0.0.1", "Port": web.port}])
    certificate = overcast.client("acm").request_certificate(
        DomainName="auth.internal", CertificateAuthorityArn=AUTHORITY
    )
    oidc = {"Issuer": "https://idp.example.com", "AuthorizationEndpoint": "https://idp.example.com/authorize",
            "TokenEndpoint": f"{idp}/token", "UserInfoEndpoint": f"{idp}/userinfo",
            "ClientId": "client-1", "ClientSecret": "s3cret"}  # fmt: skip
    listener = elb.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTPS", Port=443,
        Certificates=[{"CertificateArn": certificate["CertificateArn"]}],
        DefaultActions=[{"Type": "authenticate-oidc", "Order": 1, "AuthenticateOidcConfig": oidc},
                        {"Type": "forward", "Order": 2, "TargetGroupArn": tg["TargetGroupArn"]}],
    )["Listeners"][0]  # fmt: skip
    assert "ClientSecret" not in listener["DefaultActions"][0]["AuthenticateOidcConfig"]
    elb.create_rule(ListenerArn=listener["ListenerArn"], Priority=1,
                    Conditions=[{"Field": "path-pattern", "Values": ["/api/*"]}],
                    Actions=[{"Type": "authenticate-oidc", "Order": 1,
                              "AuthenticateOidcConfig": {**oidc, "OnUnauthenticatedRequest": "deny"}},
                             {"Type": "forward", "Order": 2, "TargetGroupArn": tg["TargetGroupArn"]}])  # fmt: skip
    root = urllib.request.urlopen(overcast.endpoint + "/_overcast/acm/ca.pem").read().decode()
    context = ssl.create_default_context(cadata=root)
    context.check_hostname = False
    port = port_of(lb)

    def fetch(target: str, cookie: str | None = None) -> http.client.HTTPResponse:
        connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10)
        connection.request(
            "GET", target, headers={"Host": f"auth.internal:{port}", **({"Cookie": cookie} if cookie else {})}
        )
        response = connection.getresponse()
        response.body = response.read()
        connection.close()
        return response

    first = fetch("/app?tab=1")  # no session: off to the IdP
    assert first.status == 302
    location = urllib.parse.urlsplit(first.getheader("Location"))
    assert f"{location.scheme}://{location.netloc}{location.path}" == "https://idp.example.com/authorize"
    query = dict(urllib.parse.parse_qsl(location.query))
    assert (
        query["client_id"] == "client-1" and query["response_type"] == "code" and query["scope"] == "openid"
    )
    assert query["redirect_uri"] == f"https://auth.internal:{port}/oauth2/idpresponse"
    assert fetch("/api/orders").status == 401  # the deny rule

    refused = fetch(f"/oauth2/idpresponse?code=bad-code&state={urllib.parse.quote(query['state'])}")
    assert refused.status == 561
    back = fetch(f"/oauth2/idpresponse?code=good-code&state={urllib.parse.quote(query['state'])}")
    assert back.status == 302 and back.getheader("Location") == f"https://auth.internal:{port}/app?tab=1"
    cookie = back.getheader("Set-Cookie").split(";")[0]
    assert cookie.startswith("AWSELBAuthSessionCookie-0=")

    page = fetch("/app?tab=1", cookie)
    seen = {k.lower(): v for k, v in json.loads(page.body)["headers"].items()}
    assert (
        page.status == 200
        and seen["x-amzn-oidc-identity"] == "alice"
        and seen["x-amzn-oidc-accesstoken"] == "at-123"
    )
    header_b64, claims_b64, signature_b64 = seen["x-amzn-oidc-data"].split(".")
    header = json.loads(base64.urlsafe_b64decode(header_b64))
    assert (
        header["alg"] == "ES256"
        and header["signer"] == lb["LoadBalancerArn"]
        and header["client"] == "client-1"
    )
    assert json.loads(base64.urlsafe_b64decode(claims_b64)) == {"sub": "alice", "email": "alice@example.com"}
    pem = urllib.request.urlopen(f"{overcast.endpoint}/_overcast/elbv2/public-keys/{header['kid']}").read()
    raw = base64.urlsafe_b64decode(signature_b64)
    signature = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    serialization.load_pem_public_key(pem).verify(
        signature, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256())
    )
    assert fetch("/api/orders", cookie).status == 200  # signed in: the deny rule lets the user through

    forged = fetch("/app", "AWSELBAuthSessionCookie-0=forged")
    assert forged.status == 302  # a session the load balancer did not sign is no session
