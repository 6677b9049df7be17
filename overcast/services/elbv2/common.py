"""What ELBv2's families share: identifiers, ARNs, DNS names, AWS's default attributes, and its errors."""

from __future__ import annotations

import os
import re
from typing import Any

from overcast.errors import ServiceError

TYPE_PREFIX = {"application": "app", "network": "net", "gateway": "gwy"}
# Route 53's hosted zone ids of ELB DNS names, per region (ALB/CLB, then NLB), as AWS publishes them.
CANONICAL_ZONES = {
    "us-east-1": ("Z35SXDOTRQ7X7K", "Z26RNL4JYFTOTI"),
    "us-east-2": ("Z3AADJGX6KTTL2", "ZLMOA37VPKANP"),
    "us-west-1": ("Z368ELLRRE2KJ0", "Z24FKFUX50B4VW"),
    "us-west-2": ("Z1H1FL5HABSF5", "Z18D5FSROUN65G"),
    "eu-west-1": ("Z32O12XQLNTSW2", "Z2IFOLAFXWLO4F"),
    "eu-west-2": ("ZHURV8PSTC4K8", "ZD4D7Y8KGAS4G"),
    "eu-central-1": ("Z215JYRZR1TBD5", "Z3F0SRJ5LGBH90"),
    "ap-southeast-1": ("Z1LMS91P8CMLE5", "ZKVM4W9LS7TM"),
    "ap-southeast-2": ("Z1GM3OXH4ZPM65", "ZCT6FZBF4DROD"),
    "ap-northeast-1": ("Z14GRHDCWA56QT", "Z31USIVHYNEOWT"),
}
DNS_SUFFIX = "elb.localhost"
NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$")

# Which listener protocols each type of load balancer takes, and which target group protocols.
LISTENER_PROTOCOLS = {
    "application": ("HTTP", "HTTPS"),
    "network": ("TCP", "TLS", "UDP", "TCP_UDP", "QUIC", "TCP_QUIC"),
    "gateway": ("GENEVE",),
}


