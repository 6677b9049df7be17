// Building blocks every view uses: tables, forms, tabs, dialogs, notices.

import { fmtValue, h, mount, pretty } from "./dom.js";

export function toast(message, kind = "info") {
  const area = document.getElementById("toasts");
  const note = h("div", { class: `toast ${kind}`, role: kind === "error" ? "alert" : "status" }, message);
  area.append(note);
  setTimeout(() => note.remove(), kind === "error" ? 8000 : 3500);
}

/** Wrap an async handler: its errors become notices, the button is disabled while it runs. */
export function safe(fn) {
  return async (event) => {
    const button = event && event.currentTarget instanceof HTMLButtonElement ? event.currentTarget : null;
    if (button) button.disabled = true;
    try {
      await fn(event);
    } catch (error) {
      toast(errorText(error), "error");
    } finally {
      if (button) button.disabled = false;
    }
  };
}

export function errorText(error) {
  if (error && error.code) return `${error.code}: ${error.message}`;
  return String(error && error.message ? error.message : error);
}

export function errorBox(error) {
  if (error && error.status === 501) {
    return h("div", { class: "notice" }, h("strong", "Not implemented in Overcast yet. "), `${error.service || ""} ${error.operation || ""} answers 501: this view fills in once the service lands.`);
  }
  return h("div", { class: "notice error" }, errorText(error));
}

export function button(label, onClick, props = {}) {
  return h("button", { type: "button", ...props, onClick: safe(onClick) }, label);
}

export function link(label, href, props = {}) {
  return h("a", { href, ...props }, label);
}

export function input(props = {}) {
  return h("input", { type: "text", ...props });
}

export function select(options, props = {}) {
  return h(
    "select",
    props,
    options.map((option) => {
      const [value, label] = Array.isArray(option) ? option : [option, option];
      return h("option", { value, selected: props.value === value }, label);
    }),
  );
}

export function field(label, control, hint) {
  return h("label", { class: "field" }, h("span", label), control, hint ? h("small", hint) : null);
}

export function textarea(props = {}) {
  return h("textarea", { spellcheck: "false", rows: 8, ...props });
}

export function jsonView(value) {
  return h("pre", { class: "json" }, typeof value === "string" ? value : pretty(value));
}

export function heading(title, ...actions) {
  return h("div", { class: "heading" }, h("h2", title), h("div", { class: "actions" }, actions));
}

export function loading(text = "Loading…") {
  return h("div", { class: "loading" }, text);
}

/**
 * A table: columns [{label, value(row), render(row)?}], rows; `onRow(row)` makes rows clickable.
 */
export function table(columns, rows, { onRow, empty = "Nothing here yet.", rowClass } = {}) {
  if (!rows.length) return h("div", { class: "empty" }, empty);
  return h(
    "table",
    { class: "grid" },
    h("thead", h("tr", columns.map((c) => h("th", c.label)))),
    h(
      "tbody",
      rows.map((row) =>
        h(
          "tr",
          { class: [onRow ? "clickable" : "", rowClass ? rowClass(row) : ""], onClick: onRow ? () => onRow(row) : undefined },
          columns.map((c) => h("td", c.render ? c.render(row) : fmtValue(c.value(row)))),
        ),
      ),
    ),
  );
}

/** Tabs: [{label, render(): Node | Promise<Node>}]; the first is shown. */
export function tabs(list, initial = 0) {
  const body = h("div", { class: "tab-body" });
  const bar = h("div", { class: "tabs", role: "tablist" });
  const show = async (index) => {
    bar.querySelectorAll("button").forEach((b, i) => b.classList.toggle("active", i === index));
    mount(body, loading());
    try {
      mount(body, await list[index].render());
    } catch (error) {
      mount(body, errorBox(error));
    }
  };
  list.forEach((tab, i) => bar.append(h("button", { type: "button", role: "tab", onClick: () => show(i) }, tab.label)));
  show(initial);
  return h("div", bar, body);
}

/** A dialog; resolves with the value `onOk` returns (null when cancelled). */
export function dialog(title, content, { ok = "OK", onOk } = {}) {
  return new Promise((resolve) => {
    const close = (value) => {
      backdrop.remove();
      resolve(value);
    };
    const okButton = button(ok, async () => close(onOk ? await onOk() : true), { class: "primary" });
    const backdrop = h(
      "div",
      { class: "backdrop" },
      h("div", { class: "dialog", role: "dialog", "aria-label": title }, h("h3", title), content, h("div", { class: "actions" }, h("button", { type: "button", onClick: () => close(null) }, "Cancel"), okButton)),
    );
    document.body.append(backdrop);
    const first = backdrop.querySelector("input, textarea, select");
    if (first) first.focus();
  });
}

/** A section that loads asynchronously and can reload itself. */
export function section(render) {
  const el = h("div", { class: "section" });
  const reload = async () => {
    try {
      mount(el, await render(reload));
    } catch (error) {
      mount(el, errorBox(error));
    }
  };
  mount(el, loading());
  reload();
  el.reload = reload;
  return el;
}

/** Ask for JSON in a text area; parse errors become notices. */
export function parseJson(text, what = "JSON") {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${what} is not valid JSON: ${error.message}`);
  }
}
