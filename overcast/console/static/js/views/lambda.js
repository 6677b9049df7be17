// Lambda: functions; a test-invoke form with saved events (kept in this browser) beside the function's live
// logs; versions and aliases; reserved and provisioned concurrency; the configuration.

import { call, listAll } from "../aws.js";
import { fmtBytes, fmtTime, h, mount, pretty } from "../dom.js";
import { button, field, heading, input, jsonView, parseJson, section, select, table, tabs, textarea, toast } from "../ui.js";
import { liveTail } from "./logs.js";

const SAVED = "overcast.console.events";

export default async function lambda(el, route, ctx) {
  const name = route.parts[1];
  if (!name) return functions(el);
  return detail(el, name, ctx);
}

async function functions(el) {
  const list = section(async () => {
    const items = await listAll("lambda", "ListFunctions", {}, "Functions", 1000);
    return table(
      [
        { label: "Function", render: (f) => h("a", { href: `#/lambda/${encodeURIComponent(f.FunctionName)}` }, f.FunctionName) },
        { label: "Runtime", value: (f) => f.Runtime || f.PackageType },
        { label: "Handler", value: (f) => f.Handler },
        { label: "Memory", value: (f) => `${f.MemorySize} MB` },
        { label: "Code", value: (f) => fmtBytes(f.CodeSize) },
        { label: "Modified", value: (f) => fmtTime(f.LastModified) },
      ],
      items,
      { empty: "No function yet." },
    );
  });
  mount(el, heading("Lambda functions", button("Refresh", () => list.reload())), list);
}

function savedEvents(name) {
  try {
    return JSON.parse(localStorage.getItem(SAVED) || "{}")[name] || {};
  } catch {
    return {};
  }
}

function saveEvents(name, events) {
  const all = JSON.parse(localStorage.getItem(SAVED) || "{}");
  all[name] = events;
  localStorage.setItem(SAVED, JSON.stringify(all));
}

async function detail(el, name, ctx) {
  const fn = await call("lambda", "GetFunction", { FunctionName: name });
  const config = fn.Configuration;
  const group = (config.LoggingConfig && config.LoggingConfig.LogGroup) || `/aws/lambda/${name}`;
  mount(
    el,
    h("div", { class: "crumbs" }, h("a", { href: "#/lambda" }, "Functions"), ` / ${name}`),
    heading(name, h("span", { class: "muted" }, `${config.Runtime || config.PackageType} · ${config.Handler || ""} · ${config.State || ""}`)),
    tabs([
      { label: "Test", render: () => testTab(name, group, ctx) },
      { label: "Versions & aliases", render: () => section((reload) => versions(name, reload)) },
      { label: "Concurrency", render: () => section((reload) => concurrency(name, reload)) },
      { label: "Configuration", render: () => jsonView(fn) },
    ]),
  );
}

function testTab(name, group, ctx) {
  let events = savedEvents(name);
  const payload = textarea({ rows: 8, id: "invoke-payload", value: '{\n  "hello": "world"\n}' });
  const qualifier = input({ id: "invoke-qualifier", placeholder: "$LATEST", size: 10 });
  const eventName = input({ id: "event-name", placeholder: "event name", size: 16 });
  const picker = select([]);
  const refreshPicker = () => {
    mount(picker, h("option", { value: "" }, "saved events…"), Object.keys(events).map((n) => h("option", { value: n }, n)));
  };
  refreshPicker();
  picker.addEventListener("change", () => {
    if (picker.value) {
      payload.value = events[picker.value];
      eventName.value = picker.value;
    }
  });
  const result = h("div", { id: "invoke-result" });
  return h(
    "div",
    h(
      "div",
      { class: "split" },
      h(
        "div",
        h("div", { class: "toolbar" }, picker, eventName, button("Save event", () => {
          parseJson(payload.value, "The event");
          if (!eventName.value.trim()) throw new Error("Name the event first");
          events = { ...events, [eventName.value.trim()]: payload.value };
          saveEvents(name, events);
          refreshPicker();
          toast(`Saved event ${eventName.value.trim()}`);
        }), button("Delete", () => {
          delete events[picker.value];
          saveEvents(name, events);
          refreshPicker();
        }, { class: "danger" })),
        payload,
        h("div", { class: "toolbar" }, "Qualifier ", qualifier, button("Invoke", async () => {
          parseJson(payload.value, "The event");
          const out = await call("lambda", "Invoke", { FunctionName: name, Payload: payload.value, LogType: "Tail", Qualifier: qualifier.value.trim() || undefined });
          const text = new TextDecoder().decode(out.Payload || new Uint8Array());
          let shown = text;
          try {
            shown = pretty(JSON.parse(text));
          } catch {
            /* not JSON: shown as it is */
          }
          const log = out.LogResult ? new TextDecoder().decode(Uint8Array.from(atob(out.LogResult), (c) => c.charCodeAt(0))) : "";
          mount(
            result,
            h("p", "Status ", h("strong", { id: "invoke-status" }, out.StatusCode), out.FunctionError ? h("span", { class: "badge bad" }, ` ${out.FunctionError}`) : h("span", { class: "badge ok" }, " OK"), ` · version ${out.ExecutedVersion || ""}`),
            h("pre", { class: "json", id: "invoke-output" }, shown),
            log ? h("div", h("strong", "Log tail"), h("div", { class: "logs" }, log)) : null,
          );
        }, { class: "primary", id: "invoke" })),
        result,
      ),
      h("div", h("h3", "Live logs ", h("a", { href: `#/logs/${encodeURIComponent(group)}`, class: "muted" }, group)), liveTail(group, ctx)),
    ),
  );
}

