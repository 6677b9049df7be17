// The console's shell: the account, region and credentials it signs with, the virtual clock, the
// navigation, and a hash router that loads each view's module when it is first opened.

import { AwsError, call, internal, session } from "./aws.js";
import { fmtTime, h, mount } from "./dom.js";
import { button, dialog, errorBox, field, input, loading, select, toast } from "./ui.js";

const REGIONS = [
  "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "eu-west-1", "eu-west-2", "eu-west-3",
  "eu-central-1", "eu-north-1", "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-southeast-1", "ap-southeast-2",
  "sa-east-1",
];

// Services with a page of their own; every other one gets the generic, model-driven views.
export const CUSTOM_VIEWS = {
  s3: ["S3", "./views/s3.js"],
  sqs: ["SQS", "./views/sqs.js"],
  sns: ["SNS", "./views/sns.js"],
  dynamodb: ["DynamoDB", "./views/dynamodb.js"],
  lambda: ["Lambda", "./views/lambda.js"],
  logs: ["CloudWatch Logs", "./views/logs.js"],
  iam: ["IAM", "./views/iam.js"],
  stepfunctions: ["Step Functions", "./views/stepfunctions.js"],
  kinesis: ["Kinesis", "./views/kinesis.js"],
  events: ["EventBridge", "./views/events.js"],
  cloudwatch: ["CloudWatch metrics", "./views/cloudwatch.js"],
  ec2: ["EC2 / VPC", "./views/ec2.js"],
  autoscaling: ["Auto Scaling", "./views/autoscaling.js"],
  cloudformation: ["CloudFormation", "./views/cloudformation.js"],
  elbv2: ["ELB", "./views/elbv2.js"],
  route53: ["Route 53", "./views/route53.js"],
  "cognito-idp": ["Cognito", "./views/cognito.js"],
  apigateway: ["API Gateway", "./views/apigateway.js"],
};
// How the services without a page of their own are named in the navigation and on the dashboard.
const LABELS = {
  cloudtrail: "CloudTrail", dynamodbstreams: "DynamoDB Streams", firehose: "Firehose", kms: "KMS",
  organizations: "Organizations", pipes: "EventBridge Pipes", resourcegroupstaggingapi: "Tagging API",
  s3control: "S3 Control", scheduler: "EventBridge Scheduler", secretsmanager: "Secrets Manager",
  ssm: "SSM Parameter Store", sts: "STS", ec2: "EC2", cognito_idp: "Cognito", apigateway: "API Gateway",
  cloudformation: "CloudFormation", route53: "Route 53", elbv2: "ELB", acm: "Certificate Manager",
  cloudcontrol: "Cloud Control", cognito_identity: "Cognito identity pools", ecr: "ECR",
  apigatewayv2: "API Gateway v2 (HTTP, WebSocket)", apigatewaymanagementapi: "API Gateway connections",
};

export function label(service) {
  return (CUSTOM_VIEWS[service] || [])[0] || LABELS[service.replace(/-/g, "_")] || service;
}

const PAGES = {
  "": "./views/dashboard.js",
  requests: "./views/requests.js",
  svc: "./views/generic.js",
};

const STORAGE = "overcast.console";
export const state = { config: null, services: [], clock: null };

function saved() {
  try {
    return JSON.parse(localStorage.getItem(STORAGE) || "{}");
  } catch {
    return {};
  }
}

function save(patch) {
  localStorage.setItem(STORAGE, JSON.stringify({ ...saved(), ...patch }));
}

/** Sign as the root of `account` (outside --iam enforce), or with the credentials the person entered. */
function useAccount(account) {
  const config = state.config;
  session.account = account;
  if (config.credentials) {
    const own = account === config.account;
    session.credentials = {
      accessKeyId: own ? config.credentials.accessKeyId : account,
      secretAccessKey: config.credentials.secretAccessKey,
    };
  }
}

