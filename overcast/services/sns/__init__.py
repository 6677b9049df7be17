"""SNS: topics, subscriptions, filter policies and delivery to SQS, HTTP endpoints and a captured outbox."""
