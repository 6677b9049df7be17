// EC2 / VPC: each VPC drawn with its subnets per Availability Zone, route tables, internet and NAT gateways,
// instances and network interfaces; the reachability between two endpoints, asked of EC2's Reachability
// Analyzer (a rough check of routes and security groups here while the analyzer answers 501); an instance's
// console output. Says so plainly while EC2 answers 501.

import { call } from "../aws.js";
import { h, mount, s } from "../dom.js";
import { button, errorBox, field, heading, loading, select, table } from "../ui.js";

const COL_W = 250;
const SUBNET_PAD = 10;
const INSTANCE_H = 34;

export default async function ec2(el) {
  mount(el, heading("EC2 / VPC"), loading("Reading the VPCs…"));
  let data;
  try {
    data = await describeAll();
  } catch (error) {
    mount(el, heading("EC2 / VPC"), error.status === 501 ? h("div", { class: "notice", id: "ec2-unavailable" }, h("strong", "EC2 is not served by this Overcast yet. "), `${error.operation} answers 501 Not Implemented; the VPC diagrams, reachability and console output appear here once EC2 lands.`) : errorBox(error));
    return;
  }
  if (!data.vpcs.length) {
    mount(el, heading("EC2 / VPC"), h("p", { class: "muted" }, "No VPC in this region."));
    return;
  }
  mount(
    el,
    heading("EC2 / VPC", h("span", { class: "muted" }, `${data.vpcs.length} VPCs · ${data.subnets.length} subnets · ${data.instances.length} instances`)),
    data.vpcs.map((vpc) => h("div", { class: "panel", "data-vpc": vpc.VpcId }, h("h3", `${nameOf(vpc) || vpc.VpcId} ${vpc.CidrBlock}${vpc.IsDefault ? " (the default VPC)" : ""}`), vpcDiagram(data, vpc.VpcId), routeTables(data, vpc.VpcId), securityGroups(data, vpc.VpcId), networkAcls(data, vpc.VpcId))),
    reachabilityForm(data),
    consoleOutput(data),
  );
}

/** Every Describe* the diagrams read; optional ones (NAT gateways, security groups) may answer 501. */
export async function describeAll() {
  const { Vpcs } = await call("ec2", "DescribeVpcs", {});
  const optional = (operation, key) => call("ec2", operation, {}).then((out) => out[key] || []).catch((error) => {
    if (error.status === 501) return [];
    throw error;
  });
  const [subnets, routeTables, igws, nats, reservations, groups, interfaces, acls] = await Promise.all([
    optional("DescribeSubnets", "Subnets"),
    optional("DescribeRouteTables", "RouteTables"),
    optional("DescribeInternetGateways", "InternetGateways"),
    optional("DescribeNatGateways", "NatGateways"),
    optional("DescribeInstances", "Reservations"),
    optional("DescribeSecurityGroups", "SecurityGroups"),
    optional("DescribeNetworkInterfaces", "NetworkInterfaces"),
    optional("DescribeNetworkAcls", "NetworkAcls"),
  ]);
  return { vpcs: Vpcs || [], subnets, routeTables, igws, nats, instances: reservations.flatMap((r) => r.Instances || []), groups, interfaces, acls };
}

/** What traffic can start or end at: instances, and the interfaces a user made that no instance listed holds
 * (those AWS manages for NAT gateways and endpoints are drawn as what they belong to). */
export function endpointsOf(data) {
  const held = new Set(data.instances.map((i) => i.InstanceId));
  const free = (data.interfaces || []).filter((eni) => !eni.RequesterManaged && !held.has((eni.Attachment || {}).InstanceId));
  return [
    ...data.instances.map((i) => ({ ...i, Id: i.InstanceId, Kind: "instance", Label: nameOf(i) || i.InstanceId })),
    ...free.map((eni) => ({
      Id: eni.NetworkInterfaceId,
      Kind: "interface",
      Label: nameOf({ Tags: eni.TagSet }) || eni.Description || eni.NetworkInterfaceId,
      SubnetId: eni.SubnetId,
      VpcId: eni.VpcId,
      PrivateIpAddress: eni.PrivateIpAddress,
      PublicIpAddress: (eni.Association || {}).PublicIp,
      SecurityGroups: eni.Groups || [],
    })),
  ];
}

function nameOf(resource) {
  const tag = (resource.Tags || []).find((t) => t.Key === "Name");
  return tag ? tag.Value : "";
}

