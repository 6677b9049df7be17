"""Organizations: the organization, its root and OUs, member accounts (created, or invited through handshakes)
and service control policies, which the policy engine applies to every request of a member account.

Follows the AWS Organizations API Reference and User Guide. The policy engine reaches this service through
the provider's `scp_levels` and `org_id_of`; a created account's access role is made through IAM's API
(`Platform.call`), in the new account.
"""