async function askCredentials() {
  const keyId = input({ name: "accessKeyId", autocomplete: "off" });
  const secret = input({ name: "secretAccessKey", type: "password", autocomplete: "off" });
  const token = input({ name: "sessionToken", autocomplete: "off" });
  const entered = await dialog(
    "Credentials",
    h(
      "div",
      h("p", "Overcast runs with --iam enforce: the console signs with credentials you enter (the root's, or an IAM user's). They stay in this browser's session storage."),
      field("Access key id", keyId),
      field("Secret access key", secret),
      field("Session token (optional)", token),
    ),
    { ok: "Use", onOk: () => ({ accessKeyId: keyId.value.trim(), secretAccessKey: secret.value, sessionToken: token.value.trim() || undefined }) },
  );
  if (!entered || !entered.accessKeyId) return false;
  session.credentials = entered;
  sessionStorage.setItem(`${STORAGE}.credentials`, JSON.stringify(entered));
  try {
    const identity = await call("sts", "GetCallerIdentity");
    session.account = identity.Account;
    toast(`Signed in as ${identity.Arn}`);
  } catch (error) {
    toast(`These credentials do not work: ${error.code || error.message}`, "error");
  }
  renderHeader();
  route();
  return true;
}

// -- header: account, region, clock ---------------------------------------------------------------------------

function clockText() {
  const clock = state.clock;
  if (!clock) return "";
  const offset = clock.offset_seconds;
  const ahead = Math.abs(offset) < 1 ? "real time" : `${offset > 0 ? "+" : "-"}${duration(Math.abs(offset))}`;
  return `${fmtTime(clock.epoch)} (${ahead})`;
}

function duration(seconds) {
  const parts = [];
  for (const [unit, size] of [["d", 86400], ["h", 3600], ["m", 60], ["s", 1]]) {
    if (seconds >= size) {
      parts.push(`${Math.floor(seconds / size)}${unit}`);
      seconds %= size;
    }
  }
  return parts.slice(0, 2).join(" ") || "0s";
}

export async function refreshClock() {
  try {
    state.clock = await internal("/_overcast/clock");
    session.clockOffset = state.clock.offset_seconds;
  } catch {
    /* the next poll tries again */
  }
  const el = document.getElementById("clock-now");
  if (el) el.textContent = clockText();
}

export async function advanceClock(amount) {
  state.clock = await internal("/_overcast/clock", { method: "POST", body: { advance: amount } });
  session.clockOffset = state.clock.offset_seconds;
  document.getElementById("clock-now").textContent = clockText();
  toast(`Clock advanced ${amount}`);
  window.dispatchEvent(new CustomEvent("overcast:clock"));
}

function renderHeader() {
  const config = state.config;
  const accountInput = input({
    id: "account",
    value: session.account,
    size: 13,
    maxlength: 12,
    pattern: "\\d{12}",
    title: "Account id (12 digits): the console acts as its root",
    disabled: !config.credentials,
  });
  accountInput.addEventListener("change", () => {
    const account = accountInput.value.trim();
    if (!/^\d{12}$/.test(account)) {
      toast("An account id is 12 digits", "error");
      accountInput.value = session.account;
      return;
    }
    useAccount(account);
    save({ account });
    route();
  });
  const regionSelect = select(REGIONS.includes(session.region) ? REGIONS : [session.region, ...REGIONS], { id: "region", value: session.region });
  regionSelect.addEventListener("change", () => {
    session.region = regionSelect.value;
    save({ region: session.region });
    route();
  });
  const custom = input({ id: "clock-amount", placeholder: "2h30m", size: 6, title: "advance by (90s, 15m, 3d, 1d12h)" });
  mount(
    document.getElementById("header"),
    h("a", { class: "brand", href: "#/" }, "Overcast"),
    h("label", { class: "picker" }, "Account ", accountInput),
    h("label", { class: "picker" }, "Region ", regionSelect),
    h(
      "div",
      { class: "clock" },
      h("span", { title: "Overcast's virtual clock" }, "Clock "),
      h("strong", { id: "clock-now" }, clockText()),
      ["1m", "15m", "1h", "1d"].map((amount) => button(`+${amount}`, () => advanceClock(amount), { class: "small", "data-advance": amount })),
      custom,
      button("Advance", async () => {
        if (custom.value.trim()) await advanceClock(custom.value.trim());
      }, { class: "small" }),
    ),
    h(
      "span",
      { class: "iam-mode", title: "Overcast's IAM mode" },
      `IAM ${config.iam}`,
      config.credentials ? null : button("Credentials", askCredentials, { class: "small" }),
    ),
  );
}

