"""The AWS CLI v2 against Cognito: the unsigned operations (sign-up, sign-in) go through as the CLI sends
them."""

from __future__ import annotations

import json

import pytest

from tests.helpers import AWS_V2, aws
from tests.services.cognitoidp.helpers import PASSWORD


@pytest.mark.slow
def test_cli_creates_a_pool_signs_up_and_signs_in(overcast):
    pool = aws(overcast, "cognito-idp", "create-user-pool", "--pool-name", "cli", cli=AWS_V2)["UserPool"]
    client = aws(
        overcast,
        "cognito-idp",
        "create-user-pool-client",
        "--user-pool-id",
        pool["Id"],
        "--client-name",
        "cli",
        "--explicit-auth-flows",
        "ALLOW_USER_PASSWORD_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
        cli=AWS_V2,
    )["UserPoolClient"]
    signed = aws(
        overcast,
        "cognito-idp",
        "sign-up",
        "--client-id",
        client["ClientId"],
        "--username",
        "ana",
        "--password",
        PASSWORD,
        cli=AWS_V2,
    )
    assert signed["UserConfirmed"] is False
    aws(
        overcast,
        "cognito-idp",
        "admin-confirm-sign-up",
        "--user-pool-id",
        pool["Id"],
        "--username",
        "ana",
        cli=AWS_V2,
    )
    tokens = aws(
        overcast,
        "cognito-idp",
        "initiate-auth",
        "--client-id",
        client["ClientId"],
        "--auth-flow",
        "USER_PASSWORD_AUTH",
        "--auth-parameters",
        json.dumps({"USERNAME": "ana", "PASSWORD": PASSWORD}),
        cli=AWS_V2,
    )["AuthenticationResult"]
    me = aws(overcast, "cognito-idp", "get-user", "--access-token", tokens["AccessToken"], cli=AWS_V2)
    assert me["Username"] == "ana"
