"""The signed-in app story (issue 24's acceptance): a user signs up, reads the confirmation code from the
outbox, signs in with SRP through pycognito, the ID token verifies against the pool's JWKS and carries the
user's group, and the identity pool turns it into STS credentials for the group's role, which reads one S3
prefix and not another under --iam enforce."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError
from pycognito import Cognito

from tests.helpers import error_of
from tests.policy.servers import client_as, document
from tests.services.cognitoidp.helpers import PASSWORD, last_code, verified_claims

TRUST_COGNITO = {
    "Effect": "Allow",
    "Principal": {"Federated": "cognito-identity.amazonaws.com"},
    "Action": "sts:AssumeRoleWithWebIdentity",
}


def cognito_trust(identity_pool_id: str) -> str:
    return document(
        {
            **TRUST_COGNITO,
            "Condition": {
                "StringEquals": {"cognito-identity.amazonaws.com:aud": identity_pool_id},
                "ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": "authenticated"},
            },
        }
    )


def unsigned(server, service: str):
    """A client that signs nothing, as a browser app's is before sign-in."""
    from botocore import UNSIGNED
    from botocore.config import Config

    return boto3.client(
        service,
        region_name="us-east-1",
        endpoint_url=server.endpoint,
        config=Config(signature_version=UNSIGNED),
    )


