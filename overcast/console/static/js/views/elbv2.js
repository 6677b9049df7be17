// Elastic Load Balancing: load balancers (where they answer on this machine), a load balancer's listeners
// with their rules in the order they are evaluated, and the target groups they forward to with each
// target's health as the health checks see it.

import { call, listAll } from "../aws.js";
import { h, mount } from "../dom.js";
import { heading, section, table } from "../ui.js";

const HEALTH = { healthy: "ok", unhealthy: "bad", draining: "RUNNING", initial: "RUNNING" };
const stateBadge = (state) => h("span", { class: ["badge", HEALTH[state] || (state === "active" ? "ok" : state === "failed" ? "bad" : "")], "data-state": state }, state);
const shortArn = (arn) => (arn || "").split(":").pop();

export default async function elbv2(el, route, ctx) {
  const name = route.parts[1];
  if (name) return loadBalancer(el, name, ctx);
  let balancers;
  try {
    balancers = await listAll("elbv2", "DescribeLoadBalancers", {}, "LoadBalancers", 1000);
  } catch (error) {
    if (error.status !== 501) throw error;
    mount(el, heading("Load balancers"), h("div", { class: "notice", id: "elbv2-unavailable" }, h("strong", "Elastic Load Balancing is not served by this Overcast yet. "), "DescribeLoadBalancers answers 501."));
    return;
  }
  mount(
    el,
    heading("Load balancers"),
    section(async () =>
      table(
        [
          { label: "Name", render: (lb) => h("a", { href: `#/elbv2/${encodeURIComponent(lb.LoadBalancerName)}` }, lb.LoadBalancerName) },
          { label: "Type", value: (lb) => lb.Type },
          { label: "Scheme", value: (lb) => lb.Scheme },
          { label: "State", render: (lb) => stateBadge((lb.State || {}).Code) },
          { label: "DNS name", value: (lb) => lb.DNSName },
        ],
        balancers,
        { empty: "No load balancer yet." },
      ),
    ),
    h("h3", "Target groups"),
    section(async () => targetGroups(await listAll("elbv2", "DescribeTargetGroups", {}, "TargetGroups", 1000))),
  );
}

/** A condition as a person reads it: `path-pattern /api/*`, `http-header X-Env = blue`. */
function conditionText(condition) {
  const config = condition.HttpHeaderConfig || condition.QueryStringConfig || condition.PathPatternConfig || condition.HostHeaderConfig || condition.HttpRequestMethodConfig || condition.SourceIpConfig || {};
  if (condition.HttpHeaderConfig) return `${condition.Field} ${config.HttpHeaderName} = ${config.Values.join(" | ")}`;
  if (condition.QueryStringConfig) return `${condition.Field} ${config.Values.map((kv) => `${kv.Key ? `${kv.Key}=` : ""}${kv.Value}`).join(" | ")}`;
  return `${condition.Field} ${(config.Values || condition.Values || []).join(" | ")}`;
}

/** An action as a person reads it: forward to groups (with weights), redirect, fixed response. */
function actionText(action, groupNames) {
  if (action.Type === "forward") {
    const groups = (action.ForwardConfig && action.ForwardConfig.TargetGroups) || [{ TargetGroupArn: action.TargetGroupArn }];
    return `forward → ${groups.map((g) => `${groupNames.get(g.TargetGroupArn) || shortArn(g.TargetGroupArn)}${groups.length > 1 ? ` (${g.Weight})` : ""}`).join(", ")}`;
  }
  if (action.Type === "redirect") {
    const r = action.RedirectConfig;
    return `redirect ${r.StatusCode.replace("HTTP_", "")} → ${r.Protocol}://${r.Host}:${r.Port}${r.Path}${r.Query ? `?${r.Query}` : ""}`;
  }
  if (action.Type === "fixed-response") {
    const r = action.FixedResponseConfig;
    return `fixed response ${r.StatusCode}${r.MessageBody ? `: ${r.MessageBody.slice(0, 60)}` : ""}`;
  }
  return action.Type;
}

