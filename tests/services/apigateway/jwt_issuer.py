"""A JWT issuer for tests: an RSA key, its JWKS served by a tiny loopback HTTP server (at
`<issuer>/.well-known/jwks.json`), and RS256 tokens signed with it."""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _int(value: int) -> str:
    return _b64(value.to_bytes((value.bit_length() + 7) // 8, "big"))


class Issuer:
    def __init__(self, path: str = "") -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "test-key-1"
        self.path = path
        self.fetches = 0
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                numbers = issuer.key.public_key().public_numbers()
                if self.path == f"{issuer.path}/.well-known/jwks.json":
                    issuer.fetches += 1
                    body = json.dumps(
                        {
                            "keys": [
                                {
                                    "kty": "RSA",
                                    "kid": issuer.kid,
                                    "alg": "RS256",
                                    "use": "sig",
                                    "n": _int(numbers.n),
                                    "e": _int(numbers.e),
                                }
                            ]
                        }
                    ).encode()
                    status = 200
                elif self.path == f"{issuer.path}/.well-known/openid-configuration":
                    body = json.dumps(
                        {"issuer": issuer.url, "jwks_uri": f"{issuer.url}/.well-known/jwks.json"}
                    ).encode()
                    status = 200
                else:
                    body, status = b"{}", 404
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{path}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Issuer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    @staticmethod
    def other_key():
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def token(self, claims: dict, key=None) -> str:
        header = {"alg": "RS256", "typ": "JWT", "kid": self.kid}
        claims = {"iss": self.url, **claims}
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}".encode()
        signature = (key or self.key).sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input.decode()}.{_b64(signature)}"
