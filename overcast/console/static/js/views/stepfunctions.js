// Step Functions: state machines, their executions, and each drawn as a graph (SVG) whose states are
// coloured by what the execution's history says of them; start an execution.

import { call, listAll } from "../aws.js";
import { go } from "../app.js";
import { fmtTime, h, mount, s } from "../dom.js";
import { button, field, heading, jsonView, parseJson, section, table, textarea, toast } from "../ui.js";

const NODE_W = 170;
const NODE_H = 38;
const GAP_X = 40;
const GAP_Y = 46;

export default async function stepfunctions(el, route, ctx) {
  const machine = route.parts[1];
  if (!machine) {
    const list = section(async () => {
      const items = await listAll("stepfunctions", "ListStateMachines", {}, "stateMachines", 1000);
      return table(
        [
          { label: "State machine", render: (m) => h("a", { href: `#/stepfunctions/${encodeURIComponent(m.stateMachineArn)}` }, m.name) },
          { label: "Type", value: (m) => m.type },
          { label: "Created", value: (m) => fmtTime(m.creationDate) },
        ],
        items,
        { empty: "No state machine yet." },
      );
    });
    mount(el, heading("Step Functions"), list);
    return;
  }
  const description = await call("stepfunctions", "DescribeStateMachine", { stateMachineArn: machine });
  const definition = JSON.parse(description.definition);
  const execution = route.query.get("execution");
  const crumbs = h("div", { class: "crumbs" }, h("a", { href: "#/stepfunctions" }, "State machines"), " / ", h("a", { href: `#/stepfunctions/${encodeURIComponent(machine)}` }, description.name), execution ? ` / ${execution.split(":").pop()}` : "");
  if (execution) {
    // a running execution is drawn again every 1.5 s until it ends
    const render = async () => {
      const [run, history] = await Promise.all([
        call("stepfunctions", "DescribeExecution", { executionArn: execution }),
        listAll("stepfunctions", "GetExecutionHistory", { executionArn: execution, maxResults: 1000 }, "events", 5000),
      ]);
      mount(
        el,
        crumbs,
        heading(run.name, h("span", { class: ["badge", run.status], id: "execution-status" }, run.status)),
        graph(definition, statuses(history)),
        h("div", { class: "split" }, h("div", h("h3", "Input"), jsonView(tryJson(run.input))), h("div", h("h3", run.status === "FAILED" ? "Error" : "Output"), jsonView(run.status === "FAILED" ? { error: run.error, cause: run.cause } : tryJson(run.output)))),
        h("h3", "History"),
        table(
          [
            { label: "#", value: (e) => e.id },
            { label: "Type", value: (e) => e.type },
            { label: "State", value: (e) => (e.stateEnteredEventDetails || e.stateExitedEventDetails || {}).name || "" },
            { label: "When", value: (e) => fmtTime(e.timestamp) },
          ],
          history,
        ),
      );
      return run.status;
    };
    if ((await render()) === "RUNNING") {
      let ended = false;
      ctx.every(1500, async () => {
        if (ended) return;
        ended = true; // no second drawing while one is under way; an error stops the following
        ended = (await render().catch(() => "")) !== "RUNNING";
      });
    }
    return;
  }
  const payload = textarea({ rows: 5, id: "execution-input", value: "{}" });
  let running = false; // while an execution runs, the list follows it
  const executions = section(async () => {
    const items = await listAll("stepfunctions", "ListExecutions", { stateMachineArn: machine, maxResults: 100 }, "executions", 100);
    running = items.some((e) => e.status === "RUNNING");
    return table(
      [
        { label: "Execution", value: (e) => e.name },
        { label: "Status", render: (e) => h("span", { class: ["badge", e.status] }, e.status) },
        { label: "Started", value: (e) => fmtTime(e.startDate) },
        { label: "Stopped", value: (e) => fmtTime(e.stopDate) },
      ],
      items,
      { empty: "No execution yet.", onRow: (e) => go(["stepfunctions", machine], { execution: e.executionArn }) },
    );
  });
  mount(
    el,
    crumbs,
    heading(description.name, h("span", { class: "muted" }, description.type)),
    graph(definition, {}),
    h("div", { class: "panel" }, field("Input", payload), button("Start execution", async () => {
      const out = await call("stepfunctions", "StartExecution", { stateMachineArn: machine, input: JSON.stringify(parseJson(payload.value, "The input")) });
      toast(`Started ${out.executionArn.split(":").pop()}`);
      executions.reload();
    }, { class: "primary", id: "start-execution" })),
    h("h3", "Executions"),
    executions,
  );
  ctx.every(1500, () => running && executions.reload());
}

function tryJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text ?? null;
  }
}

/** state name → "succeeded" | "failed" | "running", from an execution's history. */
export function statuses(history) {
  const status = {};
  let current = null;
  for (const event of history) {
    if (event.stateEnteredEventDetails) {
      current = event.stateEnteredEventDetails.name;
      status[current] = "running";
    } else if (event.stateExitedEventDetails) {
      status[event.stateExitedEventDetails.name] = "succeeded";
    } else if (/Failed$|TimedOut$|Aborted$/.test(event.type) && current && status[current] === "running") {
      status[current] = "failed";
    }
  }
  return status;
}