function renderNav() {
  const running = new Map(state.services.map((s) => [s.name, s.state]));
  const entry = (href, label, name) =>
    h("a", { href, class: "nav-item", dataset: { name: name || label } }, label, name && running.get(name) === "running" ? h("span", { class: "dot", title: "running" }) : null);
  const custom = Object.entries(CUSTOM_VIEWS).map(([name, [label]]) => entry(`#/${name}`, label, name));
  const generic = state.services.filter((s) => !CUSTOM_VIEWS[s.name]).map((s) => entry(`#/svc/${s.name}`, label(s.name), s.name));
  mount(
    document.getElementById("nav"),
    entry("#/", "Dashboard"),
    entry("#/requests", "Request log"),
    h("div", { class: "nav-title" }, "Services"),
    custom,
    h("div", { class: "nav-title" }, "More services"),
    generic,
  );
}

// -- routing ----------------------------------------------------------------------------------------------

let leaving = [];

export function parseHash() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, query] = raw.split("?");
  return { parts: path ? path.split("/").map(decodeURIComponent) : [], query: new URLSearchParams(query || "") };
}

export function go(parts, query) {
  const path = parts.map((p) => encodeURIComponent(p)).join("/");
  const search = query ? new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined && v !== null && v !== "")).toString() : "";
  location.hash = `#/${path}${search ? `?${search}` : ""}`;
}

async function route() {
  for (const fn of leaving) fn();
  leaving = [];
  const current = parseHash();
  const view = document.getElementById("view");
  const name = current.parts[0] || "";
  document.querySelectorAll("#nav .nav-item").forEach((a) => a.classList.toggle("active", a.getAttribute("href") === `#/${name === "svc" ? `svc/${current.parts[1]}` : name}`));
  const module = CUSTOM_VIEWS[name] ? CUSTOM_VIEWS[name][1] : PAGES[name];
  if (!module) {
    mount(view, errorBox(new Error(`no page ${location.hash}`)));
    return;
  }
  if (!session.credentials) {
    mount(view, h("div", { class: "notice" }, "Enter credentials to start (button at the top right)."));
    return;
  }
  mount(view, loading());
  const ctx = {
    onLeave: (fn) => leaving.push(fn),
    every: (ms, fn) => {
      const timer = setInterval(fn, ms);
      leaving.push(() => clearInterval(timer));
    },
    state,
  };
  try {
    const { default: render } = await import(module);
    await render(view, current, ctx);
  } catch (error) {
    if (!(error instanceof AwsError)) console.warn(error);
    mount(view, errorBox(error));
  }
}

// -- start ------------------------------------------------------------------------------------------------

async function start() {
  const clock = refreshClock();
  const [config, services] = await Promise.all([internal("api/config"), internal("api/services")]);
  state.config = config;
  state.services = services.services;
  session.version = config.version;
  const remembered = saved();
  session.region = remembered.region || config.region;
  if (config.credentials) {
    useAccount(/^\d{12}$/.test(remembered.account || "") ? remembered.account : config.account);
  } else {
    const stored = sessionStorage.getItem(`${STORAGE}.credentials`);
    if (stored) session.credentials = JSON.parse(stored);
    session.account = remembered.account || config.account;
  }
  await clock;
  renderHeader();
  renderNav();
  setInterval(refreshClock, 5000);
  window.addEventListener("hashchange", route);
  await route();
  document.body.dataset.ready = "true";
  document.body.dataset.readyMs = String(Math.round(performance.now()));
  if (!session.credentials) askCredentials();
}

start().catch((error) => {
  mount(document.getElementById("view"), errorBox(error));
});

