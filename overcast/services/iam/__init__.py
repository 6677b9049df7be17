"""IAM: users, groups, roles, managed and inline policies, instance profiles, OIDC providers, access keys,
passwords, virtual MFA, account settings, reports, the policy simulator and the access advisor.

Follows the IAM API Reference and User Guide. IAM is global: rows are scoped by account only. The policy
engine (`overcast/policy/`) evaluates what IAM stores for every request of every service; it reaches IAM
through the provider's `identity_of`, `generation` and `record_service_access`. Other services reach IAM
through `Platform.call` or `api.py` (STS: roles, OIDC providers, MFA codes, key ids).
"""