/** Where each state goes next (Next, Default, choices, catchers). */
function targets(state) {
  const out = [];
  if (state.Next) out.push(state.Next);
  for (const choice of state.Choices || []) if (choice.Next) out.push(choice.Next);
  if (state.Default) out.push(state.Default);
  for (const catcher of state.Catch || []) if (catcher.Next) out.push(catcher.Next);
  return [...new Set(out)];
}

/** The state machine as an SVG graph: states in layers by distance from StartAt. */
export function graph(definition, status) {
  const states = definition.States || {};
  const layer = { [definition.StartAt]: 0 };
  const queue = [definition.StartAt];
  while (queue.length) {
    const name = queue.shift();
    for (const next of targets(states[name] || {})) {
      if (!(next in layer) && states[next]) {
        layer[next] = layer[name] + 1;
        queue.push(next);
      }
    }
  }
  let depth = Math.max(0, ...Object.values(layer));
  for (const name of Object.keys(states)) if (!(name in layer)) layer[name] = ++depth; // unreachable states last
  const rows = [];
  for (const [name, index] of Object.entries(layer)) (rows[index] ||= []).push(name);
  const width = Math.max(...rows.map((r) => r.length)) * (NODE_W + GAP_X) + GAP_X;
  const position = {};
  rows.forEach((names, index) => {
    const offset = (width - names.length * (NODE_W + GAP_X) + GAP_X) / 2;
    names.forEach((name, i) => (position[name] = { x: offset + i * (NODE_W + GAP_X), y: 50 + index * (NODE_H + GAP_Y) }));
  });
  const height = rows.length * (NODE_H + GAP_Y) + 90;
  const colours = { succeeded: ["#dff3e5", "#1d7a3a"], failed: ["#fbe2e0", "#b3261e"], running: ["#fff0d6", "#a35d00"] };
  const edges = [];
  const start = position[definition.StartAt];
  if (start) edges.push(s("line", { x1: start.x + NODE_W / 2, y1: 14, x2: start.x + NODE_W / 2, y2: start.y - 2, stroke: "#8895a3", "marker-end": "url(#arrow)" }));
  for (const [name, state] of Object.entries(states)) {
    const from = position[name];
    for (const next of targets(state)) {
      const to = position[next];
      if (!to) continue;
      const x1 = from.x + NODE_W / 2;
      const y1 = from.y + NODE_H;
      const x2 = to.x + NODE_W / 2;
      const y2 = to.y - 2;
      const back = y2 <= y1;
      if (to.y === from.y) {
        const right = to.x > from.x;
        const sx = right ? from.x + NODE_W : from.x;
        const tx = right ? to.x : to.x + NODE_W;
        const my = from.y + NODE_H / 2;
        edges.push(s("path", { d: `M${sx},${my} L${tx},${my}`, fill: "none", stroke: "#8895a3", "marker-end": "url(#arrow)" }));
        continue;
      }
      const d = back ? `M${x1},${y1} C${x1 + 120},${y1 + 40} ${x2 + 120},${y2 - 40} ${x2},${y2}` : `M${x1},${y1} C${x1},${(y1 + y2) / 2} ${x2},${(y1 + y2) / 2} ${x2},${y2}`;
      edges.push(s("path", { d, fill: "none", stroke: "#8895a3", "marker-end": "url(#arrow)", "stroke-dasharray": (state.Catch || []).some((c) => c.Next === next) ? "4 3" : null }));
    }
  }
  const nodes = Object.entries(states).map(([name, state]) => {
    const { x, y } = position[name];
    const [fill, stroke] = colours[status[name]] || ["#f4f6f8", "#8895a3"];
    return s(
      "g",
      { class: "state", "data-state": name, "data-status": status[name] || "not-run" },
      s("rect", { x, y, width: NODE_W, height: NODE_H, rx: 6, fill, stroke, "stroke-width": status[name] ? 2 : 1 }),
      s("text", { x: x + NODE_W / 2, y: y + 16, "text-anchor": "middle", "font-weight": "600" }, name.length > 24 ? `${name.slice(0, 23)}…` : name),
      s("text", { x: x + NODE_W / 2, y: y + 30, "text-anchor": "middle", fill: "#66717d", "font-size": "10" }, state.Type + (state.Branches ? ` (${state.Branches.length} branches)` : "")),
    );
  });
  return s(
    "svg",
    { class: "diagram", id: "state-graph", width, height, viewBox: `0 0 ${width} ${height}` },
    s("defs", s("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" }, s("path", { d: "M0,0 L10,5 L0,10 z", fill: "#8895a3" }))),
    s("circle", { cx: start ? start.x + NODE_W / 2 : 20, cy: 10, r: 6, fill: "#23415e" }),
    edges,
    nodes,
  );
}
