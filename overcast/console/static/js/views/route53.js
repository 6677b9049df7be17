// Route 53: hosted zones; a zone's records with their routing (weights, failover, regions, places, health
// checks), and what the DNS server answers for a name (TestDNSAnswer, through the same routing).

import { call, listAll } from "../aws.js";
import { h, mount } from "../dom.js";
import { button, field, heading, input, select, table } from "../ui.js";

const zoneIdOf = (zone) => zone.Id.split("/").pop(); // "/hostedzone/Z123" → "Z123", as the REST path wants it
const TYPES = ["A", "AAAA", "CNAME", "MX", "TXT", "NS", "SOA", "SRV", "PTR", "CAA", "HTTPS"];

export default async function route53(el, route) {
  const zoneId = route.parts[1];
  let zones;
  try {
    zones = await listAll("route53", "ListHostedZones", {}, "HostedZones", 1000);
  } catch (error) {
    if (error.status !== 501) throw error;
    mount(el, heading("Route 53"), h("div", { class: "notice", id: "route53-unavailable" }, h("strong", "Route 53 is not served by this Overcast yet. "), "ListHostedZones answers 501."));
    return;
  }
  if (zoneId) return zoneView(el, zones.find((z) => zoneIdOf(z) === zoneId) || (await call("route53", "GetHostedZone", { Id: zoneId })).HostedZone);
  mount(
    el,
    heading("Route 53 hosted zones"),
    table(
      [
        { label: "Zone", render: (z) => h("a", { href: `#/route53/${zoneIdOf(z)}` }, z.Name) },
        { label: "Id", value: (z) => zoneIdOf(z) },
        { label: "Kind", value: (z) => ((z.Config || {}).PrivateZone ? "private" : "public") },
        { label: "Records", value: (z) => z.ResourceRecordSetCount },
        { label: "Comment", value: (z) => (z.Config || {}).Comment || "" },
      ],
      zones,
      { empty: "No hosted zone yet." },
    ),
  );
}

/** How a record set is chosen among those of its name and type. */
function routing(record) {
  if (record.Weight !== undefined) return `weighted ${record.Weight}`;
  if (record.Failover) return `failover ${record.Failover.toLowerCase()}`;
  if (record.Region) return `latency ${record.Region}`;
  if (record.GeoLocation) return `geolocation ${Object.values(record.GeoLocation).join("/")}`;
  if (record.GeoProximityLocation) return "geoproximity";
  if (record.CidrRoutingConfig) return `IP-based ${record.CidrRoutingConfig.LocationName}`;
  if (record.MultiValueAnswer) return "multivalue";
  return "simple";
}

function valueOf(record) {
  if (record.AliasTarget) return `alias → ${record.AliasTarget.DNSName}${record.AliasTarget.EvaluateTargetHealth ? " (evaluates health)" : ""}`;
  return (record.ResourceRecords || []).map((r) => r.Value).join("\n");
}

async function zoneView(el, zone) {
  const id = zoneIdOf(zone);
  const records = await listAll("route53", "ListResourceRecordSets", { HostedZoneId: id }, "ResourceRecordSets", 3000);
  const name = input({ id: "dns-name", size: 36, value: zone.Name });
  const type = select(TYPES, { id: "dns-type", value: "A" });
  const client = input({ id: "dns-client", size: 16, placeholder: "optional" });
  const answer = h("div", { id: "dns-answer" });
  mount(
    el,
    h("div", { class: "crumbs" }, h("a", { href: "#/route53" }, "Hosted zones"), ` / ${zone.Name}`),
    heading(zone.Name, h("span", { class: "muted" }, `${id} · ${(zone.Config || {}).PrivateZone ? "private" : "public"} · ${records.length} records`)),
    table(
      [
        { label: "Name", value: (r) => r.Name },
        { label: "Type", value: (r) => r.Type },
        { label: "TTL", value: (r) => (r.TTL === undefined ? "" : r.TTL) },
        { label: "Value", render: (r) => h("span", { class: "pre" }, valueOf(r)) },
        { label: "Routing", value: (r) => routing(r) },
        { label: "Set id", value: (r) => r.SetIdentifier || "" },
        { label: "Health check", value: (r) => r.HealthCheckId || "" },
      ],
      records,
      { rowClass: () => "record" },
    ),
    h(
      "div",
      { class: "panel" },
      h("h3", "What does the DNS server answer?"),
      h(
        "div",
        { class: "form-row" },
        field("Name", name),
        field("Type", type),
        field("Client subnet", client, "EDNS0 client subnet, for geolocation and IP-based routing"),
        button(
          "Ask",
          async () => {
            const request = { HostedZoneId: id, RecordName: name.value.trim(), RecordType: type.value };
            if (client.value.trim()) request.EDNS0ClientSubnetIP = client.value.trim();
            const out = await call("route53", "TestDNSAnswer", request);
            mount(
              answer,
              h("p", h("span", { class: ["badge", out.ResponseCode === "NOERROR" ? "ok" : "bad"], id: "dns-code" }, out.ResponseCode), ` from ${out.Nameserver} over ${out.Protocol}`),
              (out.RecordData || []).length ? h("ul", { id: "dns-data" }, out.RecordData.map((value) => h("li", value))) : h("p", { class: "muted" }, "No record data."),
            );
          },
          { class: "primary", id: "dns-ask" },
        ),
      ),
      answer,
    ),
  );
}
