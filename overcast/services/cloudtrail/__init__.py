"""AWS CloudTrail (botocore "cloudtrail"): every call that reaches Overcast recorded as CloudTrail records it
(management events in the 90-day event history, data events for trails that select them), LookupEvents, and
trails delivering gzip JSON log files to S3 on the virtual clock. Follows the CloudTrail API Reference and User
Guide (the record contents reference)."""
