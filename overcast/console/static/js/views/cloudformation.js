// CloudFormation: stacks with their status, and a stack's events (newest first), resources, outputs,
// parameters and template. Says so plainly while CloudFormation answers 501.

import { call, listAll } from "../aws.js";
import { fmtTime, h, mount } from "../dom.js";
import { errorBox, heading, jsonView, section, table, tabs } from "../ui.js";

const badge = (status) => h("span", { class: ["badge", /FAILED|ROLLBACK/.test(status) ? "bad" : /COMPLETE$/.test(status) ? "ok" : "RUNNING"] }, status);

export default async function cloudformation(el, route) {
  const stack = route.parts[1];
  let stacks;
  try {
    stacks = await listAll("cloudformation", "DescribeStacks", {}, "Stacks", 1000);
  } catch (error) {
    mount(el, heading("CloudFormation"), error.status === 501 ? h("div", { class: "notice", id: "cloudformation-unavailable" }, h("strong", "CloudFormation is not served by this Overcast yet. "), "DescribeStacks answers 501; stacks and their events appear here once it lands.") : errorBox(error));
    return;
  }
  if (!stack) {
    mount(
      el,
      heading("CloudFormation stacks"),
      table(
        [
          { label: "Stack", render: (s) => h("a", { href: `#/cloudformation/${encodeURIComponent(s.StackName)}` }, s.StackName) },
          { label: "Status", render: (s) => badge(s.StackStatus) },
          { label: "Created", value: (s) => fmtTime(s.CreationTime) },
          { label: "Updated", value: (s) => fmtTime(s.LastUpdatedTime) },
          { label: "Reason", value: (s) => s.StackStatusReason || "" },
        ],
        stacks,
        { empty: "No stack yet." },
      ),
    );
    return;
  }
  const description = stacks.find((s) => s.StackName === stack) || (await call("cloudformation", "DescribeStacks", { StackName: stack })).Stacks[0];
  mount(
    el,
    h("div", { class: "crumbs" }, h("a", { href: "#/cloudformation" }, "Stacks"), ` / ${stack}`),
    heading(stack, badge(description.StackStatus)),
    tabs([
      {
        label: "Events",
        render: () =>
          section(async () =>
            table(
              [
                { label: "When", value: (e) => fmtTime(e.Timestamp) },
                { label: "Logical id", value: (e) => e.LogicalResourceId },
                { label: "Type", value: (e) => e.ResourceType },
                { label: "Status", render: (e) => badge(e.ResourceStatus) },
                { label: "Reason", value: (e) => e.ResourceStatusReason || "" },
              ],
              await listAll("cloudformation", "DescribeStackEvents", { StackName: stack }, "StackEvents", 500),
            ),
          ),
      },
      {
        label: "Resources",
        render: async () =>
          table(
            [
              { label: "Logical id", value: (r) => r.LogicalResourceId },
              { label: "Physical id", value: (r) => r.PhysicalResourceId },
              { label: "Type", value: (r) => r.ResourceType },
              { label: "Status", render: (r) => badge(r.ResourceStatus) },
            ],
            await listAll("cloudformation", "ListStackResources", { StackName: stack }, "StackResourceSummaries", 1000),
          ),
      },
      {
        label: "Outputs",
        render: () => table([{ label: "Key", value: (o) => o.OutputKey }, { label: "Value", value: (o) => o.OutputValue }, { label: "Export", value: (o) => o.ExportName || "" }], description.Outputs || [], { empty: "No output." }),
      },
      {
        label: "Parameters",
        render: () => table([{ label: "Key", value: (p) => p.ParameterKey }, { label: "Value", value: (p) => p.ParameterValue }], description.Parameters || [], { empty: "No parameter." }),
      },
      { label: "Template", render: async () => jsonView((await call("cloudformation", "GetTemplate", { StackName: stack })).TemplateBody) },
    ]),
  );
}
