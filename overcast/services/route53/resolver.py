"""How Route 53 answers a DNS query from its hosted zones (pure: the zones are read through a `Source`).

The routing policy of a name's record sets decides the answer: simple (every value), weighted (one set drawn by
weight), failover (the primary while it is healthy), latency (the set of the region nearest the resolver's),
geolocation (the most specific location that matches the client, else the default `*`), geoproximity (the
nearest by biased distance), IP-based (the CIDR location of the client's address), multivalue (up to eight
healthy sets). Unhealthy sets are skipped; when every candidate is unhealthy Route 53 answers as if all were
healthy. Alias records answer with their target's current records: another record of a zone Overcast hosts, or
the address of what Overcast serves (load balancers, S3 websites, API Gateway, CloudFront): this machine.
"""

from __future__ import annotations

import ipaddress
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from overcast.services.route53.names import normalize, parents, within
from overcast.services.route53.traffic_documents import as_record_set, choices

MAX_CHAIN = 8  # CNAMEs and aliases followed within one answer
# Approximate coordinates (latitude, longitude) of AWS regions: latency and geoproximity are decided by distance.
REGIONS = {
    "us-east-1": (38.9, -77.4), "us-east-2": (40.0, -83.0), "us-west-1": (37.4, -121.9), "us-west-2": (45.8, -119.7),
    "ca-central-1": (45.5, -73.6), "ca-west-1": (51.0, -114.1), "mx-central-1": (20.6, -100.4),
    "sa-east-1": (-23.5, -46.6), "eu-west-1": (53.3, -6.3), "eu-west-2": (51.5, -0.1), "eu-west-3": (48.9, 2.4),
    "eu-central-1": (50.1, 8.7), "eu-central-2": (47.4, 8.5), "eu-north-1": (59.3, 18.1), "eu-south-1": (45.5, 9.2),
    "eu-south-2": (41.6, -0.9), "me-south-1": (26.1, 50.6), "me-central-1": (25.2, 55.3), "il-central-1": (32.1, 34.8),
    "af-south-1": (-33.9, 18.4), "ap-east-1": (22.3, 114.2), "ap-south-1": (19.1, 72.9), "ap-south-2": (17.4, 78.5),
    "ap-northeast-1": (35.7, 139.7), "ap-northeast-2": (37.6, 127.0), "ap-northeast-3": (34.7, 135.5),
    "ap-southeast-1": (1.3, 103.8), "ap-southeast-2": (-33.9, 151.2), "ap-southeast-3": (-6.2, 106.8),
    "ap-southeast-4": (-37.8, 145.0), "ap-southeast-5": (3.1, 101.7), "ap-southeast-7": (13.8, 100.5),
    "cn-north-1": (39.9, 116.4), "cn-northwest-1": (38.5, 106.3), "us-gov-west-1": (45.8, -119.7),
    "us-gov-east-1": (40.0, -83.0),
}  # fmt: skip
CONTINENTS = {"US": "NA", "CA": "NA", "MX": "NA", "BR": "SA", "AR": "SA", "GB": "EU", "DE": "EU", "FR": "EU",
              "IE": "EU", "ES": "EU", "IT": "EU", "NL": "EU", "SE": "EU", "CH": "EU", "JP": "AS", "CN": "AS",
              "IN": "AS", "SG": "AS", "KR": "AS", "AU": "OC", "NZ": "OC", "ZA": "AF", "EG": "AF", "AE": "AS",
              "IL": "AS"}  # fmt: skip


@dataclass(frozen=True)
class Client:
    """Who asks: the client's address (EDNS client subnet, else the resolver's), the AWS region of its
    resolver (latency, geoproximity), and its location (continent, country, US state) when known."""

    address: str | None = None
    region: str = "us-east-1"
    location: tuple[str | None, str | None, str | None] | None = None
    vpc: tuple[str, str] | None = (
        None  # (VPC id, its region) of a query from inside a VPC: its private zones answer
    )


@dataclass
class Answer:
    rcode: str = "NOERROR"
    records: list[tuple[str, str, int, str]] = field(default_factory=list)  # (owner, type, TTL, value)
    authority: list[tuple[str, str, int, str]] = field(default_factory=list)
    authoritative: bool = True
    stable: bool = True  # the same question gets the same answer until the zones change (no draw, no client)
    zone_id: str | None = None  # the hosted zone that answered


