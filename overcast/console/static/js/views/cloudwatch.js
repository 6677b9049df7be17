// CloudWatch: metrics by namespace, drawn as SVG line charts (GetMetricData over a window of the virtual
// clock), and alarms with their states, their history and their metric drawn against the threshold. Both
// follow the virtual clock: moving it collects the services' AWS/... metrics and lets alarms evaluate.

import { go } from "../app.js";
import { call, listAll } from "../aws.js";
import { fmtTime, h, mount, s } from "../dom.js";
import { button, dialog, errorBox, field, heading, input, loading, select, table, tabs, toast } from "../ui.js";
import { virtualNow } from "./logs.js";

const W = 720;
const H = 220;
const PAD = { left: 56, right: 16, top: 14, bottom: 28 };
const STATE_BADGES = { OK: "ok", ALARM: "bad", INSUFFICIENT_DATA: "" };

export default async function cloudwatch(el, route, ctx) {
  const alarmName = route.parts[1] === "alarms" ? route.parts[2] : undefined;
  // the page's parts redraw when the clock moves (the services' metrics and alarms' evaluations follow it)
  const onClock = new Set();
  const listener = () => onClock.forEach((fn) => fn());
  window.addEventListener("overcast:clock", listener);
  ctx.onLeave(() => window.removeEventListener("overcast:clock", listener));
  const list = [
    { label: "Metrics", render: () => metrics(route.query, onClock) },
    { label: "Alarms", render: () => (alarmName ? alarmDetail(alarmName, ctx, onClock) : alarms(ctx, onClock)) },
    { label: "Dashboards", render: dashboards },
  ];
  mount(el, heading("CloudWatch"), tabs(list, route.parts[1] === "alarms" ? 1 : 0));
}

function dimensionsText(metric) {
  return (metric.Dimensions || []).map((d) => `${d.Name}=${d.Value}`).join(", ");
}

/** The points of one metric between `start` and `end` (Dates), at a period that suits the window. */
async function metricPoints(metric, stat, start, end) {
  const hours = (end - start) / 3600_000;
  const period = metric.Period || (hours <= 3 ? 60 : hours <= 24 ? 300 : 3600);
  const out = await call("cloudwatch", "GetMetricData", {
    StartTime: start,
    EndTime: end,
    MetricDataQueries: [{ Id: "m0", MetricStat: { Metric: { Namespace: metric.Namespace, MetricName: metric.MetricName, Dimensions: metric.Dimensions }, Period: period, Stat: stat } }],
  });
  const result = (out.MetricDataResults || [])[0] || { Timestamps: [], Values: [] };
  return { period, points: result.Timestamps.map((t, i) => [t.getTime(), result.Values[i]]).sort((a, b) => a[0] - b[0]) };
}

async function metrics(query, onClock) {
  const all = await listAll("cloudwatch", "ListMetrics", {}, "Metrics", 2000);
  if (!all.length) return h("p", { class: "muted" }, "No metric yet: services publish theirs as they are used, and PutMetricData adds your own.");
  const namespaces = [...new Set(all.map((m) => m.Namespace))].sort();
  const namespace = select(namespaces, { id: "metric-namespace", value: namespaces.includes(query.get("namespace")) ? query.get("namespace") : namespaces[0] });
  const stat = select(["Average", "Sum", "Maximum", "Minimum", "SampleCount", "p99"], { id: "metric-stat", value: query.get("stat") || "Average" });
  const hours = select([["1", "1 hour"], ["3", "3 hours"], ["24", "1 day"], ["168", "1 week"]], { value: "1", id: "metric-window" });
  const list = h("div", { id: "metric-list" });
  const chart = h("div", { id: "metric-chart" });
  let chosen = null;
  const draw = async () => {
    if (!chosen) return;
    const end = new Date(virtualNow());
    const start = new Date(end.getTime() - Number(hours.value) * 3600_000);
    try {
      const { period, points } = await metricPoints(chosen, stat.value, start, end);
      const key = `${chosen.MetricName} ${dimensionsText(chosen)}`;
      const metric = chosen;
      const create = button("Create alarm", () => createAlarm(metric, stat.value, period), { id: "create-alarm" });
      mount(chart, h("div", { class: "heading" }, h("h3", `${chosen.MetricName} (${stat.value}, ${period} s)`, h("span", { class: "muted" }, ` ${dimensionsText(chosen)}`)), create), lineChart(points, start.getTime(), end.getTime(), { key }));
    } catch (error) {
      mount(chart, errorBox(error));
    }
  };
  const showList = () => {
    const rows = all.filter((m) => m.Namespace === namespace.value).sort((a, b) => `${a.MetricName} ${dimensionsText(a)}`.localeCompare(`${b.MetricName} ${dimensionsText(b)}`));
    mount(list, table([{ label: "Metric", value: (m) => m.MetricName }, { label: "Dimensions", value: dimensionsText }], rows, {
      rowClass: (m) => `metric-row${m === chosen ? " selected" : ""}`,
      onRow: (m) => {
        chosen = m;
        showList();
        mount(chart, loading());
        draw();
      },
    }));
  };
  const wanted = (m) => m.Namespace === namespace.value && (!query.get("metric") || m.MetricName === query.get("metric")) && (!query.get("dimensions") || dimensionsText(m) === query.get("dimensions"));
  namespace.addEventListener("change", () => {
    chosen = all.find((m) => m.Namespace === namespace.value);
    showList();
    draw();
  });
  stat.addEventListener("change", draw);
  hours.addEventListener("change", draw);
  onClock.add(() => chart.isConnected && draw());
  chosen = all.find(wanted) || all.find((m) => m.Namespace === namespace.value);
  showList();
  draw();
  return h("div", h("div", { class: "toolbar" }, "Namespace ", namespace, " Statistic ", stat, " Window ", hours), chart, list);
}