def test_sign_up_srp_sign_in_and_identity_pool_credentials_limited_by_the_groups_role(enforced):
    server = enforced
    idp, identity, iam, s3 = (
        server.client(name) for name in ("cognito-idp", "cognito-identity", "iam", "s3")
    )
    s3.create_bucket(Bucket="photos")
    s3.put_object(Bucket="photos", Key="shared/welcome.txt", Body=b"hello")
    s3.put_object(Bucket="photos", Key="admin/secret.txt", Body=b"no")

    pool = idp.create_user_pool(
        PoolName="app", AutoVerifiedAttributes=["email"], UsernameAttributes=["email"]
    )["UserPool"]
    client = idp.create_user_pool_client(
        UserPoolId=pool["Id"],
        ClientName="web",
        ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]
    provider = f"cognito-idp.us-east-1.amazonaws.com/{pool['Id']}"
    ipool = identity.create_identity_pool(
        IdentityPoolName="app",
        AllowUnauthenticatedIdentities=False,
        CognitoIdentityProviders=[{"ProviderName": provider, "ClientId": client["ClientId"]}],
    )
    readers = iam.create_role(
        RoleName="readers", AssumeRolePolicyDocument=cognito_trust(ipool["IdentityPoolId"])
    )["Role"]
    iam.put_role_policy(
        RoleName="readers",
        PolicyName="shared-only",
        PolicyDocument=document(
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::photos/shared/*"}
        ),
    )
    default = iam.create_role(
        RoleName="signed-in", AssumeRolePolicyDocument=cognito_trust(ipool["IdentityPoolId"])
    )["Role"]
    idp.create_group(UserPoolId=pool["Id"], GroupName="readers", RoleArn=readers["Arn"], Precedence=1)
    identity.set_identity_pool_roles(
        IdentityPoolId=ipool["IdentityPoolId"],
        Roles={"authenticated": default["Arn"]},
        RoleMappings={
            f"{provider}:{client['ClientId']}": {
                "Type": "Token",
                "AmbiguousRoleResolution": "AuthenticatedRole",
            }
        },
    )

    # The app signs the user up and confirms them with the code the email carried, all unsigned.
    app = unsigned(server, "cognito-idp")
    signed_up = app.sign_up(
        ClientId=client["ClientId"],
        Username="ana@example.com",
        Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": "ana@example.com"}],
    )
    assert signed_up["UserConfirmed"] is False
    assert signed_up["CodeDeliveryDetails"] == {
        "Destination": "a***@e***",
        "DeliveryMedium": "EMAIL",
        "AttributeName": "email",
    }
    app.confirm_sign_up(
        ClientId=client["ClientId"],
        Username="ana@example.com",
        ConfirmationCode=last_code(server, pool["Id"]),
    )
    idp.admin_add_user_to_group(UserPoolId=pool["Id"], Username="ana@example.com", GroupName="readers")

    # SRP sign-in through pycognito, unchanged; the ID token verifies against the pool's JWKS.
    user = Cognito(
        pool["Id"],
        client["ClientId"],
        username="ana@example.com",
        boto3_client_kwargs={"endpoint_url": server.endpoint},
    )
    user.authenticate(password=PASSWORD)
    user.verify_tokens()
    claims = verified_claims(server, user.id_token, audience=client["ClientId"])
    assert claims["cognito:groups"] == ["readers"]
    assert claims["cognito:preferred_role"] == readers["Arn"]
    assert claims["sub"] == signed_up["UserSub"] and claims["email"] == "ana@example.com"

    # The identity pool exchanges the ID token for credentials of the group's role.
    guest = unsigned(server, "cognito-identity")
    identity_id = guest.get_id(IdentityPoolId=ipool["IdentityPoolId"], Logins={provider: user.id_token})[
        "IdentityId"
    ]
    issued = guest.get_credentials_for_identity(IdentityId=identity_id, Logins={provider: user.id_token})
    credentials = issued["Credentials"]
    as_user = client_as(
        server,
        "s3",
        {
            "AccessKeyId": credentials["AccessKeyId"],
            "SecretAccessKey": credentials["SecretKey"],
            "SessionToken": credentials["SessionToken"],
        },
    )
    assert as_user.get_object(Bucket="photos", Key="shared/welcome.txt")["Body"].read() == b"hello"
    with pytest.raises(ClientError) as denied:
        as_user.get_object(Bucket="photos", Key="admin/secret.txt")
    assert error_of(denied) == ("AccessDenied", 403)
    caller = client_as(
        server,
        "sts",
        {
            "AccessKeyId": credentials["AccessKeyId"],
            "SecretAccessKey": credentials["SecretKey"],
            "SessionToken": credentials["SessionToken"],
        },
    ).get_caller_identity()
    assert caller["Arn"].endswith(":assumed-role/readers/CognitoIdentityCredentials")
    assert json.dumps(claims)  # the claims are plain JSON


def test_each_identity_reads_only_its_own_prefix_through_the_sub_policy_variable(enforced):
    """The notes' story: an identity pool's role allows S3 only under `${cognito-identity.amazonaws.com:sub}/`."""
    server = enforced
    identity, iam, s3 = (server.client(name) for name in ("cognito-identity", "iam", "s3"))
    s3.create_bucket(Bucket="private-files")
    ipool = identity.create_identity_pool(IdentityPoolName="guests", AllowUnauthenticatedIdentities=True)
    pool_id = ipool["IdentityPoolId"]
    iam.create_role(
        RoleName="guest",
        AssumeRolePolicyDocument=document(
            {**TRUST_COGNITO, "Condition": {"StringEquals": {"cognito-identity.amazonaws.com:aud": pool_id}}}
        ),
    )
    iam.put_role_policy(
        RoleName="guest",
        PolicyName="own-prefix",
        PolicyDocument=document(
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": "arn:aws:s3:::private-files/${cognito-identity.amazonaws.com:sub}/*",
            }
        ),
    )
    identity.set_identity_pool_roles(
        IdentityPoolId=pool_id, Roles={"unauthenticated": "arn:aws:iam::000000000000:role/guest"}
    )
    guest = unsigned(server, "cognito-identity")

    def credentials_of(identity_id: str) -> dict:
        issued = guest.get_credentials_for_identity(IdentityId=identity_id)["Credentials"]
        return {
            "AccessKeyId": issued["AccessKeyId"],
            "SecretAccessKey": issued["SecretKey"],
            "SessionToken": issued["SessionToken"],
        }

    first, second = (guest.get_id(IdentityPoolId=pool_id)["IdentityId"] for _ in range(2))
    as_first = client_as(server, "s3", credentials_of(first))
    as_first.put_object(Bucket="private-files", Key=f"{first}/notes.txt", Body=b"mine")
    assert as_first.get_object(Bucket="private-files", Key=f"{first}/notes.txt")["Body"].read() == b"mine"
    as_second = client_as(server, "s3", credentials_of(second))
    with pytest.raises(ClientError) as denied:
        as_second.get_object(Bucket="private-files", Key=f"{first}/notes.txt")
    assert error_of(denied) == ("AccessDenied", 403)
    as_second.put_object(Bucket="private-files", Key=f"{second}/notes.txt", Body=b"theirs")
