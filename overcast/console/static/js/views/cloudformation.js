// CloudFormation: stacks with their status, a form to create one from a template; a stack's events (newest
// first, refreshed while it is in progress), resources (linked to their pages here), outputs, parameters and
// template; updating it through a change set (its changes shown before they are executed), and deleting it.
// Says so plainly while CloudFormation answers 501.

import { go } from "../app.js";
import { call, listAll } from "../aws.js";
import { fmtTime, h, mount } from "../dom.js";
import { button, dialog, errorBox, field, heading, input, jsonView, section, table, tabs, textarea, toast } from "../ui.js";

const badge = (status) => h("span", { class: ["badge", /FAILED|ROLLBACK/.test(status) ? "bad" : /COMPLETE$/.test(status) ? "ok" : "RUNNING"], "data-status": status }, status);
const settled = (status) => !status.endsWith("_IN_PROGRESS");
const CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"];

export default async function cloudformation(el, route, ctx) {
  const stack = route.parts[1];
  let stacks;
  try {
    stacks = await listAll("cloudformation", "DescribeStacks", {}, "Stacks", 1000);
  } catch (error) {
    mount(el, heading("CloudFormation"), error.status === 501 ? h("div", { class: "notice", id: "cloudformation-unavailable" }, h("strong", "CloudFormation is not served by this Overcast yet. "), "DescribeStacks answers 501; stacks and their events appear here once it lands.") : errorBox(error));
    return;
  }
  if (!stack) return stackList(el, stacks);
  return stackView(el, stack, ctx);
}

function stackList(el, stacks) {
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
    createForm(),
  );
}

/** Parameters as `Key=Value` lines. */
function parametersOf(text) {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const at = line.indexOf("=");
      if (at < 1) throw new Error(`A parameter is Key=Value, not "${line}"`);
      return { ParameterKey: line.slice(0, at).trim(), ParameterValue: line.slice(at + 1).trim() };
    });
}

function createForm() {
  const name = input({ id: "stack-name", placeholder: "my-stack", size: 28 });
  const template = textarea({ id: "stack-template", rows: 14, placeholder: "Resources:\n  Queue:\n    Type: AWS::SQS::Queue" });
  const parameters = textarea({ id: "stack-parameters", rows: 3, placeholder: "Key=Value, one a line" });
  const boxes = CAPABILITIES.map((capability) => [capability, h("input", { type: "checkbox", value: capability })]);
  const create = button(
    "Create stack",
    async () => {
      const request = { StackName: name.value.trim(), TemplateBody: template.value, Parameters: parametersOf(parameters.value), Capabilities: boxes.filter(([, box]) => box.checked).map(([capability]) => capability) };
      await call("cloudformation", "CreateStack", request);
      toast(`Creating ${request.StackName}`);
      go(["cloudformation", request.StackName]);
    },
    { class: "primary", id: "create-stack" },
  );
  return h(
    "div",
    { class: "panel" },
    h("h3", "Create a stack"),
    field("Name", name),
    field("Template (YAML or JSON)", template),
    field("Parameters", parameters),
    h("div", { class: "form-row" }, boxes.map(([capability, box]) => h("label", { class: "check" }, box, ` ${capability}`))),
    create,
  );
}

/** The stack's template and parameters to edit, a change set made of them, its changes shown, executed on
 * request (the stack then followed by `watch`). */
