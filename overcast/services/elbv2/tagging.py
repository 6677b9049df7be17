"""Tags of load balancers, listeners, rules and target groups; the predefined TLS security policies."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.elbv2.common import validation
from overcast.services.kit.arns import parse_arn
from overcast.services.kit.tags import TagRules, tag_list

if TYPE_CHECKING:
    from overcast.services.elbv2.provider import ElbV2Provider

RULES = TagRules(
    max_tags=50,
    too_many=lambda limit: ServiceError(
        "TooManyTags",
        "The quota for the number of tags that can be assigned to a resource has been reached",
        400,
    ),
    invalid=lambda key: validation(f"Tag key '{key}' or its value is not valid"),
    reserved=lambda key: validation("Tag keys starting with 'aws:' are reserved for internal use"),
)

# The predefined policies (name, protocols); ciphers are described from OpenSSL's names of each.
SSL_POLICIES = {
    "ELBSecurityPolicy-TLS13-1-2-2021-06": ("TLSv1.2", "TLSv1.3"),
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06": ("TLSv1.2", "TLSv1.3"),
    "ELBSecurityPolicy-TLS13-1-3-2021-06": ("TLSv1.3",),
    "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06": ("TLSv1.2", "TLSv1.3"),
    "ELBSecurityPolicy-TLS13-1-1-2021-06": ("TLSv1.1", "TLSv1.2", "TLSv1.3"),
    "ELBSecurityPolicy-TLS13-1-0-2021-06": ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"),
    "ELBSecurityPolicy-2016-08": ("TLSv1", "TLSv1.1", "TLSv1.2"),
    "ELBSecurityPolicy-TLS-1-1-2017-01": ("TLSv1.1", "TLSv1.2"),
    "ELBSecurityPolicy-TLS-1-2-2017-01": ("TLSv1.2",),
    "ELBSecurityPolicy-TLS-1-2-Ext-2018-06": ("TLSv1.2",),
    "ELBSecurityPolicy-FS-2018-06": ("TLSv1", "TLSv1.1", "TLSv1.2"),
    "ELBSecurityPolicy-FS-1-2-2019-08": ("TLSv1.2",),
    "ELBSecurityPolicy-FS-1-2-Res-2020-10": ("TLSv1.2",),
    "ELBSecurityPolicy-2015-05": ("TLSv1", "TLSv1.1", "TLSv1.2"),
}
DEFAULT_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
_CIPHERS_12 = (
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
)
_CIPHERS_13 = ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256")


def check_new_tags(tags: list[dict[str, Any]] | None) -> None:
    keys = [tag["Key"] for tag in tags or ()]
    for key in keys:
        if keys.count(key) > 1:
            raise ServiceError("DuplicateTagKeys", f"Tag key '{key}' is duplicated", 400)


def ssl_policy(name: str) -> dict[str, Any]:
    protocols = SSL_POLICIES[name]
    ciphers = (_CIPHERS_13 if "TLSv1.3" in protocols else ()) + _CIPHERS_12
    return {
        "SslProtocols": list(protocols),
        "Ciphers": [{"Name": cipher, "Priority": i + 1} for i, cipher in enumerate(ciphers)],
        "Name": name,
        "SupportedLoadBalancerTypes": ["application", "network"],
    }


class TagOperations(Operations):
    service: ElbV2Provider

    def _exists(self, ctx: RequestContext, arn: str) -> None:
        store = self.service.store
        parsed = parse_arn(arn)
        kind = parsed.resource_type if parsed else ""
        found: Any = None
        if kind == "loadbalancer":
            found = store.load_balancer(arn)
            missing = ServiceError("LoadBalancerNotFound", f"Load balancer '{arn}' not found", 400)
        elif kind == "targetgroup":
            found = store.target_group(arn)
            missing = ServiceError("TargetGroupNotFound", f"Target group '{arn}' not found", 400)
        elif kind == "listener":
            found = store.listener(arn)
            missing = ServiceError("ListenerNotFound", f"Listener '{arn}' not found", 400)
        elif kind == "truststore":
            found = store.trust_store(arn)
            missing = ServiceError("TrustStoreNotFound", f"Trust store '{arn}' not found", 400)
        elif kind == "listener-rule":
            found = store.rule(arn)
            missing = ServiceError("RuleNotFound", f"Rule '{arn}' not found", 400)
        else:
            raise validation(f"'{arn}' is not a valid resource ARN")
        if found is None or parsed is None or parsed.account != ctx.account_id or parsed.region != ctx.region:
            raise missing

    def add_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        check_new_tags(params["Tags"])
        tags = {tag["Key"]: tag.get("Value", "") for tag in params["Tags"]}
        for arn in params["ResourceArns"]:
            self._exists(ctx, arn)
            self.service.tags.add(arn, tags, RULES, account=ctx.account_id, region=ctx.region)
        return {}

    def remove_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        for arn in params["ResourceArns"]:
            self._exists(ctx, arn)
            self.service.tags.remove(arn, params["TagKeys"])
        return {}

    def describe_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        if len(params["ResourceArns"]) > 20:
            raise validation("You can specify up to 20 resource ARNs")
        described = []
        for arn in params["ResourceArns"]:
            self._exists(ctx, arn)
            described.append({"ResourceArn": arn, "Tags": tag_list(self.service.tags.get(arn))})
        return {"TagDescriptions": described}

    def describe_ssl_policies(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        names = params.get("Names") or list(SSL_POLICIES)
        unknown = [name for name in names if name not in SSL_POLICIES]
        if unknown:
            raise ServiceError("SSLPolicyNotFound", f"SSL policy '{unknown[0]}' not found", 400)
        policies = [ssl_policy(name) for name in names]
        wanted = params.get("LoadBalancerType")
        if wanted:
            policies = [policy for policy in policies if wanted in policy["SupportedLoadBalancerTypes"]]
        return {"SslPolicies": policies}
