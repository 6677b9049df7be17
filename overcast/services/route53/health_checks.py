"""Health checks: endpoint checks (HTTP, HTTPS, with string matching, TCP) that really probe on the virtual
clock, calculated checks over their children, and checks of CloudWatch alarms; their status as the checkers of
each region observe it, and the reference data (checker IP ranges, locations)."""

from __future__ import annotations

import ipaddress
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.route53.common import invalid_input, max_items, no_health_check
from overcast.services.route53.store import HealthCheck
from overcast.services.route53.zones import health_check_arn

if TYPE_CHECKING:
    from overcast.services.route53.provider import Route53Provider

MAX_HEALTH_CHECKS = 200
ENDPOINT_TYPES = ("HTTP", "HTTPS", "HTTP_STR_MATCH", "HTTPS_STR_MATCH", "TCP")
CHECKER_REGIONS = ("us-east-1", "us-west-1", "us-west-2", "eu-west-1", "ap-southeast-1", "ap-southeast-2",
                   "ap-northeast-1", "sa-east-1")  # fmt: skip
# One checker address per region, from the ranges GetCheckerIpRanges publishes.
CHECKER_ADDRESSES = {
    region: f"15.177.{index * 8 + 2}.{10 + index}" for index, region in enumerate(CHECKER_REGIONS)
}
CHECKER_RANGES = ["15.177.0.0/18", "54.183.255.128/26", "54.228.16.0/26", "54.232.40.64/26", "54.241.32.64/26",
                  "54.243.31.192/26", "54.244.52.192/26", "54.245.168.0/26", "54.248.220.0/26", "54.250.253.192/26",
                  "54.251.31.128/26", "54.252.79.128/26", "54.252.254.192/26", "54.255.254.192/26",
                  "107.23.255.0/26", "176.34.159.192/26", "177.71.207.128/26"]  # fmt: skip
GEO = [  # (continent, continent name, country, country name, subdivision, subdivision name)
    ("AF", "Africa", None, None, None, None), ("AN", "Antarctica", None, None, None, None),
    ("AS", "Asia", None, None, None, None), ("EU", "Europe", None, None, None, None),
    ("NA", "North America", None, None, None, None), ("OC", "Oceania", None, None, None, None),
    ("SA", "South America", None, None, None, None),
    (None, None, "*", "Default", None, None),
    (None, None, "AU", "Australia", None, None), (None, None, "BR", "Brazil", None, None),
    (None, None, "CA", "Canada", None, None), (None, None, "CN", "China", None, None),
    (None, None, "DE", "Germany", None, None), (None, None, "ES", "Spain", None, None),
    (None, None, "FR", "France", None, None), (None, None, "GB", "United Kingdom", None, None),
    (None, None, "IE", "Ireland", None, None), (None, None, "IN", "India", None, None),
    (None, None, "IT", "Italy", None, None), (None, None, "JP", "Japan", None, None),
    (None, None, "KR", "Korea, Republic of", None, None), (None, None, "MX", "Mexico", None, None),
    (None, None, "NL", "Netherlands", None, None), (None, None, "SG", "Singapore", None, None),
    (None, None, "US", "United States", None, None),
    (None, None, "US", "United States", "CA", "California"), (None, None, "US", "United States", "NY", "New York"),
    (None, None, "US", "United States", "TX", "Texas"), (None, None, "US", "United States", "WA", "Washington"),
    (None, None, "ZA", "South Africa", None, None),
]  # fmt: skip


