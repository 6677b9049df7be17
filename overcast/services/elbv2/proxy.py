"""The data plane: every listener listens on a loopback port and carries traffic as AWS's load balancers do.

- An Application Load Balancer's listener (HTTP, or HTTPS terminating TLS with its ACM certificates, chosen by
  SNI) evaluates the listener's rules and runs the matching rule's actions: fixed responses, redirects, and
  forwards to a target group (weighted between groups, with group stickiness), to one of the group's healthy
  targets (round robin, least outstanding requests or weighted random; `AWSALB`/`AWSALBAPP` stickiness),
  adding X-Forwarded-For/-Proto/-Port and X-Amzn-Trace-Id. Lambda targets get the ALB event. A WebSocket
  upgrade the target accepts (101) turns the client's connection into a tunnel to that target.
- A Network Load Balancer's TCP (or TLS-terminating) listener pipes each connection to a healthy target.
- With no healthy target, the load balancer fails open to all registered targets, as AWS does.

Traffic goes only to loopback addresses (IP targets on this machine; instances once EC2 gives them addresses in
namespaces Overcast made). The data plane reads the configuration once per change (`provider.version`).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import ipaddress
import json
import logging
import os
import random
import re
import socket
import ssl
import tempfile
import time
import zlib
from dataclasses import dataclass, field, replace
from email.utils import formatdate
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from cryptography import x509
from cryptography.hazmat.primitives import serialization

import overcast.services.acm.api as acm
from overcast.errors import ServiceError
from overcast.http import HttpRequest, HttpResponse
from overcast.identity import service_principal
from overcast.services.elbv2 import lambda_events
from overcast.services.elbv2.actions import rewrite
from overcast.services.elbv2.common import host_of
from overcast.services.elbv2.http1 import (
    HOP_BY_HOP,
    BadMessage,
    Message,
    MessageReader,
    serialize_request,
    serialize_response,
)
from overcast.services.elbv2.instances import InstanceTargets, is_instance_address
from overcast.services.elbv2.listeners import rename_key
from overcast.services.elbv2.load_balancers import free_port
from overcast.services.elbv2.matching import Request, first_match
from overcast.services.elbv2.oidc import IDP_RESPONSE, Oidc
from overcast.services.elbv2.store import Listener, LoadBalancer, Target, TargetGroup
from overcast.services.elbv2.tagging import SSL_POLICIES
from overcast.services.elbv2.udp import UdpListener
from overcast.services.kit.arns import parse_arn

if TYPE_CHECKING:
    from overcast.services.elbv2.provider import ElbV2Provider

log = logging.getLogger("overcast")
SERVING = ("healthy", "unavailable")  # states that receive traffic
FAIL_OPEN = ("initial", "unhealthy")  # ... and these, when no target is in a serving state
_VALID_HEADER = re.compile(r"^[A-Za-z0-9-]+$")  # routing.http.drop_invalid_header_fields
RESPONSE_HEADERS = {"strict_transport_security": "Strict-Transport-Security",
                    "access_control_allow_origin": "Access-Control-Allow-Origin",
                    "access_control_allow_methods": "Access-Control-Allow-Methods",
                    "access_control_allow_headers": "Access-Control-Allow-Headers",
                    "access_control_allow_credentials": "Access-Control-Allow-Credentials",
                    "access_control_expose_headers": "Access-Control-Expose-Headers",
                    "access_control_max_age": "Access-Control-Max-Age",
                    "content_security_policy": "Content-Security-Policy",
                    "x_content_type_options": "X-Content-Type-Options",
                    "x_frame_options": "X-Frame-Options"}  # fmt: skip
_NO_CHECK_TIME = 0x200000  # OpenSSL's X509_V_FLAG_NO_CHECK_TIME (the ssl module names no constant for it)
_TLS_VERSIONS = {"TLSv1": ssl.TLSVersion.TLSv1, "TLSv1.1": ssl.TLSVersion.TLSv1_1, "TLSv1.2": ssl.TLSVersion.TLSv1_2,
                 "TLSv1.3": ssl.TLSVersion.TLSv1_3}  # fmt: skip


@dataclass
class Group:
    tg: TargetGroup
    targets: list[Target]  # registered, not draining

    def eligible(self) -> list[Target]:
        """The targets that receive traffic: the healthy ones, or every target when fewer are healthy than the
        group's unhealthy state routing threshold asks (by default, none healthy: the group fails open)."""
        serving = [t for t in self.targets if t.state in SERVING]
        if self._enough(len(serving)):
            return serving
        return serving + [t for t in self.targets if t.state in FAIL_OPEN]

    def _enough(self, healthy: int) -> bool:
        prefix = "target_group_health.unhealthy_state_routing.minimum_healthy_targets"
        count = self.tg.attributes.get(f"{prefix}.count", "1")
        percentage = self.tg.attributes.get(f"{prefix}.percentage", "off")
        if healthy < (int(count) if count.isdigit() else 1):
            return False
        return (
            percentage == "off"
            or not percentage.isdigit()
            or healthy * 100 >= int(percentage) * len(self.targets)
        )


@dataclass
class View:
    """One listener's configuration as the data plane uses it, valid for one configuration version."""

    version: int
    listener: Listener
    lb: LoadBalancer
    rules: list[tuple[list[dict[str, Any]], tuple[list[dict[str, Any]], list[dict[str, Any]]]]]  # conditions,
    # (actions, transforms)
    groups: dict[str, Group]
    ports: dict[int, tuple[int, str]]  # the load balancer's listener ports -> (local port, protocol)
    revoked: frozenset[int] = frozenset()  # serial numbers the trust store's revocation lists name (mTLS)


@dataclass
class Outcome:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    target: str = "-"
    tunnel: tuple[MessageReader, asyncio.StreamWriter] | None = None  # the target's side of an upgrade (101)


def error_page(status: int) -> Outcome:
    from overcast.services.elbv2.http1 import reason

    title = f"{status} {reason(status)}"
    body = f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n</body>\r\n</html>\r\n"
    return Outcome(status, _own_headers("text/html"), body.encode())


