"""STS: who am I, and temporary credentials (AssumeRole, AssumeRoleWithWebIdentity, GetSessionToken,
GetFederationToken), following the STS API Reference and the IAM User Guide's pages on temporary credentials.

Sessions are rows keyed by their ASIA... access key id; they expire on the virtual clock. Roles, OIDC
providers and MFA devices are IAM's, read through `overcast/services/iam/api.py`. Other services get a role's
credentials through this package's `api.py` (`credentials_for_role`).
"""
