// Kinesis: streams, their shards (hash ranges, sequence ranges, parents after resharding), the latest
// records of a shard, and putting a record.

import { call, listAll } from "../aws.js";
import { fmtTime, h, mount } from "../dom.js";
import { button, field, heading, input, loading, section, table, textarea, toast } from "../ui.js";

export default async function kinesis(el, route) {
  const name = route.parts[1];
  if (!name) {
    const list = section(async () => {
      const names = await listAll("kinesis", "ListStreams", {}, "StreamNames", 1000);
      return table([{ label: "Stream", render: (n) => h("a", { href: `#/kinesis/${encodeURIComponent(n)}` }, n) }], names, { empty: "No stream yet." });
    });
    mount(el, heading("Kinesis data streams"), list);
    return;
  }
  const { StreamDescriptionSummary: summary } = await call("kinesis", "DescribeStreamSummary", { StreamName: name });
  const shards = await listAll("kinesis", "ListShards", { StreamName: name }, "Shards", 1000);
  const records = h("div");
  const data = textarea({ rows: 3, id: "record-data" });
  const key = input({ id: "record-key", size: 16, value: "key-1" });
  mount(
    el,
    h("div", { class: "crumbs" }, h("a", { href: "#/kinesis" }, "Streams"), ` / ${name}`),
    heading(name, h("span", { class: "muted" }, `${summary.StreamStatus} · ${summary.OpenShardCount} open shards · ${(summary.StreamModeDetails || {}).StreamMode || ""} · retention ${summary.RetentionPeriodHours} h`)),
    h("h3", "Shards"),
    table(
      [
        { label: "Shard", value: (s) => s.ShardId },
        { label: "Parent", value: (s) => s.ParentShardId || "" },
        { label: "Hash key range", value: (s) => `${s.HashKeyRange.StartingHashKey} – ${s.HashKeyRange.EndingHashKey}` },
        { label: "Open", value: (s) => (s.SequenceNumberRange.EndingSequenceNumber ? "closed" : "open") },
      ],
      shards,
      {
        onRow: async (shard) => {
          mount(records, loading());
          const { ShardIterator } = await call("kinesis", "GetShardIterator", { StreamName: name, ShardId: shard.ShardId, ShardIteratorType: "TRIM_HORIZON" });
          const out = await call("kinesis", "GetRecords", { ShardIterator, Limit: 100 });
          mount(records, h("h3", `Records of ${shard.ShardId}`), table(
            [
              { label: "Sequence", value: (r) => r.SequenceNumber },
              { label: "Partition key", value: (r) => r.PartitionKey },
              { label: "Data", value: (r) => new TextDecoder().decode(r.Data) },
              { label: "Arrived", value: (r) => fmtTime(r.ApproximateArrivalTimestamp) },
            ],
            out.Records || [],
            { empty: "No record in this shard." },
          ));
        },
      },
    ),
    records,
    h("div", { class: "panel" }, h("h3", "Put a record"), field("Partition key", key), field("Data", data), button("Put record", async () => {
      const out = await call("kinesis", "PutRecord", { StreamName: name, PartitionKey: key.value, Data: data.value });
      toast(`Stored in ${out.ShardId}`);
    }, { class: "primary" })),
  );
}