/** The route table of a subnet: its explicit association, else its VPC's main table. */
export function routeTableOf(data, subnet) {
  const explicit = data.routeTables.find((rt) => (rt.Associations || []).some((a) => a.SubnetId === subnet.SubnetId));
  return explicit || data.routeTables.find((rt) => rt.VpcId === subnet.VpcId && (rt.Associations || []).some((a) => a.Main));
}

function defaultRoute(table) {
  return table && (table.Routes || []).find((r) => r.DestinationCidrBlock === "0.0.0.0/0" && r.State !== "blackhole");
}

/** public (default route to an internet gateway), private (to a NAT), or isolated. */
export function subnetKind(data, subnet) {
  const route = defaultRoute(routeTableOf(data, subnet));
  if (!route) return "isolated";
  if ((route.GatewayId || "").startsWith("igw-")) return "public";
  if (route.NatGatewayId || route.InstanceId) return "private";
  return "isolated";
}

const KIND_COLOURS = { public: ["#e8f6ec", "#1d7a3a"], private: ["#e6f0f9", "#1f6fb2"], isolated: ["#f1f2f4", "#8895a3"] };

/** The VPC as an SVG: one column per Availability Zone, subnets (coloured by kind) holding instances and NAT
 * gateways, the internet gateway on the top edge. */
export function vpcDiagram(data, vpcId) {
  const vpc = data.vpcs.find((v) => v.VpcId === vpcId);
  const subnets = data.subnets.filter((sn) => sn.VpcId === vpcId);
  const zones = [...new Set(subnets.map((sn) => sn.AvailabilityZone))].sort();
  const igw = igwOf(data, vpcId);
  const endpoints = endpointsOf(data);
  const heightOf = (sn) => 44 + SUBNET_PAD + (endpoints.filter((e) => e.SubnetId === sn.SubnetId).length + data.nats.filter((n) => n.SubnetId === sn.SubnetId && n.State !== "deleted").length) * (INSTANCE_H + 6);
  const columnHeights = zones.map((zone) => subnets.filter((sn) => sn.AvailabilityZone === zone).reduce((sum, sn) => sum + heightOf(sn) + 10, 0));
  const width = Math.max(1, zones.length) * COL_W + 40;
  const height = Math.max(80, ...columnHeights) + 120;
  const parts = [];
  parts.push(s("rect", { x: 10, y: 30, width: width - 20, height: height - 40, rx: 10, fill: "#fbfcfd", stroke: "#23415e", "stroke-width": 2 }));
  parts.push(s("text", { x: 24, y: 52, "font-weight": "700" }, `${nameOf(vpc) || vpc.VpcId}  ${vpc.CidrBlock}`));
  if (igw) {
    parts.push(s("g", { class: "igw", "data-id": igw.InternetGatewayId }, s("rect", { x: width / 2 - 70, y: 14, width: 140, height: 30, rx: 6, fill: "#1d7a3a" }), s("text", { x: width / 2, y: 34, "text-anchor": "middle", fill: "#fff", style: "fill:#fff" }, `IGW ${igw.InternetGatewayId.slice(0, 12)}`)));
  }
  zones.forEach((zone, column) => {
    const x = 20 + column * COL_W;
    parts.push(s("text", { x: x + 10, y: 80, fill: "#66717d", "font-weight": "600" }, zone));
    let y = 90;
    for (const subnet of subnets.filter((sn) => sn.AvailabilityZone === zone).sort((a, b) => ipValue(a.CidrBlock) - ipValue(b.CidrBlock))) {
      const kind = subnetKind(data, subnet);
      const [fill, stroke] = KIND_COLOURS[kind];
      const boxHeight = heightOf(subnet);
      const rt = routeTableOf(data, subnet);
      const members = [
        ...data.nats.filter((n) => n.SubnetId === subnet.SubnetId && n.State !== "deleted").map((n) => ["nat", n.NatGatewayId, `NAT ${n.NatGatewayId.slice(0, 14)}`, (n.NatGatewayAddresses || [])[0]?.PublicIp || "", "#a35d00"]),
        ...endpoints.filter((e) => e.SubnetId === subnet.SubnetId).map((e) => [e.Kind === "instance" ? "instance" : "eni", e.Id, e.Label, [e.PrivateIpAddress, e.PublicIpAddress ? `public ${e.PublicIpAddress}` : ""].filter(Boolean).join(" · "), e.Kind === "instance" ? "#23415e" : "#6b4fa0"]),
      ];
      parts.push(
        s(
          "g",
          { class: "subnet", "data-id": subnet.SubnetId, "data-kind": kind, "data-name": nameOf(subnet) },
          s("rect", { x, y, width: COL_W - 20, height: boxHeight, rx: 6, fill, stroke }),
          s("text", { x: x + 8, y: y + 17, "font-weight": "600" }, `${nameOf(subnet) || subnet.SubnetId} (${kind})`),
          s("text", { x: x + 8, y: y + 33, fill: "#66717d" }, `${subnet.CidrBlock}${rt ? ` · ${rt.RouteTableId.slice(0, 12)}` : ""}`),
          members.map(([kind, id, label, detail, colour], i) =>
            s(
              "g",
              { class: kind, "data-id": id },
              s("rect", { x: x + 8, y: y + 44 + i * (INSTANCE_H + 6), width: COL_W - 36, height: INSTANCE_H, rx: 4, fill: "#fff", stroke: colour }),
              s("text", { x: x + 14, y: y + 58 + i * (INSTANCE_H + 6) }, label),
              s("text", { x: x + 14, y: y + 72 + i * (INSTANCE_H + 6), fill: "#66717d", "font-size": "10" }, detail),
            ),
          ),
        ),
      );
      y += boxHeight + 10;
    }
  });
  return s("svg", { class: "diagram vpc", id: `vpc-${vpcId}`, width, height, viewBox: `0 0 ${width} ${height}` }, parts);
}

