// DynamoDB: tables; an item browser with scan and query forms (on the table or an index, a page at a time);
// an item editor in DynamoDB JSON (typed: sets, numbers and binary survive the round trip); streams.

import { b64decode, b64encode, call, listAll } from "../aws.js";
import { fmtTime, h, mount } from "../dom.js";
import { button, dialog, errorBox, field, heading, input, jsonView, loading, parseJson, section, select, table, tabs, textarea, toast } from "../ui.js";

const PAGE = 50;

export default async function dynamodb(el, route) {
  const name = route.parts[1];
  if (!name) return tables(el);
  const { Table: description } = await call("dynamodb", "DescribeTable", { TableName: name });
  mount(
    el,
    h("div", { class: "crumbs" }, h("a", { href: "#/dynamodb" }, "Tables"), ` / ${name}`),
    heading(name, h("span", { class: "muted" }, `${description.ItemCount ?? 0} items · ${description.TableStatus} · ${(description.BillingModeSummary || {}).BillingMode || "PROVISIONED"}`)),
    tabs([
      { label: "Items", render: () => items(name, description) },
      { label: "Streams", render: () => streams(description) },
      { label: "Description", render: () => jsonView(description) },
    ]),
  );
}

async function tables(el) {
  const list = section(async () => {
    const names = await listAll("dynamodb", "ListTables", {}, "TableNames", 1000);
    return table([{ label: "Table", render: (n) => h("a", { href: `#/dynamodb/${encodeURIComponent(n)}` }, n) }], names, { empty: "No table yet." });
  });
  mount(el, heading("DynamoDB tables", button("Refresh", () => list.reload())), list);
}

// -- values ------------------------------------------------------------------------------------------------

/** A typed attribute value as plain JSON, for the table. */
function plain(value) {
  const [type, inner] = Object.entries(value)[0] || [];
  switch (type) {
    case "S":
    case "N":
      return inner;
    case "BOOL":
      return inner;
    case "NULL":
      return null;
    case "L":
      return inner.map(plain);
    case "M":
      return Object.fromEntries(Object.entries(inner).map(([k, v]) => [k, plain(v)]));
    case "SS":
    case "NS":
      return inner;
    case "B":
      return `<${inner.length} bytes>`;
    case "BS":
      return inner.map((b) => `<${b.length} bytes>`);
    default:
      return inner;
  }
}

/** Binary values as base64 text for the editor, and back. */
function forEditor(value) {
  if (value instanceof Uint8Array) return b64encode(value);
  if (Array.isArray(value)) return value.map(forEditor);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, forEditor(v)]));
  return value;
}

function fromEditor(value, key) {
  if ((key === "B") && typeof value === "string") return b64decode(value);
  if (key === "BS" && Array.isArray(value)) return value.map((v) => b64decode(v));
  if (Array.isArray(value)) return value.map((v) => fromEditor(v));
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fromEditor(v, k)]));
  return value;
}

function keyOf(item, description) {
  return Object.fromEntries(description.KeySchema.map((k) => [k.AttributeName, item[k.AttributeName]]));
}

// -- items -------------------------------------------------------------------------------------------------

