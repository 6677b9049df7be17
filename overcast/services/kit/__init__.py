"""The service kit: what many services need, written once.

- `arns`: parse and build ARNs.
- `tags`: resource tags for every service in one table, with each service's limits and wording.
- `paging`: opaque, validated pagination tokens and pages.
- `delivery`: send a message to a target by its ARN (SQS, SNS, Lambda, ...), as a service principal.
"""
