"""AWS Lambda: functions whose code really runs, in local processes speaking the Lambda Runtime API.

Configuration lives in SQLite (store.py), code zips as blobs unpacked once per content (code.py); each
function version keeps warm worker processes (executor.py, worker.py). Asynchronous invocations wait in a
table, so they survive a restart, and are retried on the virtual clock (async_invoke.py); event source
mappings poll SQS queues and DynamoDB streams (event_sources.py); function URLs are served over HTTP
(function_urls.py). Follows the AWS Lambda API Reference and Developer Guide.
"""
