// API Gateway (REST APIs): the APIs; an API's resources with their methods and integrations, its stages and
// where they answer, and a method tried two ways: TestInvokeMethod (API Gateway's own test, with its log) and
// a real request to a deployed stage (the same-origin path form of the invoke URL).

import { call, listAll } from "../aws.js";
import { h, mount } from "../dom.js";
import { button, field, heading, input, select, table, textarea } from "../ui.js";

const METHODS = ["ANY", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
const invokePath = (api, stage, path = "/") => `/_overcast/execute-api/${api}/${stage}${path}`;

export default async function apigateway(el, route) {
  const apiId = route.parts[1];
  if (apiId) return apiView(el, apiId);
  let apis;
  try {
    apis = await listAll("apigateway", "GetRestApis", {}, "items", 500);
  } catch (error) {
    if (error.status !== 501) throw error;
    mount(el, heading("API Gateway"), h("div", { class: "notice", id: "apigateway-unavailable" }, h("strong", "API Gateway is not served by this Overcast yet. "), "GetRestApis answers 501."));
    return;
  }
  mount(
    el,
    heading("API Gateway REST APIs"),
    table(
      [
        { label: "API", render: (a) => h("a", { href: `#/apigateway/${encodeURIComponent(a.id)}` }, a.name) },
        { label: "Id", value: (a) => a.id },
        { label: "Endpoint", value: (a) => ((a.endpointConfiguration || {}).types || []).join(", ") },
        { label: "Description", value: (a) => a.description || "" },
      ],
      apis,
      { empty: "No REST API yet." },
    ),
  );
}

async function apiView(el, apiId) {
  const [api, resources, stages] = await Promise.all([
    call("apigateway", "GetRestApi", { restApiId: apiId }),
    listAll("apigateway", "GetResources", { restApiId: apiId, embed: ["methods"] }, "items", 500),
    call("apigateway", "GetStages", { restApiId: apiId }).then((out) => out.item || []),
  ]);
  resources.sort((a, b) => a.path.localeCompare(b.path));
  const methodsOf = (resource) => Object.entries(resource.resourceMethods || {}).sort(([a], [b]) => METHODS.indexOf(a) - METHODS.indexOf(b));
  const choices = resources.flatMap((r) => methodsOf(r).map(([method]) => [`${r.id} ${method}`, `${method} ${r.path}`]));
  const chosen = select(choices, { id: "try-method" });
  const path = input({ id: "try-path", size: 36 });
  const body = textarea({ id: "try-body", rows: 4 });
  const stage = select(stages.map((s) => s.stageName), { id: "try-stage" });
  const out = h("div", { id: "try-result" });
  const current = () => {
    const [resourceId, method] = chosen.value.split(" ");
    return { resource: resources.find((r) => r.id === resourceId), method };
  };
  const fillPath = () => {
    path.value = current().resource ? current().resource.path : "/";
  };
  chosen.addEventListener("change", fillPath);
  if (choices.length) fillPath();
  const tryIt = async (how) => {
    const { resource, method } = current();
    const httpMethod = method === "ANY" ? "GET" : method;
    if (how === "test") {
      const answer = await call("apigateway", "TestInvokeMethod", { restApiId: apiId, resourceId: resource.id, httpMethod: method, pathWithQueryString: path.value, ...(body.value ? { body: body.value } : {}) });
      mount(out, h("p", h("span", { class: ["badge", answer.status < 400 ? "ok" : "bad"], id: "try-status" }, String(answer.status)), ` TestInvokeMethod · ${answer.latency} ms`), h("h3", "Body"), h("pre", { class: "json", id: "try-response" }, answer.body || ""), h("h3", "Log"), h("pre", { class: "logs" }, answer.log || ""));
      return;
    }
    const response = await fetch(invokePath(apiId, stage.value, path.value), { method: httpMethod, body: ["GET", "HEAD"].includes(httpMethod) ? undefined : body.value, cache: "no-store" });
    const text = await response.text();
    const headers = [...response.headers.entries()].map(([k, v]) => `${k}: ${v}`).join("\n");
    mount(out, h("p", h("span", { class: ["badge", response.ok ? "ok" : "bad"], id: "try-status" }, String(response.status)), ` ${httpMethod} ${invokePath(apiId, stage.value, path.value)}`), h("h3", "Body"), h("pre", { class: "json", id: "try-response" }, text), h("h3", "Headers"), h("pre", { class: "logs" }, headers));
  };
  mount(
    el,
    h("div", { class: "crumbs" }, h("a", { href: "#/apigateway" }, "REST APIs"), ` / ${api.name}`),
    heading(api.name, h("span", { class: "muted" }, `${api.id} · ${((api.endpointConfiguration || {}).types || []).join(", ")}`)),
    h("h3", "Resources"),
    table(
      [
        { label: "Path", value: (r) => r.path },
        {
          label: "Methods",
          render: (r) =>
            h(
              "span",
              methodsOf(r).map(([method, m]) => h("span", { class: "badge method", title: m.methodIntegration ? `${m.methodIntegration.type} ${m.methodIntegration.uri || ""}` : "" }, `${method}${m.methodIntegration ? ` → ${m.methodIntegration.type}` : ""}${m.authorizationType && m.authorizationType !== "NONE" ? ` (${m.authorizationType})` : ""}`)),
            ),
        },
      ],
      resources,
      { rowClass: () => "resource" },
    ),
    h("h3", "Stages"),
    table(
      [
        { label: "Stage", value: (s) => s.stageName },
        { label: "Deployment", value: (s) => s.deploymentId },
        { label: "Invoke URL", render: (s) => h("code", `http://${api.id}.execute-api.localhost:${location.port || 80}/${s.stageName}/`) },
        { label: "From this page", render: (s) => h("code", { class: "invoke-path" }, invokePath(api.id, s.stageName)) },
      ],
      stages,
      { empty: "Not deployed yet.", rowClass: () => "stage" },
    ),
    choices.length
      ? h(
          "div",
          { class: "panel" },
          h("h3", "Try a method"),
          h("div", { class: "form-row" }, field("Method", chosen), field("Path and query", path), stages.length ? field("Stage", stage) : null),
          field("Body", body),
          h("div", { class: "form-row" }, button("Test (TestInvokeMethod)", () => tryIt("test"), { id: "try-test" }), stages.length ? button("Send to the stage", () => tryIt("stage"), { class: "primary", id: "try-send" }) : null),
          out,
        )
      : null,
  );
}
