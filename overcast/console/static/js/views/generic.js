// The generic views of any service, from its botocore model alone: its List/Describe operations that need
// no input as resource lists (a page at a time), a detail view per item (the Describe/Get operations whose
// required input the item fills), and a form to call any operation.

import { call, loadModel, nextPage, paginator } from "../aws.js";
import { go } from "../app.js";
import { h, mount, pretty } from "../dom.js";
import { button, errorBox, heading, jsonView, loading, parseJson, select, table, textarea } from "../ui.js";

const SCALARS = new Set(["string", "integer", "long", "boolean", "timestamp", "float", "double"]);
const PREFERRED = /(Name|Id|Arn|Status|State|Type|Time|Date|Url|Count)$/;

/** Operations that list or describe without any required input. */
export function listOperations(model) {
  return Object.keys(model.operations)
    .filter((name) => /^(List|Describe|Get)/.test(name))
    .filter((name) => {
      const op = model.operations[name];
      const shape = op.input ? model.shapes[op.input.shape] : null;
      return !shape || !(shape.required || []).length;
    })
    .filter((name) => listMember(model, name))
    .sort((a, b) => rank(model, a) - rank(model, b) || a.localeCompare(b));
}

export function isServed(model, operation) {
  return (model.implemented || []).includes(operation);
}

/** Served operations first, then List before Describe before Get, paged ones, short names (the main
 * resources: ListRoles before ListRoleTags). */
function rank(model, name) {
  const served = (model.implemented || []).includes(name) ? 0 : 100;
  const verb = name.startsWith("List") ? 0 : name.startsWith("Describe") ? 10 : 20;
  const paged = model.paginators && model.paginators[name] ? 0 : 5;
  return served + verb + paged + name.length / 100;
}

/** The output member holding the resources of a list operation: its paginator's result key, else its list. */
export function listMember(model, operation) {
  const op = model.operations[operation];
  if (!op.output) return null;
  const pager = (model.paginators || {})[operation];
  const key = pager && (Array.isArray(pager.result_key) ? pager.result_key[0] : pager.result_key);
  if (key && !key.includes(".")) return key;
  const shape = model.shapes[op.output.shape];
  return Object.keys(shape.members || {}).find((name) => model.shapes[shape.members[name].shape].type === "list") || null;
}

/** Table columns for the items of a list: scalar members, the telling ones first. */
export function columnsFor(model, operation, member) {
  const output = model.shapes[model.operations[operation].output.shape];
  const list = model.shapes[output.members[member].shape];
  const item = model.shapes[list.member.shape];
  if (item.type !== "structure") return [{ label: member, value: (row) => row }];
  const names = Object.keys(item.members).filter((name) => SCALARS.has(model.shapes[item.members[name].shape].type));
  names.sort((a, b) => (PREFERRED.test(b) ? 1 : 0) - (PREFERRED.test(a) ? 1 : 0));
  return names.slice(0, 6).map((name) => ({ label: name, value: (row) => row[name] }));
}

/** Skeleton input for an operation: its required members with placeholder values. */
function skeleton(model, ref, depth = 0) {
  const shape = model.shapes[ref.shape];
  if (depth > 4) return null;
  switch (shape.type) {
    case "structure": {
      const out = {};
      for (const name of shape.required || []) out[name] = skeleton(model, shape.members[name], depth + 1);
      return out;
    }
    case "list":
      return [];
    case "map":
      return {};
    case "integer":
    case "long":
    case "float":
    case "double":
      return 0;
    case "boolean":
      return false;
    default:
      return shape.enum ? shape.enum[0] : "";
  }
}

/** The value of an item for an operation's `member`: its own field, else the field that names the same thing
 * (a secret's `SecretId` is its `ARN`, a user pool's `UserPoolId` its `Id`, a `stateMachineArn` its `arn`). */
export function valueFor(item, member) {
  const plain = (value) => (value !== undefined && value !== null && typeof value !== "object" ? value : undefined);
  if (plain(item[member]) !== undefined) return item[member];
  const base = member.replace(/(Id|Name|Arn|ARN|Identifier)$/, "");
  if (base === member) return undefined;
  const lower = base.charAt(0).toLowerCase() + base.slice(1);
  for (const key of [`${base}Arn`, `${base}ARN`, `${base}Name`, `${base}Id`, `${lower}Arn`, `${lower}Name`, `${lower}Id`, "Arn", "ARN", "Name", "Id", "arn", "name", "id"]) {
    if (plain(item[key]) !== undefined) return item[key];
  }
  return undefined;
}

/** The Describe/Get operations an item's own fields can fill (all required members present). */
function detailOperations(model, item, listOp) {
  const values = typeof item === "object" && item !== null ? item : null;
  const found = [];
  for (const [name, op] of Object.entries(model.operations)) {
    if (!/^(Describe|Get|List)/.test(name) || name === listOp || !op.input) continue;
    const required = model.shapes[op.input.shape].required || [];
    if (!required.length) continue;
    let input;
    if (values) {
      if (required.every((r) => valueFor(values, r) !== undefined)) input = Object.fromEntries(required.map((r) => [r, valueFor(values, r)]));
    } else if (required.length === 1 && typeof item === "string") {
      input = { [required[0]]: item };
    }
    if (input) found.push([name, input]);
  }
  return found.slice(0, 30);
}