function igwOf(data, vpcId) {
  return data.igws.find((g) => (g.Attachments || []).some((a) => a.VpcId === vpcId));
}

function routeTables(data, vpcId) {
  const tables = data.routeTables.filter((rt) => rt.VpcId === vpcId);
  return table(
    [
      { label: "Route table", value: (rt) => `${nameOf(rt) || rt.RouteTableId}${(rt.Associations || []).some((a) => a.Main) ? " (main)" : ""}` },
      { label: "Routes", value: (rt) => (rt.Routes || []).map((r) => `${r.DestinationCidrBlock || r.DestinationPrefixListId} → ${r.GatewayId || r.NatGatewayId || r.InstanceId || r.VpcPeeringConnectionId || r.TransitGatewayId || "?"}`).join("; ") },
      { label: "Subnets", value: (rt) => (rt.Associations || []).filter((a) => a.SubnetId).map((a) => nameOf(data.subnets.find((sn) => sn.SubnetId === a.SubnetId) || {}) || a.SubnetId).join(", ") },
    ],
    tables,
    { empty: "No route table." },
  );
}

/** A rule's protocol and ports as a person reads them: `tcp 443`, `udp 1024-65535`, `all`. */
function portsText(protocol, from, to) {
  const name = { "-1": "all", 6: "tcp", 17: "udp", 1: "icmp" }[protocol] || protocol;
  if (name === "all" || from === undefined || from === null || from === -1) return name;
  return `${name} ${from === to ? from : `${from}-${to}`}`;
}

function permissionText(permission, data, direction) {
  const groupName = (id) => (data.groups.find((g) => g.GroupId === id) || {}).GroupName || id;
  const peers = [
    ...(permission.IpRanges || []).map((r) => r.CidrIp),
    ...(permission.Ipv6Ranges || []).map((r) => r.CidrIpv6),
    ...(permission.PrefixListIds || []).map((p) => p.PrefixListId),
    ...(permission.UserIdGroupPairs || []).map((p) => `group ${groupName(p.GroupId)}`),
  ];
  return `${portsText(permission.IpProtocol, permission.FromPort, permission.ToPort)} ${direction} ${peers.join(", ")}`;
}

function securityGroups(data, vpcId) {
  const groups = data.groups.filter((g) => g.VpcId === vpcId);
  if (!groups.length) return null;
  return h(
    "details",
    { class: "security-groups" },
    h("summary", `Security groups (${groups.length})`),
    table(
      [
        { label: "Group", value: (g) => (g.GroupName ? `${g.GroupName} (${g.GroupId})` : g.GroupId) },
        { label: "Inbound", render: (g) => h("span", { class: "pre" }, (g.IpPermissions || []).map((p) => permissionText(p, data, "from")).join("\n") || "nothing") },
        { label: "Outbound", render: (g) => h("span", { class: "pre" }, (g.IpPermissionsEgress || []).map((p) => permissionText(p, data, "to")).join("\n") || "nothing") },
      ],
      groups,
      { rowClass: () => "security-group" },
    ),
  );
}

