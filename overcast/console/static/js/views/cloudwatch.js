// CloudWatch: metrics by namespace, drawn as SVG line charts (GetMetricData over a window of the virtual
// clock), and alarms with their states.

import { call, listAll } from "../aws.js";
import { fmtTime, h, mount, s } from "../dom.js";
import { heading, loading, section, select, table, tabs } from "../ui.js";
import { virtualNow } from "./logs.js";

const W = 720;
const H = 220;
const PAD = { left: 56, right: 16, top: 14, bottom: 28 };

export default async function cloudwatch(el) {
  mount(el, heading("CloudWatch"), tabs([{ label: "Metrics", render: metrics }, { label: "Alarms", render: () => section(alarms) }]));
}

function dimensionsText(metric) {
  return (metric.Dimensions || []).map((d) => `${d.Name}=${d.Value}`).join(", ");
}

async function metrics() {
  const all = await listAll("cloudwatch", "ListMetrics", {}, "Metrics", 2000);
  if (!all.length) return h("p", { class: "muted" }, "No metric yet: services publish theirs as they are used, and PutMetricData adds your own.");
  const namespaces = [...new Set(all.map((m) => m.Namespace))].sort();
  const namespace = select(namespaces, { id: "metric-namespace" });
  const stat = select(["Sum", "Average", "Maximum", "Minimum", "SampleCount"], { id: "metric-stat" });
  const hours = select([["1", "1 hour"], ["3", "3 hours"], ["24", "1 day"], ["168", "1 week"]], { value: "3", id: "metric-window" });
  const list = h("div");
  const chart = h("div", { id: "metric-chart" });
  let chosen = null;
  const draw = async () => {
    if (!chosen) return;
    mount(chart, loading());
    const end = new Date(virtualNow());
    const start = new Date(end.getTime() - Number(hours.value) * 3600_000);
    const period = Number(hours.value) <= 3 ? 60 : Number(hours.value) <= 24 ? 300 : 3600;
    const out = await call("cloudwatch", "GetMetricData", {
      StartTime: start,
      EndTime: end,
      MetricDataQueries: [{ Id: "m0", MetricStat: { Metric: { Namespace: chosen.Namespace, MetricName: chosen.MetricName, Dimensions: chosen.Dimensions }, Period: period, Stat: stat.value } }],
    });
    const result = (out.MetricDataResults || [])[0] || { Timestamps: [], Values: [] };
    const points = result.Timestamps.map((t, i) => [t.getTime(), result.Values[i]]).sort((a, b) => a[0] - b[0]);
    mount(chart, h("h3", `${chosen.MetricName} (${stat.value}, ${period} s)`, h("span", { class: "muted" }, ` ${dimensionsText(chosen)}`)), lineChart(points, start.getTime(), end.getTime()));
  };
  const showList = () => {
    const rows = all.filter((m) => m.Namespace === namespace.value);
    mount(list, table([{ label: "Metric", value: (m) => m.MetricName }, { label: "Dimensions", value: dimensionsText }], rows, {
      onRow: (m) => {
        chosen = m;
        draw();
      },
    }));
  };
  namespace.addEventListener("change", () => {
    showList();
    chosen = all.find((m) => m.Namespace === namespace.value);
    draw();
  });
  stat.addEventListener("change", draw);
  hours.addEventListener("change", draw);
  showList();
  chosen = all.find((m) => m.Namespace === namespace.value);
  draw();
  return h("div", h("div", { class: "toolbar" }, "Namespace ", namespace, " Statistic ", stat, " Window ", hours), chart, list);
}

/** A line chart of [time ms, value] points between `from` and `to`, in plain SVG. */
export function lineChart(points, from, to) {
  const values = points.map((p) => p[1]);
  const high = Math.max(1, ...values);
  const low = Math.min(0, ...values);
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
  const path = points.map(([t, v], i) => `${i ? "L" : "M"}${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
  return s(
    "svg",
    { class: "chart", width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: "img" },
    grid,
    ticks,
    points.length ? s("path", { d: path, fill: "none", stroke: "#1f6fb2", "stroke-width": 2 }) : s("text", { x: W / 2, y: H / 2, "text-anchor": "middle" }, "no data points in this window"),
    points.map(([t, v]) => s("circle", { cx: x(t), cy: y(v), r: 3, fill: "#1f6fb2" }, s("title", `${fmtTime(new Date(t))}: ${v}`))),
  );
}

async function alarms() {
  const out = await call("cloudwatch", "DescribeAlarms", { MaxRecords: 100 });
  return table(
    [
      { label: "Alarm", value: (a) => a.AlarmName },
      { label: "State", render: (a) => h("span", { class: ["badge", a.StateValue === "OK" ? "ok" : a.StateValue === "ALARM" ? "bad" : ""] }, a.StateValue) },
      { label: "Metric", value: (a) => `${a.Namespace || ""} ${a.MetricName || ""}` },
      { label: "Condition", value: (a) => `${a.Statistic || ""} ${a.ComparisonOperator || ""} ${a.Threshold ?? ""}` },
      { label: "Reason", value: (a) => a.StateReason },
    ],
    out.MetricAlarms || [],
    { empty: "No alarm yet." },
  );
}
