"""Amazon Data Firehose: delivery streams that buffer records and deliver them in batches.

Follows the Firehose API Reference (2015-08-04) and Developer Guide: Direct PUT and Kinesis-stream sources,
S3 delivery buffered by size and interval on the virtual clock (the buffer is durable), custom prefixes with
`!{timestamp:...}`, `!{firehose:...}` and `!{partitionKeyFrom...:...}` expressions, dynamic partitioning,
Lambda transformation with Firehose's record format, compression, error output, and an HTTP endpoint
destination that really POSTs with Firehose's request format and retries.
"""
