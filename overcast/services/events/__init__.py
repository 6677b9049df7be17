"""Amazon EventBridge (botocore "events"): event buses with resource policies, rules with the event-pattern
language, scheduled rules on the virtual clock, targets with input transformation, retries and dead-letter
queues, archives and replays. Follows the EventBridge API Reference and User Guide."""
