// EC2 / VPC: each VPC drawn with its subnets per Availability Zone, route tables, internet and NAT gateways,
// instances (with their state) and network interfaces; the reachability between two endpoints, asked of EC2's
// Reachability Analyzer (a rough check of routes and security groups here while the analyzer answers 501);
// instances: launch from an AMI with a key pair, stop, start, reboot, terminate, their console output.
// Says so plainly while EC2 answers 501.

import { call } from "../aws.js";
import { download, fmtTime, h, mount, s } from "../dom.js";
import { button, dialog, errorBox, field, heading, input, loading, select, table, textarea, toast } from "../ui.js";

const COL_W = 250;
const SUBNET_PAD = 10;
const INSTANCE_H = 34;
// States an instance passes through on its own: the page follows them until they settle.
const MOVING = new Set(["pending", "stopping", "shutting-down"]);
const STATE_COLOURS = { pending: "#b26b00", running: "#1d7a3a", stopping: "#b26b00", stopped: "#8895a3", "shutting-down": "#b26b00", terminated: "#c0392b" };

export default async function ec2(el, route, ctx) {
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
  const summary = h("span", { class: "muted", id: "ec2-summary" });
  const diagrams = h("div", { id: "vpc-diagrams" });
  const reach = h("div");
  const view = { data, selected: null, output: h("div", { id: "console-output" }), http: h("div", { id: "instance-http" }), instances: h("div", { id: "instances" }), endpoints: "" };
  const refresh = async () => {
    view.data = await describeAll();
    draw(view, { summary, diagrams, reach });
  };
  view.refresh = refresh;
  if (route.query.get("instance")) showOutput(view, route.query.get("instance")); // #/ec2?instance=i-…
  draw(view, { summary, diagrams, reach });
  mount(el, heading("EC2 / VPC", summary, button("Refresh", refresh)), diagrams, view.instances, launchForm(view), reach);
  // pending → running, stopping → stopped... happen on the virtual clock: followed while any is moving, and
  // the console output of the chosen instance as it boots
  let busy = false;
  ctx.every(2000, async () => {
    const moving = view.data.instances.some((i) => MOVING.has((i.State || {}).Name)) || view.data.images.some((i) => i.State === "pending");
    if (busy || !moving) return;
    busy = true;
    await refresh().finally(() => (busy = false));
  });
  ctx.every(3000, () => view.selected && showOutput(view, view.selected, true));
  const onClock = () => refresh();
  window.addEventListener("overcast:clock", onClock);
  ctx.onLeave(() => window.removeEventListener("overcast:clock", onClock));
}

/** (Re)draws what depends on EC2's answers; the forms keep what was typed in them. */
function draw(view, { summary, diagrams, reach }) {
  const { data } = view;
  const live = data.instances.filter((i) => (i.State || {}).Name !== "terminated");
  mount(summary, `${data.vpcs.length} VPCs · ${data.subnets.length} subnets · ${live.length} instances`);
  mount(diagrams, data.vpcs.map((vpc) => h("div", { class: "panel", "data-vpc": vpc.VpcId }, h("h3", `${nameOf(vpc) || vpc.VpcId} ${vpc.CidrBlock}${vpc.IsDefault ? " (the default VPC)" : ""}`), vpcDiagram(data, vpc.VpcId), routeTables(data, vpc.VpcId), securityGroups(data, vpc.VpcId), networkAcls(data, vpc.VpcId))));
  const open = document.querySelector("#keys-and-images[open]") !== null; // kept open across refreshes
  mount(view.instances, instancesPanel(view), keysAndImages(view, open));
  if (view.onData) view.onData();
  const endpoints = endpointsOf(data).map((e) => e.Id).join(",");
  if (endpoints !== view.endpoints) {
    view.endpoints = endpoints; // the reachability form is drawn again only when its endpoints change
    mount(reach, reachabilityForm(data));
  }
}