async function updateForm(stack, watch) {
  const { TemplateBody } = await call("cloudformation", "GetTemplate", { StackName: stack.StackId });
  const template = textarea({ id: "update-template", rows: 14 });
  template.value = typeof TemplateBody === "string" ? TemplateBody : JSON.stringify(TemplateBody, null, 2);
  const parameters = textarea({ id: "update-parameters", rows: 3 });
  parameters.value = (stack.Parameters || []).map((p) => `${p.ParameterKey}=${p.ParameterValue}`).join("\n");
  const boxes = CAPABILITIES.map((capability) => [capability, h("input", { type: "checkbox", value: capability, checked: (stack.Capabilities || []).includes(capability) })]);
  const changes = h("div", { id: "change-set" });
  const preview = button(
    "Preview changes",
    async () => {
      const name = `console-${Date.now()}`;
      const made = await call("cloudformation", "CreateChangeSet", {
        StackName: stack.StackId,
        ChangeSetName: name,
        ChangeSetType: "UPDATE",
        TemplateBody: template.value,
        Parameters: parametersOf(parameters.value),
        Capabilities: boxes.filter(([, box]) => box.checked).map(([capability]) => capability),
      });
      mount(changes, h("p", { class: "muted" }, `Making change set ${name}…`));
      let set;
      for (let attempt = 0; attempt < 60; attempt++) {
        set = await call("cloudformation", "DescribeChangeSet", { ChangeSetName: made.Id });
        if (!set.Status.endsWith("_PENDING") && !set.Status.endsWith("_IN_PROGRESS")) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      showChangeSet(changes, set, watch);
    },
    { class: "primary", id: "preview-changes" },
  );
  return h(
    "div",
    field("Template", template),
    field("Parameters", parameters),
    h("div", { class: "form-row" }, boxes.map(([capability, box]) => h("label", { class: "check" }, box, ` ${capability}`))),
    preview,
    changes,
  );
}

function showChangeSet(el, set, watch) {
  const rows = (set.Changes || []).map((c) => c.ResourceChange || {});
  const execute = button(
    "Execute",
    async () => {
      await call("cloudformation", "ExecuteChangeSet", { ChangeSetName: set.ChangeSetId });
      toast(`Executing ${set.ChangeSetName}`);
      mount(el, h("p", { class: "muted" }, `${set.ChangeSetName} is executing: see the events.`));
      watch();
    },
    { class: "primary", id: "execute-change-set" },
  );
  mount(
    el,
    h("h3", `Change set ${set.ChangeSetName} `, badge(set.Status)),
    set.StatusReason ? h("p", { class: "muted", id: "change-set-reason" }, set.StatusReason) : null,
    table(
      [
        { label: "Action", value: (r) => r.Action },
        { label: "Logical id", value: (r) => r.LogicalResourceId },
        { label: "Type", value: (r) => r.ResourceType },
        { label: "Physical id", value: (r) => r.PhysicalResourceId || "" },
        { label: "Replacement", value: (r) => r.Replacement || "" },
        { label: "What changes", value: (r) => (r.Details || []).map((d) => (d.Target ? d.Target.Name || d.Target.Attribute : "")).filter(Boolean).join(", ") },
      ],
      rows,
      { empty: "No change.", rowClass: () => "change" },
    ),
    set.Status === "CREATE_COMPLETE" && set.ExecutionStatus === "AVAILABLE" ? execute : null,
  );
}

/** Where a resource a stack made is shown in this console, when it has a page. */
function pageOf(resource) {
  const id = resource.PhysicalResourceId;
  if (!id) return null;
  const pages = {
    "AWS::S3::Bucket": () => ["s3", id],
    "AWS::SQS::Queue": () => ["sqs", id.split("/").pop()],
    "AWS::SNS::Topic": () => ["sns", id],
    "AWS::DynamoDB::Table": () => ["dynamodb", id],
    "AWS::Lambda::Function": () => ["lambda", id],
    "AWS::Logs::LogGroup": () => ["logs", id],
    "AWS::StepFunctions::StateMachine": () => ["stepfunctions", id],
    "AWS::CloudFormation::Stack": () => ["cloudformation", id.split("/")[1] || id],
  };
  const parts = pages[resource.ResourceType] && pages[resource.ResourceType]();
  return parts ? `#/${parts.map(encodeURIComponent).join("/")}` : null;
}

async function stackView(el, stack, ctx) {
  const describe = async () => (await call("cloudformation", "DescribeStacks", { StackName: stack })).Stacks[0];
  let description = await describe();
  const status = h("span", { id: "stack-status" }, badge(description.StackStatus));
  const reason = h("span", { class: "muted", id: "stack-reason" }, description.StackStatusReason || "");
  const events = section(async () =>
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
  );
  const remove = button(
    "Delete stack",
    async () => {
      if (!(await dialog(`Delete ${stack}?`, h("p", "CloudFormation deletes the resources it made for this stack."), { ok: "Delete" }))) return;
      await call("cloudformation", "DeleteStack", { StackName: description.StackId });
      toast(`Deleting ${stack}`);
      watch();
    },
    { id: "delete-stack" },
  );
  // While the stack is in progress, its status and events follow it (every 2 s, until it settles).
  let watching = false;
  const watch = () => {
    if (watching) return;
    watching = true;
    let timer = null;
    const tick = async () => {
      try {
        description = (await call("cloudformation", "DescribeStacks", { StackName: description.StackId })).Stacks[0];
      } catch (error) {
        mount(reason, errorBox(error));
        return;
      }
      mount(status, badge(description.StackStatus));
      mount(reason, description.StackStatusReason || "");
      events.reload();
      if (settled(description.StackStatus)) {
        clearInterval(timer);
        watching = false;
      }
    };
    timer = setInterval(tick, 2000);
    ctx.onLeave(() => clearInterval(timer));
  };
  if (!settled(description.StackStatus)) watch();
  mount(
    el,
    h("div", { class: "crumbs" }, h("a", { href: "#/cloudformation" }, "Stacks"), ` / ${stack}`),
    heading(stack, status, remove),
    h("p", reason),
    tabs([
      { label: "Events", render: () => events },
      {
        label: "Resources",
        render: async () =>
          table(
            [
              { label: "Logical id", value: (r) => r.LogicalResourceId },
              {
                label: "Physical id",
                render: (r) => {
                  const href = pageOf(r);
                  return href ? h("a", { href, class: "physical" }, r.PhysicalResourceId) : r.PhysicalResourceId || "";
                },
              },
              { label: "Type", value: (r) => r.ResourceType },
              { label: "Status", render: (r) => badge(r.ResourceStatus) },
            ],
            await listAll("cloudformation", "ListStackResources", { StackName: description.StackId }, "StackResourceSummaries", 1000),
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
      { label: "Template", render: async () => jsonView((await call("cloudformation", "GetTemplate", { StackName: description.StackId })).TemplateBody) },
      { label: "Update", render: () => updateForm(description, watch) },
    ]),
  );
}