class Source(Protocol):
    def zone_for(self, name: str, client: Client) -> tuple[str, str] | None:
        """(zone id, zone name) of the most specific zone holding `name` that answers this client."""

    def record_sets(self, zone_id: str, name: str) -> list[dict[str, Any]]: ...

    def has_name_below(self, zone_id: str, name: str) -> bool: ...

    def healthy(self, check_id: str) -> bool: ...

    def zone_name(self, zone_id: str) -> str | None:
        """The name of a zone Overcast hosts, by id (alias targets)."""

    def served(self, name: str) -> bool:
        """Whether Overcast itself serves `name` (load balancers, *.localhost names)."""

    def target_healthy(self, alias: dict[str, Any]) -> bool:
        """EvaluateTargetHealth of an alias to something other than a record (a load balancer's targets)."""

    def cidr_locations(self, collection_id: str) -> list[tuple[str, str]]: ...

    def traffic_policy(self, instance_id: str) -> tuple[int, dict[str, Any]] | None:
        """(TTL, policy document) of a traffic policy instance."""


def _distance(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371 * math.asin(math.sqrt(h))


class Resolver:
    def __init__(self, source: Source, choose: Callable[[list[Any], list[float]], Any] | None = None) -> None:
        self.source = source
        self._stable = True
        self.choose = choose or (lambda items, weights: random.choices(items, weights)[0])

    def resolve(self, qname: str, qtype: str, client: Client, zone_id: str | None = None) -> Answer:
        name = normalize(qname)
        if zone_id is not None:
            zone_name = self.source.zone_name(zone_id)
            zone = (zone_id, zone_name) if zone_name and within(name, zone_name) else None
        else:
            zone = self.source.zone_for(name, client)
        if zone is None:
            return self._served(name, qtype)
        answer = Answer(zone_id=zone[0])
        self._stable = True
        self._answer(zone, name, qtype, client, answer, 0)
        answer.stable = self._stable
        return answer

    def _served(self, name: str, qtype: str) -> Answer:
        if not self.source.served(name):
            return Answer(rcode="REFUSED", authoritative=False)
        if qtype in ("A", "ANY"):
            return Answer(records=[(name, "A", 60, "127.0.0.1")])
        if qtype == "AAAA":
            return Answer(records=[(name, "AAAA", 60, "::1")])
        return Answer()

    def _answer(
        self, zone: tuple[str, str], name: str, qtype: str, client: Client, answer: Answer, depth: int
    ) -> None:
        zone_id, zone_name = zone
        sets = self.source.record_sets(zone_id, name)
        if not sets and not self.source.has_name_below(zone_id, name):
            sets = self._wildcard(zone_id, zone_name, name)
            if not sets:
                answer.rcode = "NXDOMAIN" if depth == 0 else answer.rcode
                answer.authority = self._soa(zone_id, zone_name)
                return
        cnames = [s for s in sets if s["Type"] == "CNAME"]
        if cnames and qtype != "CNAME":
            for _, ttl, value in self._route(zone, cnames, "CNAME", client, depth):
                answer.records.append((name, "CNAME", ttl, value))
                target = normalize(value)
                if depth < MAX_CHAIN:
                    followed = self.source.zone_for(target, client)
                    if followed is not None:
                        self._answer(followed, target, qtype, client, answer, depth + 1)
            return
        wanted = [s for s in sets if qtype == "ANY" or s["Type"] == qtype]
        if not wanted:
            if depth == 0:
                answer.authority = self._soa(zone_id, zone_name)
            return
        kinds = sorted({s["Type"] for s in wanted})
        for kind in kinds:
            for record_type, ttl, value in self._route(
                zone, [s for s in wanted if s["Type"] == kind], kind, client, depth
            ):
                answer.records.append((name, record_type, ttl, value))

    def _wildcard(self, zone_id: str, zone_name: str, name: str) -> list[dict[str, Any]]:
        for parent in parents(name)[1:]:
            if not within(parent, zone_name):
                break
            found = self.source.record_sets(zone_id, "*." + parent)
            if found:
                return found
            if self.source.record_sets(zone_id, parent) or parent == zone_name:
                break  # the closest encloser exists and has no wildcard
        return []

    def _soa(self, zone_id: str, zone_name: str) -> list[tuple[str, str, int, str]]:
        for record in self.source.record_sets(zone_id, zone_name):
            if record["Type"] == "SOA" and record.get("ResourceRecords"):
                return [(zone_name, "SOA", record["TTL"], record["ResourceRecords"][0]["Value"])]
        return []

    # -- routing policies ------------------------------------------------------------------------------------------

    def _route(
        self, zone: tuple[str, str], sets: list[dict[str, Any]], kind: str, client: Client, depth: int
    ) -> list[tuple[str, int, str]]:
        """(type, TTL, value) of the records the policy of `sets` (one name and type) answers with."""
        if sets and sets[0].get("TrafficPolicyInstanceId"):
            return self._traffic(zone, sets[0]["TrafficPolicyInstanceId"], kind, client, depth)
        chosen = self._choose(zone, sets, client, depth)
        out: list[tuple[str, int, str]] = []
        for record in chosen:
            out.extend(self._values(zone, record, kind, client, depth))
        return out

    def _healthy(self, zone: tuple[str, str], record: dict[str, Any], client: Client, depth: int) -> bool:
        if "_healthy" in record:  # a choice of a traffic policy rule, judged already
            return record["_healthy"]
        check = record.get("HealthCheckId")
        if check and not self.source.healthy(check):
            return False
        alias = record.get("AliasTarget")
        if alias and alias.get("EvaluateTargetHealth"):
            return self._alias_healthy(zone, record, alias, client, depth)
        return True

    def _alias_healthy(
        self, zone: tuple[str, str], record: dict[str, Any], alias: dict[str, Any], client: Client, depth: int
    ) -> bool:
        target_zone = self.source.zone_name(alias["HostedZoneId"])
        if target_zone is None:
            return self.source.target_healthy(alias)
        if depth >= MAX_CHAIN:
            return False
        target = normalize(alias["DNSName"])
        sets = [
            s for s in self.source.record_sets(alias["HostedZoneId"], target) if s["Type"] == record["Type"]
        ]
        return any(self._healthy((alias["HostedZoneId"], target_zone), s, client, depth + 1) for s in sets)

    def _choose(
        self, zone: tuple[str, str], sets: list[dict[str, Any]], client: Client, depth: int
    ) -> list[dict[str, Any]]:
        from overcast.services.route53.changes import policy_of

        if not sets:
            return []
        policy = policy_of(sets[0])
        healthy = [s for s in sets if self._healthy(zone, s, client, depth)]
        if policy == "simple":
            return sets[:1]
        if policy in ("weighted", "multivalue", "ip-based"):
            self._stable = False  # a draw, or the client's address, decides
        if policy == "weighted":
            for pool in (
                [s for s in healthy if s["Weight"] > 0],
                healthy,
                [s for s in sets if s["Weight"] > 0],
                sets,
            ):
                if pool:
                    weights = [float(s["Weight"]) for s in pool]
                    return [self.choose(pool, weights if any(weights) else [1.0] * len(pool))]
            return []
        if policy == "failover":
            primary = next((s for s in sets if s["Failover"] == "PRIMARY"), None)
            secondary = next((s for s in sets if s["Failover"] == "SECONDARY"), None)
            if primary is not None and primary in healthy:
                return [primary]
            if secondary is not None and secondary in healthy:
                return [secondary]
            return [primary or secondary] if (primary or secondary) else []
        if policy == "latency":
            pool = healthy or sets
            here = REGIONS.get(client.region, REGIONS["us-east-1"])
            return [min(pool, key=lambda s: _distance(here, REGIONS.get(s["Region"], here)))]
        if policy == "geolocation":
            return self._geolocation(sets, healthy, client)
        if policy == "geoproximity":
            pool = healthy or sets
            here = REGIONS.get(client.region, REGIONS["us-east-1"])

            def biased(s: dict[str, Any]) -> float:
                where = s["GeoProximityLocation"]
                if where.get("Coordinates"):
                    point = (
                        float(where["Coordinates"]["Latitude"]),
                        float(where["Coordinates"]["Longitude"]),
                    )
                else:
                    point = REGIONS.get(where.get("AWSRegion", ""), here)
                return _distance(here, point) * (1 - where.get("Bias", 0) / 100)

            return [min(pool, key=biased)]
        if policy == "multivalue":
            pool = healthy or sets
            return random.sample(pool, min(8, len(pool)))
        if policy == "ip-based":
            return self._by_cidr(sets, healthy, client)
        return sets[:1]

    def _geolocation(
        self, sets: list[dict[str, Any]], healthy: list[dict[str, Any]], client: Client
    ) -> list[dict[str, Any]]:
        continent, country, subdivision = client.location or (None, None, None)
        if country and not continent:
            continent = CONTINENTS.get(country)

        def matches(s: dict[str, Any], level: str) -> bool:
            geo = s["GeoLocation"]
            if level == "subdivision":
                return (
                    bool(subdivision)
                    and geo.get("CountryCode") == country
                    and geo.get("SubdivisionCode") == subdivision
                )
            if level == "country":
                return bool(country) and geo.get("CountryCode") == country and not geo.get("SubdivisionCode")
            if level == "continent":
                return bool(continent) and geo.get("ContinentCode") == continent
            return geo.get("CountryCode") == "*"

        for level in ("subdivision", "country", "continent", "default"):
            found = [s for s in sets if matches(s, level)]
            if found and found[0] in healthy:
                return found[:1]
        return []

    def _by_cidr(
        self, sets: list[dict[str, Any]], healthy: list[dict[str, Any]], client: Client
    ) -> list[dict[str, Any]]:
        try:
            address = ipaddress.ip_address(client.address or "")
        except ValueError:
            address = None
        best: tuple[int, dict[str, Any]] | None = None
        default = None
        for s in sets:
            config = s["CidrRoutingConfig"]
            if config["LocationName"] == "*":
                default = s
                continue
            for location, cidr in self.source.cidr_locations(config["CollectionId"]):
                if location != config["LocationName"] or address is None:
                    continue
                network = ipaddress.ip_network(cidr, strict=False)
                if address in network and (best is None or network.prefixlen > best[0]):
                    best = (network.prefixlen, s)
        if best is not None and best[1] in healthy:
            return [best[1]]
        return [default] if default is not None else []

    # -- traffic policy instances -------------------------------------------------------------------------------------

    def _traffic(
        self, zone: tuple[str, str], instance_id: str, kind: str, client: Client, depth: int
    ) -> list[tuple[str, int, str]]:
        """What a traffic policy instance's record set answers: its document's tree, from its start."""
        found = self.source.traffic_policy(instance_id)
        if found is None:
            return []
        ttl, document = found
        self._stable = False  # rules draw, follow health and the client
        if document.get("StartEndpoint"):
            return self._endpoint(document, document["StartEndpoint"], kind, ttl)
        return self._rule(zone, document, document["StartRule"], kind, ttl, client, depth)

    def _rule(
        self, zone: tuple[str, str], document: dict[str, Any], name: str, kind: str, ttl: int, client: Client,
        depth: int,
    ) -> list[tuple[str, int, str]]:  # fmt: skip
        rule = document["Rules"][name]
        sets = [
            {**as_record_set(rule, choice, position), "_healthy": self._choice_healthy(document, choice)}
            for position, choice in enumerate(choices(rule))
        ]
        out: list[tuple[str, int, str]] = []
        for chosen in self._choose(zone, sets, client, depth):
            choice = chosen["_choice"]
            if choice.get("EndpointReference"):
                out.extend(self._endpoint(document, choice["EndpointReference"], kind, ttl))
            else:
                out.extend(self._rule(zone, document, choice["RuleReference"], kind, ttl, client, depth))
        return out

    def _choice_healthy(self, document: dict[str, Any], choice: dict[str, Any]) -> bool:
        """A choice's health check passes and, with EvaluateTargetHealth, what it leads to is healthy (a rule:
        one of its choices; a load balancer: one of its targets)."""
        if choice.get("HealthCheck") and not self.source.healthy(choice["HealthCheck"]):
            return False
        if choice.get("RuleReference"):
            inner = choices(document["Rules"][choice["RuleReference"]])
            return any(self._choice_healthy(document, item) for item in inner)
        endpoint = document["Endpoints"][choice["EndpointReference"]]
        if not choice.get("EvaluateTargetHealth") or endpoint["Type"] == "value":
            return True
        return self.source.target_healthy({"DNSName": endpoint["Value"], "HostedZoneId": ""})

    @staticmethod
    def _endpoint(document: dict[str, Any], name: str, kind: str, ttl: int) -> list[tuple[str, int, str]]:
        endpoint = document["Endpoints"][name]
        if endpoint["Type"] != "value" and kind in ("A", "AAAA"):  # what Overcast serves: this machine
            return [(kind, ttl, "127.0.0.1" if kind == "A" else "::1")]
        return [(kind, ttl, endpoint["Value"])]

    # -- values --------------------------------------------------------------------------------------------------------

    def _values(
        self, zone: tuple[str, str], record: dict[str, Any], kind: str, client: Client, depth: int
    ) -> list[tuple[str, int, str]]:
        alias = record.get("AliasTarget")
        if alias is None:
            return [(kind, record["TTL"], item["Value"]) for item in record.get("ResourceRecords", [])]
        target = normalize(alias["DNSName"])
        target_zone = self.source.zone_name(alias["HostedZoneId"])
        if target_zone is not None:
            if depth >= MAX_CHAIN:
                return []
            inner = Answer()
            self._answer((alias["HostedZoneId"], target_zone), target, kind, client, inner, depth + 1)
            return [(record_type, ttl, value) for _, record_type, ttl, value in inner.records]
        if kind == "A":
            return [("A", 60, "127.0.0.1")]
        if kind == "AAAA":
            return [("AAAA", 60, "::1")]
        return []