def hex_id(length: int = 16) -> str:
    return os.urandom(length // 2).hex()


def load_balancer_arn(region: str, account: str, kind: str, name: str) -> str:
    return (
        f"arn:aws:elasticloadbalancing:{region}:{account}:loadbalancer/{TYPE_PREFIX[kind]}/{name}/{hex_id()}"
    )


def child_arn(lb_arn: str, kind: str, *parents: str) -> str:
    """A listener's ARN (`kind` "listener") or a rule's ("listener-rule", with the listener's id)."""
    head, resource = lb_arn.split(":loadbalancer/", 1)
    return f"{head}:{kind}/{resource}/{'/'.join((*parents, hex_id()))}"


def target_group_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:elasticloadbalancing:{region}:{account}:targetgroup/{name}/{hex_id()}"


def dns_name(name: str, kind: str, scheme: str, region: str, port: int) -> str:
    """`<name>-<id>.<region>.elb.localhost:<port>`: AWS's shape under .localhost (which resolves here), with
    the loopback port of the load balancer's first listener, where clients reach it directly."""
    ident = (
        str(int.from_bytes(os.urandom(5), "big") % 10**10).zfill(10) if kind == "application" else hex_id()
    )
    internal = "internal-" if scheme == "internal" else ""
    return f"{internal}{name}-{ident}.{region}.{DNS_SUFFIX}:{port}"


def host_of(dns: str) -> str:
    return dns.rsplit(":", 1)[0]


def canonical_zone(region: str, kind: str) -> str:
    zones = CANONICAL_ZONES.get(region, CANONICAL_ZONES["us-east-1"])
    return zones[0] if kind == "application" else zones[1]


def zone_of(region: str, position: int) -> str:
    """The Availability Zone of the `position`-th subnet given, while EC2 cannot say (a, b, c, ...)."""
    return f"{region}{'abcdef'[position % 6]}"


# -- attributes ---------------------------------------------------------------------------------------------


def load_balancer_attributes(kind: str) -> dict[str, str]:
    common = {
        "access_logs.s3.enabled": "false",
        "access_logs.s3.bucket": "",
        "access_logs.s3.prefix": "",
        "deletion_protection.enabled": "false",
    }
    if kind == "application":
        return {
            **common,
            "connection_logs.s3.enabled": "false",
            "connection_logs.s3.bucket": "",
            "connection_logs.s3.prefix": "",
            "idle_timeout.timeout_seconds": "60",
            "client_keep_alive.seconds": "3600",
            "routing.http.desync_mitigation_mode": "defensive",
            "routing.http.drop_invalid_header_fields.enabled": "false",
            "routing.http.preserve_host_header.enabled": "false",
            "routing.http.x_amzn_tls_version_and_cipher_suite.enabled": "false",
            "routing.http.xff_client_port.enabled": "false",
            "routing.http.xff_header_processing.mode": "append",
            "routing.http2.enabled": "true",
            "waf.fail_open.enabled": "false",
            "zonal_shift.config.enabled": "false",
            "load_balancing.cross_zone.enabled": "true",
        }
    if kind == "network":
        return {
            **common,
            "load_balancing.cross_zone.enabled": "false",
            "ipv6.deny_all_igw_traffic": "false",
            "dns_record.client_routing_policy": "any_availability_zone",
            "zonal_shift.config.enabled": "false",
        }
    return {"deletion_protection.enabled": "false", "load_balancing.cross_zone.enabled": "false"}


def target_group_attributes(target_type: str, protocol: str | None) -> dict[str, str]:
    if target_type == "lambda":
        return {"lambda.multi_value_headers.enabled": "false"}
    if protocol in ("HTTP", "HTTPS"):
        return {
            "deregistration_delay.timeout_seconds": "300",
            "stickiness.enabled": "false",
            "stickiness.type": "lb_cookie",
            "stickiness.lb_cookie.duration_seconds": "86400",
            "stickiness.app_cookie.cookie_name": "",
            "stickiness.app_cookie.duration_seconds": "86400",
            "load_balancing.algorithm.type": "round_robin",
            "load_balancing.algorithm.anomaly_mitigation": "off",
            "slow_start.duration_seconds": "0",
            "load_balancing.cross_zone.enabled": "use_load_balancer_configuration",
            "target_group_health.dns_failover.minimum_healthy_targets.count": "1",
            "target_group_health.dns_failover.minimum_healthy_targets.percentage": "off",
            "target_group_health.unhealthy_state_routing.minimum_healthy_targets.count": "1",
            "target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage": "off",
        }
    attributes = {
        "deregistration_delay.timeout_seconds": "300",
        "deregistration_delay.connection_termination.enabled": "false",
        "stickiness.enabled": "false",
        "stickiness.type": "source_ip",
        "load_balancing.cross_zone.enabled": "use_load_balancer_configuration",
        "target_group_health.dns_failover.minimum_healthy_targets.count": "1",
        "target_group_health.dns_failover.minimum_healthy_targets.percentage": "off",
        "target_group_health.unhealthy_state_routing.minimum_healthy_targets.count": "1",
        "target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage": "off",
        "target_health_state.unhealthy.connection_termination.enabled": "true",
        "target_health_state.unhealthy.draining_interval_seconds": "0",
    }
    if protocol != "GENEVE":
        attributes["preserve_client_ip.enabled"] = "true" if target_type == "instance" else "false"
        attributes["proxy_protocol_v2.enabled"] = "false"
    return attributes


# -- errors -------------------------------------------------------------------------------------------------


def validation(message: str) -> ServiceError:
    return ServiceError("ValidationError", message, 400)


def invalid_config(message: str) -> ServiceError:
    return ServiceError("InvalidConfigurationRequest", message, 400)


def lb_not_found() -> ServiceError:
    return ServiceError("LoadBalancerNotFound", "One or more load balancers not found", 400)


def listener_not_found() -> ServiceError:
    return ServiceError("ListenerNotFound", "One or more listeners not found", 400)


def rule_not_found() -> ServiceError:
    return ServiceError("RuleNotFound", "One or more rules not found", 400)


def tg_not_found() -> ServiceError:
    return ServiceError("TargetGroupNotFound", "One or more target groups not found", 400)


def attribute_list(attributes: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in attributes.items()]


def page(items: list[Any], params: dict[str, Any], scope: str) -> tuple[list[Any], str | None]:
    """ELBv2's Marker paging (PageSize 1-400, every item otherwise)."""
    from overcast.services.kit.paging import decode_token, page_of

    def invalid() -> ServiceError:
        return validation("Invalid Marker")

    start = decode_token(params.get("Marker"), invalid, scope) or 0
    size = params.get("PageSize") or 400
    rows = items[start : start + size + 1]
    chunk, token = page_of(rows, size, lambda _: start + size, scope)
    return chunk, token


def trust_store_not_found(arn: str) -> ServiceError:
    return ServiceError("TrustStoreNotFound", f"Trust store '{arn}' not found", 400)