function networkAcls(data, vpcId) {
  const acls = (data.acls || []).filter((a) => a.VpcId === vpcId);
  if (!acls.length) return null;
  const entries = (acl, egress) =>
    (acl.Entries || [])
      .filter((e) => e.Egress === egress)
      .sort((a, b) => a.RuleNumber - b.RuleNumber)
      .map((e) => `${e.RuleNumber === 32767 ? "*" : e.RuleNumber} ${e.RuleAction} ${portsText(e.Protocol, (e.PortRange || {}).From, (e.PortRange || {}).To)} ${e.CidrBlock || e.Ipv6CidrBlock}`)
      .join("\n");
  return h(
    "details",
    { class: "network-acls" },
    h("summary", `Network ACLs (${acls.length})`),
    table(
      [
        { label: "ACL", value: (a) => `${nameOf(a) || a.NetworkAclId}${a.IsDefault ? " (default)" : ""}` },
        { label: "Subnets", value: (a) => (a.Associations || []).map((s) => nameOf(data.subnets.find((sn) => sn.SubnetId === s.SubnetId) || {}) || s.SubnetId).join(", ") },
        { label: "Inbound (first match wins)", render: (a) => h("span", { class: "pre" }, entries(a, false)) },
        { label: "Outbound", render: (a) => h("span", { class: "pre" }, entries(a, true)) },
      ],
      acls,
    ),
  );
}

// -- reachability ------------------------------------------------------------------------------------------

function ipValue(address) {
  return address.split("/")[0].split(".").reduce((sum, octet) => sum * 256 + Number(octet), 0);
}

export function inCidr(address, cidr) {
  const [base, bits] = cidr.split("/");
  const size = 2 ** (32 - Number(bits));
  const start = Math.floor(ipValue(base) / size) * size;
  const value = ipValue(address);
  return value >= start && value < start + size;
}

function allows(rules, port, source) {
  return (rules || []).some((rule) => {
    const anyProtocol = rule.IpProtocol === "-1";
    const inRange = anyProtocol || (rule.FromPort <= port && port <= rule.ToPort);
    if (!inRange) return false;
    if ((rule.IpRanges || []).some((r) => source.ip && inCidr(source.ip, r.CidrIp))) return true;
    return (rule.UserIdGroupPairs || []).some((pair) => (source.groups || []).includes(pair.GroupId));
  });
}

/** Whether traffic from `from` to `to` (an endpoint's id or "internet") on `port` gets there, and why (not):
 * a rough check of routes and security groups, for an EC2 without its Reachability Analyzer. */
