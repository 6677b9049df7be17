// CloudWatch Logs: groups, streams and their events, a live tail (FilterLogEvents polled, with a filter
// pattern), searches by filter pattern, and Logs Insights queries.

import { call, nextPage, paginator, session } from "../aws.js";
import { fmtTime, h, mount } from "../dom.js";
import { button, errorBox, heading, input, loading, section, select, table, tabs, textarea, toast } from "../ui.js";

const TAIL_LINES = 500;

/** The virtual clock's now, in milliseconds (log events carry virtual times). */
export function virtualNow() {
  return Date.now() + session.clockOffset * 1000;
}

function logLines(events) {
  return events.map((e) => h("div", { class: "log-line" }, h("span", { class: "time" }, fmtTime(new Date(e.timestamp))), e.logStreamName ? h("span", { class: "time" }, e.logStreamName.slice(-12)) : null, e.message.replace(/\n$/, "")));
}

/**
 * A live tail of `group`: polls FilterLogEvents every `ms` for events newer than the last seen.
 * Returns the element; `ctx.every` stops the polling when the view is left.
 */
export function liveTail(group, ctx, { pattern = "", ms = 1500 } = {}) {
  const out = h("div", { class: "logs", id: "live-tail" }, h("span", { class: "muted" }, "Waiting for log events…"));
  const seen = new Set();
  const lines = [];
  let since = 0;
  let busy = false;
  const poll = async () => {
    if (busy || !out.isConnected) return;
    busy = true;
    try {
      let params = { logGroupName: group, startTime: since || undefined, filterPattern: pattern || undefined, limit: 1000 };
      const pager = await paginator("logs", "FilterLogEvents");
      for (let page = 0; page < 5; page++) {
        const answer = await call("logs", "FilterLogEvents", params);
        for (const event of answer.events || []) {
          if (seen.has(event.eventId)) continue;
          seen.add(event.eventId);
          lines.push(event);
          since = Math.max(since, event.timestamp);
        }
        const next = nextPage(pager, answer);
        if (!next) break;
        params = { ...params, ...next };
      }
      lines.sort((a, b) => a.timestamp - b.timestamp);
      if (lines.length > TAIL_LINES) lines.splice(0, lines.length - TAIL_LINES);
      if (lines.length) {
        const atBottom = out.scrollTop + out.clientHeight >= out.scrollHeight - 20;
        mount(out, logLines(lines));
        if (atBottom) out.scrollTop = out.scrollHeight;
      }
    } catch (error) {
      if (error.code !== "ResourceNotFoundException") mount(out, errorBox(error));
    } finally {
      busy = false;
    }
  };
  poll();
  ctx.every(ms, poll);
  return out;
}

export default async function logs(el, route, ctx) {
  const group = route.parts[1];
  if (!group) return groups(el);
  mount(
    el,
    h("div", { class: "crumbs" }, h("a", { href: "#/logs" }, "Log groups"), ` / ${group}`),
    heading(group),
    tabs([
      { label: "Live tail", render: () => tailTab(group, ctx) },
      { label: "Streams", render: () => streams(group) },
      { label: "Search", render: () => search(group) },
      { label: "Insights", render: () => insights(group) },
    ]),
  );
}

async function groups(el) {
  const name = input({ placeholder: "/my/log-group", size: 28 });
  const tokens = [{}];
  const list = h("div");
  const show = async (page) => {
    mount(list, loading());
    const answer = await call("logs", "DescribeLogGroups", { limit: 50, ...tokens[page] });
    const next = nextPage(await paginator("logs", "DescribeLogGroups"), answer);
    if (next) tokens[page + 1] = next;
    mount(
      list,
      table(
        [
          { label: "Log group", render: (g) => h("a", { href: `#/logs/${encodeURIComponent(g.logGroupName)}` }, g.logGroupName) },
          { label: "Stored", value: (g) => g.storedBytes },
          { label: "Retention (days)", value: (g) => g.retentionInDays || "never expire" },
          { label: "Created", value: (g) => fmtTime(new Date(g.creationTime)) },
        ],
        answer.logGroups || [],
        { empty: "No log group yet." },
      ),
      h("div", { class: "pager" }, page ? button("‹ Previous", () => show(page - 1)) : null, next ? button("Next ›", () => show(page + 1)) : null),
    );
  };
  mount(
    el,
    heading("CloudWatch Logs"),
    h("div", { class: "toolbar" }, name, button("Create log group", async () => {
      await call("logs", "CreateLogGroup", { logGroupName: name.value.trim() });
      toast(`Created ${name.value.trim()}`);
      show(0);
    })),
    list,
  );
  await show(0);
}