def _config(params: dict[str, Any]) -> dict[str, Any]:
    """The configuration as GetHealthCheck describes it: AWS's defaults filled in, after its checks."""
    kind = params["Type"]
    config: dict[str, Any] = {}
    if kind in ENDPOINT_TYPES:
        if not params.get("IPAddress") and not params.get("FullyQualifiedDomainName"):
            raise invalid_input(
                "Invalid parameter : You must specify either IPAddress or FullyQualifiedDomainName"
            )
        if params.get("IPAddress"):
            try:
                ipaddress.ip_address(params["IPAddress"])
            except ValueError:
                raise invalid_input(
                    f"Invalid parameter : IP address {params['IPAddress']} is not valid"
                ) from None
            config["IPAddress"] = params["IPAddress"]
        port = params.get("Port")
        if port is None:
            if kind == "TCP":
                raise invalid_input("Invalid parameter : A port must be specified for TCP health checks")
            port = 443 if kind.startswith("HTTPS") else 80
        config["Port"] = port
        config["Type"] = kind
        if kind != "TCP":
            config["ResourcePath"] = params.get("ResourcePath") or "/"
        elif params.get("ResourcePath"):
            raise invalid_input("Invalid parameter : ResourcePath cannot be specified for TCP health checks")
        if params.get("FullyQualifiedDomainName"):
            config["FullyQualifiedDomainName"] = params["FullyQualifiedDomainName"]
        if kind.endswith("_STR_MATCH"):
            if not params.get("SearchString"):
                raise invalid_input(
                    "Invalid parameter : SearchString is required for string matching health checks"
                )
            config["SearchString"] = params["SearchString"]
        interval = params.get("RequestInterval", 30)
        if interval not in (10, 30):
            raise invalid_input("Invalid parameter : RequestInterval must be either 10 or 30")
        config["RequestInterval"] = interval
        config["FailureThreshold"] = params.get("FailureThreshold", 3)
        config["MeasureLatency"] = params.get("MeasureLatency", False)
        config["Inverted"] = params.get("Inverted", False)
        config["Disabled"] = params.get("Disabled", False)
        config["EnableSNI"] = params.get("EnableSNI", kind.startswith("HTTPS"))
        regions = params.get("Regions")
        if regions is not None and len(regions) < 3:
            raise invalid_input("Invalid parameter : You must specify at least 3 regions")
        if regions:
            config["Regions"] = regions
    elif kind == "CALCULATED":
        children = params.get("ChildHealthChecks") or []
        config["Type"] = kind
        config["Inverted"] = params.get("Inverted", False)
        config["Disabled"] = params.get("Disabled", False)
        config["HealthThreshold"] = params.get("HealthThreshold", 0)
        config["ChildHealthChecks"] = children
    elif kind == "CLOUDWATCH_METRIC":
        if not params.get("AlarmIdentifier"):
            raise invalid_input(
                "Invalid parameter : AlarmIdentifier is required for CLOUDWATCH_METRIC health checks"
            )
        config["Type"] = kind
        config["Inverted"] = params.get("Inverted", False)
        config["Disabled"] = params.get("Disabled", False)
        config["AlarmIdentifier"] = params["AlarmIdentifier"]
        config["InsufficientDataHealthStatus"] = params.get("InsufficientDataHealthStatus", "LastKnownStatus")
    else:
        raise invalid_input(f"Invalid parameter : health checks of type {kind} are not supported")
    threshold = config.get("FailureThreshold")
    if threshold is not None and not 1 <= threshold <= 10:
        raise invalid_input("Invalid parameter : FailureThreshold must be between 1 and 10")
    return config