/** Every Describe* the diagrams read; optional ones (NAT gateways, security groups) may answer 501. */
export async function describeAll() {
  const { Vpcs } = await call("ec2", "DescribeVpcs", {});
  const optional = (operation, key, input = {}) => call("ec2", operation, input).then((out) => out[key] || []).catch((error) => {
    if (error.status === 501) return [];
    throw error;
  });
  const [subnets, routeTables, igws, nats, reservations, groups, interfaces, acls, images, keyPairs] = await Promise.all([
    optional("DescribeSubnets", "Subnets"),
    optional("DescribeRouteTables", "RouteTables"),
    optional("DescribeInternetGateways", "InternetGateways"),
    optional("DescribeNatGateways", "NatGateways"),
    optional("DescribeInstances", "Reservations"),
    optional("DescribeSecurityGroups", "SecurityGroups"),
    optional("DescribeNetworkInterfaces", "NetworkInterfaces"),
    optional("DescribeNetworkAcls", "NetworkAcls"),
    optional("DescribeImages", "Images", { Owners: ["self"] }),
    optional("DescribeKeyPairs", "KeyPairs"),
  ]);
  return { vpcs: Vpcs || [], subnets, routeTables, igws, nats, instances: reservations.flatMap((r) => r.Instances || []), groups, interfaces, acls, images, keyPairs };
}

/** What traffic can start or end at: instances, and the interfaces a user made that no instance listed holds
 * (those AWS manages for NAT gateways and endpoints are drawn as what they belong to). */
