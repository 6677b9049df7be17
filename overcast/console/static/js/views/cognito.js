// Cognito user pools: the pools; a pool's users (with Cognito's filter syntax), groups and app clients; a
// user's attributes and groups, and what an administrator does to one: confirm, set a password, disable or
// enable, delete; creating a user; the pool's outbox (the codes and messages Cognito would have sent).

import { go } from "../app.js";
import { call, internal, listAll } from "../aws.js";
import { fmtTime, h, mount } from "../dom.js";
import { button, dialog, errorBox, field, heading, input, section, table, tabs, toast } from "../ui.js";

const SERVICE = "cognito-idp";
const STATUS = { CONFIRMED: "ok", UNCONFIRMED: "RUNNING", FORCE_CHANGE_PASSWORD: "RUNNING", RESET_REQUIRED: "RUNNING", COMPROMISED: "bad", ARCHIVED: "bad" };
const statusBadge = (status) => h("span", { class: ["badge", STATUS[status] || ""], "data-status": status }, status);
const attribute = (user, name) => ((user.Attributes || user.UserAttributes || []).find((a) => a.Name === name) || {}).Value || "";

export default async function cognito(el, route) {
  const [, pool, user] = route.parts;
  if (pool && user) return userView(el, pool, user);
  if (pool) return poolView(el, pool, route);
  let pools;
  try {
    pools = await listAll(SERVICE, "ListUserPools", { MaxResults: 60 }, "UserPools", 1000);
  } catch (error) {
    if (error.status !== 501) throw error;
    mount(el, heading("Cognito user pools"), h("div", { class: "notice", id: "cognito-unavailable" }, h("strong", "Cognito is not served by this Overcast yet. "), "ListUserPools answers 501."));
    return;
  }
  mount(
    el,
    heading("Cognito user pools"),
    table(
      [
        { label: "Pool", render: (p) => h("a", { href: `#/${SERVICE}/${encodeURIComponent(p.Id)}` }, p.Name) },
        { label: "Id", value: (p) => p.Id },
        { label: "Created", value: (p) => fmtTime(p.CreationDate) },
      ],
      pools,
      { empty: "No user pool yet." },
    ),
  );
}

async function poolView(el, poolId, route) {
  const { UserPool: pool } = await call(SERVICE, "DescribeUserPool", { UserPoolId: poolId });
  const filter = input({ id: "user-filter", size: 36, placeholder: 'email ^= "ann"', value: route.query.get("filter") || "" });
  const users = section(async () =>
    table(
      [
        { label: "Username", render: (u) => h("a", { href: `#/${SERVICE}/${encodeURIComponent(poolId)}/${encodeURIComponent(u.Username)}` }, u.Username) },
        { label: "Email", value: (u) => attribute(u, "email") },
        { label: "Status", render: (u) => statusBadge(u.UserStatus) },
        { label: "Enabled", value: (u) => (u.Enabled ? "yes" : "no") },
        { label: "Created", value: (u) => fmtTime(u.UserCreateDate) },
      ],
      await listAll(SERVICE, "ListUsers", { UserPoolId: poolId, ...(filter.value.trim() ? { Filter: filter.value.trim() } : {}) }, "Users", 1000),
      { empty: "No user." },
    ),
  );
  filter.addEventListener("change", () => users.reload());
  mount(
    el,
    h("div", { class: "crumbs" }, h("a", { href: `#/${SERVICE}` }, "User pools"), ` / ${pool.Name}`),
    heading(pool.Name, h("span", { class: "muted" }, `${pool.Id} · MFA ${pool.MfaConfiguration || "OFF"} · sign in with ${(pool.UsernameAttributes || []).join(", ") || "username"}${pool.Domain ? ` · domain ${pool.Domain}` : ""}`)),
    tabs([
      { label: "Users", render: () => h("div", h("div", { class: "toolbar" }, field("Filter", filter, 'Cognito\'s syntax: attribute = or ^= "value"')), users, createUser(poolId, users)) },
      {
        label: "Groups",
        render: async () =>
          table(
            [
              { label: "Group", value: (g) => g.GroupName },
              { label: "Precedence", value: (g) => (g.Precedence === undefined ? "" : g.Precedence) },
              { label: "Role", value: (g) => g.RoleArn || "" },
              { label: "Description", value: (g) => g.Description || "" },
            ],
            await listAll(SERVICE, "ListGroups", { UserPoolId: poolId }, "Groups", 1000),
            { empty: "No group." },
          ),
      },
      { label: "Outbox", render: () => outbox(poolId) },
      {
        label: "App clients",
        render: async () =>
          table(
            [
              { label: "Client", value: (c) => c.ClientName },
              { label: "Client id", value: (c) => c.ClientId },
            ],
            await listAll(SERVICE, "ListUserPoolClients", { UserPoolId: poolId, MaxResults: 60 }, "UserPoolClients", 1000),
            { empty: "No app client." },
          ),
      },
    ]),
  );
}