async function versions(name, reload) {
  const [all, aliases] = await Promise.all([
    listAll("lambda", "ListVersionsByFunction", { FunctionName: name }, "Versions", 500),
    listAll("lambda", "ListAliases", { FunctionName: name }, "Aliases", 500),
  ]);
  const aliasName = input({ placeholder: "alias", size: 12 });
  const aliasVersion = select(all.map((v) => v.Version), { value: all.length ? all[all.length - 1].Version : "" });
  return h(
    "div",
    h("div", { class: "toolbar" }, button("Publish version", async () => {
      const out = await call("lambda", "PublishVersion", { FunctionName: name });
      toast(`Published version ${out.Version}`);
      reload();
    }, { id: "publish-version" })),
    table(
      [
        { label: "Version", value: (v) => v.Version },
        { label: "Description", value: (v) => v.Description },
        { label: "Code SHA-256", value: (v) => v.CodeSha256 },
        { label: "Modified", value: (v) => fmtTime(v.LastModified) },
      ],
      all,
    ),
    h("h3", "Aliases"),
    table(
      [
        { label: "Alias", value: (a) => a.Name },
        { label: "Version", value: (a) => a.FunctionVersion },
        { label: "Routing", value: (a) => (a.RoutingConfig ? JSON.stringify(a.RoutingConfig.AdditionalVersionWeights || {}) : "") },
        { label: "", render: (a) => button("Delete", async () => {
          await call("lambda", "DeleteAlias", { FunctionName: name, Name: a.Name });
          reload();
        }, { class: "small danger" }) },
      ],
      aliases,
      { empty: "No alias yet." },
    ),
    h("div", { class: "toolbar" }, aliasName, aliasVersion, button("Create alias", async () => {
      await call("lambda", "CreateAlias", { FunctionName: name, Name: aliasName.value.trim(), FunctionVersion: aliasVersion.value });
      toast(`Alias ${aliasName.value.trim()} created`);
      reload();
    })),
  );
}

async function concurrency(name, reload) {
  const reserved = await call("lambda", "GetFunctionConcurrency", { FunctionName: name });
  const provisioned = await call("lambda", "ListProvisionedConcurrencyConfigs", { FunctionName: name }).catch(() => ({ ProvisionedConcurrencyConfigs: [] }));
  const amount = input({ size: 6, id: "reserved-concurrency", value: reserved.ReservedConcurrentExecutions ?? "" });
  return h(
    "div",
    h("div", { class: "panel" }, h("h3", "Reserved concurrency"), h("p", reserved.ReservedConcurrentExecutions === undefined ? "None: the function uses the account's unreserved pool." : `Reserved: ${reserved.ReservedConcurrentExecutions}`), field("Reserve", amount), h("div", { class: "toolbar" }, button("Save", async () => {
      await call("lambda", "PutFunctionConcurrency", { FunctionName: name, ReservedConcurrentExecutions: Number(amount.value) });
      toast("Reserved concurrency saved");
      reload();
    }, { class: "primary" }), button("Remove", async () => {
      await call("lambda", "DeleteFunctionConcurrency", { FunctionName: name });
      reload();
    }))),
    h("div", { class: "panel" }, h("h3", "Provisioned concurrency"), table(
      [
        { label: "Qualifier", value: (p) => p.FunctionArn.split(":").pop() },
        { label: "Requested", value: (p) => p.RequestedProvisionedConcurrentExecutions },
        { label: "Available", value: (p) => p.AvailableProvisionedConcurrentExecutions },
        { label: "Status", value: (p) => p.Status },
      ],
      provisioned.ProvisionedConcurrencyConfigs || [],
      { empty: "None." },
    )),
  );
}
