"""Amazon Cognito identity pools (botocore "cognito-identity"): pools with authenticated and guest access and
their providers (Cognito user pools, OIDC, SAML, developer-authenticated and public providers), identities,
OpenID tokens signed by the region's key, and real STS credentials for the mapped role (default roles,
rules- and token-based mapping) through the enhanced flow, or through STS AssumeRoleWithWebIdentity with the
pool's OpenID token (the basic flow). Follows the Amazon Cognito Identity API Reference and the identity
pools chapters of the Developer Guide; docs/services/cognito-identity.md lists what is real."""