/** What Cognito would have sent for the pool (Overcast's outbox), newest first. */
async function outbox(poolId) {
  const { messages } = await internal(`/_overcast/cognito-idp/outbox?pool=${encodeURIComponent(poolId)}&limit=1000`);
  return table(
    [
      { label: "When", value: (m) => fmtTime(m.created) },
      { label: "To", value: (m) => m.destination },
      { label: "By", value: (m) => m.channel },
      { label: "Why", value: (m) => m.purpose },
      { label: "Code", value: (m) => m.code || "" },
      { label: "Message", render: (m) => h("span", { class: "pre" }, [m.subject, m.message].filter(Boolean).join("\n")) },
    ],
    messages.reverse(),
    { empty: "Nothing sent yet.", rowClass: () => "message" },
  );
}

function createUser(poolId, users) {
  const username = input({ id: "new-username", size: 20 });
  const email = input({ id: "new-email", size: 26, type: "email" });
  const password = input({ id: "new-password", size: 16, placeholder: "generated if empty" });
  return h(
    "div",
    { class: "panel" },
    h("h3", "Create a user"),
    h(
      "div",
      { class: "form-row" },
      field("Username", username),
      field("Email", email),
      field("Temporary password", password),
      button(
        "Create",
        async () => {
          const request = { UserPoolId: poolId, Username: username.value.trim(), DesiredDeliveryMediums: ["EMAIL"] };
          if (email.value.trim()) request.UserAttributes = [{ Name: "email", Value: email.value.trim() }];
          if (password.value) request.TemporaryPassword = password.value;
          await call(SERVICE, "AdminCreateUser", request);
          toast(`Created ${request.Username}; the invitation is in the outbox`);
          users.reload();
        },
        { class: "primary", id: "create-user" },
      ),
    ),
  );
}

async function userView(el, poolId, username) {
  const ids = { UserPoolId: poolId, Username: username };
  let user;
  try {
    user = await call(SERVICE, "AdminGetUser", ids);
  } catch (error) {
    mount(el, h("div", { class: "crumbs" }, h("a", { href: `#/${SERVICE}/${encodeURIComponent(poolId)}` }, "Users")), errorBox(error));
    return;
  }
  const { Groups: groups = [] } = await call(SERVICE, "AdminListGroupsForUser", ids);
  const reload = () => userView(el, poolId, username);
  const act = (label, operation, extra = {}, props = {}) =>
    button(
      label,
      async () => {
        await call(SERVICE, operation, { ...ids, ...extra });
        toast(`${label}: done`);
        reload();
      },
      props,
    );
  const setPassword = button(
    "Set password",
    async () => {
      const password = input({ id: "set-password", size: 24 });
      const permanent = h("input", { type: "checkbox", id: "set-permanent", checked: true });
      const chosen = await dialog("Set the password", h("div", field("Password", password), h("label", { class: "check" }, permanent, " permanent (no change asked at sign-in)")), { ok: "Set", onOk: () => ({ Password: password.value, Permanent: permanent.checked }) });
      if (!chosen) return;
      await call(SERVICE, "AdminSetUserPassword", { ...ids, ...chosen });
      toast("Password set");
      reload();
    },
    { id: "set-password-button" },
  );
  const remove = button(
    "Delete",
    async () => {
      if (!(await dialog(`Delete ${username}?`, h("p", "The user and its sessions are gone."), { ok: "Delete" }))) return;
      await call(SERVICE, "AdminDeleteUser", ids);
      go([SERVICE, poolId]);
    },
    { id: "delete-user" },
  );
  mount(
    el,
    h("div", { class: "crumbs" }, h("a", { href: `#/${SERVICE}` }, "User pools"), " / ", h("a", { href: `#/${SERVICE}/${encodeURIComponent(poolId)}` }, poolId), ` / ${username}`),
    heading(
      username,
      statusBadge(user.UserStatus),
      h("span", { class: "badge", id: "user-enabled" }, user.Enabled ? "enabled" : "disabled"),
      user.UserStatus === "UNCONFIRMED" ? act("Confirm", "AdminConfirmSignUp", {}, { id: "confirm-user" }) : null,
      setPassword,
      user.Enabled ? act("Disable", "AdminDisableUser", {}, { id: "disable-user" }) : act("Enable", "AdminEnableUser", {}, { id: "enable-user" }),
      remove,
    ),
    h("p", { class: "muted" }, `created ${fmtTime(user.UserCreateDate)} · modified ${fmtTime(user.UserLastModifiedDate)}${(user.UserMFASettingList || []).length ? ` · MFA ${user.UserMFASettingList.join(", ")}` : ""}`),
    h("h3", "Attributes"),
    table([{ label: "Name", value: (a) => a.Name }, { label: "Value", value: (a) => a.Value }], user.UserAttributes || [], { empty: "No attribute.", rowClass: () => "attribute" }),
    h("h3", "Groups"),
    table([{ label: "Group", value: (g) => g.GroupName }, { label: "Precedence", value: (g) => (g.Precedence === undefined ? "" : g.Precedence) }], groups, { empty: "In no group." }),
  );
}