class HealthCheckOperations(Operations):
    service: Route53Provider

    def health_check(self, ctx: RequestContext, check_id: str) -> HealthCheck:
        found = self.service.store.health_check(check_id)
        if found is None or found.account != ctx.account_id:
            raise no_health_check(check_id)
        return found

    @staticmethod
    def described(check: HealthCheck) -> dict[str, Any]:
        return {
            "Id": check.id,
            "CallerReference": check.caller_reference,
            "HealthCheckConfig": check.config,
            "HealthCheckVersion": check.version,
        }

    def _check_children(self, ctx: RequestContext, config: dict[str, Any]) -> None:
        for child in config.get("ChildHealthChecks") or ():
            self.health_check(ctx, child)
        if config.get("Type") == "CALCULATED" and config["HealthThreshold"] > len(
            config["ChildHealthChecks"]
        ):
            raise invalid_input(
                "Invalid parameter : HealthThreshold cannot be greater than the number of child health checks"
            )

    def create_health_check(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        store = self.service.store
        config = _config(params["HealthCheckConfig"])
        self._check_children(ctx, config)
        existing = store.health_check_by_reference(ctx.account_id, params["CallerReference"])
        if existing is not None:
            if existing.config != config:
                raise ServiceError(
                    "HealthCheckAlreadyExists",
                    "A health check with the specified CallerReference already exists and has a different configuration.",
                    409,
                )
            return {"HealthCheck": self.described(existing), "Location": self._location(existing.id)}
        if len(store.health_checks(ctx.account_id)) >= MAX_HEALTH_CHECKS:
            raise ServiceError(
                "TooManyHealthChecks",
                "This health check can't be created because the current account has reached the limit on the number of active health checks.",
                400,
            )
        now = self.clock.now()
        check = HealthCheck(str(uuid.uuid4()), ctx.account_id, params["CallerReference"], config, 1, now, True, 0, 0,
                            None, None, None, now)  # fmt: skip
        store.put_health_check(check)
        self.service.changed()
        return {"HealthCheck": self.described(check), "Location": self._location(check.id)}

    @staticmethod
    def _location(check_id: str) -> str:
        return f"https://route53.amazonaws.com/2013-04-01/healthcheck/{check_id}"

    def get_health_check(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"HealthCheck": self.described(self.health_check(ctx, params["HealthCheckId"]))}

    def list_health_checks(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = max_items(params.get("MaxItems"), 100, 1000)
        checks = self.service.store.health_checks(ctx.account_id)
        start = 0
        if params.get("Marker"):
            ids = [check.id for check in checks]
            if params["Marker"] not in ids:
                raise invalid_input("Invalid marker.")
            start = ids.index(params["Marker"])
        page = checks[start : start + limit]
        result: dict[str, Any] = {
            "HealthChecks": [self.described(check) for check in page],
            "Marker": params.get("Marker") or "",
            "IsTruncated": start + limit < len(checks),
            "MaxItems": str(limit),
        }
        if result["IsTruncated"]:
            result["NextMarker"] = checks[start + limit].id
        return result

    def update_health_check(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        check = self.health_check(ctx, params["HealthCheckId"])
        if params.get("HealthCheckVersion") is not None and params["HealthCheckVersion"] != check.version:
            raise ServiceError(
                "HealthCheckVersionMismatch",
                "The value of HealthCheckVersion in the request doesn't match the value of HealthCheckVersion in the health check.",
                409,
            )
        merged = dict(check.config)
        for reset in params.get("ResetElements") or ():
            merged.pop({"FullyQualifiedDomainName": "FullyQualifiedDomainName", "Regions": "Regions",
                        "ResourcePath": "ResourcePath", "ChildHealthChecks": "ChildHealthChecks"}[reset], None)  # fmt: skip
        for member in ("IPAddress", "Port", "ResourcePath", "FullyQualifiedDomainName", "SearchString",
                       "FailureThreshold", "Inverted", "Disabled", "HealthThreshold", "ChildHealthChecks", "EnableSNI",
                       "Regions", "AlarmIdentifier", "InsufficientDataHealthStatus"):  # fmt: skip
            if member in params:
                merged[member] = params[member]
        check.config = _config(merged)
        self._check_children(ctx, check.config)
        check.version += 1
        check.next_check = self.clock.now()
        self.service.store.put_health_check(check)
        self.service.changed()
        return {"HealthCheck": self.described(check)}

    def delete_health_check(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        check = self.health_check(ctx, params["HealthCheckId"])
        self.service.store.delete_health_check(check.id)
        self.service.tags.forget(health_check_arn(check.id))
        self.service.changed()
        return {}

    def get_health_check_count(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"HealthCheckCount": len(self.service.store.health_checks(ctx.account_id))}

    def get_health_check_status(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        check = self.health_check(ctx, params["HealthCheckId"])
        if check.config["Type"] == "CALCULATED":
            raise invalid_input(
                "Invalid parameter : GetHealthCheckStatus is not supported for calculated health checks"
            )
        return {"HealthCheckObservations": self._observations(check, check.observation)}

    def get_health_check_last_failure_reason(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        check = self.health_check(ctx, params["HealthCheckId"])
        return {
            "HealthCheckObservations": self._observations(check, check.last_failure)
            if check.last_failure
            else []
        }

    def _observations(self, check: HealthCheck, text: str | None) -> list[dict[str, Any]]:
        if text is None or check.checked is None:
            return []
        regions = check.config.get("Regions") or CHECKER_REGIONS
        moment = datetime.fromtimestamp(check.checked, UTC)
        return [
            {"Region": region, "IPAddress": CHECKER_ADDRESSES.get(region, "15.177.2.10"),
             "StatusReport": {"Status": text, "CheckedTime": moment}}
            for region in regions
        ]  # fmt: skip

    def get_checker_ip_ranges(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"CheckerIpRanges": CHECKER_RANGES}

    # -- locations -----------------------------------------------------------------------------------------------

    @staticmethod
    def _geo(entry: tuple) -> dict[str, Any]:
        continent, continent_name, country, country_name, subdivision, subdivision_name = entry
        details: dict[str, Any] = {}
        if continent:
            details.update(ContinentCode=continent, ContinentName=continent_name)
        if country:
            details.update(CountryCode=country, CountryName=country_name)
        if subdivision:
            details.update(SubdivisionCode=subdivision, SubdivisionName=subdivision_name)
        return details

    def get_geo_location(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        wanted = (params.get("ContinentCode"), params.get("CountryCode"), params.get("SubdivisionCode"))
        for entry in GEO:
            if (entry[0], entry[2], entry[4]) == wanted:
                return {"GeoLocationDetails": self._geo(entry)}
        raise ServiceError("NoSuchGeoLocation", "The specified geographic location doesn't exist.", 404)

    def list_geo_locations(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = max_items(params.get("MaxItems"), 100, 100)
        entries = GEO
        start = 0
        wanted = (
            params.get("StartContinentCode"),
            params.get("StartCountryCode"),
            params.get("StartSubdivisionCode"),
        )
        if any(wanted):
            start = next((i for i, e in enumerate(entries) if (e[0], e[2], e[4]) == wanted), len(entries))
        page = entries[start : start + limit]
        result: dict[str, Any] = {
            "GeoLocationDetailsList": [self._geo(entry) for entry in page],
            "IsTruncated": start + limit < len(entries),
            "MaxItems": str(limit),
        }
        if result["IsTruncated"]:
            following = entries[start + limit]
            for code, member in (
                (following[0], "NextContinentCode"),
                (following[2], "NextCountryCode"),
                (following[4], "NextSubdivisionCode"),
            ):
                if code:
                    result[member] = code
        return result
