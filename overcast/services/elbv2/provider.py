"""ELBv2's provider: composition, what the families share (finding resources, the configuration version the
data plane caches by, the subnets EC2 knows of), the data plane's life and the declared hooks."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import overcast.services.acm.api as acm
from overcast.context import RequestContext
from overcast.errors import NotImplementedOperation, ServiceError
from overcast.http import HttpRequest, HttpResponse
from overcast.identity import root_principal
from overcast.services import is_available
from overcast.services.base import HttpRoute, ServiceProvider
from overcast.services.elbv2.access_logs import INTERVAL, AccessLogs
from overcast.services.elbv2.common import (
    DNS_SUFFIX,
    lb_not_found,
    listener_not_found,
    tg_not_found,
    trust_store_not_found,
    zone_of,
)
from overcast.services.elbv2.listeners import ListenerOperations
from overcast.services.elbv2.load_balancers import LoadBalancerOperations
from overcast.services.elbv2.proxy import DataPlane
from overcast.services.elbv2.rules import RuleOperations
from overcast.services.elbv2.store import ElbStore, Listener, LoadBalancer, TargetGroup
from overcast.services.elbv2.tagging import TagOperations
from overcast.services.elbv2.target_groups import TargetGroupOperations
from overcast.services.elbv2.trust_stores import TrustStoreOperations
from overcast.services.elbv2.workers import HealthChecker
from overcast.services.kit.timers import run_due_work

if TYPE_CHECKING:
    from overcast.platform import Platform

log = logging.getLogger("overcast")


class ElbV2Provider(ServiceProvider):
    service_name = "elbv2"
    families = (
        LoadBalancerOperations,
        ListenerOperations,
        RuleOperations,
        TargetGroupOperations,
        TagOperations,
        TrustStoreOperations,
    )
    # pure reads of the stored rows (a new load balancer turns active on the clock): state/answers.py
    remembered = frozenset(
        {"DescribeLoadBalancers", "DescribeTargetGroups", "DescribeListeners", "DescribeRules", "DescribeTags",
         "DescribeLoadBalancerAttributes", "DescribeTargetGroupAttributes", "DescribeListenerAttributes"}
    )  # fmt: skip
    # Requests to `<name>-<id>.<region>.elb.localhost` through Overcast's own port reach the listener whose
    # port the Host header names (80 when it names none).
    routes = (HttpRoute("serve_host", "LoadBalancerRequest", host=f".{DNS_SUFFIX}"),)

    def __init__(self, platform: Platform) -> None:
        super().__init__(platform)
        self.store = ElbStore(self.db)
        self.version = 0  # bumped after every committed change: the data plane's caches key on it
        self.wake = asyncio.Event()
        self.data_plane = DataPlane(self)
        self.health = HealthChecker(self)
        self.access_logs = AccessLogs(self)
        self._logs_wake = asyncio.Event()

    async def start(self) -> None:
        self.data_plane.open_all()
        self.platform.spawn(run_due_work(self.clock, self.wake, self.health.run_due, "elbv2 health checks"))
        first = self.clock.now() + INTERVAL

        async def deliver() -> float:
            nonlocal first
            now = self.clock.now()
            first = min(first, now + INTERVAL)  # the clock went back (a reset returns it to real time)
            if now < first:
                return first
            first = await self.access_logs.deliver()
            return first

        self.platform.spawn(run_due_work(self.clock, self._logs_wake, deliver, "elbv2 access logs"))

    async def stop(self) -> None:
        self.data_plane.close_all()

    def reset(self) -> None:
        self.store.forget()
        self.data_plane.close_all()
        self.access_logs.lines.clear()
        self.version += 1

    def access_log(self, *args: Any) -> None:
        self.access_logs.record(*args)

    def changed(self) -> None:
        """The configuration changed: once committed, the data plane reads it again and the workers look at
        their due times again."""
        self.db.after_commit(self._bump)

    def _bump(self) -> None:
        self.version += 1
        self.wake.set()

    # -- finding resources -----------------------------------------------------------------------------------

    def load_balancer(self, ctx: RequestContext, arn: str) -> LoadBalancer:
        lb = self.store.load_balancer(arn)
        if lb is None or lb.account != ctx.account_id or lb.region != ctx.region:
            raise lb_not_found()
        return lb

    def listener(self, ctx: RequestContext, arn: str) -> Listener:
        listener = self.store.listener(arn)
        if listener is None or listener.account != ctx.account_id or listener.region != ctx.region:
            raise listener_not_found()
        return listener

    def target_group(self, ctx: RequestContext, arn: str) -> TargetGroup:
        tg = self.store.target_group(arn)
        if tg is None or tg.account != ctx.account_id or tg.region != ctx.region:
            raise tg_not_found()
        return tg

    def target_group_doc(self, tg: TargetGroup) -> dict[str, Any]:
        """DescribeTargetGroups' entry: the stored document with the load balancers that use it."""
        return {**tg.doc, "LoadBalancerArns": self.store.load_balancers_of_target_group(tg.arn)}

    def check_associations(self, lb: LoadBalancer, tg_arns: set[str]) -> None:
        """A target group of an application load balancer serves that load balancer only."""
        for arn in sorted(tg_arns):
            others = [other for other in self.store.load_balancers_of_target_group(arn) if other != lb.arn]
            if others:
                raise ServiceError(
                    "TargetGroupAssociationLimit",
                    f"The following target groups cannot be associated with more than one load balancer: {arn}",
                    400,
                )

    def keep_client_secrets(self, lb_arn: str, actions: list[dict[str, Any]]) -> None:
        """The ClientSecret of authenticate-oidc actions, kept apart (actions are described without it)."""
        for action in actions:
            config = action.get("AuthenticateOidcConfig") or {}
            if (
                action.get("Type") == "authenticate-oidc"
                and config.get("ClientSecret")
                and config.get("ClientId")
            ):
                self.store.put_client_secret(lb_arn, config["ClientId"], config["ClientSecret"])

    # -- certificates (ACM) -------------------------------------------------------------------------------------

    def check_certificate(self, ctx: RequestContext, arn: str) -> None:
        problem = acm.unusable(self.platform, ctx.account_id, ctx.region, arn)
        if problem == "missing":
            raise ServiceError("CertificateNotFound", f"Certificate '{arn}' not found", 400)
        if problem:
            raise ServiceError("InvalidConfigurationRequest", problem, 400)

    def use_certificates(self, ctx: RequestContext, user_arn: str, old: list[str], new: list[str]) -> None:
        """Tell ACM which certificates the listener `user_arn` uses now (DescribeCertificate's InUseBy)."""
        lb_arn = user_arn.replace(":listener/", ":loadbalancer/").rsplit("/", 1)[0]
        for arn in set(old) - set(new):
            acm.release(self.platform, arn, lb_arn, user_arn)
        for arn in set(new) - set(old):
            acm.claim(self.platform, arn, lb_arn, user_arn)

    # -- what EC2 knows (switches on by itself once the ec2 service answers) ---------------------------------

    async def subnets(self, ctx: RequestContext, subnet_ids: list[str]) -> list[dict[str, str]] | None:
        """[{SubnetId, ZoneName, VpcId}] of the subnets as EC2 describes them, or None while Overcast has no
        EC2 (the ids are then taken as given). Asked as the account (ELB's service-linked role)."""
        if not is_available("ec2"):
            return None
        try:
            answer = await self.platform.call(
                "ec2",
                "DescribeSubnets",
                {"SubnetIds": subnet_ids},
                principal=root_principal(ctx.account_id),
                account_id=ctx.account_id,
                region=ctx.region,
            )
        except NotImplementedOperation:
            return None
        except ServiceError as error:
            if error.code.startswith("InvalidSubnet"):
                missing = error.message.split("'")[1] if "'" in error.message else subnet_ids[0]
                raise ServiceError("SubnetNotFound", f"The subnet ID '{missing}' is not valid", 400) from None
            raise
        return [
            {"SubnetId": s["SubnetId"], "ZoneName": s["AvailabilityZone"], "VpcId": s["VpcId"]}
            for s in answer.get("Subnets", [])
        ]

    async def instance_addresses(self, account: str, region: str, ids: list[str]) -> dict[str, str] | None:
        """{instance id: private IP} from EC2, or None while Overcast has no EC2."""
        if not is_available("ec2"):
            return None
        try:
            answer = await self.platform.call(
                "ec2",
                "DescribeInstances",
                {"InstanceIds": ids},
                principal=root_principal(account),
                account_id=account,
                region=region,
            )
        except NotImplementedOperation:
            return None
        except ServiceError:
            return {}
        found = {}
        for reservation in answer.get("Reservations", []):
            for instance in reservation.get("Instances", []):
                if instance.get("PrivateIpAddress") and instance.get("State", {}).get("Name") == "running":
                    found[instance["InstanceId"]] = instance["PrivateIpAddress"]
        return found

    @staticmethod
    def opaque_subnets(region: str, subnet_ids: list[str]) -> list[dict[str, str]]:
        return [
            {"SubnetId": subnet, "ZoneName": zone_of(region, position)}
            for position, subnet in enumerate(subnet_ids)
        ]

    # -- the data plane through Overcast's own port ------------------------------------------------------------

    async def serve_host(self, request: HttpRequest) -> HttpResponse | None:
        return await self.data_plane.serve_main_port(request)

    # -- trust stores' downloads (GetTrustStoreCaCertificatesBundle, GetTrustStoreRevocationContent) -------------

    def download_url(self, trust_store_arn: str, what: str) -> str:
        """Where a trust store's CA bundle (`bundle`) or a revocation list (`revocations/<id>`) is downloaded:
        AWS answers a presigned URL; Overcast serves them itself."""
        config = self.platform.config
        host = "127.0.0.1" if config.host in ("0.0.0.0", "::", "") else config.host
        _, _, _, region, account, resource = trust_store_arn.split(":", 5)
        name_and_id = resource.removeprefix("truststore/")
        return (
            f"http://{host}:{config.port}/_overcast/elbv2/truststore/{account}/{region}/{name_and_id}/{what}"
        )

    async def internal_endpoint(self, request: HttpRequest, path: str) -> HttpResponse | None:
        """`GET /_overcast/elbv2/truststore/<account>/<region>/<name>/<id>/bundle` (the CA bundle, PEM) or
        `.../revocations/<revocation id>` (the revocation list as it was read from S3);
        `GET /_overcast/elbv2/public-keys/<kid>`: the key X-Amzn-Oidc-Data is signed with (PEM)."""
        parts = path.split("/")[3:]  # ["truststore", account, region, name, id, what...]
        if len(parts) == 2 and parts[0] == "public-keys" and request.method in ("GET", "HEAD"):
            key = self.data_plane.oidc.public_key(parts[1])
            if key is not None:  # the key authenticate-oidc actions sign X-Amzn-Oidc-Data with
                return HttpResponse(200, [("content-type", "application/x-pem-file")], key)
            return HttpResponse(404, [("content-type", "text/plain")], b"Not found")
        if request.method not in ("GET", "HEAD") or len(parts) < 6 or parts[0] != "truststore":
            return None
        account, region, name, ident, *what = parts[1:]
        arn = f"arn:aws:elasticloadbalancing:{region}:{account}:truststore/{name}/{ident}"
        with self.db.transaction():
            trust = self.store.trust_store(arn)
            if trust is None:
                error = trust_store_not_found(arn)
                return HttpResponse(404, [("content-type", "text/plain")], error.message.encode())
            if what == ["bundle"]:
                return HttpResponse(200, [("content-type", "application/x-pem-file")], trust.bundle.encode())
            if len(what) == 2 and what[0] == "revocations" and what[1].isdigit():
                content = self.store.revocation_content(arn, int(what[1]))
                if content is not None:
                    return HttpResponse(200, [("content-type", "application/pkix-crl")], content)
        return HttpResponse(404, [("content-type", "text/plain")], b"Not found")

    # -- hooks -------------------------------------------------------------------------------------------------

    def tagging_request(self, arn: str, add=None, remove=None) -> tuple[str, dict[str, Any]] | None:
        if add is not None:
            return "AddTags", {
                "ResourceArns": [arn],
                "Tags": [{"Key": k, "Value": v} for k, v in add.items()],
            }
        return "RemoveTags", {"ResourceArns": [arn], "TagKeys": list(remove or ())}

    def resource_arn(self, ctx: RequestContext, params: dict[str, Any]) -> str | None:
        for member in ("LoadBalancerArn", "ListenerArn", "RuleArn", "TargetGroupArn", "TrustStoreArn"):
            if params.get(member):
                return str(params[member])
        return None
