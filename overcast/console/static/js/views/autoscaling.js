// EC2 Auto Scaling: groups with their capacity and members; a group's instances (lifecycle state, health,
// scale-in protection), its scaling activities as the worker writes them, its policies (executed from here),
// scheduled actions and instance refreshes; create a group from a launch template or configuration, change its
// capacity, terminate a member, delete the group. Followed every 2 s: the worker keeps the desired capacity.

import { go } from "../app.js";
import { call } from "../aws.js";
import { fmtTime, h, mount } from "../dom.js";
import { button, dialog, errorBox, field, heading, input, loading, select, table, toast } from "../ui.js";

export default async function autoscaling(el, route, ctx) {
  const name = route.parts[1];
  if (name) return group(el, name, ctx);
  mount(el, heading("Auto Scaling groups"), loading());
  const list = h("div", { id: "asg-groups" });
  const draw = async () => {
    const { AutoScalingGroups } = await call("autoscaling", "DescribeAutoScalingGroups", {});
    mount(
      list,
      table(
        [
          { label: "Group", value: (g) => g.AutoScalingGroupName },
          { label: "Launches from", value: launchSource },
          { label: "Instances", value: (g) => `${(g.Instances || []).filter((i) => i.LifecycleState === "InService").length} in service of ${(g.Instances || []).length}` },
          { label: "Min / desired / max", value: (g) => `${g.MinSize} / ${g.DesiredCapacity} / ${g.MaxSize}` },
          { label: "Zones", value: (g) => (g.AvailabilityZones || []).join(", ") },
          { label: "Status", value: (g) => g.Status || "" },
        ],
        AutoScalingGroups || [],
        { empty: "No Auto Scaling group yet.", rowClass: () => "asg-row", onRow: (g) => go(["autoscaling", g.AutoScalingGroupName]) },
      ),
    );
  };
  try {
    await draw();
  } catch (error) {
    mount(el, heading("Auto Scaling groups"), errorBox(error));
    return;
  }
  mount(el, heading("Auto Scaling groups"), list, createForm());
  ctx.every(3000, () => draw().catch(() => {}));
}

function launchSource(g) {
  const template = g.LaunchTemplate || ((g.MixedInstancesPolicy || {}).LaunchTemplate || {}).LaunchTemplateSpecification;
  if (template) return `template ${template.LaunchTemplateName || template.LaunchTemplateId} (${template.Version || "$Default"})`;
  return g.LaunchConfigurationName ? `configuration ${g.LaunchConfigurationName}` : "";
}

/** Create a group from a launch template (or a launch configuration) in chosen subnets. */
function createForm() {
  const out = h("div", { class: "section" }, loading());
  (async () => {
    const [{ LaunchTemplates }, { LaunchConfigurations }, { Subnets }] = await Promise.all([
      call("ec2", "DescribeLaunchTemplates", {}),
      call("autoscaling", "DescribeLaunchConfigurations", {}),
      call("ec2", "DescribeSubnets", {}),
    ]);
    const name = input({ id: "asg-name", placeholder: "web-asg" });
    const source = select([...(LaunchTemplates || []).map((t) => [`template:${t.LaunchTemplateId}`, `template ${t.LaunchTemplateName}`]), ...(LaunchConfigurations || []).map((c) => [`configuration:${c.LaunchConfigurationName}`, `configuration ${c.LaunchConfigurationName}`])], { id: "asg-source" });
    const nameOf = (sn) => ((sn.Tags || []).find((t) => t.Key === "Name") || {}).Value || sn.SubnetId;
    const subnets = h("select", { id: "asg-subnets", multiple: true, size: 4 }, (Subnets || []).sort((a, b) => a.AvailabilityZone.localeCompare(b.AvailabilityZone)).map((sn) => h("option", { value: sn.SubnetId }, `${nameOf(sn)} · ${sn.AvailabilityZone} · ${sn.VpcId}`)));
    const min = input({ id: "asg-min", type: "number", value: 1, min: 0, style: { width: "5rem" } });
    const desired = input({ id: "asg-desired", type: "number", value: 1, min: 0, style: { width: "5rem" } });
    const max = input({ id: "asg-max", type: "number", value: 2, min: 0, style: { width: "5rem" } });
    const create = button("Create group", async () => {
      const [kind, id] = source.value.split(/:(.*)/s);
      const request = {
        AutoScalingGroupName: name.value.trim(),
        MinSize: Number(min.value),
        MaxSize: Number(max.value),
        DesiredCapacity: Number(desired.value),
        VPCZoneIdentifier: [...subnets.selectedOptions].map((o) => o.value).join(",") || undefined,
        ...(kind === "template" ? { LaunchTemplate: { LaunchTemplateId: id, Version: "$Latest" } } : { LaunchConfigurationName: id }),
      };
      await call("autoscaling", "CreateAutoScalingGroup", request);
      toast(`Created ${request.AutoScalingGroupName}`);
      go(["autoscaling", request.AutoScalingGroupName]);
    }, { id: "asg-create", class: "primary" });
    if (!source.options.length) {
      mount(out, h("p", { class: "muted" }, "A group launches from a launch template (EC2) or a launch configuration: make one first."));
      return;
    }
    mount(out, h("div", { class: "form-row" }, field("Name", name), field("Launches from", source), field("Subnets", subnets, "none: the default subnets of the region's zones")), h("div", { class: "form-row" }, field("Min", min), field("Desired", desired), field("Max", max), create));
  })().catch((error) => mount(out, errorBox(error)));
  return h("details", { class: "panel", id: "asg-create-panel" }, h("summary", h("strong", "Create an Auto Scaling group")), out);
}

