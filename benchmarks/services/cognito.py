"""Cognito user pools' hot paths: a password sign-in (InitiateAuth USER_PASSWORD_AUTH, two RS256 signatures
and a refresh token per request) and GetUser with the access token it returned. Each has its own pool."""

from __future__ import annotations

import json


def _idp(action: str, body: dict) -> dict:
    return {
        "service": "cognito-idp",
        "method": "POST",
        "path": "/",
        "headers": {
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": f"AWSCognitoIdentityProviderService.{action}",
        },
        "body": json.dumps(body),
    }


def _pool_with_user(name: str) -> list[dict]:
    """A pool, a client allowing password sign-in, and a confirmed user bench / Bench-Passw0rd!."""
    return [
        {**_idp("CreateUserPool", {"PoolName": name}), "capture": {"pool_id": "UserPool.Id"}},
        {
            **_idp(
                "CreateUserPoolClient",
                {
                    "UserPoolId": "${pool_id}",
                    "ClientName": name,
                    "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
                },
            ),
            "capture": {"client_id": "UserPoolClient.ClientId"},
        },
        _idp(
            "AdminCreateUser", {"UserPoolId": "${pool_id}", "Username": "bench", "MessageAction": "SUPPRESS"}
        ),
        _idp(
            "AdminSetUserPassword",
            {
                "UserPoolId": "${pool_id}",
                "Username": "bench",
                "Password": "Bench-Passw0rd!",
                "Permanent": True,
            },
        ),
    ]


_SIGN_IN = {
    "AuthFlow": "USER_PASSWORD_AUTH",
    "ClientId": "${client_id}",
    "AuthParameters": {"USERNAME": "bench", "PASSWORD": "Bench-Passw0rd!"},
}

OPERATIONS: list[dict] = [
    {
        "name": "cognito-initiate-auth",
        **_idp("InitiateAuth", _SIGN_IN),
        "protocol": "json",
        "setup": _pool_with_user("overcast-bench-auth"),
        "expect": '"IdToken"',
        "default": False,
        "target": 2.0,
    },
    {
        "name": "cognito-get-user",
        **_idp("GetUser", {"AccessToken": "${access_token}"}),
        "protocol": "json",
        "setup": [
            *_pool_with_user("overcast-bench-get-user"),
            {
                **_idp("InitiateAuth", _SIGN_IN),
                "capture": {"access_token": "AuthenticationResult.AccessToken"},
            },
        ],
        "expect": '"Username"',
        "default": False,
        "target": 2.0,
    },
]
