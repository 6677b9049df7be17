"""Amazon S3 (botocore `s3`): buckets, objects, multipart uploads, versioning, access control, bucket
configurations, lifecycle, replication, restores, event notifications, S3 Select, website hosting and browser
uploads, as the Amazon S3 API Reference and User Guide describe them. docs/services/s3.md says what is real."""