export function endpointsOf(data) {
  const held = new Set(data.instances.map((i) => i.InstanceId));
  const free = (data.interfaces || []).filter((eni) => !eni.RequesterManaged && !held.has((eni.Attachment || {}).InstanceId));
  // a terminated instance has left its subnet (it stays listed for an hour, in the instances' table)
  const present = data.instances.filter((i) => (i.State || {}).Name !== "terminated" && i.SubnetId);
  return [
    ...present.map((i) => ({ ...i, Id: i.InstanceId, Kind: "instance", Label: nameOf(i) || i.InstanceId })),
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
        ...endpoints.filter((e) => e.SubnetId === subnet.SubnetId).map((e) => {
          const state = e.Kind === "instance" ? (e.State || {}).Name : undefined;
          const detail = [state, e.PrivateIpAddress, e.PublicIpAddress ? `public ${e.PublicIpAddress}` : ""].filter(Boolean).join(" · ");
          return [e.Kind === "instance" ? "instance" : "eni", e.Id, e.Label, detail, e.Kind === "instance" ? STATE_COLOURS[state] || "#23415e" : "#6b4fa0", state];
        }),
      ];
      parts.push(
        s(
          "g",
          { class: "subnet", "data-id": subnet.SubnetId, "data-kind": kind, "data-name": nameOf(subnet) },
          s("rect", { x, y, width: COL_W - 20, height: boxHeight, rx: 6, fill, stroke }),
          s("text", { x: x + 8, y: y + 17, "font-weight": "600" }, `${nameOf(subnet) || subnet.SubnetId} (${kind})`),
          s("text", { x: x + 8, y: y + 33, fill: "#66717d" }, `${subnet.CidrBlock}${rt ? ` · ${rt.RouteTableId.slice(0, 12)}` : ""}`),
          members.map(([kind, id, label, detail, colour, state], i) =>
            s(
              "g",
              { class: kind, "data-id": id, "data-state": state },
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

// -- instances ---------------------------------------------------------------------------------------------

function stateBadge(name) {
  const kind = name === "running" ? "ok" : name === "terminated" ? "bad" : MOVING.has(name) ? "RUNNING" : "";
  return h("span", { class: ["badge", kind, "instance-state"], "data-state": name }, name);
}

/** What an instance's state lets a person do next, as EC2 allows it. */
function actionsFor(view, instance) {
  const id = instance.InstanceId;
  const state = (instance.State || {}).Name;
  const act = (label, operation, done, confirm) =>
    button(label, async (event) => {
      if (event) event.stopPropagation();
      if (confirm && !(await dialog(`${label} ${id}?`, h("p", confirm), { ok: label }))) return;
      await call("ec2", operation, { InstanceIds: [id] });
      toast(`${id} ${done}`);
      await view.refresh();
    }, { "data-action": label.toLowerCase() });
  return h(
    "span",
    { class: "row-actions" },
    state === "running" ? act("Stop", "StopInstances", "is stopping") : null,
    state === "running" ? act("Reboot", "RebootInstances", "is rebooting") : null,
    state === "stopped" ? act("Start", "StartInstances", "is starting") : null,
    state === "running" || state === "stopped" ? imageButton(view, instance) : null,
    state !== "terminated" && state !== "shutting-down" ? act("Terminate", "TerminateInstances", "is shutting down", "Its interfaces and the volumes marked DeleteOnTermination go with it; it stays listed for an hour.") : null,
  );
}

/** CreateImage from an instance: its files become the image's (a running one is rebooted unless NoReboot). */
function imageButton(view, instance) {
  return button("Image", async (event) => {
    if (event) event.stopPropagation();
    const name = input({ id: "image-name", value: `${nameOf(instance) || instance.InstanceId}-image` });
    const noReboot = h("input", { type: "checkbox", id: "image-no-reboot" });
    const asked = await dialog(`An image of ${instance.InstanceId}`, h("div", field("Name", name), h("label", { class: "check" }, noReboot, " no reboot (a running instance is otherwise rebooted for a consistent copy)")), { ok: "Create image", onOk: () => ({ InstanceId: instance.InstanceId, Name: name.value.trim(), NoReboot: noReboot.checked }) });
    if (!asked) return;
    const { ImageId } = await call("ec2", "CreateImage", asked);
    toast(`Image ${ImageId} is pending`);
    await view.refresh();
  }, { "data-action": "image" });
}

/** The account's key pairs (delete) and its own images (deregister); launched from in the form below. */
function keysAndImages(view, open) {
  const { images, keyPairs } = view.data;
  const remove = (label, what, fn) =>
    button(label, async () => {
      if (!(await dialog(`${label} ${what}?`, h("p", label === "Delete" ? "Instances launched with it keep it; new ones cannot use it." : "Instances launched from it keep running; it cannot be launched again."), { ok: label }))) return;
      await fn();
      toast(`${what}: ${label.toLowerCase()}d`);
      await view.refresh();
    }, { "data-action": label.toLowerCase() });
  return h(
    "details",
    { class: "panel", id: "keys-and-images", open },
    h("summary", h("strong", `Key pairs (${keyPairs.length}) and the account's images (${images.length})`)),
    table(
      [
        { label: "Key pair", value: (k) => k.KeyName },
        { label: "Type", value: (k) => k.KeyType },
        { label: "Fingerprint", value: (k) => k.KeyFingerprint },
        { label: "Created", value: (k) => fmtTime(k.CreateTime) },
        { label: "", render: (k) => remove("Delete", k.KeyName, () => call("ec2", "DeleteKeyPair", { KeyPairId: k.KeyPairId })) },
      ],
      keyPairs,
      { empty: "No key pair.", rowClass: () => "key-pair" },
    ),
    table(
      [
        { label: "Image", value: (i) => `${i.Name} (${i.ImageId})` },
        { label: "State", render: (i) => h("span", { class: ["badge", i.State === "available" ? "ok" : i.State === "pending" ? "RUNNING" : "bad", "image-state"], "data-state": i.State }, i.State) },
        { label: "Architecture", value: (i) => i.Architecture },
        { label: "Root", value: (i) => `${i.RootDeviceType} ${i.RootDeviceName || ""}` },
        { label: "Created", value: (i) => fmtTime(i.CreationDate) },
        { label: "", render: (i) => remove("Deregister", i.ImageId, () => call("ec2", "DeregisterImage", { ImageId: i.ImageId })) },
      ],
      images,
      { empty: "No image of this account: make one from an instance (Image).", rowClass: () => "own-image" },
    ),
  );
}

function instancesPanel(view) {
  const { data } = view;
  const subnetName = (id) => nameOf(data.subnets.find((sn) => sn.SubnetId === id) || {}) || id || "";
  return h(
    "div",
    { class: "panel" },
    h("h3", "Instances"),
    table(
      [
        { label: "Instance", value: (i) => `${nameOf(i) || ""} ${i.InstanceId}`.trim() },
        { label: "State", render: (i) => stateBadge((i.State || {}).Name) },
        { label: "Type", value: (i) => i.InstanceType },
        { label: "Image", value: (i) => i.ImageId },
        { label: "Key pair", value: (i) => i.KeyName || "" },
        { label: "Subnet", value: (i) => (i.SubnetId ? `${subnetName(i.SubnetId)} (${(i.Placement || {}).AvailabilityZone || ""})` : "") },
        { label: "Private IP", value: (i) => i.PrivateIpAddress || "" },
        { label: "Public IP", value: (i) => i.PublicIpAddress || "" },
        { label: "Launched", value: (i) => fmtTime(i.LaunchTime) },
        { label: "", render: (i) => actionsFor(view, i) },
      ],
      data.instances,
      { empty: "No instance: launch one below.", rowClass: (i) => `instance-row${i.InstanceId === view.selected ? " selected" : ""}`, onRow: (i) => showOutput(view, i.InstanceId) },
    ),
    view.output,
    view.http,
  );
}

/** The console output of an instance (what its boot and user data printed); `quiet` while polling. */
async function showOutput(view, id, quiet = false) {
  if (!quiet) {
    view.selected = id;
    mount(view.output, loading());
    mount(view.http, httpForm(id));
  }
  try {
    const answer = await call("ec2", "GetConsoleOutput", { InstanceId: id });
    if (view.selected !== id) return;
    const text = answer.Output ? new TextDecoder().decode(Uint8Array.from(atob(answer.Output), (c) => c.charCodeAt(0))) : "(no output yet)";
    mount(view.output, h("h3", `Console output of ${id}`, answer.Timestamp ? h("span", { class: "muted" }, ` ${fmtTime(answer.Timestamp)}`) : null), h("div", { class: "logs", id: "console-output-text", "data-instance": id }, text));
  } catch (error) {
    if (!quiet) mount(view.output, errorBox(error));
  }
}

/** A request to a port of the instance as a client on the internet makes it (`/_overcast/ec2/instances/<id>/
 * http/<port>/<path>`): answered by what listens there when its VPC lets the internet in, else 504 with the
 * analyzer's explanation codes, 502 when nothing listens. */
function httpForm(id) {
  const port = h("input", { type: "number", id: "http-port", value: 80, min: 1, max: 65535, style: { width: "6rem" } });
  const path = input({ id: "http-path", value: "/" });
  const out = h("div", { id: "http-result" });
  const send = button("Send", async () => {
    const response = await fetch(`/_overcast/ec2/instances/${encodeURIComponent(id)}/http/${Number(port.value)}/${path.value.replace(/^\/+/, "")}`, { cache: "no-store" });
    const body = await response.text();
    mount(out, h("p", h("span", { class: ["badge", response.ok ? "ok" : "bad"], "data-status": response.status }, `${response.status} ${response.statusText}`)), h("pre", { class: "json" }, body.slice(0, 20_000)));
  }, { id: "http-send" });
  return h("div", h("h3", `HTTP to ${id}, from the internet`), h("div", { class: "form-row" }, field("Port", port), field("Path", path), send), out);
}

function base64Text(text) {
  return btoa(String.fromCharCode(...new TextEncoder().encode(text)));
}

const FALLBACK_TYPES = { x86_64: ["t3.micro", "t3.small", "t2.micro", "m5.large"], arm64: ["t4g.micro", "t4g.small", "m6g.medium"] };

/** Launch one instance: an image (Amazon's or the account's own), a type its architecture runs, a key pair (or a
 * new one, downloaded as a .pem as AWS's console does), a subnet, its VPC's security groups, user data. */
function launchForm(view) {
  const out = h("div", { class: "section" });
  const build = async () => {
    const [{ Images }, types] = await Promise.all([
      call("ec2", "DescribeImages", { Owners: ["amazon"] }),
      call("ec2", "DescribeInstanceTypes", {}).then((r) => r.InstanceTypes || []).catch(() => []),
    ]);
    const amazon = (Images || []).filter((i) => i.State === "available");
    let images = [];
    const name = input({ id: "launch-name", placeholder: "web-1" });
    const image = select([], { id: "launch-image" });
    // the account's own images and key pairs come with each refresh of the view (an image made from an
    // instance, a pair deleted), the selection kept
    const fillImages = () => {
      const own = view.data.images.filter((i) => i.State === "available" || i.State === "pending");
      images = [...own, ...amazon.sort((a, b) => (a.Name || "").localeCompare(b.Name || ""))];
      const chosen = image.value || (amazon[0] || {}).ImageId;
      mount(image, images.map((i) => h("option", { value: i.ImageId, selected: i.ImageId === chosen }, `${i.Name || i.ImageId} (${i.ImageId}, ${i.Architecture})${own.includes(i) ? ` · yours${i.State === "pending" ? ", pending" : ""}` : ""}`)));
    };
    const type = select([], { id: "launch-type" });
    const key = select([], { id: "launch-key" });
    const subnets = view.data.subnets.slice().sort((a, b) => (a.VpcId + a.AvailabilityZone).localeCompare(b.VpcId + b.AvailabilityZone));
    const vpcName = (id) => nameOf(view.data.vpcs.find((v) => v.VpcId === id) || {}) || id;
    const preferred = subnets.find((sn) => sn.DefaultForAz) || subnets[0];
    const subnet = select(subnets.map((sn) => [sn.SubnetId, `${nameOf(sn) || sn.SubnetId} · ${sn.AvailabilityZone} · ${vpcName(sn.VpcId)} (${subnetKind(view.data, sn)})`]), { id: "launch-subnet", value: preferred && preferred.SubnetId });
    const groups = h("select", { id: "launch-groups", multiple: true, size: 3 });
    const userData = textarea({ id: "launch-user-data", rows: 4, placeholder: "#!/bin/sh\necho hello" });
    const fillTypes = () => {
      const chosen = images.find((i) => i.ImageId === image.value) || {};
      const fit = types.filter((t) => ((t.ProcessorInfo || {}).SupportedArchitectures || []).includes(chosen.Architecture)).map((t) => t.InstanceType).sort();
      const names = fit.length ? fit : FALLBACK_TYPES[chosen.Architecture] || FALLBACK_TYPES.x86_64;
      const wanted = names.includes("t3.micro") ? "t3.micro" : names.includes("t4g.micro") ? "t4g.micro" : names[0];
      mount(type, names.map((n) => h("option", { value: n, selected: n === wanted }, n)));
    };
    const fillKeys = (chosen = key.value) => mount(key, h("option", { value: "" }, "no key pair"), view.data.keyPairs.map((k) => h("option", { value: k.KeyName, selected: k.KeyName === chosen }, `${k.KeyName} (${k.KeyType || "rsa"})`)));
    const fillGroups = () => {
      const vpcId = (subnets.find((sn) => sn.SubnetId === subnet.value) || {}).VpcId;
      const inVpc = view.data.groups.filter((g) => g.VpcId === vpcId);
      mount(groups, inVpc.map((g) => h("option", { value: g.GroupId, selected: g.GroupName === "default" }, `${g.GroupName} (${g.GroupId})`)));
    };
    image.addEventListener("change", fillTypes);
    subnet.addEventListener("change", fillGroups);
    fillImages();
    fillTypes();
    fillKeys();
    view.onData = () => {
      fillImages();
      fillKeys();
    };
    fillGroups();
    const newKey = button("New key pair", async () => {
      const keyName = input({ id: "new-key-name" });
      const keyType = select(["rsa", "ed25519"], { id: "new-key-type" });
      const asked = await dialog("Create a key pair", h("div", field("Name", keyName), field("Type", keyType), h("p", { class: "muted" }, "The private key is downloaded once, as AWS's console does: EC2 keeps only the public key.")), { ok: "Create", onOk: () => ({ KeyName: keyName.value.trim(), KeyType: keyType.value }) });
      if (!asked) return;
      const made = await call("ec2", "CreateKeyPair", asked);
      download(`${made.KeyName}.pem`, URL.createObjectURL(new Blob([made.KeyMaterial], { type: "application/x-pem-file" })));
      view.data.keyPairs.push({ KeyName: made.KeyName, KeyType: asked.KeyType, KeyPairId: made.KeyPairId, KeyFingerprint: made.KeyFingerprint });
      fillKeys(made.KeyName);
      toast(`Key pair ${made.KeyName} created (${made.KeyFingerprint})`);
    }, { id: "new-key" });
    const launch = button("Launch", async () => {
      if (!image.value) throw new Error("Choose an image");
      const request = {
        ImageId: image.value,
        InstanceType: type.value,
        MinCount: 1,
        MaxCount: 1,
        SubnetId: subnet.value || undefined,
        KeyName: key.value || undefined,
        SecurityGroupIds: [...groups.selectedOptions].map((o) => o.value),
        UserData: userData.value ? base64Text(userData.value) : undefined,
        TagSpecifications: name.value.trim() ? [{ ResourceType: "instance", Tags: [{ Key: "Name", Value: name.value.trim() }] }] : undefined,
      };
      if (!request.SecurityGroupIds.length) delete request.SecurityGroupIds;
      const { Instances } = await call("ec2", "RunInstances", request);
      const id = Instances[0].InstanceId;
      toast(`Launched ${id}`);
      view.selected = id;
      await view.refresh();
      showOutput(view, id);
    }, { id: "launch", class: "primary" });
    return h(
      "div",
      h("div", { class: "form-row" }, field("Name", name), field("Image (AMI)", image), field("Instance type", type)),
      h("div", { class: "form-row" }, field("Key pair", key), newKey, field("Subnet", subnet), field("Security groups", groups)),
      field("User data", userData, "runs once, as root, at the first boot; its output is the console output"),
      h("div", { class: "form-row" }, launch),
    );
  };
  build()
    .then((form) => mount(out, form))
    .catch((error) => mount(out, errorBox(error)));
  mount(out, loading("Reading the images and key pairs…"));
  return h("details", { class: "panel launch", id: "launch-panel", open: view.data.instances.length === 0 }, h("summary", h("strong", "Launch an instance")), out);
}