async function loadBalancer(el, name, ctx) {
  const [lb] = (await call("elbv2", "DescribeLoadBalancers", { Names: [name] })).LoadBalancers;
  const listeners = await listAll("elbv2", "DescribeListeners", { LoadBalancerArn: lb.LoadBalancerArn }, "Listeners", 100);
  const groups = await listAll("elbv2", "DescribeTargetGroups", { LoadBalancerArn: lb.LoadBalancerArn }, "TargetGroups", 100);
  const groupNames = new Map(groups.map((g) => [g.TargetGroupArn, g.TargetGroupName]));
  const rulesOf = await Promise.all(listeners.map((l) => listAll("elbv2", "DescribeRules", { ListenerArn: l.ListenerArn }, "Rules", 500)));
  const health = section(() => targetGroups(groups));
  ctx.every(5000, () => health.reload()); // health checks run on the clock: their verdicts change
  mount(
    el,
    h("div", { class: "crumbs" }, h("a", { href: "#/elbv2" }, "Load balancers"), ` / ${name}`),
    heading(name, stateBadge((lb.State || {}).Code)),
    h("p", { class: "muted" }, `${lb.Type} · ${lb.Scheme} · ${lb.VpcId} · ${(lb.AvailabilityZones || []).map((z) => `${z.ZoneName} (${z.SubnetId})`).join(", ")}`),
    h("p", "Answers at ", h("code", { id: "lb-dns" }, lb.DNSName), h("span", { class: "muted" }, " (where *.localhost resolves; or 127.0.0.1 with the port)")),
    listeners.map((listener, index) =>
      h(
        "div",
        { class: "panel listener", "data-port": String(listener.Port) },
        h("h3", `Listener ${listener.Protocol}:${listener.Port}`),
        table(
          [
            { label: "Priority", value: (r) => r.Priority },
            { label: "If", value: (r) => (r.IsDefault ? "anything else" : (r.Conditions || []).map(conditionText).join(" and ")) },
            { label: "Then", value: (r) => (r.Actions || []).sort((a, b) => (a.Order || 0) - (b.Order || 0)).map((a) => actionText(a, groupNames)).join("; ") },
          ],
          // evaluated lowest priority first, the default rule last
          rulesOf[index].sort((a, b) => (a.IsDefault ? 1 : 0) - (b.IsDefault ? 1 : 0) || Number(a.Priority) - Number(b.Priority)),
          { empty: "No rule." },
        ),
      ),
    ),
    h("h3", "Target groups"),
    health,
  );
}

/** Target groups, each with its targets' health (DescribeTargetHealth). */
async function targetGroups(groups) {
  if (!groups.length) return h("div", { class: "empty" }, "No target group.");
  const healths = await Promise.all(groups.map((g) => call("elbv2", "DescribeTargetHealth", { TargetGroupArn: g.TargetGroupArn }).then((out) => out.TargetHealthDescriptions || [])));
  return groups.map((group, index) =>
    h(
      "div",
      { class: "panel target-group", "data-name": group.TargetGroupName },
      h("h3", `${group.TargetGroupName} `, h("span", { class: "muted" }, `${group.TargetType} · ${group.Protocol || ""}${group.Port ? `:${group.Port}` : ""}${group.HealthCheckEnabled ? ` · checks ${group.HealthCheckProtocol || ""} ${group.HealthCheckPath || ""} every ${group.HealthCheckIntervalSeconds} s` : " · health checks off"}`)),
      table(
        [
          { label: "Target", value: (t) => `${t.Target.Id}${t.Target.Port ? `:${t.Target.Port}` : ""}` },
          { label: "Health", render: (t) => stateBadge(t.TargetHealth.State) },
          { label: "Reason", value: (t) => [t.TargetHealth.Reason, t.TargetHealth.Description].filter(Boolean).join(": ") },
        ],
        healths[index],
        { empty: "No target registered." },
      ),
    ),
  );
}
