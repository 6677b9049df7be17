// IAM: users, roles, policies (with their documents), a policy simulator on SimulatePrincipalPolicy, and
// under --iam soft the recorded decisions with the least-privilege policy they suggest.

import { call, internal, listAll } from "../aws.js";
import { state } from "../app.js";
import { fmtTime, h, mount } from "../dom.js";
import { button, field, heading, input, jsonView, loading, section, select, table, tabs, textarea } from "../ui.js";

export default async function iam(el) {
  mount(
    el,
    heading("IAM", h("span", { class: "muted" }, `policy evaluation: ${state.config.iam}`)),
    tabs([
      { label: "Users", render: () => section(users) },
      { label: "Roles", render: () => section(roles) },
      { label: "Policies", render: () => section(policies) },
      { label: "Simulator", render: () => simulator() },
      { label: "Soft-mode report", render: () => report() },
    ]),
  );
}

function detailArea() {
  return h("div", { class: "iam-detail" });
}

async function attached(kind, name) {
  const [managed, inline] = await Promise.all([
    listAll("iam", `ListAttached${kind}Policies`, { [`${kind}Name`]: name }, "AttachedPolicies", 200),
    listAll("iam", `List${kind}Policies`, { [`${kind}Name`]: name }, "PolicyNames", 200),
  ]);
  const documents = await Promise.all(inline.map((policy) => call("iam", `Get${kind}Policy`, { [`${kind}Name`]: name, PolicyName: policy })));
  return h(
    "div",
    h("h3", "Managed policies"),
    table([{ label: "Policy", value: (p) => p.PolicyName }, { label: "ARN", value: (p) => p.PolicyArn }], managed, { empty: "None attached." }),
    h("h3", "Inline policies"),
    documents.length ? documents.map((d) => h("div", h("strong", d.PolicyName), jsonView(JSON.parse(decodeURIComponent(d.PolicyDocument))))) : h("p", { class: "muted" }, "None."),
  );
}

async function users() {
  const detail = detailArea();
  const items = await listAll("iam", "ListUsers", {}, "Users", 1000);
  return h(
    "div",
    table(
      [
        { label: "User", value: (u) => u.UserName },
        { label: "ARN", value: (u) => u.Arn },
        { label: "Created", value: (u) => fmtTime(u.CreateDate) },
      ],
      items,
      {
        empty: "No IAM user yet.",
        onRow: async (u) => {
          mount(detail, loading());
          const keys = await listAll("iam", "ListAccessKeys", { UserName: u.UserName }, "AccessKeyMetadata", 10);
          mount(detail, h("h3", u.UserName), table([{ label: "Access key", value: (k) => k.AccessKeyId }, { label: "Status", value: (k) => k.Status }], keys, { empty: "No access key." }), await attached("User", u.UserName));
        },
      },
    ),
    detail,
  );
}

async function roles() {
  const detail = detailArea();
  const items = await listAll("iam", "ListRoles", {}, "Roles", 1000);
  return h(
    "div",
    table(
      [
        { label: "Role", value: (r) => r.RoleName },
        { label: "Path", value: (r) => r.Path },
        { label: "ARN", value: (r) => r.Arn },
        { label: "Created", value: (r) => fmtTime(r.CreateDate) },
      ],
      items,
      {
        empty: "No role yet.",
        onRow: async (r) => {
          mount(detail, loading());
          mount(detail, h("h3", r.RoleName), h("strong", "Trust policy"), jsonView(JSON.parse(decodeURIComponent(r.AssumeRolePolicyDocument || "{}"))), await attached("Role", r.RoleName));
        },
      },
    ),
    detail,
  );
}