/** One group: capacity, members, activities, policies, scheduled actions and refreshes, followed every 2 s. */
async function group(el, name, ctx) {
  mount(el, heading(`Auto Scaling group ${name}`), loading());
  const summary = h("div", { id: "asg-summary" });
  const members = h("div", { id: "asg-instances" });
  const activities = h("div", { id: "asg-activities" });
  const policies = h("div", { id: "asg-policies" });
  const capacity = h("div");
  let shown = "";
  const draw = async () => {
    const [{ AutoScalingGroups }, { Activities }, { ScalingPolicies }, { ScheduledUpdateGroupActions }, refreshes] = await Promise.all([
      call("autoscaling", "DescribeAutoScalingGroups", { AutoScalingGroupNames: [name] }),
      call("autoscaling", "DescribeScalingActivities", { AutoScalingGroupName: name, MaxRecords: 50 }),
      call("autoscaling", "DescribePolicies", { AutoScalingGroupName: name }),
      call("autoscaling", "DescribeScheduledActions", { AutoScalingGroupName: name }),
      call("autoscaling", "DescribeInstanceRefreshes", { AutoScalingGroupName: name }).then((r) => r.InstanceRefreshes || []).catch(() => []),
    ]);
    const g = (AutoScalingGroups || [])[0];
    if (!g) {
      mount(el, heading(`Auto Scaling group ${name}`), h("p", h("a", { href: "#/autoscaling" }, "← all groups")), h("div", { class: "notice", id: "asg-gone" }, `No group ${name} (deleted?)`));
      return false;
    }
    mount(summary, h("p", { "data-desired": g.DesiredCapacity }, `${launchSource(g)} · min ${g.MinSize} · desired ${g.DesiredCapacity} · max ${g.MaxSize} · ${g.HealthCheckType} health checks · cooldown ${g.DefaultCooldown} s · zones ${(g.AvailabilityZones || []).join(", ")}`, g.Status ? ` · ${g.Status}` : ""));
    const sizes = `${g.MinSize}/${g.DesiredCapacity}/${g.MaxSize}`;
    if (sizes !== shown) {
      shown = sizes; // drawn again when the capacity changed (a terminated member, a policy, a schedule)
      mount(capacity, capacityForm(g, draw));
    }
    mount(members, h("h3", "Instances"), instancesTable(g, draw));
    mount(
      activities,
      h("h3", "Activities"),
      table(
        [
          { label: "Status", render: (a) => h("span", { class: ["badge", a.StatusCode === "Successful" ? "ok" : a.StatusCode === "Failed" || a.StatusCode === "Cancelled" ? "bad" : "RUNNING"] }, a.StatusCode) },
          { label: "Description", value: (a) => a.Description },
          { label: "Cause", value: (a) => a.Cause },
          { label: "Start", value: (a) => fmtTime(a.StartTime) },
          { label: "End", value: (a) => fmtTime(a.EndTime) },
        ],
        Activities || [],
        { empty: "No activity yet.", rowClass: () => "activity-row" },
      ),
    );
    mount(
      policies,
      h("h3", "Scaling policies"),
      table(
        [
          { label: "Policy", value: (p) => p.PolicyName },
          { label: "Type", value: (p) => p.PolicyType },
          { label: "Adjustment", value: (p) => (p.PolicyType === "TargetTrackingScaling" ? "target tracking" : `${p.AdjustmentType || ""} ${p.ScalingAdjustment ?? (p.StepAdjustments || []).map((s) => `[${s.MetricIntervalLowerBound ?? "-∞"}, ${s.MetricIntervalUpperBound ?? "+∞"}) ${s.ScalingAdjustment}`).join("; ")}`) },
          { label: "", render: (p) => (p.PolicyType === "TargetTrackingScaling" ? null : executeButton(name, p, draw)) },
        ],
        ScalingPolicies || [],
        { empty: "No scaling policy.", rowClass: () => "policy-row" },
      ),
      h("h3", "Scheduled actions"),
      table(
        [
          { label: "Action", value: (a) => a.ScheduledActionName },
          { label: "When", value: (a) => a.Recurrence || fmtTime(a.StartTime) },
          { label: "Min / desired / max", value: (a) => `${a.MinSize ?? "-"} / ${a.DesiredCapacity ?? "-"} / ${a.MaxSize ?? "-"}` },
        ],
        ScheduledUpdateGroupActions || [],
        { empty: "No scheduled action." },
      ),
      refreshes.length
        ? [h("h3", "Instance refreshes"), table([{ label: "Refresh", value: (r) => r.InstanceRefreshId }, { label: "Status", value: (r) => r.Status }, { label: "Done", value: (r) => `${r.PercentageComplete ?? 0}%` }, { label: "Started", value: (r) => fmtTime(r.StartTime) }], refreshes)]
        : null,
    );
    return true;
  };
  try {
    if (!(await draw())) return;
  } catch (error) {
    mount(el, heading(`Auto Scaling group ${name}`), errorBox(error));
    return;
  }
  const remove = button("Delete group", async () => {
    if (!(await dialog(`Delete ${name}?`, h("p", "Its instances are terminated with it (ForceDelete)."), { ok: "Delete" }))) return;
    await call("autoscaling", "DeleteAutoScalingGroup", { AutoScalingGroupName: name, ForceDelete: true });
    toast(`${name} is being deleted`);
    go(["autoscaling"]);
  }, { id: "asg-delete" });
  mount(el, heading(`Auto Scaling group ${name}`, remove), h("p", h("a", { href: "#/autoscaling" }, "← all groups")), summary, capacity, members, activities, policies, policyForm(name, draw));
  let busy = false;
  ctx.every(2000, async () => {
    if (busy || !summary.isConnected) return;
    busy = true;
    await draw().catch(() => {}).finally(() => (busy = false));
  });
}

