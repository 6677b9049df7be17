"""Stages (auto-deployed or not) and deployments of HTTP and WebSocket APIs, and custom domain names with
API mappings (records).

A deployment freezes the API's routes, integrations (with their responses) and authorizers; an auto-deploy
stage gets a new deployment whenever the API changes (`ApiGatewayV2Provider.changed`), as AWS does."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.services.apigatewayv2.common import bad_request, conflict, new_id, not_found
from overcast.services.apigatewayv2.http_gateway import DOMAINS
from overcast.services.base import Operations

if TYPE_CHECKING:
    from overcast.services.apigatewayv2.provider import ApiGatewayV2Provider

_STAGE_NAME = re.compile(r"^(\$default|[A-Za-z0-9_-]{1,128})$")
STAGE_FIELDS = (
    "AccessLogSettings",
    "AutoDeploy",
    "ClientCertificateId",
    "DefaultRouteSettings",
    "DeploymentId",
    "Description",
    "RouteSettings",
    "StageVariables",
)


class StageOperations(Operations):
    service: ApiGatewayV2Provider

    def snapshot(self, ctx: RequestContext, api: dict[str, Any]) -> dict[str, Any]:
        store, account, region, api_id = self.service.store, ctx.account_id, ctx.region, api["ApiId"]
        integrations = store.list(account, region, "integration", api_id)
        routes = store.list(account, region, "route", api_id)
        return {
            "api": api,
            "routes": routes,
            "routeResponses": {
                r["RouteId"]: store.list(account, region, "routeresponse", f"{api_id}/{r['RouteId']}")
                for r in routes
            },
            "integrations": {i["IntegrationId"]: i for i in integrations},
            "integrationResponses": {
                i["IntegrationId"]: store.list(
                    account, region, "integrationresponse", f"{api_id}/{i['IntegrationId']}"
                )
                for i in integrations
            },
            "authorizers": {a["AuthorizerId"]: a for a in store.list(account, region, "authorizer", api_id)},
            "models": {m["Name"]: m for m in store.list(account, region, "model", api_id)},
        }

    def deploy(
        self, ctx: RequestContext, api: dict[str, Any], description: str | None, auto: bool
    ) -> dict[str, Any]:
        deployment: dict[str, Any] = {
            "AutoDeployed": auto,
            "CreatedDate": int(self.clock.now()),
            "DeploymentId": new_id(6),
            "DeploymentStatus": "DEPLOYED",
        }
        if description:
            deployment["Description"] = description
        record = {**deployment, "snapshot": self.snapshot(ctx, api)}
        self.service.save(ctx, "deployment", api["ApiId"], deployment["DeploymentId"], record)
        return deployment

    def redeploy_auto_stages(self, ctx: RequestContext, api_id: str) -> None:
        stages = [
            s
            for s in self.service.store.list(ctx.account_id, ctx.region, "stage", api_id)
            if s.get("AutoDeploy")
        ]
        if not stages:
            return
        api = self.service.api(ctx, api_id)
        deployment = self.deploy(ctx, api, None, True)
        for stage in stages:
            stage["DeploymentId"] = deployment["DeploymentId"]
            stage["LastUpdatedDate"] = int(self.clock.now())
            self.service.save(ctx, "stage", api_id, stage["StageName"], stage)

    # -- stages ---------------------------------------------------------------------------------------

    def create_stage(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self.service.api(ctx, params["ApiId"])
        name = params["StageName"]
        if not _STAGE_NAME.match(name):
            raise bad_request("Stage name only allows a-zA-Z0-9_- (or $default)")
        if self.service.store.get(ctx.account_id, ctx.region, "stage", api["ApiId"], name) is not None:
            raise conflict(f"Stage already exists: {name}")
        now = int(self.clock.now())
        stage: dict[str, Any] = {
            "CreatedDate": now,
            "DefaultRouteSettings": {"DetailedMetricsEnabled": False},
            "LastUpdatedDate": now,
            "RouteSettings": {},
            "StageName": name,
            "StageVariables": {},
            "AutoDeploy": False,
        }
        if api["ProtocolType"] == "WEBSOCKET":
            stage["DefaultRouteSettings"].update(DataTraceEnabled=False, LoggingLevel="OFF")
        for key in STAGE_FIELDS:
            if params.get(key) is not None:
                stage[key] = params[key]
        if stage.get("DeploymentId"):
            self.service.doc(
                ctx,
                "deployment",
                api["ApiId"],
                stage["DeploymentId"],
                "Invalid Deployment identifier specified",
            )
        if stage["AutoDeploy"]:
            stage["DeploymentId"] = self.deploy(ctx, api, None, True)["DeploymentId"]
        self.service.save(ctx, "stage", api["ApiId"], name, stage)
        if params.get("Tags"):
            self.service.tags.add(
                self._arn(ctx, api["ApiId"], name), params["Tags"], account=ctx.account_id, region=ctx.region
            )
        return self.describe(ctx, api["ApiId"], stage)

    def _arn(self, ctx: RequestContext, api_id: str, name: str) -> str:
        return self.service.arn(ctx, f"/apis/{api_id}/stages/{name}")

    def describe(self, ctx: RequestContext, api_id: str, stage: dict[str, Any]) -> dict[str, Any]:
        return {**stage, "Tags": self.service.tags.get(self._arn(ctx, api_id, stage["StageName"]))}

    def stage(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.service.api(ctx, params["ApiId"])
        return self.service.doc(
            ctx,
            "stage",
            params["ApiId"],
            params["StageName"],
            f"Invalid stage identifier specified {params['StageName']}",
        )

    def get_stage(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self.describe(ctx, params["ApiId"], self.stage(ctx, params))

    def get_stages(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self.service.api(ctx, params["ApiId"])
        stages = [
            self.describe(ctx, api["ApiId"], s)
            for s in self.service.store.list(ctx.account_id, ctx.region, "stage", api["ApiId"])
        ]
        return self.service.page(stages, params, "StageName", f"stages:{api['ApiId']}")

    def update_stage(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self.service.api(ctx, params["ApiId"])
        stage = self.stage(ctx, params)
        for key in STAGE_FIELDS:
            if key in params:
                stage[key] = params[key]
        if "DeploymentId" in params:
            self.service.doc(
                ctx,
                "deployment",
                api["ApiId"],
                params["DeploymentId"],
                "Invalid Deployment identifier specified",
            )
        if params.get("AutoDeploy"):
            stage["DeploymentId"] = self.deploy(ctx, api, None, True)["DeploymentId"]
        stage["LastUpdatedDate"] = int(self.clock.now())
        self.service.save(ctx, "stage", api["ApiId"], stage["StageName"], stage)
        return self.describe(ctx, api["ApiId"], stage)

    def delete_stage(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stage = self.stage(ctx, params)
        self.service.store.delete(ctx.account_id, ctx.region, "stage", params["ApiId"], stage["StageName"])
        self.service.tags.forget(self._arn(ctx, params["ApiId"], stage["StageName"]))
        return {}

    def delete_access_log_settings(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stage = self.stage(ctx, params)
        stage.pop("AccessLogSettings", None)
        self.service.save(ctx, "stage", params["ApiId"], stage["StageName"], stage)
        return {}

    def delete_route_settings(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stage = self.stage(ctx, params)
        if params["RouteKey"] not in (stage.get("RouteSettings") or {}):
            raise not_found(f"Unable to find route settings for route key {params['RouteKey']}")
        del stage["RouteSettings"][params["RouteKey"]]
        self.service.save(ctx, "stage", params["ApiId"], stage["StageName"], stage)
        return {}

    # -- deployments ----------------------------------------------------------------------------------

    def create_deployment(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self.service.api(ctx, params["ApiId"])
        stage = None
        if params.get("StageName"):
            stage = self.stage(ctx, {"ApiId": api["ApiId"], "StageName": params["StageName"]})
            if stage.get("AutoDeploy"):
                raise bad_request(
                    f"Stage {stage['StageName']} has AutoDeploy enabled: it is deployed automatically"
                )
        deployment = self.deploy(ctx, api, params.get("Description"), False)
        if stage is not None:
            stage["DeploymentId"] = deployment["DeploymentId"]
            stage["LastUpdatedDate"] = int(self.clock.now())
            self.service.save(ctx, "stage", api["ApiId"], stage["StageName"], stage)
        return deployment

    def _deployment(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.service.api(ctx, params["ApiId"])
        return self.service.doc(
            ctx,
            "deployment",
            params["ApiId"],
            params["DeploymentId"],
            "Invalid Deployment identifier specified",
        )

    def get_deployment(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in self._deployment(ctx, params).items() if k != "snapshot"}

    def get_deployments(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self.service.api(ctx, params["ApiId"])
        items = [
            {k: v for k, v in d.items() if k != "snapshot"}
            for d in self.service.store.list(ctx.account_id, ctx.region, "deployment", api["ApiId"])
        ]
        return self.service.page(items, params, "DeploymentId", f"deployments:{api['ApiId']}")

    def update_deployment(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        deployment = self._deployment(ctx, params)
        if "Description" in params:
            deployment["Description"] = params["Description"]
        self.service.save(ctx, "deployment", params["ApiId"], deployment["DeploymentId"], deployment)
        return {k: v for k, v in deployment.items() if k != "snapshot"}

    def delete_deployment(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        deployment = self._deployment(ctx, params)
        for stage in self.service.store.list(ctx.account_id, ctx.region, "stage", params["ApiId"]):
            if stage.get("DeploymentId") == deployment["DeploymentId"]:
                raise bad_request("Deployment is in use by a stage and cannot be deleted")
        self.service.store.delete(
            ctx.account_id, ctx.region, "deployment", params["ApiId"], deployment["DeploymentId"]
        )
        return {}


class DomainNameOperations(Operations):
    service: ApiGatewayV2Provider

    def create_domain_name(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["DomainName"]
        if self.service.store.get(ctx.account_id, ctx.region, "domain", "", name) is not None:
            raise conflict(f"The domain name you provided already exists: {name}")
        configurations = []
        for config in params.get("DomainNameConfigurations") or [{}]:
            configurations.append(
                {
                    "ApiGatewayDomainName": f"d-{new_id()}.execute-api.{ctx.region}.amazonaws.com",
                    "EndpointType": config.get("EndpointType", "REGIONAL"),
                    "HostedZoneId": "Z1UJRXOUMOOFQ8",
                    "SecurityPolicy": config.get("SecurityPolicy", "TLS_1_2"),
                    "DomainNameStatus": "AVAILABLE",
                    **({"CertificateArn": config["CertificateArn"]} if config.get("CertificateArn") else {}),
                }
            )
        domain = {
            "ApiMappingSelectionExpression": "$request.basepath",
            "DomainName": name,
            "DomainNameArn": self.service.arn(ctx, f"/domainnames/{name}"),
            "DomainNameConfigurations": configurations,
            "RoutingMode": params.get("RoutingMode") or "API_MAPPING_ONLY",
        }
        self.service.save(ctx, "domain", "", name, domain)
        DOMAINS.add(name.lower())
        if params.get("Tags"):
            self.service.tags.add(
                domain["DomainNameArn"], params["Tags"], account=ctx.account_id, region=ctx.region
            )
        return {**domain, "Tags": self.service.tags.get(domain["DomainNameArn"])}

    def _domain(self, ctx: RequestContext, name: str) -> dict[str, Any]:
        return self.service.doc(ctx, "domain", "", name, f"Invalid domain name identifier specified {name}")

    def get_domain_name(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        domain = self._domain(ctx, params["DomainName"])
        return {**domain, "Tags": self.service.tags.get(domain["DomainNameArn"])}

    def get_domain_names(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        domains = self.service.store.list(ctx.account_id, ctx.region, "domain")
        return self.service.page(domains, params, "DomainName", "domainnames")

    def update_domain_name(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        domain = self._domain(ctx, params["DomainName"])
        if params.get("DomainNameConfigurations"):
            for config, given in zip(
                domain["DomainNameConfigurations"], params["DomainNameConfigurations"], strict=False
            ):
                config.update(
                    {
                        k: v
                        for k, v in given.items()
                        if k in ("CertificateArn", "SecurityPolicy", "EndpointType")
                    }
                )
        for key in ("MutualTlsAuthentication", "RoutingMode"):
            if params.get(key) is not None:
                domain[key] = params[key]
        self.service.save(ctx, "domain", "", domain["DomainName"], domain)
        return {**domain, "Tags": self.service.tags.get(domain["DomainNameArn"])}

    def delete_domain_name(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        domain = self._domain(ctx, params["DomainName"])
        self.service.store.delete(ctx.account_id, ctx.region, "domain", "", domain["DomainName"])
        self.service.store.delete_children(ctx.account_id, ctx.region, domain["DomainName"])
        if self.service.store.owner("domain", domain["DomainName"]) is None:
            DOMAINS.discard(domain["DomainName"].lower())
        self.service.tags.forget(domain["DomainNameArn"])
        return {}

    def create_api_mapping(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        domain = self._domain(ctx, params["DomainName"])
        self.service.api(ctx, params["ApiId"])
        self.service.doc(
            ctx,
            "stage",
            params["ApiId"],
            params["Stage"],
            f"Invalid stage identifier specified {params['Stage']}",
        )
        mapping = {"ApiId": params["ApiId"], "ApiMappingId": new_id(6), "Stage": params["Stage"]}
        if params.get("ApiMappingKey"):
            mapping["ApiMappingKey"] = params["ApiMappingKey"]
        self.service.save(ctx, "apimapping", domain["DomainName"], mapping["ApiMappingId"], mapping)
        return mapping

    def get_api_mapping(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        domain = self._domain(ctx, params["DomainName"])
        return self.service.doc(
            ctx,
            "apimapping",
            domain["DomainName"],
            params["ApiMappingId"],
            "Invalid API mapping identifier specified",
        )

    def get_api_mappings(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        domain = self._domain(ctx, params["DomainName"])
        items = self.service.store.list(ctx.account_id, ctx.region, "apimapping", domain["DomainName"])
        return self.service.page(items, params, "ApiMappingId", f"apimappings:{domain['DomainName']}")

    def update_api_mapping(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        mapping = self.get_api_mapping(ctx, params)
        self.service.api(ctx, params["ApiId"])
        mapping["ApiId"] = params["ApiId"]
        if params.get("Stage"):
            self.service.doc(
                ctx,
                "stage",
                params["ApiId"],
                params["Stage"],
                f"Invalid stage identifier specified {params['Stage']}",
            )
            mapping["Stage"] = params["Stage"]
        if params.get("ApiMappingKey") is not None:
            mapping["ApiMappingKey"] = params["ApiMappingKey"]
        self.service.save(ctx, "apimapping", params["DomainName"], mapping["ApiMappingId"], mapping)
        return mapping

    def delete_api_mapping(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        domain = self._domain(ctx, params["DomainName"])
        if not self.service.store.delete(
            ctx.account_id, ctx.region, "apimapping", domain["DomainName"], params["ApiMappingId"]
        ):
            raise not_found("Invalid API mapping identifier specified")
        return {}


class VpcLinkOperations(Operations):
    """VPC links of HTTP APIs (records: nothing is reached through them)."""

    service: ApiGatewayV2Provider

    def create_vpc_link(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        link = {
            "CreatedDate": int(self.clock.now()),
            "Name": params["Name"],
            "SecurityGroupIds": params.get("SecurityGroupIds") or [],
            "SubnetIds": params["SubnetIds"],
            "VpcLinkId": new_id(6),
            "VpcLinkStatus": "AVAILABLE",
            "VpcLinkStatusMessage": "VPC link is ready to route traffic",
            "VpcLinkVersion": "V2",
        }
        self.service.save(ctx, "vpclink", "", link["VpcLinkId"], link)
        arn = self.service.arn(ctx, f"/vpclinks/{link['VpcLinkId']}")
        if params.get("Tags"):
            self.service.tags.add(arn, params["Tags"], account=ctx.account_id, region=ctx.region)
        return {**link, "Tags": self.service.tags.get(arn)}

    def _link(self, ctx: RequestContext, link_id: str) -> dict[str, Any]:
        link = self.service.doc(
            ctx, "vpclink", "", link_id, f"Invalid VpcLink identifier specified {link_id}"
        )
        return {**link, "Tags": self.service.tags.get(self.service.arn(ctx, f"/vpclinks/{link_id}"))}

    def get_vpc_link(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._link(ctx, params["VpcLinkId"])

    def get_vpc_links(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        links = self.service.store.list(ctx.account_id, ctx.region, "vpclink")
        return self.service.page(links, params, "VpcLinkId", "vpclinks")

    def update_vpc_link(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        link = self._link(ctx, params["VpcLinkId"])
        if params.get("Name"):
            link["Name"] = params["Name"]
        self.service.save(
            ctx, "vpclink", "", link["VpcLinkId"], {k: v for k, v in link.items() if k != "Tags"}
        )
        return link

    def delete_vpc_link(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        link = self._link(ctx, params["VpcLinkId"])
        self.service.store.delete(ctx.account_id, ctx.region, "vpclink", "", link["VpcLinkId"])
        self.service.tags.forget(self.service.arn(ctx, f"/vpclinks/{link['VpcLinkId']}"))
        return {}
