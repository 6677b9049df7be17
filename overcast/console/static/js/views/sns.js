// SNS: topics, their subscriptions, publishing, and the outbox of what email, SMS, push and outside HTTP
// subscribers would have received (Overcast's /_overcast/sns/outbox).

import { call, internal, listAll, session } from "../aws.js";
import { fmtTime, h, mount } from "../dom.js";
import { button, field, heading, input, jsonView, section, select, table, tabs, textarea, toast } from "../ui.js";

export default async function sns(el, route) {
  const topic = route.parts[1];
  if (topic) return topicView(el, topic);
  const name = input({ id: "new-topic", placeholder: "topic-name", size: 24 });
  const topics = section(async () => {
    const items = await listAll("sns", "ListTopics", {}, "Topics", 1000);
    return table([{ label: "Topic", render: (t) => h("a", { href: `#/sns/${encodeURIComponent(t.TopicArn)}` }, t.TopicArn.split(":").pop()) }, { label: "ARN", value: (t) => t.TopicArn }], items, { empty: "No topic yet." });
  });
  mount(
    el,
    heading("SNS"),
    tabs([
      {
        label: "Topics",
        render: () =>
          h("div", h("div", { class: "toolbar" }, name, button("Create topic", async () => {
            await call("sns", "CreateTopic", { Name: name.value.trim() });
            toast(`Topic ${name.value.trim()} created`);
            name.value = "";
            topics.reload();
          }, { class: "primary" })), topics),
      },
      { label: "Outbox", render: () => outbox() },
    ]),
  );
}

async function topicView(el, arn) {
  const attributes = (await call("sns", "GetTopicAttributes", { TopicArn: arn })).Attributes || {};
  mount(
    el,
    h("div", { class: "crumbs" }, h("a", { href: "#/sns" }, "Topics"), ` / ${arn.split(":").pop()}`),
    heading(arn.split(":").pop(), h("span", { class: "muted mono" }, arn)),
    tabs([
      { label: "Publish", render: () => publishForm(arn, attributes) },
      { label: "Subscriptions", render: () => section((reload) => subscriptions(arn, reload)) },
      { label: "Outbox", render: () => outbox(arn) },
      { label: "Attributes", render: () => jsonView(attributes) },
    ]),
  );
}

function publishForm(arn, attributes) {
  const message = textarea({ rows: 6, id: "publish-message" });
  const subject = input({ size: 30, id: "publish-subject" });
  const group = input({ size: 14 });
  const fifo = attributes.FifoTopic === "true";
  return h(
    "div",
    { class: "panel" },
    field("Subject (optional)", subject),
    field("Message", message),
    fifo ? field("Message group id", group) : null,
    button("Publish", async () => {
      const input = { TopicArn: arn, Message: message.value, Subject: subject.value || undefined };
      if (fifo) {
        input.MessageGroupId = group.value || "default";
        if (attributes.ContentBasedDeduplication !== "true") input.MessageDeduplicationId = String(Date.now());
      }
      const out = await call("sns", "Publish", input);
      toast(`Published ${out.MessageId}`);
    }, { class: "primary", id: "publish" }),
  );
}

async function subscriptions(arn, reload) {
  const items = await listAll("sns", "ListSubscriptionsByTopic", { TopicArn: arn }, "Subscriptions", 1000);
  const protocol = select(["sqs", "lambda", "http", "https", "email", "email-json", "sms", "application", "firehose"]);
  const endpoint = input({ size: 40, placeholder: "endpoint (queue ARN, URL, address…)" });
  return h(
    "div",
    table(
      [
        { label: "Protocol", value: (s) => s.Protocol },
        { label: "Endpoint", value: (s) => s.Endpoint },
        { label: "Subscription", value: (s) => s.SubscriptionArn },
        { label: "", render: (s) => (s.SubscriptionArn.startsWith("arn:") ? button("Unsubscribe", async () => {
          await call("sns", "Unsubscribe", { SubscriptionArn: s.SubscriptionArn });
          reload();
        }, { class: "small danger" }) : "") },
      ],
      items,
      { empty: "No subscription yet." },
    ),
    h("div", { class: "toolbar" }, protocol, endpoint, button("Subscribe", async () => {
      await call("sns", "Subscribe", { TopicArn: arn, Protocol: protocol.value, Endpoint: endpoint.value.trim(), ReturnSubscriptionArn: true });
      toast("Subscribed");
      reload();
    })),
  );
}

async function outbox(topicArn) {
  const params = new URLSearchParams({ account: session.account, region: session.region, limit: "500" });
  const answer = await internal(`/_overcast/sns/outbox?${params}`);
  const rows = (answer.messages || []).filter((m) => !topicArn || m.topic_arn === topicArn).reverse();
  const shown = h("div");
  return h(
    "div",
    h("p", { class: "muted" }, "What email, SMS, mobile push and outside HTTP subscribers would have received."),
    table(
      [
        { label: "When", value: (m) => fmtTime(m.created_at) },
        { label: "Protocol", value: (m) => m.protocol },
        { label: "Endpoint", value: (m) => m.endpoint },
        { label: "Kind", value: (m) => m.kind },
        { label: "Topic", value: (m) => (m.topic_arn || "").split(":").pop() },
      ],
      rows,
      { empty: "Nothing was sent outside yet.", onRow: (m) => mount(shown, jsonView(m.payload)) },
    ),
    shown,
  );
}