async function policies() {
  const detail = detailArea();
  const scope = select([["Local", "customer managed"], ["AWS", "AWS managed"]], { value: "Local" });
  const list = h("div");
  const show = async () => {
    mount(list, loading());
    const items = await listAll("iam", "ListPolicies", { Scope: scope.value, MaxItems: 1000 }, "Policies", scope.value === "AWS" ? 200 : 1000);
    mount(
      list,
      table(
        [
          { label: "Policy", value: (p) => p.PolicyName },
          { label: "ARN", value: (p) => p.Arn },
          { label: "Attachments", value: (p) => p.AttachmentCount },
          { label: "Default version", value: (p) => p.DefaultVersionId },
        ],
        items,
        {
          empty: "No policy.",
          onRow: async (p) => {
            mount(detail, loading());
            const { PolicyVersion } = await call("iam", "GetPolicyVersion", { PolicyArn: p.Arn, VersionId: p.DefaultVersionId });
            mount(detail, h("h3", p.PolicyName), jsonView(JSON.parse(decodeURIComponent(PolicyVersion.Document))));
          },
        },
      ),
    );
  };
  scope.addEventListener("change", show);
  await show();
  return h("div", h("div", { class: "toolbar" }, scope), list, detail);
}

function simulator() {
  const principal = input({ id: "sim-principal", size: 50, placeholder: "arn:aws:iam::000000000000:user/alice (or a role)" });
  const actions = input({ id: "sim-actions", size: 50, placeholder: "s3:GetObject, sqs:SendMessage" });
  const resources = input({ id: "sim-resources", size: 50, placeholder: "arn:aws:s3:::bucket/key (default *)" });
  const context = textarea({ id: "sim-context", rows: 3, placeholder: '[{"ContextKeyName": "aws:SourceIp", "ContextKeyValues": ["10.0.0.1"], "ContextKeyType": "ip"}]' });
  const out = h("div", { id: "sim-result" });
  return h(
    "div",
    { class: "panel" },
    field("Principal ARN", principal),
    field("Actions (comma-separated)", actions),
    field("Resource ARNs (comma-separated)", resources),
    field("Context entries (JSON, optional)", context),
    button("Simulate", async () => {
      const list = (text) => text.split(",").map((s) => s.trim()).filter(Boolean);
      const input = { PolicySourceArn: principal.value.trim(), ActionNames: list(actions.value) };
      if (list(resources.value).length) input.ResourceArns = list(resources.value);
      if (context.value.trim()) input.ContextEntries = JSON.parse(context.value);
      mount(out, loading());
      const result = await call("iam", "SimulatePrincipalPolicy", input);
      mount(
        out,
        table(
          [
            { label: "Action", value: (r) => r.EvalActionName },
            { label: "Resource", value: (r) => r.EvalResourceName },
            { label: "Decision", render: (r) => h("span", { class: ["badge", r.EvalDecision === "allowed" ? "ok" : "bad"] }, r.EvalDecision) },
            { label: "Matched statements", value: (r) => (r.MatchedStatements || []).map((s) => s.SourcePolicyId).join(", ") },
          ],
          result.EvaluationResults || [],
        ),
      );
    }, { class: "primary", id: "simulate" }),
    out,
  );
}

async function report() {
  const answer = await internal("/_overcast/iam/report");
  if (answer.mode !== "soft") {
    return h("div", { class: "notice" }, `Overcast runs with --iam ${answer.mode}: start it with --iam soft to record each principal's calls and the least-privilege policy they needed.`);
  }
  const principals = Object.entries(answer.principals || {});
  if (!principals.length) return h("p", { class: "muted" }, "No decision recorded yet.");
  return h(
    "div",
    principals.map(([arn, entry]) =>
      h(
        "div",
        { class: "panel" },
        h("h3", arn),
        h("p", `${entry.calls} calls, ${entry.denied.length} that its policies would deny.`),
        entry.denied.length
          ? table([{ label: "Denied action", value: (d) => d.action }, { label: "Resource", value: (d) => d.resource }, { label: "Calls", value: (d) => d.calls }], entry.denied)
          : null,
        h("strong", "Least-privilege policy"),
        jsonView(entry.policy),
      ),
    ),
  );
}