function tailTab(group, ctx) {
  const pattern = input({ id: "tail-pattern", placeholder: 'filter pattern: ERROR, "two words", { $.level = "error" }', size: 50 });
  const holder = h("div");
  const start = () => mount(holder, liveTail(group, ctx, { pattern: pattern.value.trim() }));
  pattern.addEventListener("change", start);
  start();
  return h("div", h("div", { class: "toolbar" }, pattern, button("Apply", start)), holder);
}

async function streams(group) {
  const events = h("div");
  const answer = await call("logs", "DescribeLogStreams", { logGroupName: group, orderBy: "LastEventTime", descending: true, limit: 50 });
  return h(
    "div",
    table(
      [
        { label: "Stream", value: (s) => s.logStreamName },
        { label: "Last event", value: (s) => (s.lastEventTimestamp ? fmtTime(new Date(s.lastEventTimestamp)) : "") },
        { label: "First event", value: (s) => (s.firstEventTimestamp ? fmtTime(new Date(s.firstEventTimestamp)) : "") },
      ],
      answer.logStreams || [],
      {
        empty: "No stream yet.",
        onRow: async (s) => {
          mount(events, loading());
          const out = await call("logs", "GetLogEvents", { logGroupName: group, logStreamName: s.logStreamName, startFromHead: false, limit: 200 });
          mount(events, h("h3", s.logStreamName), h("div", { class: "logs" }, logLines(out.events || [])));
        },
      },
    ),
    events,
  );
}

function search(group) {
  const pattern = input({ placeholder: "filter pattern", size: 40, id: "search-pattern" });
  const hours = select([["1", "last hour"], ["24", "last day"], ["168", "last week"], ["0", "all time"]], { value: "24" });
  const out = h("div");
  return h(
    "div",
    h("div", { class: "toolbar" }, pattern, hours, button("Search", async () => {
      mount(out, loading());
      const range = Number(hours.value) ? { startTime: virtualNow() - Number(hours.value) * 3600_000, endTime: virtualNow() } : {};
      const answer = await call("logs", "FilterLogEvents", { logGroupName: group, filterPattern: pattern.value.trim() || undefined, limit: 500, ...range });
      mount(out, h("p", { class: "muted" }, `${(answer.events || []).length} events`), h("div", { class: "logs" }, logLines(answer.events || [])));
    }, { class: "primary" })),
    out,
  );
}

function insights(group) {
  const query = textarea({ rows: 4, id: "insights-query", value: "fields @timestamp, @message\n| sort @timestamp desc\n| limit 50" });
  const hours = select([["1", "last hour"], ["24", "last day"], ["168", "last week"]], { value: "24" });
  const out = h("div");
  return h(
    "div",
    query,
    h("div", { class: "toolbar" }, hours, button("Run query", async () => {
      mount(out, loading("Running…"));
      const end = Math.floor(virtualNow() / 1000);
      const { queryId } = await call("logs", "StartQuery", { logGroupNames: [group], queryString: query.value, startTime: end - Number(hours.value) * 3600, endTime: end + 60 });
      let answer;
      for (let attempt = 0; attempt < 60; attempt++) {
        answer = await call("logs", "GetQueryResults", { queryId });
        if (!["Scheduled", "Running"].includes(answer.status)) break;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      const rows = (answer.results || []).map((fields) => Object.fromEntries(fields.map((f) => [f.field, f.value])));
      const names = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((n) => n !== "@ptr");
      mount(out, h("p", { class: "muted" }, `${answer.status} · ${rows.length} rows · ${answer.statistics ? answer.statistics.recordsScanned : "?"} records scanned`), table(names.map((n) => ({ label: n, value: (r) => r[n] })), rows, { empty: "No result." }));
    }, { class: "primary", id: "run-insights" })),
    out,
  );
}

