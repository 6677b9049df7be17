"""SSM Parameter Store: String, StringList and SecureString parameters (SecureString through KMS), hierarchies,
versions and labels, Standard and Advanced tiers, parameter policies on the virtual clock, and AWS's public
parameters (`/aws/service/...`) and Secrets Manager references (`/aws/reference/secretsmanager/...`).

Follows the AWS Systems Manager API Reference (2014-11-06) and the Parameter Store chapter of its User Guide.
"""