export default async function generic(el, route) {
  const service = route.parts[1];
  const model = await loadModel(service);
  const operation = route.query.get("op");
  const lists = listOperations(model);
  const chosen = operation || lists[0];
  const served = new Set(model.implemented || []);
  const opSelect = select(lists.map((name) => [name, served.has(name) ? name : `${name} (not served: 501)`]), { value: chosen, id: "list-op" });
  opSelect.addEventListener("change", () => go(["svc", service], { op: opSelect.value }));
  const body = h("div");
  mount(
    el,
    heading(`${model.metadata.serviceFullName || service}`, h("span", { class: "muted" }, `${model.metadata.consoleProtocol} · ${served.size} of ${Object.keys(model.operations).length} operations served`)),
    h("div", { class: "toolbar" }, "List ", opSelect, button("Call any operation", () => go(["svc", service], { op: chosen, call: "1" }))),
    body,
  );
  if (route.query.get("call")) {
    mount(body, callForm(model, service, operation || lists[0]));
    return;
  }
  if (!chosen) {
    mount(body, h("div", { class: "empty" }, "This service has no operation that lists without input."), callForm(model, service, Object.keys(model.operations)[0]));
    return;
  }
  if (operation) {
    await listView(body, model, service, operation);
    return;
  }
  // Unchosen, the first list that answers: some need input their models do not mark required (ELB's
  // DescribeRules wants a listener or rule ARNs), and say so with a 400.
  const skipped = [];
  for (const candidate of lists.filter((name) => served.has(name)).slice(0, 6)) {
    const list = h("div");
    mount(body, list);
    const error = await listView(list, model, service, candidate);
    if (!error || error.status !== 400) {
      opSelect.value = candidate;
      if (skipped.length) body.prepend(h("p", { class: "muted", id: "skipped-lists" }, `Not listed without input: ${skipped.join("; ")}.`));
      return;
    }
    skipped.push(`${candidate} (${error.code}: ${error.message})`);
  }
}

/** A list operation's items, a page at a time; resolves with the first page's error, if it failed. */
async function listView(el, model, service, operation) {
  const member = listMember(model, operation);
  const columns = columnsFor(model, operation, member);
  const pager = await paginator(service, operation);
  const detail = h("div");
  const tableArea = h("div");
  const pagerArea = h("div", { class: "pager" });
  mount(el, tableArea, pagerArea, detail);
  const tokens = [{}]; // the input tokens of each page seen
  const show = async (page) => {
    mount(tableArea, loading());
    let output;
    try {
      output = await call(service, operation, tokens[page]);
    } catch (error) {
      mount(tableArea, errorBox(error));
      mount(pagerArea);
      return error;
    }
    const items = output[member] || [];
    mount(tableArea, table(columns, items, { onRow: (item) => showDetail(detail, model, service, operation, item), empty: `${operation} returned no ${member}.` }));
    const next = nextPage(pager, output);
    if (next) tokens[page + 1] = next;
    mount(
      pagerArea,
      page > 0 ? button("‹ Previous", () => show(page - 1)) : null,
      h("span", { class: "muted" }, `Page ${page + 1} · ${items.length} items`),
      next ? button("Next ›", () => show(page + 1)) : null,
    );
    return null;
  };
  return show(0);
}

function showDetail(el, model, service, listOp, item) {
  const related = detailOperations(model, item, listOp);
  const output = h("div");
  mount(
    el,
    h("h3", "Item"),
    jsonView(item),
    related.length ? h("div", { class: "toolbar related" }, related.map(([name, input]) => button(name, async () => {
      mount(output, loading());
      try {
        mount(output, h("h3", name), jsonView(await call(service, name, input)));
      } catch (error) {
        mount(output, errorBox(error));
      }
    }))) : null,
    output,
  );
  el.scrollIntoView({ behavior: "smooth", block: "start" });
}

function callForm(model, service, operation) {
  const served = new Set(model.implemented || []);
  const names = Object.keys(model.operations).sort((a, b) => (served.has(b) ? 1 : 0) - (served.has(a) ? 1 : 0) || a.localeCompare(b));
  const opSelect = select(names.map((name) => [name, served.has(name) ? name : `${name} (not served: 501)`]), { value: operation, id: "call-op" });
  const body = textarea({ id: "call-input", rows: 12 });
  const output = h("div");
  const fill = () => {
    const op = model.operations[opSelect.value];
    body.value = pretty(op.input ? skeleton(model, op.input) : {});
  };
  opSelect.addEventListener("change", fill);
  fill();
  return h(
    "div",
    { class: "panel" },
    h("div", { class: "form-row" }, "Operation ", opSelect),
    h("p", { class: "muted" }, "Input as in boto3 (the required members are filled in)."),
    body,
    h("div", { class: "toolbar" }, button("Call", async () => {
      mount(output, loading());
      try {
        mount(output, jsonView(await call(service, opSelect.value, parseJson(body.value, "The input"))));
      } catch (error) {
        mount(output, errorBox(error));
      }
    }, { class: "primary", id: "call-run" })),
    output,
  );
}
