// EventBridge: event buses, their rules with patterns or schedules and targets, and sending a test event.

import { call, listAll } from "../aws.js";
import { h, mount } from "../dom.js";
import { button, field, heading, input, jsonView, loading, parseJson, section, select, table, textarea, toast } from "../ui.js";

export default async function events(el, route) {
  const buses = await listAll("events", "ListEventBuses", {}, "EventBuses", 200);
  const bus = route.query.get("bus") || "default";
  const picker = select(buses.map((b) => b.Name), { value: bus });
  picker.addEventListener("change", () => (location.hash = `#/events?bus=${encodeURIComponent(picker.value)}`));
  const detail = h("div");
  const rules = section(async () => {
    const items = await listAll("events", "ListRules", { EventBusName: bus }, "Rules", 1000);
    return table(
      [
        { label: "Rule", value: (r) => r.Name },
        { label: "State", value: (r) => r.State },
        { label: "Pattern or schedule", value: (r) => r.ScheduleExpression || r.EventPattern },
      ],
      items,
      {
        empty: "No rule on this bus.",
        onRow: async (rule) => {
          mount(detail, loading());
          const targets = await listAll("events", "ListTargetsByRule", { Rule: rule.Name, EventBusName: bus }, "Targets", 100);
          mount(
            detail,
            h("h3", rule.Name),
            rule.EventPattern ? jsonView(JSON.parse(rule.EventPattern)) : h("p", rule.ScheduleExpression),
            table([{ label: "Target", value: (t) => t.Id }, { label: "ARN", value: (t) => t.Arn }, { label: "Input", value: (t) => t.Input || t.InputPath || "" }], targets, { empty: "No target." }),
          );
        },
      },
    );
  });
  const source = input({ size: 20, value: "my.app" });
  const type = input({ size: 20, value: "Something happened" });
  const body = textarea({ rows: 4, value: '{\n  "id": 1\n}' });
  mount(
    el,
    heading("EventBridge", h("label", "Bus ", picker)),
    rules,
    detail,
    h("div", { class: "panel" }, h("h3", "Send an event"), h("div", { class: "form-row" }, field("Source", source), field("Detail type", type)), field("Detail", body), button("Put event", async () => {
      const out = await call("events", "PutEvents", { Entries: [{ EventBusName: bus, Source: source.value, DetailType: type.value, Detail: JSON.stringify(parseJson(body.value, "The detail")) }] });
      if (out.FailedEntryCount) throw new Error(out.Entries[0].ErrorMessage);
      toast(`Event ${out.Entries[0].EventId} sent`);
    }, { class: "primary" })),
  );
}