export function reachability(data, from, to, port) {
  const steps = [];
  const endpoints = endpointsOf(data);
  const instance = (id) => endpoints.find((e) => e.Id === id);
  const groupsOf = (i) => (i.SecurityGroups || []).map((g) => g.GroupId);
  const rulesOf = (i, direction) => data.groups.filter((g) => groupsOf(i).includes(g.GroupId)).flatMap((g) => g[direction] || []);
  const subnetOf = (i) => data.subnets.find((sn) => sn.SubnetId === i.SubnetId);
  if (from === "internet") {
    const target = instance(to);
    if (!target.PublicIpAddress) return { reachable: false, steps: [`${to} has no public IP address`] };
    if (subnetKind(data, subnetOf(target)) !== "public") return { reachable: false, steps: [`${to}'s subnet has no default route to an internet gateway`] };
    steps.push(`internet → ${routeTableOf(data, subnetOf(target)).RouteTableId}: 0.0.0.0/0 via the internet gateway`);
    if (!allows(rulesOf(target, "IpPermissions"), port, { ip: "203.0.113.1" })) return { reachable: false, steps: [...steps, `no security group of ${to} admits the internet on port ${port}`] };
    return { reachable: true, steps: [...steps, `a security group of ${to} admits port ${port} from anywhere`] };
  }
  const source = instance(from);
  const sourceTable = routeTableOf(data, subnetOf(source));
  if (to === "internet") {
    const route = defaultRoute(sourceTable);
    if (!route) return { reachable: false, steps: [`${sourceTable ? sourceTable.RouteTableId : "its route table"} has no default route`] };
    if ((route.GatewayId || "").startsWith("igw-") && !source.PublicIpAddress) return { reachable: false, steps: [`${from} routes to the internet gateway but has no public IP`] };
    if (route.NatGatewayId) {
      const nat = data.nats.find((n) => n.NatGatewayId === route.NatGatewayId);
      if (!nat || nat.State === "deleted") return { reachable: false, steps: [`the default route points at ${route.NatGatewayId}, which is gone`] };
      const natSubnet = data.subnets.find((sn) => sn.SubnetId === nat.SubnetId);
      if (subnetKind(data, natSubnet) !== "public") return { reachable: false, steps: [`${nat.NatGatewayId} sits in a subnet without an internet route`] };
      steps.push(`${from} → ${nat.NatGatewayId} (in ${nameOf(natSubnet) || natSubnet.SubnetId}) → internet gateway`);
    } else steps.push(`${from} → internet gateway`);
    if (!allows(rulesOf(source, "IpPermissionsEgress"), port, { ip: "203.0.113.1" })) return { reachable: false, steps: [...steps, `no outbound rule of ${from} allows port ${port}`] };
    return { reachable: true, steps };
  }
  const target = instance(to);
  const targetIp = target.PrivateIpAddress;
  const route = (sourceTable ? sourceTable.Routes || [] : []).filter((r) => r.DestinationCidrBlock && inCidr(targetIp, r.DestinationCidrBlock)).sort((a, b) => Number(b.DestinationCidrBlock.split("/")[1]) - Number(a.DestinationCidrBlock.split("/")[1]))[0];
  if (!route) return { reachable: false, steps: [`no route from ${from}'s subnet to ${targetIp}`] };
  steps.push(`${from} → ${targetIp} via ${route.GatewayId || route.VpcPeeringConnectionId || route.TransitGatewayId || route.NatGatewayId}`);
  if (!allows(rulesOf(source, "IpPermissionsEgress"), port, { ip: targetIp })) return { reachable: false, steps: [...steps, `no outbound rule of ${from} allows port ${port}`] };
  if (!allows(rulesOf(target, "IpPermissions"), port, { ip: source.PrivateIpAddress, groups: groupsOf(source) })) return { reachable: false, steps: [...steps, `no security group of ${to} admits ${from} on port ${port}`] };
  return { reachable: true, steps: [...steps, `a security group of ${to} admits ${from} on port ${port}`] };
}

/** The verdict of EC2's Reachability Analyzer on tcp `port` from `from` to `to` (endpoint ids, or "internet":
 * the internet gateway of the other end's VPC): a path, an analysis, polled until it is done. Null while the
 * analyzer answers 501. */
