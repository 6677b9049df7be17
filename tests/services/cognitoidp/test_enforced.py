"""Under --iam enforce: the operations AWS serves unsigned work without credentials, the administrators'
operations need IAM permissions, and a trigger runs only when the function's policy lets Cognito invoke it."""

from __future__ import annotations

import io
import json
import zipfile

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.helpers import error_of, message_of
from tests.policy.servers import client_as, document, user_with_key
from tests.services.cognitoidp.helpers import PASSWORD, make_client, make_pool


def unsigned(server):
    return boto3.client(
        "cognito-idp",
        region_name="us-east-1",
        endpoint_url=server.endpoint,
        config=Config(signature_version=UNSIGNED),
    )


def test_unsigned_operations_pass_and_admin_operations_need_permissions(enforced):
    idp = enforced.client("cognito-idp")
    pool = make_pool(idp)
    client = make_client(idp, pool["Id"])
    app = unsigned(enforced)
    app.sign_up(ClientId=client["ClientId"], Username="ana", Password=PASSWORD)
    with pytest.raises(ClientError) as raised:  # an admin operation is not served unsigned
        app.admin_confirm_sign_up(UserPoolId=pool["Id"], Username="ana")
    assert error_of(raised) == ("MissingAuthenticationTokenException", 400)  # the JSON protocols word it so

    key = user_with_key(enforced, "operator")
    operator = client_as(enforced, "cognito-idp", key)
    with pytest.raises(ClientError) as raised:
        operator.admin_confirm_sign_up(UserPoolId=pool["Id"], Username="ana")
    assert error_of(raised)[0] == "AccessDeniedException"
    assert "cognito-idp:AdminConfirmSignUp" in message_of(raised)
    enforced.client("iam").put_user_policy(
        UserName="operator",
        PolicyName="confirm",
        PolicyDocument=document(
            {"Effect": "Allow", "Action": "cognito-idp:AdminConfirmSignUp", "Resource": pool["Arn"]}
        ),
    )
    operator.admin_confirm_sign_up(UserPoolId=pool["Id"], Username="ana")
    tokens = app.initiate_auth(
        ClientId=client["ClientId"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "ana", "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    assert app.get_user(AccessToken=tokens["AccessToken"])["Username"] == "ana"
    # Signed with keys that may do nothing, the token still decides.
    assert operator.get_user(AccessToken=tokens["AccessToken"])["Username"] == "ana"


def test_a_trigger_needs_the_functions_permission(enforced):
    iam, lam, idp = (enforced.client(name) for name in ("iam", "lambda", "cognito-idp"))
    role = iam.create_role(
        RoleName="trigger-role",
        AssumeRolePolicyDocument=document(
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ),
    )["Role"]["Arn"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "app.py",
            "def handler(event, context):\n    event['response']['autoConfirmUser'] = True\n    return event\n",
        )
    arn = lam.create_function(
        FunctionName="auto-confirm",
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": buffer.getvalue()},
    )["FunctionArn"]
    pool = make_pool(idp, LambdaConfig={"PreSignUp": arn})
    client = make_client(idp, pool["Id"])
    with pytest.raises(ClientError) as raised:
        unsigned(enforced).sign_up(ClientId=client["ClientId"], Username="ana", Password=PASSWORD)
    assert error_of(raised) == ("UnexpectedLambdaException", 400)
    assert message_of(raised) == "PreSignUp invocation failed due to error AccessDeniedException."
    lam.add_permission(
        FunctionName="auto-confirm",
        StatementId="cognito",
        Action="lambda:InvokeFunction",
        Principal="cognito-idp.amazonaws.com",
        SourceArn=pool["Arn"],
    )
    answer = unsigned(enforced).sign_up(ClientId=client["ClientId"], Username="ana", Password=PASSWORD)
    assert answer["UserConfirmed"] is True
    assert json.dumps(answer["UserSub"])
