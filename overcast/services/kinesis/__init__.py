"""Amazon Kinesis Data Streams: streams of shards, records ordered within a shard, resharding, consumers.

Follows the Kinesis Data Streams API Reference (2013-12-02) and Developer Guide: hash key ranges (MD5 of the
partition key), sequence numbers increasing per shard, shard iterators that expire after five minutes,
per-shard throughput limits, retention from 24 hours to 365 days on the virtual clock, split/merge/uniform
scaling with parent and child shards, enhanced fan-out consumers and SubscribeToShard over the event stream.
"""
