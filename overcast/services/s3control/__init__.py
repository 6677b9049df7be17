"""Amazon S3 Control (botocore `s3control`): account-level S3 settings, as the Amazon S3 Control API Reference
describes them; so far Block Public Access, which S3 keeps (s3/api.py). docs/services/s3control.md."""