def _own_headers(content_type: str | None) -> list[tuple[str, str]]:
    """The headers of a response the load balancer makes itself."""
    headers = [("Server", "awselb/2.0"), ("Date", formatdate(usegmt=True))]
    if content_type:
        headers.append(("Content-Type", content_type))
    return headers


@lru_cache(maxsize=4096)
def allowed_address(address: str) -> bool:
    """Whether the data plane may send traffic to `address`: only this machine's loopback for now."""
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def trace_id() -> str:
    return f"Root=1-{int(time.time()):08x}-{os.urandom(12).hex()}"


class DataPlane:
    def __init__(self, service: ElbV2Provider) -> None:
        self.service = service
        self.platform = service.platform
        self._sockets: dict[str, socket.socket] = {}
        self._servers: dict[str, asyncio.AbstractServer] = {}
        self._clients: dict[str, set[asyncio.StreamWriter]] = {}
        self._udp: dict[str, UdpListener] = {}
        self._views: dict[str, View] = {}
        self._turns: dict[str, int] = {}  # target group -> round-robin position
        self._outstanding: dict[tuple[str, str, int], int] = {}
        self._pool: dict[tuple[str, int, bool], list[tuple[asyncio.StreamWriter, MessageReader]]] = {}
        self._secret = os.urandom(16)  # signs stickiness cookies and authentication sessions
        self.oidc = Oidc(self)
        self.instances = InstanceTargets(self.platform)

    # -- listeners' sockets -------------------------------------------------------------------------------------

    def open_all(self) -> None:
        for listener in self.service.store.all_listeners():
            self.open(listener.arn)

    def open(self, arn: str) -> None:
        """Start listening for a listener (after its creation commits, and at start-up)."""
        listener = self.service.store.listener(arn)
        if (
            listener is None
            or arn in self._sockets
            or arn in self._udp
            or listener.protocol in (None, "GENEVE", "QUIC", "TCP_QUIC")
        ):
            return
        if listener.protocol == "UDP":
            self._open_udp(listener)
            return
        if listener.protocol == "TCP_UDP":
            try:
                sock, datagrams = self._bind_both(listener)
            except OSError:
                log.exception("elbv2: listener %s cannot listen", arn)
                return
            self._open_udp(listener, datagrams)
        else:
            sock = self._bind(listener)
        try:
            context = self._tls_context(listener) if listener.protocol in ("HTTPS", "TLS") else None
        except Exception:
            log.exception("elbv2: the certificates of %s could not be loaded", arn)
            sock.close()
            return
        self._sockets[arn] = sock
        self._clients[arn] = set()
        self.platform.spawn(self._serve(listener, sock, context))

    def _open_udp(self, listener: Listener, sock: socket.socket | None = None) -> None:
        if sock is None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                sock.bind(("127.0.0.1", listener.local_port))
            except OSError:
                port = free_port()
                sock.bind(("127.0.0.1", port))
                self._moved(listener, port)
        sock.setblocking(False)
        protocol = UdpListener(self, listener.arn)
        self._udp[listener.arn] = protocol

        async def serve() -> None:
            await asyncio.get_running_loop().create_datagram_endpoint(lambda: protocol, sock=sock)

        self.platform.spawn(serve())

    async def udp_target(self, arn: str, flow_hash: int) -> tuple[str, int] | None:
        """The address a new UDP flow of the listener goes to: a healthy target chosen by the flow's hash."""
        view = await self.view(arn)
        if view is None or not view.listener.doc.get("DefaultActions"):
            return None
        group_arn = view.listener.doc["DefaultActions"][-1]["ForwardConfig"]["TargetGroups"][0][
            "TargetGroupArn"
        ]
        group = view.groups.get(group_arn)
        eligible = group.eligible() if group else []
        if group is None or not eligible:
            return None
        address, instance = self._address(view, group, eligible[flow_hash % len(eligible)])
        # UDP reaches targets on this machine only (between sandboxes only TCP travels)
        return address if address is not None and instance is None and allowed_address(address[0]) else None

    def _bind(self, listener: Listener, exact: int | None = None) -> socket.socket:
        """A listening TCP socket on the listener's port (or exactly on `exact`, else OSError)."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", exact or listener.local_port))
        except OSError:  # taken since (after a restart): another port, and the names that report it
            sock.close()
            if exact is not None:
                raise
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            port = free_port()
            log.warning(
                "elbv2: port %d of %s is taken; listening on %d", listener.local_port, listener.arn, port
            )
            sock.bind(("127.0.0.1", port))
            self._moved(listener, port)
        sock.listen(512)
        sock.setblocking(False)
        return sock

    def _bind_both(self, listener: Listener) -> tuple[socket.socket, socket.socket]:
        """A TCP_UDP listener's two sockets, on one port: its own when both protocols have it free, else the
        first port the kernel offers that is free for both."""
        port = listener.local_port
        for _ in range(50):
            datagrams = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                datagrams.bind(("127.0.0.1", port))
                stream = self._bind(listener, port)
            except OSError:
                datagrams.close()
                port = free_port()
                continue
            if port != listener.local_port:
                log.warning(
                    "elbv2: port %d of %s is taken; listening on %d", listener.local_port, listener.arn, port
                )
                self._moved(listener, port)
            return stream, datagrams
        raise OSError(f"no loopback port is free for both TCP and UDP for {listener.arn}")

    def _moved(self, listener: Listener, port: int) -> None:
        store = self.service.store
        with self.service.db.transaction():
            lb = store.load_balancer(listener.lb_arn)
            if lb is not None and lb.front_port == listener.local_port and "DNSName" in lb.doc:
                lb.front_port = port
                lb.doc["DNSName"] = f"{host_of(lb.doc['DNSName'])}:{port}"
                store.put_load_balancer(lb)
            listener.local_port = port
            store.put_listener(listener)
        self.service.version += 1

    async def _serve(self, listener: Listener, sock: socket.socket, context: ssl.SSLContext | None) -> None:
        arn = listener.arn
        tcp = listener.protocol in ("TCP", "TLS", "TCP_UDP")
        scheme = "https" if listener.protocol == "HTTPS" else "http"

        async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            clients = self._clients.get(arn)
            if clients is None:
                writer.close()
                return
            clients.add(writer)
            try:
                if tcp:
                    await self._serve_tcp(arn, reader, writer)
                else:
                    await self._serve_http(arn, reader, writer, scheme)
            except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError, TimeoutError):
                pass
            except Exception:
                log.exception("elbv2: listener %s failed", arn)
            finally:
                clients.discard(writer)
                writer.close()

        try:
            extra = {"ssl": context, "ssl_handshake_timeout": 10} if context is not None else {}
            server = await asyncio.start_server(connected, sock=sock, **extra)
        except (OSError, ValueError):
            log.exception("elbv2: listener %s cannot serve", arn)
            return
        if self._sockets.get(arn) is not sock:  # closed while starting
            server.close()
            return
        self._servers[arn] = server

    def close(self, arns: list[str]) -> None:
        for arn in arns:
            server = self._servers.pop(arn, None)
            if server is not None:
                server.close()
            sock = self._sockets.pop(arn, None)
            if sock is not None and server is None:
                sock.close()
            for writer in self._clients.pop(arn, set()):
                writer.close()
            udp = self._udp.pop(arn, None)
            if udp is not None:
                udp.close()
            self._views.pop(arn, None)

    def reopen(self, arn: str) -> None:
        self.close([arn])
        self.open(arn)

    def close_all(self) -> None:
        self.close([*self._sockets, *self._udp])
        for connections in self._pool.values():
            for writer, _ in connections:
                writer.close()
        self._pool.clear()
        self._views.clear()

    def _tls_context(self, listener: Listener) -> ssl.SSLContext:
        """The server context of an HTTPS/TLS listener: its default certificate, and the others by SNI. When ACM
        renews or re-imports a certificate, the next handshakes naming a server get the new one."""
        built = [self._certificate_contexts(listener), acm.generation(self.platform)]
        if not built[0]:
            raise ValueError("no usable certificate")
        default = built[0][0][0]

        def choose(sock: ssl.SSLObject, server_name: str | None, _: ssl.SSLContext) -> None:
            if built[1] != acm.generation(self.platform):
                try:
                    built[:] = [
                        self._certificate_contexts(listener) or built[0],
                        acm.generation(self.platform),
                    ]
                except (OSError, ValueError, ssl.SSLError):
                    log.exception("elbv2: the renewed certificates of %s could not be loaded", listener.arn)
            contexts = built[0]
            chosen = contexts[0][0]
            wanted = (server_name or "").lower()
            for context, names in contexts:
                if wanted and any(_covers(name, wanted) for name in names):
                    chosen = context
                    break
            if chosen is not sock.context:
                sock.context = chosen

        default.sni_callback = choose
        return default

    def _certificate_contexts(self, listener: Listener) -> list[tuple[ssl.SSLContext, list[str]]]:
        """A server context per certificate of the listener (the default first) with the names it covers."""
        contexts = []
        protocols = SSL_POLICIES.get(listener.doc.get("SslPolicy", ""), ("TLSv1.2", "TLSv1.3"))
        alpn = (listener.doc.get("AlpnPolicy") or ["None"])[0]
        for arn in listener.certificates:
            found = acm.server_certificate(self.platform, arn)
            if found is None:
                continue
            chain, key, names = found
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.minimum_version = _TLS_VERSIONS[protocols[0]]
            with tempfile.TemporaryDirectory(prefix="overcast-tls-") as folder:  # ssl loads files only
                cert_path, key_path = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
                with open(cert_path, "w") as out:
                    out.write(chain)
                with open(os.open(key_path, os.O_WRONLY | os.O_CREAT, 0o600), "w") as out:
                    out.write(key)
                context.load_cert_chain(cert_path, key_path)
            if alpn in ("HTTP1Only", "HTTP2Preferred"):
                context.set_alpn_protocols(["http/1.1"])
            self._verify_clients(context, listener)
            contexts.append((context, [name.lower() for name in names]))
        return contexts

    def _verify_clients(self, context: ssl.SSLContext, listener: Listener) -> None:
        """Mutual TLS in `verify` mode: the handshake requires a client certificate the trust store's CAs
        signed (its validity dates ignored with IgnoreClientCertificateExpiry). Revocations are checked once
        the handshake is done (`_serve_http`)."""
        mutual = listener.doc.get("MutualAuthentication") or {}
        if mutual.get("Mode") != "verify":
            return
        trust = self.service.store.trust_store(mutual.get("TrustStoreArn", ""))
        if trust is None:
            raise ValueError("the listener's trust store is gone")
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(cadata=trust.bundle)
        if mutual.get("IgnoreClientCertificateExpiry"):
            context.verify_flags |= _NO_CHECK_TIME

    # -- the configuration, once per change ---------------------------------------------------------------------------

    async def view(self, arn: str) -> View | None:
        version = self.service.version
        cached = self._views.get(arn)
        if cached is not None and cached.version == version:
            return cached
        store = self.service.store
        with self.service.db.transaction():
            listener = store.listener(arn)
            lb = store.load_balancer(listener.lb_arn) if listener else None
            if listener is None or lb is None:
                return None
            rules = [
                (rule.doc["Conditions"], (rule.doc["Actions"], rule.doc.get("Transforms") or []))
                for rule in store.rules_of(arn)
            ]
            groups = {}
            for tg_arn in store.target_groups_of_load_balancer(lb.arn):
                tg = store.target_group(tg_arn)
                if tg is not None:
                    targets = [t for t in store.targets(tg_arn) if t.drain_until is None]
                    groups[tg_arn] = Group(tg, targets)
            ports = {item.port: (item.local_port, item.protocol) for item in store.listeners_of(lb.arn)}
            trust_store = (listener.doc.get("MutualAuthentication") or {}).get("TrustStoreArn")
            revoked = frozenset(store.revoked_serials(trust_store)) if trust_store else frozenset()
        view = View(version, listener, lb, rules, groups, ports, revoked)
        if self.service.version == version:
            self._views[arn] = view
        return view

    # -- HTTP (Application Load Balancers) -----------------------------------------------------------------------

    async def _serve_http(
        self, arn: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, scheme: str
    ) -> None:
        peer = writer.get_extra_info("peername") or ("127.0.0.1", 0)
        local_port = (writer.get_extra_info("sockname") or ("", 0))[1]
        messages = MessageReader(reader, True)
        tls = writer.get_extra_info("ssl_object")
        certificate = tls.getpeercert(binary_form=True) if tls is not None else None
        client_tls: ClientTls | None = None
        if tls is not None:
            cipher = tls.cipher()
            client_tls = ClientTls(tls.version() or "", cipher[0] if cipher else "")
        if certificate and client_tls is not None:
            view = await self.view(arn)
            client = x509.load_der_x509_certificate(certificate)
            if view is None or client.serial_number in view.revoked:
                return  # a revoked client certificate: the connection is closed
            client_tls.certificate = _mtls_headers(client)
        while True:
            view = await self.view(arn)
            idle = float(view.lb.attributes.get("idle_timeout.timeout_seconds", "60")) if view else 60.0
            try:
                async with asyncio.timeout(idle):
                    request = await messages.next()
            except BadMessage:
                outcome = error_page(400)
                writer.write(
                    serialize_response(
                        outcome.status, [*outcome.headers, ("Connection", "close")], outcome.body
                    )
                )
                await writer.drain()
                return
            if request is None:
                return
            outcome = await self.handle(arn, request, peer[0], peer[1], local_port, scheme, client_tls)
            if outcome.tunnel is not None:
                writer.write(serialize_response(outcome.status, outcome.headers, b""))
                await _splice(messages, writer, *outcome.tunnel, idle)
                return
            headers = outcome.headers if request.keep_alive else [*outcome.headers, ("Connection", "close")]
            writer.write(
                serialize_response(outcome.status, headers, outcome.body, head=request.method == "HEAD")
            )
            await writer.drain()
            if not request.keep_alive:
                return

    async def serve_main_port(self, request: HttpRequest) -> HttpResponse | None:
        """A request through Overcast's own port whose Host names a load balancer: served by its HTTP listener
        on the port the Host names (80 when none), else by its only HTTP listener."""
        host, _, port_text = request.host.partition(":")
        with self.service.db.transaction():
            lb = self.service.store.load_balancer_by_host(host.lower())
            listeners = self.service.store.listeners_of(lb.arn) if lb else []
        http = [item for item in listeners if item.protocol == "HTTP"]
        if lb is None:
            return None
        if not http:
            outcome = error_page(503)
            return HttpResponse(outcome.status, outcome.headers, outcome.body)
        wanted = int(port_text) if port_text.isdigit() else 80
        listener = next((item for item in http if item.port == wanted), http[0])
        message = Message(
            headers=[(name, value) for name, value in request.headers.items()],
            body=request.body,
            method=request.method,
            target=request.path + (f"?{request.query}" if request.query else ""),
        )
        outcome = await self.handle(
            listener.arn, message, request.client_ip, 0, self.platform.config.port, request.scheme
        )
        return HttpResponse(outcome.status, outcome.headers, outcome.body)

    async def handle(
        self,
        arn: str,
        request: Message,
        client_ip: str,
        client_port: int,
        local_port: int,
        scheme: str,
        client_tls: ClientTls | None = None,
    ) -> Outcome:
        started = time.monotonic()
        view = await self.view(arn)
        if view is None:
            return error_page(503)
        host_header = request.header("host") or ""
        path, _, query = request.target.partition("?")
        headers: dict[str, list[str]] = {}
        for name, value in request.headers:
            headers.setdefault(name.lower(), []).append(value)
        matched = Request(
            request.method,
            path,
            query,
            host_header.rsplit(":", 1)[0].lower() if not host_header.startswith("[") else host_header,
            headers,
            client_ip,
        )
        actions, transforms = first_match(view.rules, matched) or ([], [])
        outcome: Outcome | None = None
        auth: list[tuple[str, str]] = []  # a signed-in user's claims, for targets
        if path == IDP_RESPONSE and self.oidc.configs(view):  # the IdP sending a user back
            outcome, actions = await self.oidc.idp_response(view, query, host_header), []
        for action in actions:
            kind = action["Type"]
            if kind == "fixed-response":
                config = action["FixedResponseConfig"]
                outcome = Outcome(int(config["StatusCode"]), _own_headers(config.get("ContentType")),
                                  config.get("MessageBody", "").encode())  # fmt: skip
            elif kind == "redirect":
                outcome = self._redirect(
                    view, action["RedirectConfig"], request, host_header, local_port, scheme
                )
            elif kind == "authenticate-oidc":
                found = self.oidc.authenticate(
                    view, action["AuthenticateOidcConfig"], request.target, host_header, _cookies(request)
                )
                if not isinstance(found, list):
                    outcome = found
                    break
                auth = found
            elif kind == "forward":
                try:
                    forwarded = _transformed(request, transforms) if transforms else request
                except (re.error, ValueError, IndexError):
                    outcome = error_page(500)  # a pattern matched but its rewrite failed
                    break
                outcome = await self._forward(
                    view, action, forwarded, client_ip, client_port, local_port, scheme, client_tls, auth
                )
            # authenticate-cognito actions are stored, not enforced (docs/services/elbv2.md)
        if outcome is None:
            outcome = error_page(503)
        outcome.headers = _response_headers(view.listener.attributes, outcome.headers)
        self.service.access_log(
            view, request, outcome, client_ip, client_port, scheme, time.monotonic() - started
        )
        return outcome

    def _redirect(
        self,
        view: View,
        config: dict[str, str],
        request: Message,
        host_header: str,
        local_port: int,
        scheme: str,
    ) -> Outcome:
        path, _, query = request.target.partition("?")
        host = host_header.rsplit(":", 1)[0] if host_header else "localhost"
        listener_port = str(view.listener.port)
        values = {"#{protocol}": scheme.upper(), "#{host}": host, "#{port}": listener_port, "#{path}": path.lstrip("/"),
                  "#{query}": query}  # fmt: skip

        def fill(text: str) -> str:
            for key, value in values.items():
                text = text.replace(key, value)
            return text

        protocol = fill(config["Protocol"]).lower()
        port_number = int(fill(config["Port"]) or listener_port)
        # A port of this load balancer is reached on its local port (the client's own when it is this listener's)
        if port_number == view.listener.port:
            port = local_port
        elif port_number in view.ports:
            port = view.ports[port_number][0]
        else:
            port = port_number
        default = 443 if protocol == "https" else 80
        location = f"{protocol}://{fill(config['Host'])}{'' if port == default else f':{port}'}{fill(config['Path'])}"
        new_query = fill(config["Query"])
        if new_query:
            location += f"?{new_query}"
        status = 301 if config["StatusCode"] == "HTTP_301" else 302
        headers = [*_own_headers("text/html"), ("Location", location)]
        return Outcome(status, headers, error_page(status).body)

    # -- forwarding -------------------------------------------------------------------------------------------------

    async def _forward(
        self, view: View, action: dict[str, Any], request: Message, client_ip: str, client_port: int, local_port: int,
        scheme: str, client_tls: ClientTls | None, auth: list[tuple[str, str]],
    ) -> Outcome:  # fmt: skip
        config = action["ForwardConfig"]
        cookies = _cookies(request)
        set_cookies: list[tuple[str, str]] = []
        group_arn = self._choose_group(config, cookies)
        if group_arn is None:
            return error_page(503)
        group = view.groups.get(group_arn)
        if group is None:
            return error_page(503)
        stickiness = config.get("TargetGroupStickinessConfig") or {}
        if stickiness.get("Enabled") and len(config["TargetGroups"]) > 1:
            value = self._sign([group_arn])
            expires = formatdate(time.time() + stickiness.get("DurationSeconds", 3600), usegmt=True)
            set_cookies.append(("Set-Cookie", f"AWSALBTG={value}; Expires={expires}; Path=/"))
            set_cookies.append(
                (
                    "Set-Cookie",
                    f"AWSALBTGCORS={value}; Expires={expires}; Path=/; SameSite=None{'; Secure' if scheme == 'https' else ''}",
                )
            )
        forwarded = self._forwarded_headers(view, request, client_ip, client_port, local_port, scheme)
        forwarded += _tls_headers(view, client_tls) + auth
        if group.tg.target_type == "lambda":
            outcome = await self._invoke(view, group, request, forwarded)
            outcome.headers.extend(set_cookies)
            return outcome
        target = self._pick(group, cookies)
        if target is None:
            return error_page(503)
        address, instance = self._address(view, group, target)
        upgrade = request.header("upgrade") if request.upgrade else None
        if upgrade and upgrade.lower() == "websocket":
            forwarded += [("Connection", "Upgrade"), ("Upgrade", upgrade)]
        else:
            upgrade = None
        attributes = group.tg.attributes
        sticky = attributes.get("stickiness.enabled") == "true"
        if sticky and attributes.get("stickiness.type") == "lb_cookie":
            value = self._sign([group.tg.arn, target.target_id, target.port])
            expires = formatdate(
                time.time() + int(attributes.get("stickiness.lb_cookie.duration_seconds", "86400")),
                usegmt=True,
            )
            set_cookies.append(("Set-Cookie", f"AWSALB={value}; Expires={expires}; Path=/"))
            set_cookies.append(
                (
                    "Set-Cookie",
                    f"AWSALBCORS={value}; Expires={expires}; Path=/; SameSite=None{'; Secure' if scheme == 'https' else ''}",
                )
            )
        if address is None or (instance is None and not allowed_address(address[0])):
            return Outcome(*_parts(error_page(502)), target=f"{target.target_id}:{target.port}")
        if instance and not self.instances.allowed(view.lb, instance, address[1]):
            # the security groups (or network ACLs, routes) drop the connection: it times out
            return Outcome(*_parts(error_page(504)), target=f"{address[0]}:{address[1]}")
        key = (group.tg.arn, target.target_id, target.port)
        self._outstanding[key] = self._outstanding.get(key, 0) + 1
        try:
            timeout = float(view.lb.attributes.get("idle_timeout.timeout_seconds", "60"))
            data = serialize_request(request.method, request.target, forwarded, request.body)
            tls = group.tg.doc.get("Protocol") == "HTTPS"
            if upgrade:
                return await self._upgrade(address, instance, data, timeout, tls, set_cookies)
            response = await self._exchange(address, instance, data, request.method == "HEAD", timeout, tls)
        except TimeoutError:
            return Outcome(*_parts(error_page(504)), target=f"{address[0]}:{address[1]}")
        except (OSError, BadMessage, ssl.SSLError):
            return Outcome(*_parts(error_page(502)), target=f"{address[0]}:{address[1]}")
        finally:
            self._outstanding[key] -= 1
        headers = [(name, value) for name, value in response.headers
                   if name.lower() not in HOP_BY_HOP and name.lower() != "content-length"]  # fmt: skip
        if sticky and attributes.get("stickiness.type") == "app_cookie":
            name = attributes.get("stickiness.app_cookie.cookie_name", "")
            if any(
                value.split("=", 1)[0].strip() == name
                for key_, value in headers
                if key_.lower() == "set-cookie"
            ):
                value = self._sign([group.tg.arn, target.target_id, target.port])
                expires = formatdate(
                    time.time() + int(attributes.get("stickiness.app_cookie.duration_seconds", "86400")),
                    usegmt=True,
                )
                set_cookies.append(("Set-Cookie", f"AWSALBAPP-0={value}; Expires={expires}; Path=/"))
        return Outcome(response.status, headers + set_cookies, response.body, f"{address[0]}:{address[1]}")

    def _forwarded_headers(
        self, view: View, request: Message, client_ip: str, client_port: int, local_port: int, scheme: str
    ) -> list[tuple[str, str]]:
        attributes = view.lb.attributes
        mode = attributes.get("routing.http.xff_header_processing.mode", "append")
        client = (
            f"{client_ip}:{client_port}"
            if attributes.get("routing.http.xff_client_port.enabled") == "true"
            else client_ip
        )
        headers = []
        existing_xff = []
        drop_invalid = attributes.get("routing.http.drop_invalid_header_fields.enabled") == "true"
        for name, value in request.headers:
            lower = name.lower()
            if drop_invalid and not _VALID_HEADER.match(name):
                continue
            if lower in HOP_BY_HOP or lower in ("content-length", "x-forwarded-proto", "x-forwarded-port"):
                continue
            if lower == "x-forwarded-for":
                existing_xff.append(value)
                continue
            if lower == "x-amzn-trace-id" or lower.startswith(
                ("x-amzn-mtls-", "x-amzn-tls-", "x-amzn-oidc-")
            ):
                continue
            headers.append((name, value))
        if mode == "append":
            headers.append(("X-Forwarded-For", ", ".join([*existing_xff, client])))
        elif mode == "preserve" and existing_xff:
            headers.append(("X-Forwarded-For", ", ".join(existing_xff)))
        headers.append(("X-Forwarded-Proto", scheme))
        headers.append(("X-Forwarded-Port", str(local_port)))
        incoming = request.header("x-amzn-trace-id")
        headers.append(("X-Amzn-Trace-Id", incoming if incoming and "Root=" in incoming else trace_id()))
        return headers

    def _choose_group(self, config: dict[str, Any], cookies: dict[str, str]) -> str | None:
        groups = config["TargetGroups"]
        if len(groups) == 1:
            return groups[0]["TargetGroupArn"]
        if (config.get("TargetGroupStickinessConfig") or {}).get("Enabled"):
            sticky = self._unsign(cookies.get("AWSALBTG", ""))
            if sticky and any(group["TargetGroupArn"] == sticky[0] for group in groups):
                return sticky[0]
        weights = [group.get("Weight", 1) for group in groups]
        if not any(weights):
            return None
        return random.choices([group["TargetGroupArn"] for group in groups], weights)[0]

    def _pick(self, group: Group, cookies: dict[str, str]) -> Target | None:
        eligible = group.eligible()
        if not eligible:
            return None
        attributes = group.tg.attributes
        if attributes.get("stickiness.enabled") == "true":
            cookie = "AWSALB" if attributes.get("stickiness.type") == "lb_cookie" else "AWSALBAPP-0"
            sticky = self._unsign(cookies.get(cookie, ""))
            if sticky and sticky[0] == group.tg.arn:
                for target in eligible:
                    if target.target_id == sticky[1] and target.port == sticky[2]:
                        return target
        algorithm = attributes.get("load_balancing.algorithm.type", "round_robin")
        if algorithm == "least_outstanding_requests":
            return min(eligible, key=lambda t: self._outstanding.get((group.tg.arn, t.target_id, t.port), 0))
        if algorithm == "weighted_random":
            return random.choice(eligible)
        turn = self._turns.get(group.tg.arn, -1) + 1
        self._turns[group.tg.arn] = turn
        return eligible[turn % len(eligible)]

    def _address(self, view: View, group: Group, target: Target) -> tuple[tuple[str, int] | None, str | None]:
        """((address, port), instance id) of a target: no instance for a loopback IP target, no address when it
        cannot be sent traffic at all (not an instance of the VPC, not running)."""
        kind = group.tg.target_type
        if not is_instance_address(kind, target.target_id):
            return ((target.target_id, target.port) if kind == "ip" else None), None
        found = self.instances.reach(view.lb, kind, target.target_id)
        if found is None or found.state != "running":
            return None, None
        return (found.address, target.port), found.instance_id

    async def _open(
        self, address: tuple[str, int], instance: str | None, tls: bool, timeout: float
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """A connection to a target: on loopback, or into an instance's sandbox."""
        context = _client_tls() if tls else None
        if instance:
            return await self.instances.connect(instance, address[1], context, timeout)
        return await asyncio.wait_for(asyncio.open_connection(*address, ssl=context), timeout)

    async def _exchange(
        self,
        address: tuple[str, int],
        instance: str | None,
        data: bytes,
        head: bool,
        timeout: float,
        tls: bool,
    ) -> Message:
        """One request/response with a target, on a kept-alive connection when one is idle."""
        key = (instance or address[0], address[1], tls)
        idle = self._pool.get(key)
        while idle:
            writer, messages = idle.pop()
            if writer.is_closing():
                continue
            try:
                writer.write(data)
                async with asyncio.timeout(timeout):
                    response = await messages.next(head)
            except (OSError, BadMessage):
                writer.close()
                continue
            if response is not None:
                self._keep(key, writer, messages, response)
                return response
            writer.close()
        reader, writer = await self._open(address, instance, tls, timeout)
        messages = MessageReader(reader, False)
        try:
            writer.write(data)
            async with asyncio.timeout(timeout):
                response = await messages.next(head)
        except BaseException:
            writer.close()
            raise
        if response is None:
            writer.close()
            raise BadMessage("the target closed the connection")
        self._keep(key, writer, messages, response)
        return response

    async def _upgrade(
        self, address: tuple[str, int], instance: str | None, data: bytes, timeout: float, tls: bool,
        set_cookies: list[tuple[str, str]],
    ) -> Outcome:  # fmt: skip
        """A WebSocket handshake with a target, on a connection of its own: when the target switches protocols
        (101) the outcome carries that connection, for the client's to be spliced to it."""
        reader, writer = await self._open(address, instance, tls, timeout)
        messages = MessageReader(reader, False)
        try:
            writer.write(data)
            async with asyncio.timeout(timeout):
                response = await messages.next()
            if response is None:
                raise BadMessage("the target closed the connection")
        except BaseException:
            writer.close()
            raise
        target = f"{address[0]}:{address[1]}"
        if response.status == 101 and response.upgrade:
            headers = [(name, value) for name, value in response.headers if name.lower() != "content-length"]
            return Outcome(101, headers + set_cookies, b"", target, tunnel=(messages, writer))
        writer.close()
        headers = [(name, value) for name, value in response.headers
                   if name.lower() not in HOP_BY_HOP and name.lower() != "content-length"]  # fmt: skip
        return Outcome(response.status, headers + set_cookies, response.body, target)

    def _keep(
        self,
        key: tuple[str, int, bool],
        writer: asyncio.StreamWriter,
        messages: MessageReader,
        response: Message,
    ) -> None:
        if response.keep_alive and len(self._pool.setdefault(key, [])) < 64:
            self._pool[key].append((writer, messages))
        else:
            writer.close()

    async def _invoke(
        self, view: View, group: Group, request: Message, forwarded: list[tuple[str, str]]
    ) -> Outcome:
        if not group.targets:
            return error_page(503)
        function = group.targets[0].target_id
        multi = group.tg.attributes.get("lambda.multi_value_headers.enabled") == "true"
        event = lambda_events.request_event(
            group.tg.arn, request.method, request.target, forwarded, request.body, multi
        )
        arn = parse_arn(function)
        try:
            answer = await self.platform.call(
                "lambda",
                "Invoke",
                {
                    "FunctionName": function,
                    "InvocationType": "RequestResponse",
                    "Payload": json.dumps(event).encode(),
                },
                principal=service_principal("elasticloadbalancing.amazonaws.com", view.lb.account),
                account_id=arn.account if arn else view.lb.account,
                region=arn.region if arn else view.lb.region,
                condition_keys={"aws:SourceArn": group.tg.arn, "aws:SourceAccount": view.lb.account},
            )
        except ServiceError as error:
            log.info("elbv2: invoking %s failed: %s", function, error)
            return Outcome(*_parts(error_page(502)), target=function)
        if answer.get("FunctionError"):
            return Outcome(*_parts(error_page(502)), target=function)
        try:
            status, headers, body = lambda_events.http_response(answer.get("Payload") or b"", multi)
        except lambda_events.BadLambdaResponse:
            return Outcome(*_parts(error_page(502)), target=function)
        if not any(name.lower() == "content-type" for name, _ in headers):
            headers.append(("Content-Type", "application/octet-stream"))
        return Outcome(status, [*headers, ("Date", formatdate(usegmt=True))], body, function)

    # -- stickiness cookies ---------------------------------------------------------------------------------------

    def _sign(self, fields: list[Any]) -> str:
        data = json.dumps(fields, separators=(",", ":")).encode()
        mac = hmac.new(self._secret, data, hashlib.sha256).digest()[:12]
        return base64.urlsafe_b64encode(mac + zlib.compress(data)).decode().rstrip("=")

    def _unsign(self, value: str) -> list[Any] | None:
        if not value:
            return None
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
            data = zlib.decompress(raw[12:])
        except (ValueError, zlib.error):
            return None
        if not hmac.compare_digest(raw[:12], hmac.new(self._secret, data, hashlib.sha256).digest()[:12]):
            return None
        return json.loads(data)

    # -- TCP (Network Load Balancers) --------------------------------------------------------------------------------

    async def _serve_tcp(self, arn: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        view = await self.view(arn)
        if view is None or not view.listener.doc.get("DefaultActions"):
            return
        group_arn = view.listener.doc["DefaultActions"][-1]["ForwardConfig"]["TargetGroups"][0][
            "TargetGroupArn"
        ]
        group = view.groups.get(group_arn)
        if group is None:
            return
        eligible = group.eligible()
        if not eligible:
            return
        peer = writer.get_extra_info("peername") or ("127.0.0.1", 0)
        if group.tg.attributes.get("stickiness.enabled") == "true":
            target = eligible[zlib.crc32(str(peer[0]).encode()) % len(eligible)]
        else:
            target = eligible[zlib.crc32(f"{peer[0]}:{peer[1]}".encode()) % len(eligible)]
        if group.tg.target_type == "alb":
            lb = self.service.store.load_balancer(target.target_id)
            local = (
                next(
                    (
                        item.local_port
                        for item in self.service.store.listeners_of(lb.arn)
                        if item.port == target.port
                    ),
                    None,
                )
                if lb
                else None
            )
            address, instance = ("127.0.0.1", local) if local else None, None
        else:
            address, instance = self._address(view, group, target)
        if address is None or (instance is None and not allowed_address(address[0])):
            return
        if instance and not self.instances.allowed(view.lb, instance, address[1]):
            return
        idle = float(view.listener.attributes.get("tcp.idle_timeout.seconds", "350"))
        upstream_reader, upstream_writer = await self._open(
            address, instance, group.tg.doc.get("Protocol") == "TLS", 10
        )
        if group.tg.attributes.get("proxy_protocol_v2.enabled") == "true":
            local = writer.get_extra_info("sockname") or ("127.0.0.1", 0)
            upstream_writer.write(proxy_v2_header(peer, (local[0], view.listener.port)))
        try:
            await asyncio.gather(_pipe(reader, upstream_writer, idle), _pipe(upstream_reader, writer, idle))
        finally:
            upstream_writer.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, idle: float) -> None:
    try:
        while True:
            data = await asyncio.wait_for(reader.read(65536), idle)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, TimeoutError, ssl.SSLError):
        pass
    finally:
        try:
            if writer.can_write_eof():
                writer.write_eof()
        except (OSError, RuntimeError):
            pass