function capacityForm(g, draw) {
  const min = input({ id: "asg-set-min", type: "number", value: g.MinSize, min: 0, style: { width: "5rem" } });
  const desired = input({ id: "asg-set-desired", type: "number", value: g.DesiredCapacity, min: 0, style: { width: "5rem" } });
  const max = input({ id: "asg-set-max", type: "number", value: g.MaxSize, min: 0, style: { width: "5rem" } });
  const update = button("Update capacity", async () => {
    await call("autoscaling", "UpdateAutoScalingGroup", { AutoScalingGroupName: g.AutoScalingGroupName, MinSize: Number(min.value), DesiredCapacity: Number(desired.value), MaxSize: Number(max.value) });
    toast(`${g.AutoScalingGroupName}: ${min.value} / ${desired.value} / ${max.value}`);
    await draw();
  }, { id: "asg-update" });
  return h("div", { class: "panel" }, h("div", { class: "form-row" }, field("Min", min), field("Desired", desired), field("Max", max), update));
}

function instancesTable(g, draw) {
  const act = (label, fn, props = {}) => button(label, async () => {
    await fn();
    await draw();
  }, props);
  return table(
    [
      { label: "Instance", render: (i) => h("a", { href: `#/ec2?instance=${i.InstanceId}` }, i.InstanceId) },
      { label: "Lifecycle", render: (i) => h("span", { class: ["badge", i.LifecycleState === "InService" ? "ok" : i.LifecycleState.startsWith("Terminat") ? "bad" : "RUNNING", "lifecycle"], "data-state": i.LifecycleState }, i.LifecycleState) },
      { label: "Health", value: (i) => i.HealthStatus },
      { label: "Zone", value: (i) => i.AvailabilityZone },
      { label: "Type", value: (i) => i.InstanceType || "" },
      { label: "Launched from", value: (i) => (i.LaunchTemplate ? `${i.LaunchTemplate.LaunchTemplateName || i.LaunchTemplate.LaunchTemplateId} v${i.LaunchTemplate.Version}` : i.LaunchConfigurationName || "") },
      { label: "Protected", value: (i) => (i.ProtectedFromScaleIn ? "yes" : "no") },
      {
        label: "",
        render: (i) =>
          i.LifecycleState.startsWith("Terminat")
            ? null
            : h(
                "span",
                { class: "row-actions" },
                act(i.ProtectedFromScaleIn ? "Unprotect" : "Protect", () => call("autoscaling", "SetInstanceProtection", { AutoScalingGroupName: g.AutoScalingGroupName, InstanceIds: [i.InstanceId], ProtectedFromScaleIn: !i.ProtectedFromScaleIn }), { "data-action": "protect" }),
                act("Terminate", async () => {
                  const lower = h("input", { type: "checkbox", id: "asg-decrement", checked: true });
                  const decrement = await dialog(`Terminate ${i.InstanceId}?`, h("label", { class: "check" }, lower, " lower the desired capacity (else the group launches a replacement)"), { ok: "Terminate", onOk: () => lower.checked });
                  if (decrement === null) return;
                  await call("autoscaling", "TerminateInstanceInAutoScalingGroup", { InstanceId: i.InstanceId, ShouldDecrementDesiredCapacity: decrement });
                  toast(`${i.InstanceId} is terminating`);
                }, { "data-action": "terminate" }),
              ),
      },
    ],
    g.Instances || [],
    { empty: "No instance.", rowClass: () => "asg-instance" },
  );
}

