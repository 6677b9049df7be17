// SQS: queues with their counters; a queue's messages peeked without changing their visibility (Overcast's
// /_overcast/sqs/messages); send; purge; redrive a dead-letter queue back to its sources.

import { call, internal, listAll, session } from "../aws.js";
import { fmtTime, h, mount } from "../dom.js";
import { button, field, heading, input, jsonView, loading, section, select, table, tabs, textarea, toast } from "../ui.js";

const COUNTERS = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"];

export default async function sqs(el, route, ctx) {
  const name = route.parts[1];
  if (!name) return queues(el);
  return queue(el, name, ctx);
}

async function queues(el) {
  const name = input({ id: "new-queue", placeholder: "queue-name", size: 26 });
  const fifo = h("input", { type: "checkbox", id: "new-queue-fifo" });
  const list = section(async () => {
    const urls = await listAll("sqs", "ListQueues", { MaxResults: 1000 }, "QueueUrls", 1000);
    const rows = await Promise.all(
      urls.map(async (url) => {
        const out = await call("sqs", "GetQueueAttributes", { QueueUrl: url, AttributeNames: ["All"] }).catch(() => ({ Attributes: {} }));
        return { url, name: url.split("/").pop(), attributes: out.Attributes || {} };
      }),
    );
    return table(
      [
        { label: "Queue", render: (q) => h("a", { href: `#/sqs/${encodeURIComponent(q.name)}` }, q.name) },
        { label: "Available", value: (q) => q.attributes.ApproximateNumberOfMessages },
        { label: "In flight", value: (q) => q.attributes.ApproximateNumberOfMessagesNotVisible },
        { label: "Delayed", value: (q) => q.attributes.ApproximateNumberOfMessagesDelayed },
        { label: "Type", value: (q) => (q.attributes.FifoQueue === "true" ? "FIFO" : "Standard") },
        { label: "Dead-letter queue", value: (q) => (q.attributes.RedrivePolicy ? JSON.parse(q.attributes.RedrivePolicy).deadLetterTargetArn.split(":").pop() : "") },
      ],
      rows,
      { empty: "No queue yet." },
    );
  });
  mount(
    el,
    heading("SQS queues", button("Refresh", () => list.reload())),
    h("div", { class: "toolbar" }, name, h("label", fifo, " FIFO"), button("Create queue", async () => {
      let queueName = name.value.trim();
      if (!queueName) throw new Error("Name the queue first");
      const attributes = {};
      if (fifo.checked) {
        if (!queueName.endsWith(".fifo")) queueName += ".fifo";
        attributes.FifoQueue = "true";
      }
      await call("sqs", "CreateQueue", { QueueName: queueName, Attributes: attributes });
      toast(`Queue ${queueName} created`);
      name.value = "";
      list.reload();
    }, { class: "primary", id: "create-queue" })),
    list,
  );
}

async function queue(el, name, ctx) {
  const { QueueUrl: url } = await call("sqs", "GetQueueUrl", { QueueName: name });
  const counters = h("div", { class: "cards", id: "queue-counters" });
  const refreshCounters = async () => {
    const { Attributes: a } = await call("sqs", "GetQueueAttributes", { QueueUrl: url, AttributeNames: ["All"] });
    mount(counters, COUNTERS.map((key) => h("div", { class: "card", dataset: { counter: key } }, h("div", { class: "count" }, a[key]), h("div", { class: "label" }, key.replace("ApproximateNumberOfMessages", "messages ").replace("messages NotVisible", "in flight").replace("messages Delayed", "delayed").trim() || "available"))));
    return a;
  };
  const attributes = await refreshCounters();
  const messages = h("div", { id: "peek" });
  const refreshMessages = () => peek(messages, url);
  ctx.every(2000, () => {
    refreshCounters().catch(() => {});
    if (messages.isConnected) refreshMessages();
  });
  const onClock = () => {
    refreshCounters().catch(() => {});
    refreshMessages();
  };
  window.addEventListener("overcast:clock", onClock);
  ctx.onLeave(() => window.removeEventListener("overcast:clock", onClock));
  mount(
    el,
    h("div", { class: "crumbs" }, h("a", { href: "#/sqs" }, "Queues"), ` / ${name}`),
    heading(name, button("Purge", async () => {
      await call("sqs", "PurgeQueue", { QueueUrl: url });
      toast(`Purged ${name}`);
      onClock();
    }, { class: "danger" })),
    counters,
    tabs([
      {
        label: "Messages",
        render: () => {
          refreshMessages();
          return messages;
        },
      },
      { label: "Send", render: () => sendForm(url, attributes, onClock) },
      { label: "Redrive", render: () => redrive(url, attributes) },
      { label: "Attributes", render: () => jsonView(attributes) },
    ]),
  );
}

