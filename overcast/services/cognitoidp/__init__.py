"""Amazon Cognito user pools (botocore "cognito-idp"): pools and their policies, app clients, domains,
resource servers, identity providers, groups and users; sign-up and confirmation, the sign-in flows
(USER_PASSWORD_AUTH, ADMIN_USER_PASSWORD_AUTH, USER_SRP_AUTH with real SRP-6a, REFRESH_TOKEN_AUTH, CUSTOM_AUTH,
NEW_PASSWORD_REQUIRED, TOTP and SMS MFA); RS256 tokens with each pool's JWKS and OpenID discovery; Lambda
triggers with AWS's event shapes; the hosted UI's OAuth 2.0 endpoints. Codes and messages go to an outbox
(`GET /_overcast/cognito-idp/outbox`), never to the real world.

Follows the Amazon Cognito API Reference and the user pools chapters of the Developer Guide;
docs/services/cognito-idp.md lists what is real and what is missing.
"""
