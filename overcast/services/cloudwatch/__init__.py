"""Amazon CloudWatch (botocore "cloudwatch", signing name monitoring; spoken as Smithy RPC v2 CBOR, JSON and the
query protocol): metrics stored durably with statistics, percentiles and metric math, alarms (metric, metric
math and composite) evaluated on the virtual clock with their history and actions, dashboards and tags.
Follows the CloudWatch API Reference and User Guide."""