function items(name, description) {
  const keys = (schema) => ({
    hash: schema.find((k) => k.KeyType === "HASH").AttributeName,
    range: (schema.find((k) => k.KeyType === "RANGE") || {}).AttributeName,
  });
  const indexes = [["", "table"], ...(description.GlobalSecondaryIndexes || []).map((i) => [i.IndexName, `GSI ${i.IndexName}`]), ...(description.LocalSecondaryIndexes || []).map((i) => [i.IndexName, `LSI ${i.IndexName}`])];
  const schemaOf = (index) => (index ? [...(description.GlobalSecondaryIndexes || []), ...(description.LocalSecondaryIndexes || [])].find((i) => i.IndexName === index).KeySchema : description.KeySchema);
  const typeOf = (attribute) => (description.AttributeDefinitions.find((a) => a.AttributeName === attribute) || { AttributeType: "S" }).AttributeType;

  const mode = select([["Scan", "Scan"], ["Query", "Query"]], { id: "mode" });
  const index = select(indexes, { id: "index" });
  const hashValue = input({ id: "hash-value", size: 18 });
  const rangeOp = select(["=", "<", "<=", ">", ">=", "begins_with", "between"], { id: "range-op" });
  const rangeValue = input({ id: "range-value", size: 14 });
  const rangeValue2 = input({ id: "range-value-2", size: 10, placeholder: "and" });
  const filter = input({ id: "filter", size: 30, placeholder: "filter expression (#name, :value as JSON below)" });
  const filterValues = input({ id: "filter-values", size: 30, placeholder: '{":v": {"S": "x"}}' });
  const queryFields = h("span", { class: "form-row" });
  const results = h("div", { id: "item-results" });
  const editor = h("div");
  let starts = [undefined];

  const refreshFields = () => {
    const { hash, range } = keys(schemaOf(index.value));
    mount(queryFields, mode.value === "Query" ? [field(hash, hashValue), range ? field(range, h("span", rangeOp, rangeValue, rangeValue2)) : null] : null);
  };
  mode.addEventListener("change", refreshFields);
  index.addEventListener("change", refreshFields);
  refreshFields();

  const run = async (page) => {
    mount(results, loading());
    const input = { TableName: name, Limit: PAGE, ExclusiveStartKey: starts[page] };
    if (index.value) input.IndexName = index.value;
    const names = {};
    const values = filterValues.value.trim() ? parseJson(filterValues.value, "The filter values") : {};
    if (mode.value === "Query") {
      const { hash, range } = keys(schemaOf(index.value));
      names["#h"] = hash;
      values[":h"] = { [typeOf(hash)]: hashValue.value };
      let condition = "#h = :h";
      if (range && rangeValue.value !== "") {
        names["#r"] = range;
        values[":r"] = { [typeOf(range)]: rangeValue.value };
        if (rangeOp.value === "begins_with") condition += " AND begins_with(#r, :r)";
        else if (rangeOp.value === "between") {
          values[":r2"] = { [typeOf(range)]: rangeValue2.value };
          condition += " AND #r BETWEEN :r AND :r2";
        } else condition += ` AND #r ${rangeOp.value} :r`;
      }
      input.KeyConditionExpression = condition;
      input.ExpressionAttributeNames = names;
    }
    if (filter.value.trim()) input.FilterExpression = filter.value.trim();
    if (Object.keys(values).length) input.ExpressionAttributeValues = fromEditor(values);
    for (const match of filter.value.matchAll(/#(\w+)/g)) {
      input.ExpressionAttributeNames = { ...(input.ExpressionAttributeNames || {}), [`#${match[1]}`]: match[1] };
    }
    let out;
    try {
      out = await call("dynamodb", mode.value, input);
    } catch (error) {
      mount(results, errorBox(error));
      return;
    }
    starts = starts.slice(0, page + 1);
    if (out.LastEvaluatedKey) starts[page + 1] = out.LastEvaluatedKey;
    const rows = out.Items || [];
    const keyNames = description.KeySchema.map((k) => k.AttributeName);
    const others = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((n) => !keyNames.includes(n)).slice(0, 8);
    mount(
      results,
      table(
        [...keyNames, ...others].map((attribute) => ({ label: attribute, value: (row) => (row[attribute] ? plain(row[attribute]) : "") })),
        rows,
        { empty: "No item.", onRow: (row) => edit(row) },
      ),
      h("div", { class: "pager" }, page ? button("‹ Previous", () => run(page - 1)) : null, h("span", { class: "muted" }, `${out.Count} items, ${out.ScannedCount} read`), out.LastEvaluatedKey ? button("Next ›", () => run(page + 1), { id: "items-next" }) : null),
    );
  };

  const edit = (item) => {
    const text = textarea({ rows: 14, id: "item-json", value: JSON.stringify(forEditor(item), null, 2) });
    mount(
      editor,
      h("div", { class: "panel" }, h("h3", item ? "Edit item (DynamoDB JSON)" : "New item (DynamoDB JSON)"), text, h("div", { class: "toolbar" }, button("Save item", async () => {
        const value = fromEditor(parseJson(text.value, "The item"));
        await call("dynamodb", "PutItem", { TableName: name, Item: value });
        toast("Item saved");
        mount(editor);
        run(0);
      }, { class: "primary", id: "save-item" }), item ? button("Delete item", async () => {
        if (!(await dialog("Delete this item?", jsonView(keyOf(item, description)), { ok: "Delete" }))) return;
        await call("dynamodb", "DeleteItem", { TableName: name, Key: keyOf(item, description) });
        toast("Item deleted");
        mount(editor);
        run(0);
      }, { class: "danger" }) : null, button("Close", () => mount(editor)))),
    );
  };

  const skeleton = () => Object.fromEntries(description.KeySchema.map((k) => [k.AttributeName, { [typeOf(k.AttributeName)]: "" }]));
  const area = h(
    "div",
    h("div", { class: "form-row" }, field("Operation", mode), field("On", index), queryFields),
    h("div", { class: "form-row" }, field("Filter", filter), field("Values", filterValues)),
    h("div", { class: "toolbar" }, button("Run", () => run(0), { class: "primary", id: "run-items" }), button("New item", () => {
      edit(null);
      editor.querySelector("textarea").value = JSON.stringify(skeleton(), null, 2);
    }, { id: "new-item" })),
    editor,
    results,
  );
  run(0);
  return area;
}

// -- streams -----------------------------------------------------------------------------------------------

async function streams(description) {
  const arn = description.LatestStreamArn;
  if (!arn || !(description.StreamSpecification || {}).StreamEnabled) return h("p", { class: "muted" }, "Streams are off for this table.");
  const { StreamDescription: stream } = await call("dynamodbstreams", "DescribeStream", { StreamArn: arn });
  const records = h("div");
  return h(
    "div",
    h("p", `${stream.StreamViewType} · ${stream.StreamStatus} · `, h("span", { class: "mono" }, arn)),
    table(
      [
        { label: "Shard", value: (s) => s.ShardId },
        { label: "Parent", value: (s) => s.ParentShardId || "" },
        { label: "Sequence range", value: (s) => `${s.SequenceNumberRange.StartingSequenceNumber} – ${s.SequenceNumberRange.EndingSequenceNumber || "open"}` },
      ],
      stream.Shards || [],
      {
        onRow: async (shard) => {
          mount(records, loading());
          const { ShardIterator } = await call("dynamodbstreams", "GetShardIterator", { StreamArn: arn, ShardId: shard.ShardId, ShardIteratorType: "TRIM_HORIZON" });
          const out = await call("dynamodbstreams", "GetRecords", { ShardIterator, Limit: 100 });
          mount(records, table(
            [
              { label: "Event", value: (r) => r.eventName },
              { label: "When", value: (r) => fmtTime(r.dynamodb.ApproximateCreationDateTime) },
              { label: "Keys", value: (r) => JSON.stringify(plain({ M: r.dynamodb.Keys })) },
              { label: "New image", value: (r) => (r.dynamodb.NewImage ? JSON.stringify(plain({ M: r.dynamodb.NewImage })) : "") },
            ],
            out.Records || [],
            { empty: "No record in this shard." },
          ));
        },
      },
    ),
    records,
  );
}
