"""Cloud Control API: create, read, update (RFC 6902 JSON Patch), delete and list single resources through
CloudFormation's resource handlers, as asynchronous resource requests. Follows the AWS Cloud Control API
User Guide and API Reference."""