/** PutScalingPolicy: a simple policy (change, exact or percent, with a cooldown), executed from its row. */
function policyForm(groupName, draw) {
  const name = input({ id: "policy-name", placeholder: "scale-out" });
  const type = select([["ChangeInCapacity", "change in capacity"], ["ExactCapacity", "exact capacity"], ["PercentChangeInCapacity", "percent change"]], { id: "policy-adjustment-type" });
  const adjustment = input({ id: "policy-adjustment", type: "number", value: 1, style: { width: "6rem" } });
  const cooldown = input({ id: "policy-cooldown", type: "number", value: 300, min: 0, style: { width: "6rem" } });
  const add = button("Add policy", async () => {
    await call("autoscaling", "PutScalingPolicy", { AutoScalingGroupName: groupName, PolicyName: name.value.trim(), PolicyType: "SimpleScaling", AdjustmentType: type.value, ScalingAdjustment: Number(adjustment.value), Cooldown: Number(cooldown.value) });
    toast(`Policy ${name.value.trim()} added`);
    await draw();
  }, { id: "policy-add" });
  return h("details", { class: "panel", id: "policy-panel" }, h("summary", h("strong", "Add a simple scaling policy")), h("div", { class: "form-row" }, field("Name", name), field("Adjustment", type), field("By", adjustment), field("Cooldown (s)", cooldown), add));
}

function executeButton(groupName, policy, draw) {
  return button("Execute", async () => {
    let step = {};
    if (policy.PolicyType === "StepScaling") {
      const value = input({ id: "policy-metric-value", type: "number", value: 0 });
      const threshold = input({ id: "policy-breach-threshold", type: "number", value: 0 });
      step = await dialog(`Execute ${policy.PolicyName}`, h("div", { class: "form-row" }, field("Metric value", value), field("Breach threshold", threshold)), { ok: "Execute", onOk: () => ({ MetricValue: Number(value.value), BreachThreshold: Number(threshold.value) }) });
      if (!step) return;
    }
    await call("autoscaling", "ExecutePolicy", { AutoScalingGroupName: groupName, PolicyName: policy.PolicyName, HonorCooldown: false, ...step });
    toast(`${policy.PolicyName} executed`);
    await draw();
  }, { "data-action": "execute" });
}