PROXY_V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
PROXY_V2_LOCAL = PROXY_V2_SIGNATURE + b"\x20\x00\x00\x00"  # a health check's header: LOCAL, no addresses


def proxy_v2_header(source: tuple[str, int], destination: tuple[str, int]) -> bytes:
    """The PROXY protocol version 2 header an NLB sends first on each connection to a target of a group with
    `proxy_protocol_v2.enabled`: the client's address and port, and the load balancer's (the listener's port)."""
    client, local = ipaddress.ip_address(source[0]), ipaddress.ip_address(destination[0])
    if client.version != local.version:  # one family for both: the client's, the listener seen in it
        local = (
            ipaddress.ip_address("::ffff:" + str(local))
            if client.version == 6
            else ipaddress.ip_address("127.0.0.1")
        )
    family = 0x11 if client.version == 4 else 0x21  # AF_INET or AF_INET6, over STREAM
    addresses = (
        client.packed + local.packed + source[1].to_bytes(2, "big") + destination[1].to_bytes(2, "big")
    )
    return PROXY_V2_SIGNATURE + bytes([0x21, family]) + len(addresses).to_bytes(2, "big") + addresses


async def _splice(
    client: MessageReader,
    client_writer: asyncio.StreamWriter,
    target: MessageReader,
    target_writer: asyncio.StreamWriter,
    idle: float,
) -> None:
    """Carry an upgraded connection both ways (bytes already read after the handshake first) until either side
    closes or nothing passes in either direction for the idle timeout, as an ALB does."""
    loop = asyncio.get_running_loop()
    last = [loop.time()]

    async def carry(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                data = await asyncio.wait_for(reader.read(65536), idle)
            except TimeoutError:
                if loop.time() - last[0] < idle:
                    continue
                return
            if not data:
                return
            last[0] = loop.time()
            writer.write(data)
            await writer.drain()

    try:
        if client.rest:
            target_writer.write(client.rest)
        if target.rest:
            client_writer.write(target.rest)
        tasks = [asyncio.ensure_future(carry(client.reader, target_writer)),
                 asyncio.ensure_future(carry(target.reader, client_writer))]  # fmt: skip
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        target_writer.close()


def _transformed(request: Message, transforms: list[dict[str, Any]]) -> Message:
    """The request as the rule's transforms rewrite it for the target (its host header, its URL)."""
    headers, target = list(request.headers), request.target
    for transform in transforms:
        if transform["Type"] == "url-rewrite":
            target = rewrite(transform, target)
        else:
            headers = [
                (name, rewrite(transform, value) if name.lower() == "host" else value)
                for name, value in headers
            ]
    return replace(request, headers=headers, target=target)


@dataclass
class ClientTls:
    """What an HTTPS listener knows of a client's TLS connection."""

    version: str  # TLSv1.2, TLSv1.3
    cipher: str
    certificate: list[tuple[str, str]] = field(default_factory=list)  # X-Amzn-Mtls-Clientcert-* (verify mode)


def _tls_headers(view: View, client_tls: ClientTls | None) -> list[tuple[str, str]]:
    """The client certificate's headers and, when the load balancer's attribute says so, the TLS version and
    cipher, under the names the listener's attributes give them."""
    if client_tls is None:
        return []
    headers = list(client_tls.certificate)
    if view.lb.attributes.get("routing.http.x_amzn_tls_version_and_cipher_suite.enabled") == "true":
        headers += [
            ("X-Amzn-Tls-Version", client_tls.version),
            ("X-Amzn-Tls-Cipher-Suite", client_tls.cipher),
        ]
    attributes = view.listener.attributes
    return [(attributes.get(rename_key(name)) or name, value) for name, value in headers]


def _response_headers(attributes: dict[str, str], headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """A response's headers as the listener's attributes shape them: headers it sets (HSTS, CORS, CSP, ...)
    replace the target's, and its own Server header goes when `routing.http.response.server.enabled` is off."""
    if attributes.get("routing.http.response.server.enabled") == "false":
        headers = [item for item in headers if item != ("Server", "awselb/2.0")]
    for key, header in RESPONSE_HEADERS.items():
        value = attributes.get(f"routing.http.response.{key}.header_value")
        if value:
            headers = [item for item in headers if item[0].lower() != header.lower()] + [(header, value)]
    return headers


def _mtls_headers(certificate: x509.Certificate) -> list[tuple[str, str]]:
    """What a listener verifying client certificates tells targets of the client's (mutual TLS, verify)."""
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    validity = (
        f"NotBefore={certificate.not_valid_before_utc.strftime(stamp)};"
        f"NotAfter={certificate.not_valid_after_utc.strftime(stamp)}"
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    return [
        ("X-Amzn-Mtls-Clientcert-Serial-Number", format(certificate.serial_number, "X")),
        ("X-Amzn-Mtls-Clientcert-Issuer", certificate.issuer.rfc4514_string()),
        ("X-Amzn-Mtls-Clientcert-Subject", certificate.subject.rfc4514_string()),
        ("X-Amzn-Mtls-Clientcert-Validity", validity),
        ("X-Amzn-Mtls-Clientcert-Leaf", quote(pem, safe="+=/")),
    ]


def _parts(outcome: Outcome) -> tuple[int, list[tuple[str, str]], bytes]:
    return outcome.status, outcome.headers, outcome.body


def _cookies(request: Message) -> dict[str, str]:
    found: dict[str, str] = {}
    for header in request.header_values("cookie"):
        for part in header.split(";"):
            name, _, value = part.strip().partition("=")
            if name:
                found[name] = value
    return found


def _covers(name: str, host: str) -> bool:
    """Whether a certificate's name (possibly `*.example.com`) covers `host`."""
    if name.startswith("*."):
        return host.endswith(name[1:]) and host.count(".") == name.count(".")
    return name == host


_CLIENT_TLS: ssl.SSLContext | None = None


def _client_tls() -> ssl.SSLContext:
    """Targets' certificates are not verified, as an ALB does not verify them."""
    global _CLIENT_TLS
    if _CLIENT_TLS is None:
        _CLIENT_TLS = ssl.create_default_context()
        _CLIENT_TLS.check_hostname = False
        _CLIENT_TLS.verify_mode = ssl.CERT_NONE
    return _CLIENT_TLS
