// The live request log: the calls Overcast answered (the terminal's log), polled every second from
// /_overcast/requests, filtered by service, operation, status and principal; a call's parsed request and
// response on a click, while Overcast keeps them (the most recent calls).

import { internal } from "../aws.js";
import { debounce, fmtTime, h, mount } from "../dom.js";
import { errorBox, heading, input, jsonView, loading, select, table } from "../ui.js";

const KEPT = 1000;

export default async function requests(el, route, ctx) {
  const filters = {
    service: input({ id: "filter-service", placeholder: "service", size: 12, value: route.query.get("service") || "" }),
    operation: input({ id: "filter-operation", placeholder: "operation", size: 16 }),
    status: select([["", "any status"], ["2xx", "2xx"], ["4xx", "4xx"], ["5xx", "5xx"], ["error", "errors"]], { id: "filter-status" }),
    principal: input({ id: "filter-principal", placeholder: "principal", size: 18 }),
  };
  const ownCalls = h("input", { type: "checkbox", id: "show-console", checked: false });
  const list = h("div", { id: "request-list" });
  const detail = h("div", { id: "request-detail" });
  let entries = [];
  let last = 0;
  let selected = null;

  const query = () => {
    const params = new URLSearchParams();
    for (const [name, control] of Object.entries(filters)) if (control.value.trim()) params.set(name, control.value.trim());
    return params;
  };
  const render = () => {
    const shown = entries.filter((e) => ownCalls.checked || !e.agent.startsWith("overcast-console")).slice().reverse();
    mount(
      list,
      table(
        [
          { label: "#", value: (e) => e.seq },
          { label: "Time (wall clock)", value: (e) => fmtTime(e.time).slice(11) },
          { label: "Call", render: (e) => h("span", { class: "mono" }, e.service ? `${e.service}.${e.operation}` : "(unrouted)") },
          { label: "Status", render: (e) => h("span", { class: ["badge", e.status < 400 ? "ok" : "bad"] }, e.status) },
          { label: "ms", value: (e) => e.millis.toFixed(1) },
          { label: "Principal", value: (e) => e.principal },
          { label: "Where", value: (e) => `${e.account} ${e.region}` },
          { label: "Error", value: (e) => e.error },
          { label: "Client", value: (e) => e.agent },
        ],
        shown,
        { onRow: showDetail, empty: "No call yet (or none matches).", rowClass: (e) => [e.status >= 400 ? "status-error" : "", selected === e.seq ? "selected" : ""].join(" ") },
      ),
    );
  };
  const poll = async (fresh = false) => {
    if (fresh) {
      entries = [];
      last = 0;
    }
    try {
      const params = query();
      params.set("after", String(last));
      const answer = await internal(`/_overcast/requests?${params}`);
      if (answer.entries.length || fresh) {
        entries = entries.concat(answer.entries).slice(-KEPT);
        render();
      }
      last = Math.max(last, answer.last);
    } catch (error) {
      mount(list, errorBox(error));
    }
  };
  async function showDetail(entry) {
    selected = entry.seq;
    render();
    mount(detail, loading());
    try {
      const call = await internal(`/_overcast/requests/${entry.seq}`);
      mount(detail, h("h3", `#${entry.seq} ${entry.service}.${entry.operation} → ${entry.status}`), h("div", { class: "split" }, h("div", h("strong", "Request"), jsonView(call.request)), h("div", h("strong", "Response"), jsonView(call.response))));
    } catch (error) {
      mount(detail, h("div", { class: "notice" }, `The request and response of #${entry.seq} are not kept: Overcast keeps them for the most recent calls made while the log is open.`));
    }
  }

  const refilter = debounce(() => poll(true), 200);
  for (const control of Object.values(filters)) control.addEventListener(control.tagName === "SELECT" ? "change" : "input", refilter);
  ownCalls.addEventListener("change", render);
  mount(
    el,
    heading("Request log"),
    h("div", { class: "toolbar" }, Object.values(filters), h("label", ownCalls, " the console's own calls")),
    detail,
    list,
  );
  await poll(true);
  ctx.every(1000, () => poll());
}
