"""Listeners: their protocols, ports, certificates and default actions (the listener's default rule)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.elbv2.actions import forwarded_groups, normalize_actions
from overcast.services.elbv2.common import (
    LISTENER_PROTOCOLS,
    attribute_list,
    child_arn,
    page,
    trust_store_not_found,
    validation,
)
from overcast.services.elbv2.load_balancers import free_port
from overcast.services.elbv2.store import Listener, LoadBalancer, Rule
from overcast.services.elbv2.tagging import DEFAULT_SSL_POLICY, RULES, SSL_POLICIES, check_new_tags
from overcast.services.kit.tags import tag_dict

if TYPE_CHECKING:
    from overcast.services.elbv2.provider import ElbV2Provider

MAX_LISTENERS = 50
SECURE = ("HTTPS", "TLS")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9-]+$")


# Headers an HTTPS listener adds to requests (mutual TLS, TLS facts), whose names its attributes may change
RENAMABLE_HEADERS = (
    "X-Amzn-Mtls-Clientcert-Serial-Number", "X-Amzn-Mtls-Clientcert-Issuer", "X-Amzn-Mtls-Clientcert-Subject",
    "X-Amzn-Mtls-Clientcert-Validity", "X-Amzn-Mtls-Clientcert-Leaf", "X-Amzn-Mtls-Clientcert",
    "X-Amzn-Tls-Version", "X-Amzn-Tls-Cipher-Suite",
)  # fmt: skip


def rename_key(header: str) -> str:
    """The listener attribute naming what `header` is sent as."""
    return f"routing.http.request.{header.lower().replace('-', '_')}.header_name"


def listener_attributes(protocol: str | None) -> dict[str, str]:
    if protocol in ("HTTP", "HTTPS"):
        renames = {rename_key(header): header for header in RENAMABLE_HEADERS} if protocol == "HTTPS" else {}
        return {
            **renames,
            "routing.http.response.server.enabled": "true",
            "routing.http.response.strict_transport_security.header_value": "",
            "routing.http.response.access_control_allow_origin.header_value": "",
            "routing.http.response.access_control_allow_methods.header_value": "",
            "routing.http.response.access_control_allow_headers.header_value": "",
            "routing.http.response.access_control_allow_credentials.header_value": "",
            "routing.http.response.access_control_expose_headers.header_value": "",
            "routing.http.response.access_control_max_age.header_value": "",
            "routing.http.response.content_security_policy.header_value": "",
            "routing.http.response.x_content_type_options.header_value": "",
            "routing.http.response.x_frame_options.header_value": "",
        }
    if protocol in ("TCP", "TLS", "TCP_UDP"):
        return {"tcp.idle_timeout.seconds": "350"}
    return {}


class ListenerOperations(Operations):
    service: ElbV2Provider

    # -- create ----------------------------------------------------------------------------------------------

    def create_listener(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        store = self.service.store
        lb = self.service.load_balancer(ctx, params["LoadBalancerArn"])
        protocol, port = self._protocol_and_port(lb, params)
        existing = next((item for item in store.listeners_of(lb.arn) if item.port == port), None)
        actions = self._actions(ctx, lb, protocol, params["DefaultActions"])
        certificates = self._certificates(ctx, protocol, params)
        mutual = self._mutual_authentication(ctx, protocol, params.get("MutualAuthentication"))
        doc = self._doc(lb, protocol, port, actions, certificates, {**params, "MutualAuthentication": mutual})
        if existing is not None:
            same = {**existing.doc, "ListenerArn": ""} == {**doc, "ListenerArn": ""}
            if not same:
                raise ServiceError(
                    "DuplicateListener",
                    f"A listener already exists on this port for this load balancer '{lb.arn}'",
                    400,
                )
            return {"Listeners": [existing.doc]}
        if len(store.listeners_of(lb.arn)) >= MAX_LISTENERS:
            raise ServiceError(
                "TooManyListeners", "The quota for the number of listeners has been reached", 400
            )
        check_new_tags(params.get("Tags"))
        arn = child_arn(lb.arn, "listener")
        doc["ListenerArn"] = arn
        held = {item.local_port for item in store.listeners_of(lb.arn)}
        local_port = lb.front_port if lb.front_port not in held else free_port()
        listener = Listener(
            arn, lb.arn, ctx.account_id, ctx.region, port, doc, listener_attributes(protocol),
            [item["CertificateArn"] for item in certificates], local_port, self.clock.now(),
        )  # fmt: skip
        store.put_listener(listener)
        default = Rule(child_arn(lb.arn, "listener-rule", arn.rsplit("/", 1)[1]), arn, None, {})
        default.doc = {
            "RuleArn": default.arn,
            "Priority": "default",
            "Conditions": [],
            "Actions": actions,
            "IsDefault": True,
        }
        store.put_rule(default)
        store.link(arn, lb.arn, forwarded_groups(actions))
        self.service.use_certificates(ctx, arn, [], listener.certificates)
        tags = tag_dict(params.get("Tags"))
        if tags:
            self.service.tags.add(arn, tags, RULES, account=ctx.account_id, region=ctx.region)
        self.service.changed()
        self.db.after_commit(lambda: self.service.data_plane.open(arn))
        return {"Listeners": [doc]}

    def _protocol_and_port(self, lb: LoadBalancer, params: dict[str, Any]) -> tuple[str | None, int | None]:
        protocol, port = params.get("Protocol"), params.get("Port")
        if lb.type == "gateway":
            if protocol or port:
                raise validation(
                    "Protocol and port cannot be specified for a listener of a gateway load balancer"
                )
            return None, None
        protocol = protocol or ("HTTP" if lb.type == "application" else None)
        if protocol is None:
            raise validation("A listener protocol must be specified")
        if protocol not in LISTENER_PROTOCOLS[lb.type]:
            raise ServiceError(
                "UnsupportedProtocol",
                f"Protocol '{protocol}' is not supported for load balancers of type '{lb.type}'",
                400,
            )
        if port is None:
            raise validation("A listener port must be specified")
        return protocol, port

    def _actions(
        self, ctx: RequestContext, lb: LoadBalancer, protocol: str | None, actions: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        def target_group(arn: str) -> dict[str, Any] | None:
            tg = self.service.store.target_group(arn)
            return (
                tg.doc
                if tg is not None and tg.account == ctx.account_id and tg.region == ctx.region
                else None
            )

        out = normalize_actions(
            actions, lb_type=lb.type, listener_protocol=protocol or "", target_group=target_group
        )
        self.service.keep_client_secrets(lb.arn, actions)
        self.service.check_associations(lb, forwarded_groups(out))
        if lb.type == "network":
            tg = self.service.store.target_group(next(iter(forwarded_groups(out))))
            assert tg is not None
            tg_protocol = tg.doc.get("Protocol")
            fits = {
                "TCP": ("TCP", "TCP_UDP"), "TLS": ("TCP", "TLS"), "UDP": ("UDP", "TCP_UDP"), "TCP_UDP": ("TCP_UDP",),
            }.get(protocol or "", (protocol,))  # fmt: skip
            if tg_protocol not in fits:
                raise ServiceError(
                    "IncompatibleProtocols",
                    f"Listener protocol '{protocol}' is not supported with a target group with the protocol '{tg_protocol}'",
                    400,
                )
        return out

    def _certificates(
        self, ctx: RequestContext, protocol: str | None, params: dict[str, Any]
    ) -> list[dict[str, Any]]:
        given = params.get("Certificates") or []
        if protocol not in SECURE:
            if given:
                raise validation(
                    f"Certificates cannot be specified for listeners using the '{protocol}' protocol"
                )
            if params.get("SslPolicy"):
                raise validation(
                    f"SSL policies cannot be specified for listeners using the '{protocol}' protocol"
                )
            return []
        if not given:
            raise ServiceError(
                "CertificateNotFound", "A certificate must be specified for HTTPS listeners", 400
            )
        if len(given) > 1:
            raise validation("Only one certificate can be specified when creating or modifying a listener")
        self.service.check_certificate(ctx, given[0]["CertificateArn"])
        if params.get("SslPolicy") and params["SslPolicy"] not in SSL_POLICIES:
            raise ServiceError("SSLPolicyNotFound", f"SSL policy '{params['SslPolicy']}' not found", 400)
        return [{"CertificateArn": given[0]["CertificateArn"]}]

    @staticmethod
    def _doc(
        lb: LoadBalancer,
        protocol: str | None,
        port: int | None,
        actions: list[dict[str, Any]],
        certificates: list[dict[str, Any]],
        params: dict[str, Any],
    ) -> dict[str, Any]:
        doc: dict[str, Any] = {"ListenerArn": "", "LoadBalancerArn": lb.arn}
        if port is not None:
            doc["Port"] = port
        if protocol is not None:
            doc["Protocol"] = protocol
        if certificates:
            doc["Certificates"] = certificates
            doc["SslPolicy"] = params.get("SslPolicy") or DEFAULT_SSL_POLICY
        doc["DefaultActions"] = actions
        if protocol == "TLS":
            doc["AlpnPolicy"] = list(params.get("AlpnPolicy") or ["None"])
        elif params.get("AlpnPolicy"):
            raise ServiceError("ALPNPolicyNotFound", "ALPN policies are supported only on TLS listeners", 400)
        if protocol == "HTTPS":
            doc["MutualAuthentication"] = params.get("MutualAuthentication") or {"Mode": "off"}
        return doc

    def _mutual_authentication(
        self, ctx: RequestContext, protocol: str | None, given: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        """An HTTPS listener's mutual TLS settings as described: `verify` names a trust store of the account."""
        if not given or protocol != "HTTPS":
            return None
        mode = given.get("Mode") or "off"
        if mode not in ("off", "passthrough", "verify"):
            raise validation(f"Mutual authentication mode '{mode}' is not valid")
        if mode != "verify":
            return {"Mode": mode}
        arn = given.get("TrustStoreArn")
        if not arn:
            raise validation(
                "A trust store ARN must be specified when the mutual authentication mode is 'verify'"
            )
        found = self.service.store.trust_store(arn)
        if found is None or found.account != ctx.account_id or found.region != ctx.region:
            raise trust_store_not_found(arn)
        return {"Mode": "verify", "TrustStoreArn": arn,
                "IgnoreClientCertificateExpiry": bool(given.get("IgnoreClientCertificateExpiry", False)),
                "TrustStoreAssociationStatus": "active",
                "AdvertiseTrustStoreCaNames": given.get("AdvertiseTrustStoreCaNames") or "off"}  # fmt: skip

    # -- describe / modify / delete ------------------------------------------------------------------------------

    def describe_listeners(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        store = self.service.store
        arns, lb_arn = params.get("ListenerArns"), params.get("LoadBalancerArn")
        if arns and lb_arn:
            raise validation("Listener ARNs and a load balancer ARN cannot be specified at the same time")
        if arns:
            found = [self.service.listener(ctx, arn) for arn in arns]
        elif lb_arn:
            found = store.listeners_of(self.service.load_balancer(ctx, lb_arn).arn)
        else:
            raise validation("You must specify either listener ARNs or a load balancer ARN")
        chunk, marker = page(found, params, "DescribeListeners")
        result: dict[str, Any] = {"Listeners": [listener.doc for listener in chunk]}
        if marker:
            result["NextMarker"] = marker
        return result

    def modify_listener(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        store = self.service.store
        listener = self.service.listener(ctx, params["ListenerArn"])
        lb = store.load_balancer(listener.lb_arn)
        assert lb is not None
        protocol = params.get("Protocol") or listener.doc.get("Protocol")
        port = params.get("Port") or listener.doc.get("Port")
        if protocol and protocol not in LISTENER_PROTOCOLS[lb.type]:
            raise ServiceError(
                "UnsupportedProtocol",
                f"Protocol '{protocol}' is not supported for load balancers of type '{lb.type}'",
                400,
            )
        if port != listener.port and any(item.port == port for item in store.listeners_of(lb.arn)):
            raise ServiceError(
                "DuplicateListener",
                f"A listener already exists on this port for this load balancer '{lb.arn}'",
                400,
            )
        actions = (
            self._actions(ctx, lb, protocol, params["DefaultActions"])
            if params.get("DefaultActions")
            else listener.doc["DefaultActions"]
        )
        if params.get("Certificates"):
            certificates = self._certificates(ctx, protocol, params)
        elif protocol in SECURE:
            certificates = listener.doc.get("Certificates") or self._certificates(ctx, protocol, params)
        else:
            certificates = self._certificates(ctx, protocol, params)
        merged = {**params}
        merged.setdefault("SslPolicy", listener.doc.get("SslPolicy"))
        merged.setdefault("AlpnPolicy", listener.doc.get("AlpnPolicy") if protocol == "TLS" else None)
        merged.setdefault("MutualAuthentication", listener.doc.get("MutualAuthentication"))
        merged["MutualAuthentication"] = self._mutual_authentication(
            ctx, protocol, merged["MutualAuthentication"]
        )
        if merged.get("SslPolicy") and merged["SslPolicy"] not in SSL_POLICIES:
            raise ServiceError("SSLPolicyNotFound", f"SSL policy '{merged['SslPolicy']}' not found", 400)
        doc = self._doc(lb, protocol, port, actions, certificates, merged)
        doc["ListenerArn"] = listener.arn
        old_certificates = list(listener.certificates)
        new_default = [item["CertificateArn"] for item in certificates]
        extra = [arn for arn in listener.certificates[1:] if arn not in new_default] if new_default else []
        listener.certificates = new_default + extra
        reopen = (
            listener.doc.get("Protocol") != protocol
            or old_certificates[:1] != new_default
            or listener.doc.get("MutualAuthentication") != doc.get("MutualAuthentication")
        )
        if listener.doc.get("Protocol") != protocol:
            listener.attributes = listener_attributes(protocol)
        listener.doc, listener.port = doc, port
        store.put_listener(listener)
        for rule in store.rules_of(listener.arn):
            if rule.priority is None:
                rule.doc["Actions"] = actions
                store.put_rule(rule)
        store.link(listener.arn, lb.arn, forwarded_groups(actions))
        self.service.use_certificates(ctx, listener.arn, old_certificates, listener.certificates)
        self.service.changed()
        if reopen:
            self.db.after_commit(lambda: self.service.data_plane.reopen(listener.arn))
        return {"Listeners": [doc]}

    def delete_listener(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        listener = self.service.listener(ctx, params["ListenerArn"])
        for rule in self.service.store.rules_of(listener.arn):
            self.service.tags.forget(rule.arn)
        self.service.use_certificates(ctx, listener.arn, listener.certificates, [])
        self.service.store.delete_listener(listener.arn)
        self.service.tags.forget(listener.arn)
        self.service.changed()
        self.db.after_commit(lambda: self.service.data_plane.close([listener.arn]))
        return {}

    # -- certificates (SNI) ---------------------------------------------------------------------------------------

    def add_listener_certificates(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        listener = self.service.listener(ctx, params["ListenerArn"])
        if listener.protocol not in SECURE:
            raise validation(
                f"Certificates cannot be added to listeners using the '{listener.protocol}' protocol"
            )
        added = []
        for item in params["Certificates"]:
            if item.get("IsDefault"):
                raise validation(
                    "The default certificate cannot be changed with AddListenerCertificates; use ModifyListener"
                )
            self.service.check_certificate(ctx, item["CertificateArn"])
            if item["CertificateArn"] not in listener.certificates:
                added.append(item["CertificateArn"])
        if len(listener.certificates) + len(added) > 26:
            raise ServiceError(
                "TooManyCertificates", "The quota for the number of certificates has been reached", 400
            )
        old = list(listener.certificates)
        listener.certificates += added
        self.service.store.put_listener(listener)
        self.service.use_certificates(ctx, listener.arn, old, listener.certificates)
        self.service.changed()
        self.db.after_commit(lambda: self.service.data_plane.reopen(listener.arn))
        return {
            "Certificates": [{"CertificateArn": arn, "IsDefault": False} for arn in listener.certificates[1:]]
        }

    def remove_listener_certificates(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        listener = self.service.listener(ctx, params["ListenerArn"])
        removed = [item["CertificateArn"] for item in params["Certificates"]]
        if listener.certificates and listener.certificates[0] in removed:
            raise ServiceError(
                "OperationNotPermitted", "The default certificate cannot be removed from a listener", 400
            )
        old = list(listener.certificates)
        listener.certificates = [arn for arn in listener.certificates if arn not in removed]
        self.service.store.put_listener(listener)
        self.service.use_certificates(ctx, listener.arn, old, listener.certificates)
        self.service.changed()
        self.db.after_commit(lambda: self.service.data_plane.reopen(listener.arn))
        return {}

    def describe_listener_certificates(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        listener = self.service.listener(ctx, params["ListenerArn"])
        described = [
            {"CertificateArn": arn, "IsDefault": position == 0}
            for position, arn in enumerate(listener.certificates)
        ]
        chunk, marker = page(described, params, "DescribeListenerCertificates")
        result: dict[str, Any] = {"Certificates": chunk}
        if marker:
            result["NextMarker"] = marker
        return result

    # -- attributes -----------------------------------------------------------------------------------------------

    def describe_listener_attributes(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        listener = self.service.listener(ctx, params["ListenerArn"])
        return {
            "Attributes": attribute_list({**listener_attributes(listener.protocol), **listener.attributes})
        }

    def modify_listener_attributes(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        listener = self.service.listener(ctx, params["ListenerArn"])
        listener.attributes = {**listener_attributes(listener.protocol), **listener.attributes}
        for item in params["Attributes"]:
            if item["Key"] not in listener.attributes:
                raise validation(f"Listener attribute key '{item['Key']}' is not recognized")
            if item["Key"] == "tcp.idle_timeout.seconds" and not (
                str(item.get("Value", "")).isdigit() and 60 <= int(item["Value"]) <= 6000
            ):
                raise validation("The TCP idle timeout must be between 60 and 6000 seconds")
            if item["Key"].endswith(".header_name") and not _HEADER_NAME.match(str(item.get("Value", ""))):
                raise validation(
                    f"The value of listener attribute '{item['Key']}' is not a valid header name"
                )
            listener.attributes[item["Key"]] = item.get("Value", "")
        self.service.store.put_listener(listener)
        self.service.changed()
        return {"Attributes": attribute_list(listener.attributes)}