export async function analyze(data, from, to, port) {
  const vpcOf = (id) => (endpointsOf(data).find((e) => e.Id === id) || {}).VpcId;
  const end = (id, other) => {
    if (id !== "internet") return id;
    const igw = igwOf(data, vpcOf(other));
    if (!igw) throw new Error(`${other}'s VPC has no internet gateway`);
    return igw.InternetGatewayId;
  };
  let path;
  try {
    // kept, as AWS's console keeps them, and tagged so that they are told from the user's own
    const tags = [{ ResourceType: "network-insights-path", Tags: [{ Key: "created-by", Value: "overcast-console" }] }];
    path = await call("ec2", "CreateNetworkInsightsPath", { Source: end(from, to), Destination: end(to, from), Protocol: "tcp", DestinationPort: port, TagSpecifications: tags });
  } catch (error) {
    if (error.status === 501) return null;
    throw error;
  }
  const { NetworkInsightsPathId } = path.NetworkInsightsPath;
  const started = await call("ec2", "StartNetworkInsightsAnalysis", { NetworkInsightsPathId });
  const id = started.NetworkInsightsAnalysis.NetworkInsightsAnalysisId;
  for (let attempt = 0; attempt < 60; attempt++) {
    const { NetworkInsightsAnalyses } = await call("ec2", "DescribeNetworkInsightsAnalyses", { NetworkInsightsAnalysisIds: [id] });
    const analysis = NetworkInsightsAnalyses[0];
    if (analysis.Status !== "running") return verdictOf(analysis);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${id} is still running after 15 s`);
}

const idsIn = (value) => Object.values(value || {}).flatMap((v) => (Array.isArray(v) ? v : [v])).filter((v) => v && v.Id).map((v) => v.Id);

/** An analysis as a verdict: the components of the way there, or AWS's explanations of what stops it. */
export function verdictOf(analysis) {
  const steps = analysis.NetworkPathFound
    ? (analysis.ForwardPathComponents || []).map((c) => {
        const route = c.RouteTableRoute;
        return [c.Component && c.Component.Id, route ? `route ${route.DestinationCidr || route.DestinationPrefixListId} → ${route.NatGatewayId || route.GatewayId || route.NetworkInterfaceId || route.TransitGatewayId || route.VpcPeeringConnectionId || "local"}` : ""].filter(Boolean).join(": ");
      })
    : (analysis.Explanations || []).map((e) => [e.ExplanationCode, e.Direction, ...idsIn(e), e.AclRule ? `rule ${e.AclRule.RuleNumber}` : ""].filter(Boolean).join(" · "));
  const onPath = (analysis.ForwardPathComponents || []).flatMap((c) => idsIn(c));
  const blocked = (analysis.Explanations || []).flatMap((e) => idsIn(e));
  return { reachable: analysis.NetworkPathFound === true, steps, onPath, blocked, analysis: analysis.NetworkInsightsAnalysisId, status: analysis.Status, message: analysis.StatusMessage };
}

/** Marks on the diagrams what the analysis went through (`on-path`) or was stopped by (`blocked`). */
function highlight(verdict) {
  for (const mark of ["on-path", "blocked"]) document.querySelectorAll(`svg.vpc .${mark}`).forEach((g) => g.classList.remove(mark));
  const mark = (ids, name) => ids.forEach((id) => document.querySelectorAll(`svg.vpc [data-id="${CSS.escape(id)}"]`).forEach((g) => g.classList.add(name)));
  mark(verdict.onPath || [], "on-path");
  mark(verdict.blocked || [], "blocked");
}

function reachabilityForm(data) {
  const endpoints = [["internet", "the internet"], ...endpointsOf(data).map((e) => [e.Id, `${e.Label} (${e.PrivateIpAddress || ""})`])];
  const from = select(endpoints, { id: "reach-from" });
  const to = select(endpoints, { id: "reach-to", value: endpoints[1] ? endpoints[1][0] : "internet" });
  const port = h("input", { type: "number", value: 443, min: 0, max: 65535, id: "reach-port", style: { width: "6rem" } });
  const out = h("div", { id: "reach-result" });
  return h(
    "div",
    { class: "panel" },
    h("h3", "Reachability"),
    h("div", { class: "form-row" }, field("From", from), field("To", to), field("Port", port), button("Check", async () => {
      if (from.value === to.value) throw new Error("Choose two different endpoints");
      mount(out, loading("Analysing…"));
      const analysed = await analyze(data, from.value, to.value, Number(port.value)).catch((error) => {
        mount(out);
        throw error;
      });
      const verdict = analysed || reachability(data, from.value, to.value, Number(port.value));
      highlight(verdict);
      const how = analysed
        ? `EC2's Reachability Analyzer, analysis ${verdict.analysis}${verdict.status === "failed" ? ` failed: ${verdict.message}` : ""}.`
        : "The Reachability Analyzer is not served: routes and security groups were checked here; network ACLs were not.";
      mount(out, h("p", h("span", { class: ["badge", verdict.reachable ? "ok" : "bad"], "data-reachable": String(verdict.reachable) }, verdict.reachable ? "reachable" : "not reachable")), h("ol", verdict.steps.map((step) => h("li", step))), h("p", { class: "muted" }, how));
    })),
    out,
  );
}

function consoleOutput(data) {
  if (!data.instances.length) return null;
  const out = h("div");
  return h(
    "div",
    { class: "panel" },
    h("h3", "Instances"),
    table(
      [
        { label: "Instance", value: (i) => `${nameOf(i) || ""} ${i.InstanceId}` },
        { label: "Type", value: (i) => i.InstanceType },
        { label: "State", value: (i) => (i.State || {}).Name },
        { label: "Private IP", value: (i) => i.PrivateIpAddress },
        { label: "Public IP", value: (i) => i.PublicIpAddress || "" },
      ],
      data.instances,
      {
        onRow: async (i) => {
          mount(out, loading());
          try {
            const answer = await call("ec2", "GetConsoleOutput", { InstanceId: i.InstanceId, Latest: true });
            mount(out, h("h3", `Console output of ${i.InstanceId}`), h("div", { class: "logs" }, answer.Output ? atob(answer.Output) : "(no output yet)"));
          } catch (error) {
            mount(out, errorBox(error));
          }
        },
      },
    ),
    out,
  );
}


