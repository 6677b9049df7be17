// The dashboard: one card per service with its resource count, and a search across resources (names seen
// while counting, and every tagged resource through the Resource Groups Tagging API).

import { call, listAll, loadModel, paginator } from "../aws.js";
import { CUSTOM_VIEWS, label, state } from "../app.js";
import { debounce, h, mount } from "../dom.js";
import { heading, input, table } from "../ui.js";

// service → [[label, operation, result path, item → name, input?], ...]
const COUNTERS = {
  s3: [["buckets", "ListBuckets", "Buckets", (b) => b.Name]],
  sqs: [["queues", "ListQueues", "QueueUrls", (u) => u.split("/").pop()]],
  sns: [["topics", "ListTopics", "Topics", (t) => t.TopicArn]],
  dynamodb: [["tables", "ListTables", "TableNames", (n) => n]],
  lambda: [["functions", "ListFunctions", "Functions", (f) => f.FunctionName]],
  logs: [["log groups", "DescribeLogGroups", "logGroups", (g) => g.logGroupName]],
  iam: [
    ["users", "ListUsers", "Users", (u) => u.UserName],
    ["roles", "ListRoles", "Roles", (r) => r.RoleName],
  ],
  stepfunctions: [["state machines", "ListStateMachines", "stateMachines", (m) => m.name]],
  kinesis: [["streams", "ListStreams", "StreamNames", (n) => n]],
  firehose: [["delivery streams", "ListDeliveryStreams", "DeliveryStreamNames", (n) => n]],
  kms: [["keys", "ListKeys", "Keys", (k) => k.KeyId]],
  secretsmanager: [["secrets", "ListSecrets", "SecretList", (s) => s.Name]],
  ssm: [["parameters", "DescribeParameters", "Parameters", (p) => p.Name]],
  events: [["rules", "ListRules", "Rules", (r) => r.Name]],
  scheduler: [["schedules", "ListSchedules", "Schedules", (s) => s.Name]],
  pipes: [["pipes", "ListPipes", "Pipes", (p) => p.Name]],
  cloudwatch: [["alarms", "DescribeAlarms", "MetricAlarms", (a) => a.AlarmName]],
  cloudtrail: [["trails", "DescribeTrails", "trailList", (t) => t.Name]],
  cloudformation: [["stacks", "DescribeStacks", "Stacks", (s) => s.StackName]],
  ec2: [
    ["VPCs", "DescribeVpcs", "Vpcs", (v) => v.VpcId],
    ["instances", "DescribeInstances", "Reservations", (r) => (r.Instances || []).map((i) => i.InstanceId).join(" ")],
  ],
  elbv2: [
    ["load balancers", "DescribeLoadBalancers", "LoadBalancers", (lb) => lb.LoadBalancerName],
    ["target groups", "DescribeTargetGroups", "TargetGroups", (tg) => tg.TargetGroupName],
  ],
  route53: [["hosted zones", "ListHostedZones", "HostedZones", (z) => z.Name]],
  "cognito-idp": [["user pools", "ListUserPools", "UserPools", (p) => p.Name, { MaxResults: 60 }]],
  "cognito-identity": [["identity pools", "ListIdentityPools", "IdentityPools", (p) => p.IdentityPoolName, { MaxResults: 60 }]],
  ecr: [["repositories", "DescribeRepositories", "repositories", (r) => r.repositoryName]],
  acm: [["certificates", "ListCertificates", "CertificateSummaryList", (c) => c.DomainName]],
  apigateway: [["REST APIs", "GetRestApis", "items", (a) => a.name]],
  apigatewayv2: [["APIs", "GetApis", "Items", (a) => a.Name]],
};
// Services with nothing to count, or nothing to list without naming a resource type (Cloud Control) or a
// connection (API Gateway's management API).
const UNCOUNTED = new Set(["sts", "resourcegroupstaggingapi", "s3control", "organizations", "dynamodbstreams", "cloudcontrol", "apigatewaymanagementapi"]);
const MAX_COUNTED = 1000;

/** A List operation of any service that needs no input: how a service without a counter is counted. */
async function guessCounter(service) {
  const model = await loadModel(service);
  for (const name of Object.keys(model.operations).sort()) {
    if (!name.startsWith("List") || !(model.implemented || []).includes(name)) continue;
    const op = model.operations[name];
    const shape = op.input ? model.shapes[op.input.shape] : null;
    if (shape && (shape.required || []).length) continue;
    const pager = await paginator(service, name);
    if (pager && pager.resultKeys.length) return [[name.replace(/^List/, "").toLowerCase(), name, pager.resultKeys[0], (x) => (typeof x === "string" ? x : JSON.stringify(x).slice(0, 80))]];
  }
  return [];
}