async function peek(el, url) {
  if (!el.childElementCount) mount(el, loading());
  const params = new URLSearchParams({ queue: url, account: session.account, region: session.region, limit: "100" });
  const answer = await internal(`/_overcast/sqs/messages?${params}`).catch((error) => ({ error }));
  if (answer.error) {
    mount(el, h("div", { class: "notice error" }, String(answer.error.message || answer.error)));
    return;
  }
  mount(
    el,
    h("p", { class: "muted" }, "Peeking does not receive: visibility and receive counts stay as they are."),
    table(
      [
        { label: "Message id", render: (m) => h("span", { class: "mono" }, m.MessageId) },
        { label: "Body", render: (m) => h("span", { class: "mono message-body" }, m.Body.length > 300 ? `${m.Body.slice(0, 300)}…` : m.Body) },
        { label: "State", render: (m) => h("span", { class: ["badge", m.State.replace(" ", "-")], dataset: { state: m.State } }, m.State) },
        { label: "Receives", value: (m) => m.ReceiveCount },
        { label: "Visible at", value: (m) => fmtTime(m.VisibleAt) },
        { label: "Sent", value: (m) => fmtTime(m.SentAt) },
        { label: "Group", value: (m) => m.MessageGroupId || "" },
      ],
      answer.messages,
      { empty: "The queue is empty." },
    ),
    answer.next ? h("p", { class: "muted" }, "Showing the first 100 messages.") : null,
  );
}

function sendForm(url, attributes, done) {
  const body = textarea({ rows: 6, id: "send-body", placeholder: "message body" });
  const delay = input({ id: "send-delay", size: 5, placeholder: "0" });
  const group = input({ id: "send-group", size: 14 });
  const fifo = attributes.FifoQueue === "true";
  return h(
    "div",
    { class: "panel" },
    field("Body", body),
    h("div", { class: "form-row" }, fifo ? field("Message group id", group) : field("Delay seconds", delay)),
    button("Send message", async () => {
      const input = { QueueUrl: url, MessageBody: body.value };
      if (fifo) {
        input.MessageGroupId = group.value || "default";
        if (attributes.ContentBasedDeduplication !== "true") input.MessageDeduplicationId = crypto.randomUUID ? crypto.randomUUID() : String(Date.now());
      } else if (delay.value.trim()) input.DelaySeconds = Number(delay.value);
      const out = await call("sqs", "SendMessage", input);
      toast(`Sent ${out.MessageId}`);
      body.value = "";
      done();
    }, { class: "primary", id: "send-message" }),
  );
}

async function redrive(url, attributes) {
  const arn = attributes.QueueArn;
  const sources = await listAll("sqs", "ListDeadLetterSourceQueues", { QueueUrl: url, MaxResults: 1000 }, "queueUrls", 1000);
  const tasks = await call("sqs", "ListMessageMoveTasks", { SourceArn: arn }).catch(() => ({ Results: [] }));
  const destination = select([["", "each message's source queue"], ...sources.map((u) => [u, u.split("/").pop()])], { id: "redrive-destination" });
  return h(
    "div",
    { class: "panel" },
    sources.length
      ? h("p", `This queue is the dead-letter queue of ${sources.map((u) => u.split("/").pop()).join(", ")}.`)
      : h("p", { class: "muted" }, "No queue names this one as its dead-letter queue; a redrive needs a destination."),
    field("Move messages to", destination),
    button("Start redrive", async () => {
      const input = { SourceArn: arn };
      if (destination.value) {
        const { Attributes } = await call("sqs", "GetQueueAttributes", { QueueUrl: destination.value, AttributeNames: ["QueueArn"] });
        input.DestinationArn = Attributes.QueueArn;
      }
      const out = await call("sqs", "StartMessageMoveTask", input);
      toast(`Redrive started (${out.TaskHandle.slice(0, 16)}…)`);
    }, { class: "primary", id: "start-redrive" }),
    h("h3", "Move tasks"),
    table(
      [
        { label: "Status", value: (t) => t.Status },
        { label: "Moved", value: (t) => t.ApproximateNumberOfMessagesMoved },
        { label: "To move", value: (t) => t.ApproximateNumberOfMessagesToMove },
        { label: "Destination", value: (t) => t.DestinationArn || "sources" },
        { label: "Started", value: (t) => fmtTime(t.StartedTimestamp / 1000) },
      ],
      tasks.Results || [],
      { empty: "No move task yet." },
    ),
  );
}
