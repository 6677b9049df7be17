"""CloudWatch Logs: log groups and streams, events, filter patterns, retention, metric and subscription
filters, and Logs Insights queries over the stored events.

Events live in SQLite (store.py), read by index ranges of one stream or one group; retention is a worker on
the virtual clock (workers.py); subscription filters deliver matching events to Lambda, Kinesis and Firehose
through the kit (subscriptions.py). Follows the Amazon CloudWatch Logs API Reference and User Guide.
"""