const COLOURS = ["#1f6fb2", "#d97706", "#1d7a3a", "#8e44ad", "#c0392b", "#16a085"];

/** A line chart of [time ms, value] points between `from` and `to`, in plain SVG; `threshold` draws an
 * alarm's line across it. */
export function lineChart(points, from, to, { threshold, key } = {}) {
  return seriesChart([{ points }], from, to, { threshold, key });
}

/** Several series ({label, points}) on one chart, each in its colour, with a legend when they are named. */
export function seriesChart(series, from, to, { threshold, key } = {}) {
  const values = series.flatMap((one) => one.points.map((p) => p[1]));
  const high = Math.max(1, ...values, threshold ?? 0);
  const low = Math.min(0, ...values, threshold ?? 0);
  const x = (t) => PAD.left + ((t - from) / Math.max(1, to - from)) * (W - PAD.left - PAD.right);
  const y = (v) => H - PAD.bottom - ((v - low) / (high - low || 1)) * (H - PAD.top - PAD.bottom);
  const grid = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const value = low + f * (high - low);
    return s("g", s("line", { x1: PAD.left, x2: W - PAD.right, y1: y(value), y2: y(value), stroke: "#e3e7eb" }), s("text", { x: PAD.left - 6, y: y(value) + 4, "text-anchor": "end" }, Number(value.toPrecision(3)).toString()));
  });
  const ticks = [0, 0.5, 1].map((f) => {
    const t = from + f * (to - from);
    return s("text", { x: x(t), y: H - 8, "text-anchor": f === 0 ? "start" : f === 1 ? "end" : "middle" }, fmtTime(new Date(t)).slice(5, 16));
  });
  const lines = series.map(({ points, label }, index) => {
    const colour = COLOURS[index % COLOURS.length];
    const path = points.map(([t, v], i) => `${i ? "L" : "M"}${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
    return s(
      "g",
      { class: "series", "data-label": label },
      points.length ? s("path", { d: path, fill: "none", stroke: colour, "stroke-width": 2 }) : null,
      points.map(([t, v]) => s("circle", { class: "point", cx: x(t), cy: y(v), r: 3, fill: colour, "data-value": v, "data-time": new Date(t).toISOString() }, s("title", `${label ? `${label} ` : ""}${fmtTime(new Date(t))}: ${v}`))),
      label ? s("text", { x: PAD.left + 8 + index * 170, y: PAD.top + 4, fill: colour, "font-size": "11" }, label.slice(0, 28)) : null,
    );
  });
  const empty = values.length ? null : s("text", { x: W / 2, y: H / 2, "text-anchor": "middle" }, "no data points in this window");
  const points = values.length;
  return s(
    "svg",
    { class: "chart", width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: "img", "data-points": points, "data-metric": key },
    grid,
    ticks,
    threshold !== undefined ? s("g", { class: "threshold" }, s("line", { x1: PAD.left, x2: W - PAD.right, y1: y(threshold), y2: y(threshold), stroke: "#c0392b", "stroke-dasharray": "6 4" }), s("text", { x: W - PAD.right, y: y(threshold) - 4, "text-anchor": "end", fill: "#c0392b" }, `threshold ${threshold}`)) : null,
    empty,
    lines,
  );
}

// -- dashboards --------------------------------------------------------------------------------------------

/** A dashboard widget's `metrics` rows as metrics: "." repeats the previous row's value at that place, a
 * trailing object holds the row's own stat, period and label. */
export function widgetMetrics(properties) {
  let previous = [];
  return (properties.metrics || []).map((row) => {
    const options = row.length && typeof row[row.length - 1] === "object" ? row[row.length - 1] : {};
    const names = (options === row[row.length - 1] ? row.slice(0, -1) : row).map((v, i) => (v === "." || v === ".." ? previous[i] : v));
    previous = names;
    const dimensions = [];
    for (let i = 2; i + 1 < names.length; i += 2) dimensions.push({ Name: names[i], Value: names[i + 1] });
    return { Namespace: names[0], MetricName: names[1], Dimensions: dimensions, stat: options.stat || properties.stat || "Average", period: options.period || properties.period || 300, label: options.label || `${names[1]}${dimensions.length ? ` ${dimensions.map((d) => d.Value).join(" ")}` : ""}` };
  });
}

async function dashboards() {
  const { DashboardEntries } = await call("cloudwatch", "ListDashboards", {});
  const body = h("div", { id: "dashboard" });
  return h(
    "div",
    table([{ label: "Dashboard", value: (d) => d.DashboardName }, { label: "Modified", value: (d) => fmtTime(d.LastModified) }, { label: "Size", value: (d) => d.Size }], DashboardEntries || [], {
      empty: "No dashboard yet (PutDashboard makes one).",
      rowClass: () => "dashboard-row",
      onRow: async (d) => {
        mount(body, loading());
        mount(body, await dashboard(d.DashboardName).catch(errorBox));
      },
    }),
    body,
  );
}

/** A dashboard's widgets in its order (rows, then columns): metric widgets drawn over the last 3 hours of the
 * virtual clock, text widgets as their markdown's text. */
async function dashboard(name) {
  const { DashboardBody } = await call("cloudwatch", "GetDashboard", { DashboardName: name });
  const widgets = (JSON.parse(DashboardBody).widgets || []).slice().sort((a, b) => (a.y ?? 0) - (b.y ?? 0) || (a.x ?? 0) - (b.x ?? 0));
  const end = new Date(virtualNow());
  const start = new Date(end.getTime() - 3 * 3600_000);
  const drawn = await Promise.all(
    widgets.map(async (widget) => {
      const properties = widget.properties || {};
      if (widget.type === "text") return h("div", { class: "panel widget", "data-type": "text" }, h("div", { class: "pre" }, properties.markdown || ""));
      if (widget.type !== "metric") return h("div", { class: "panel widget muted", "data-type": widget.type }, `${widget.type} widget: not drawn here`);
      const metrics = widgetMetrics(properties);
      const out = metrics.length
        ? await call("cloudwatch", "GetMetricData", {
            StartTime: start,
            EndTime: end,
            MetricDataQueries: metrics.map((m, i) => ({ Id: `m${i}`, Label: m.label, MetricStat: { Metric: { Namespace: m.Namespace, MetricName: m.MetricName, Dimensions: m.Dimensions }, Period: m.period, Stat: m.stat } })),
          })
        : { MetricDataResults: [] };
      const series = (out.MetricDataResults || []).map((r, i) => ({ label: (metrics[i] || {}).label || r.Label, points: r.Timestamps.map((t, j) => [t.getTime(), r.Values[j]]).sort((a, b) => a[0] - b[0]) }));
      return h("div", { class: "panel widget", "data-type": "metric" }, h("h3", properties.title || metrics.map((m) => m.MetricName).join(", ")), seriesChart(series, start.getTime(), end.getTime()));
    }),
  );
  return h("div", h("h3", name), drawn);
}

/** PutMetricAlarm on a metric, asked in a dialog (statistic, condition, periods, missing data, an SNS topic
 * to notify), then the alarm's page. */
async function createAlarm(metric, statistic, period) {
  const topics = await listAll("sns", "ListTopics", {}, "Topics", 500).catch(() => []);
  const name = input({ id: "alarm-name", value: `${metric.MetricName}-${(metric.Dimensions || []).map((d) => d.Value).join("-")}`.slice(0, 255) });
  const stat = select(["Average", "Sum", "Maximum", "Minimum", "SampleCount"], { id: "alarm-statistic", value: statistic });
  const operator = select([["GreaterThanOrEqualToThreshold", ">="], ["GreaterThanThreshold", ">"], ["LessThanThreshold", "<"], ["LessThanOrEqualToThreshold", "<="]], { id: "alarm-operator" });
  const threshold = input({ id: "alarm-threshold", type: "number", value: 1, style: { width: "7rem" } });
  const seconds = select([["60", "1 minute"], ["300", "5 minutes"], ["3600", "1 hour"]], { id: "alarm-period", value: String(Math.max(60, period)) });
  const periods = input({ id: "alarm-periods", type: "number", value: 1, min: 1, style: { width: "5rem" } });
  const missing = select(["missing", "notBreaching", "breaching", "ignore"], { id: "alarm-missing" });
  const topic = select([["", "no notification"], ...topics.map((t) => [t.TopicArn, t.TopicArn.split(":").pop()])], { id: "alarm-topic" });
  const content = h("div", field("Name", name), h("div", { class: "form-row" }, field("Statistic", stat), field("Condition", operator), field("Threshold", threshold)), h("div", { class: "form-row" }, field("Period", seconds), field("Periods to evaluate", periods), field("Missing data", missing)), field("Notify (in ALARM)", topic));
  const asked = await dialog(`An alarm on ${metric.MetricName}`, content, {
    ok: "Create",
    onOk: () => ({
      AlarmName: name.value.trim(),
      Namespace: metric.Namespace,
      MetricName: metric.MetricName,
      Dimensions: metric.Dimensions,
      Statistic: stat.value,
      ComparisonOperator: operator.value,
      Threshold: Number(threshold.value),
      Period: Number(seconds.value),
      EvaluationPeriods: Number(periods.value),
      TreatMissingData: missing.value,
      AlarmActions: topic.value ? [topic.value] : undefined,
    }),
  });
  if (!asked) return;
  await call("cloudwatch", "PutMetricAlarm", asked);
  toast(`Alarm ${asked.AlarmName} created`);
  go(["cloudwatch", "alarms", asked.AlarmName]);
}

// -- alarms ------------------------------------------------------------------------------------------------

function stateBadge(state) {
  return h("span", { class: ["badge", STATE_BADGES[state], "alarm-state"], "data-state": state }, state);
}

function conditionText(alarm) {
  const operators = { GreaterThanOrEqualToThreshold: ">=", GreaterThanThreshold: ">", LessThanThreshold: "<", LessThanOrEqualToThreshold: "<=" };
  const statistic = alarm.Statistic || alarm.ExtendedStatistic || (alarm.Metrics ? "expression" : "");
  const points = alarm.DatapointsToAlarm && alarm.DatapointsToAlarm !== alarm.EvaluationPeriods ? `${alarm.DatapointsToAlarm} of ${alarm.EvaluationPeriods}` : `${alarm.EvaluationPeriods}`;
  return `${statistic} ${operators[alarm.ComparisonOperator] || alarm.ComparisonOperator || ""} ${alarm.Threshold ?? ""} for ${points} × ${alarm.Period || ""} s`;
}

/** Every alarm (metric and composite), refreshed every 3 s and when the clock moves. */
async function alarms(ctx, onClock) {
  const body = h("div", { id: "alarms" });
  const draw = async () => {
    try {
      const out = await call("cloudwatch", "DescribeAlarms", { AlarmTypes: ["MetricAlarm", "CompositeAlarm"], MaxRecords: 100 });
      const rows = [...(out.MetricAlarms || []), ...(out.CompositeAlarms || []).map((a) => ({ ...a, Composite: true }))];
      mount(
        body,
        table(
          [
            { label: "Alarm", value: (a) => a.AlarmName },
            { label: "State", render: (a) => stateBadge(a.StateValue) },
            { label: "Since", value: (a) => fmtTime(a.StateUpdatedTimestamp) },
            { label: "Metric", value: (a) => (a.Composite ? `composite: ${a.AlarmRule}` : `${a.Namespace || ""} ${a.MetricName || ""} ${dimensionsText(a)}`) },
            { label: "Condition", value: (a) => (a.Composite ? "" : conditionText(a)) },
            { label: "Reason", value: (a) => a.StateReason },
          ],
          rows,
          { empty: "No alarm yet.", rowClass: () => "alarm-row", onRow: (a) => go(["cloudwatch", "alarms", a.AlarmName]) },
        ),
      );
    } catch (error) {
      mount(body, errorBox(error));
    }
  };
  await draw();
  const again = () => body.isConnected && draw(); // not while another tab shows
  ctx.every(3000, again);
  onClock.add(again);
  return body;
}

/** One alarm: its state and reason, its metric against the threshold over the last hours, its history
 * (configuration updates, state changes, actions), and a form to set its state (to try its actions). */
async function alarmDetail(name, ctx, onClock) {
  const head = h("div");
  const chart = h("div", { id: "alarm-chart" });
  const history = h("div", { id: "alarm-history" });
  let last = "";
  const draw = async () => {
    const out = await call("cloudwatch", "DescribeAlarms", { AlarmNames: [name], AlarmTypes: ["MetricAlarm", "CompositeAlarm"] });
    const alarm = [...(out.MetricAlarms || []), ...(out.CompositeAlarms || [])][0];
    if (!alarm) {
      mount(head, errorBox(new Error(`No alarm ${name}`)));
      return;
    }
    mount(
      head,
      h("h3", alarm.AlarmName, " ", stateBadge(alarm.StateValue)),
      h("p", { id: "alarm-reason" }, alarm.StateReason || ""),
      h("p", { class: "muted" }, alarm.AlarmRule ? `composite: ${alarm.AlarmRule}` : `${alarm.Namespace} ${alarm.MetricName} ${dimensionsText(alarm)} · ${conditionText(alarm)} · missing data: ${alarm.TreatMissingData || "missing"}`, alarm.ActionsEnabled === false ? " · actions disabled" : ""),
    );
    if (alarm.MetricName) {
      const end = new Date(virtualNow());
      const start = new Date(end.getTime() - 3 * 3600_000);
      const metric = { Namespace: alarm.Namespace, MetricName: alarm.MetricName, Dimensions: alarm.Dimensions, Period: alarm.Period };
      const { points } = await metricPoints(metric, alarm.Statistic || alarm.ExtendedStatistic, start, end);
      mount(chart, lineChart(points, start.getTime(), end.getTime(), { threshold: alarm.Threshold, key: alarm.MetricName }));
    }
    const { AlarmHistoryItems } = await call("cloudwatch", "DescribeAlarmHistory", { AlarmName: name, MaxRecords: 100, ScanBy: "TimestampDescending" });
    const items = AlarmHistoryItems || [];
    const seen = items.map((i) => `${i.Timestamp}${i.HistorySummary}`).join("|");
    if (seen === last) return;
    last = seen;
    mount(history, h("h3", "History"), table([{ label: "When", value: (i) => fmtTime(i.Timestamp) }, { label: "Type", value: (i) => i.HistoryItemType }, { label: "Summary", value: (i) => i.HistorySummary }], items, { empty: "No history yet.", rowClass: () => "history-row" }));
  };
  const safeDraw = () => draw().catch((error) => mount(head, errorBox(error)));
  await safeDraw();
  const again = () => head.isConnected && safeDraw();
  ctx.every(3000, again);
  onClock.add(again);
  const state = select(["ALARM", "OK", "INSUFFICIENT_DATA"], { id: "set-alarm-state" });
  const reason = input({ id: "set-alarm-reason", value: "set from the Overcast console" });
  const setState = button("Set state", async () => {
    await call("cloudwatch", "SetAlarmState", { AlarmName: name, StateValue: state.value, StateReason: reason.value });
    toast(`${name} set to ${state.value}`);
    await safeDraw();
  }, { id: "set-state" });
  return h(
    "div",
    h("p", h("a", { href: "#/cloudwatch/alarms" }, "← all alarms")),
    head,
    chart,
    h("details", { class: "panel" }, h("summary", "Set the state (the new state's actions run; the next evaluation sets it again)"), h("div", { class: "form-row" }, field("State", state), field("Reason", reason), setState)),
    history,
  );
}