function href(service, name) {
  if (!name || name.startsWith("arn:")) return CUSTOM_VIEWS[service] ? `#/${service}` : `#/svc/${service}`;
  if (service === "s3") return `#/s3/${encodeURIComponent(name)}`;
  if (service === "sqs") return `#/sqs/${encodeURIComponent(name)}`;
  if (service === "lambda") return `#/lambda/${encodeURIComponent(name)}`;
  if (service === "dynamodb") return `#/dynamodb/${encodeURIComponent(name)}`;
  if (service === "logs") return `#/logs/${encodeURIComponent(name)}`;
  return CUSTOM_VIEWS[service] ? `#/${service}` : `#/svc/${service}`;
}

export default async function dashboard(el, route, ctx) {
  const found = []; // {service, kind, name} seen while counting
  const cards = h("div", { class: "cards" });
  const results = h("div");
  const search = input({ id: "search", type: "search", placeholder: "Search resources (names, ARNs, tags)…", size: 40 });
  mount(el, heading("Dashboard", search), results, cards);
  results.classList.add("search-results");

  const services = state.services.filter((s) => !UNCOUNTED.has(s.name)).sort((a, b) => label(a.name).localeCompare(label(b.name)));
  const cardOf = new Map();
  for (const service of services) {
    const count = h("div", { class: "count" }, service.state === "running" ? "…" : "0");
    const card = h("a", { class: ["card", service.state === "running" ? "" : "idle"], href: href(service.name, ""), dataset: { service: service.name } }, count, h("div", { class: "label" }, label(service.name)));
    cardOf.set(service.name, count);
    cards.append(card);
  }

  const showResults = debounce(async () => {
    const term = search.value.trim().toLowerCase();
    if (!term) {
      mount(results);
      return;
    }
    const matches = (r) =>
      r.name.toLowerCase().includes(term) ||
      r.service.includes(term) ||
      Object.entries(r.tags || {}).some(([k, v]) => `${k}=${v}`.toLowerCase().includes(term));
    const rows = found.filter(matches).slice(0, 200);
    mount(results, h("h3", `Resources matching “${search.value.trim()}”`), table(
      [
        { label: "Service", value: (r) => r.service },
        { label: "Kind", value: (r) => r.kind },
        { label: "Name", render: (r) => h("a", { href: href(r.service, r.name) }, r.name) },
        { label: "Tags", value: (r) => (r.tags ? Object.entries(r.tags).map(([k, v]) => `${k}=${v}`).join(", ") : "") },
      ],
      rows,
      { empty: "No resource matches." },
    ));
  }, 120);
  search.addEventListener("input", showResults);

  // Counts arrive as they come; the page is usable at once.
  const counting = services
    .filter((s) => s.state === "running")
    .map(async (service) => {
      const counters = COUNTERS[service.name] || (await guessCounter(service.name).catch(() => []));
      if (!counters.length) {
        mount(cardOf.get(service.name), "–");
        return;
      }
      const parts = [];
      for (const [label, operation, key, name, input = {}] of counters) {
        try {
          const items = await listAll(service.name, operation, input, key, MAX_COUNTED);
          for (const item of items) found.push({ service: service.name, kind: label, name: String(name(item)) });
          const kind = items.length === 1 ? label.replace(/s$/, "") : label;
          parts.push(`${items.length >= MAX_COUNTED ? `${MAX_COUNTED}+` : items.length}${counters.length > 1 ? ` ${kind}` : ""}`);
        } catch (error) {
          if (error.status !== 501) parts.push("?"); // a kind the service does not serve yet is left out
        }
      }
      const count = cardOf.get(service.name);
      count.classList.toggle("several", parts.length > 1);
      mount(count, parts.join(" · ") || "n/a");
    });
  const tagged = call("resourcegroupstaggingapi", "GetResources", { ResourcesPerPage: 100 })
    .then((out) => {
      for (const resource of out.ResourceTagMappingList || []) {
        const tags = Object.fromEntries((resource.Tags || []).map((t) => [t.Key, t.Value]));
        const service = resource.ResourceARN.split(":")[2];
        found.push({ service, kind: "tagged", name: resource.ResourceARN, tags });
      }
    })
    .catch(() => {});
  Promise.all([...counting, tagged]).then(() => {
    el.dataset.counted = "true";
    showResults();
  });
}
