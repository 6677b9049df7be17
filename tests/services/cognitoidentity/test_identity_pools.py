"""Identity pools: their records and roles, guest identities, user pool logins verified by signature,
token- and rules-based role mapping, OpenID tokens and the basic flow through STS AssumeRoleWithWebIdentity,
developer-authenticated identities."""

from __future__ import annotations

import jwt
import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of, message_of
from tests.policy.servers import document
from tests.services.cognitoidp.helpers import confirmed_user, make_client, make_pool, sign_in

TRUST = {
    "Effect": "Allow",
    "Principal": {"Federated": "cognito-identity.amazonaws.com"},
    "Action": "sts:AssumeRoleWithWebIdentity",
}


@pytest.fixture
def identity(overcast):
    return overcast.client("cognito-identity")


@pytest.fixture
def iam(overcast):
    return overcast.client("iam")


def role(iam, name: str, pool_id: str, amr: str = "authenticated") -> str:
    trust = {
        **TRUST,
        "Condition": {
            "StringEquals": {"cognito-identity.amazonaws.com:aud": pool_id},
            "ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": amr},
        },
    }
    return iam.create_role(RoleName=name, AssumeRolePolicyDocument=document(trust))["Role"]["Arn"]


@pytest.fixture
def user_pool(overcast):
    idp = overcast.client("cognito-idp")
    pool = make_pool(idp)
    client = make_client(idp, pool["Id"])
    confirmed_user(idp, pool["Id"], "ana")
    confirmed_user(idp, pool["Id"], "bo")
    return idp, pool, client


def test_identity_pool_records(identity):
    created = identity.create_identity_pool(
        IdentityPoolName="app", AllowUnauthenticatedIdentities=True, IdentityPoolTags={"team": "id"}
    )
    pool_id = created["IdentityPoolId"]
    assert pool_id.startswith("us-east-1:")
    assert created["IdentityPoolName"] == "app" and created["AllowUnauthenticatedIdentities"] is True
    assert created["AllowClassicFlow"] is False and created["IdentityPoolTags"] == {"team": "id"}
    described = identity.describe_identity_pool(IdentityPoolId=pool_id)
    assert described["IdentityPoolId"] == pool_id
    identity.update_identity_pool(
        IdentityPoolId=pool_id, IdentityPoolName="app2", AllowUnauthenticatedIdentities=False
    )
    assert identity.describe_identity_pool(IdentityPoolId=pool_id)["IdentityPoolName"] == "app2"
    assert identity.list_identity_pools(MaxResults=10)["IdentityPools"] == [
        {"IdentityPoolId": pool_id, "IdentityPoolName": "app2"}
    ]
    identity.set_identity_pool_roles(
        IdentityPoolId=pool_id, Roles={"authenticated": "arn:aws:iam::000000000000:role/a"}
    )
    assert identity.get_identity_pool_roles(IdentityPoolId=pool_id)["Roles"] == {
        "authenticated": "arn:aws:iam::000000000000:role/a"
    }
    identity.delete_identity_pool(IdentityPoolId=pool_id)
    with pytest.raises(ClientError) as raised:
        identity.describe_identity_pool(IdentityPoolId=pool_id)
    assert error_of(raised) == ("ResourceNotFoundException", 400)
    assert message_of(raised) == f"IdentityPool '{pool_id}' not found."


def test_guest_identities_get_the_unauthenticated_role(overcast, identity, iam):
    pool_id = identity.create_identity_pool(IdentityPoolName="guests", AllowUnauthenticatedIdentities=True)[
        "IdentityPoolId"
    ]
    guest_role = role(iam, "guest", pool_id, "unauthenticated")
    identity.set_identity_pool_roles(IdentityPoolId=pool_id, Roles={"unauthenticated": guest_role})
    first = identity.get_id(IdentityPoolId=pool_id)["IdentityId"]
    second = identity.get_id(IdentityPoolId=pool_id)["IdentityId"]
    assert first != second and first.startswith("us-east-1:")
    credentials = identity.get_credentials_for_identity(IdentityId=first)["Credentials"]
    assert credentials["AccessKeyId"].startswith("ASIA") and set(credentials) == {
        "AccessKeyId",
        "SecretKey",
        "SessionToken",
        "Expiration",
    }
    caller = overcast.client(
        "sts",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretKey"],
        aws_session_token=credentials["SessionToken"],
    ).get_caller_identity()
    assert caller["Arn"] == "arn:aws:sts::000000000000:assumed-role/guest/CognitoIdentityCredentials"
    closed = identity.create_identity_pool(IdentityPoolName="closed", AllowUnauthenticatedIdentities=False)[
        "IdentityPoolId"
    ]
    with pytest.raises(ClientError) as raised:
        identity.get_id(IdentityPoolId=closed)
    assert error_of(raised) == ("NotAuthorizedException", 400)
    assert message_of(raised) == "Unauthenticated access is not supported for this identity pool."


def test_a_role_whose_trust_does_not_name_the_pool_is_a_configuration_error(identity, iam):
    pool_id = identity.create_identity_pool(IdentityPoolName="guests", AllowUnauthenticatedIdentities=True)[
        "IdentityPoolId"
    ]
    wrong = role(iam, "other-pool", "us-east-1:00000000-0000-0000-0000-000000000000", "unauthenticated")
    identity.set_identity_pool_roles(IdentityPoolId=pool_id, Roles={"unauthenticated": wrong})
    identity_id = identity.get_id(IdentityPoolId=pool_id)["IdentityId"]
    with pytest.raises(ClientError) as raised:
        identity.get_credentials_for_identity(IdentityId=identity_id)
    assert error_of(raised) == ("InvalidIdentityPoolConfigurationException", 400)
    assert (
        message_of(raised) == "Invalid identity pool configuration. Check assigned IAM roles for this pool."
    )


def role_of(overcast, credentials) -> str:
    caller = overcast.client(
        "sts",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretKey"],
        aws_session_token=credentials["SessionToken"],
    ).get_caller_identity()
    return caller["Arn"].split("/")[1]


def test_user_pool_logins_are_verified_and_map_to_roles_by_rules(overcast, identity, iam, user_pool):
    idp, pool, client = user_pool
    provider = f"cognito-idp.us-east-1.amazonaws.com/{pool['Id']}"
    pool_id = identity.create_identity_pool(
        IdentityPoolName="app",
        AllowUnauthenticatedIdentities=False,
        CognitoIdentityProviders=[{"ProviderName": provider, "ClientId": client["ClientId"]}],
    )["IdentityPoolId"]
    default, special = role(iam, "signed-in", pool_id), role(iam, "ana-only", pool_id)
    identity.set_identity_pool_roles(
        IdentityPoolId=pool_id,
        Roles={"authenticated": default},
        RoleMappings={
            provider: {
                "Type": "Rules",
                "AmbiguousRoleResolution": "AuthenticatedRole",
                "RulesConfiguration": {
                    "Rules": [
                        {
                            "Claim": "cognito:username",
                            "MatchType": "Equals",
                            "Value": "ana",
                            "RoleARN": special,
                        }
                    ]
                },
            }
        },
    )
    ana = sign_in(idp, client["ClientId"], "ana")["IdToken"]
    bo = sign_in(idp, client["ClientId"], "bo")["IdToken"]
    ana_id = identity.get_id(IdentityPoolId=pool_id, Logins={provider: ana})["IdentityId"]
    assert (
        identity.get_id(IdentityPoolId=pool_id, Logins={provider: ana})["IdentityId"] == ana_id
    )  # same login, same identity
    bo_id = identity.get_id(IdentityPoolId=pool_id, Logins={provider: bo})["IdentityId"]
    ana_keys = identity.get_credentials_for_identity(IdentityId=ana_id, Logins={provider: ana})["Credentials"]
    bo_keys = identity.get_credentials_for_identity(IdentityId=bo_id, Logins={provider: bo})["Credentials"]
    assert role_of(overcast, ana_keys) == "ana-only" and role_of(overcast, bo_keys) == "signed-in"
    described = identity.describe_identity(IdentityId=ana_id)
    assert described["Logins"] == [provider]

    forged = ana[: ana.rindex(".") + 1] + "AAAA"
    with pytest.raises(ClientError) as raised:
        identity.get_id(IdentityPoolId=pool_id, Logins={provider: forged})
    assert error_of(raised) == ("NotAuthorizedException", 400)
    with pytest.raises(ClientError) as raised:  # an authenticated identity needs its login
        identity.get_credentials_for_identity(IdentityId=ana_id)
    assert error_of(raised) == ("NotAuthorizedException", 400)
    assert message_of(raised) == f"Access to Identity '{ana_id}' is forbidden."


def test_open_id_token_and_the_basic_flow_through_sts(overcast, identity, iam, user_pool):
    idp, pool, client = user_pool
    provider = f"cognito-idp.us-east-1.amazonaws.com/{pool['Id']}"
    pool_id = identity.create_identity_pool(
        IdentityPoolName="app",
        AllowUnauthenticatedIdentities=False,
        AllowClassicFlow=True,
        CognitoIdentityProviders=[{"ProviderName": provider, "ClientId": client["ClientId"]}],
    )["IdentityPoolId"]
    reader = role(iam, "reader", pool_id)
    ana = sign_in(idp, client["ClientId"], "ana")["IdToken"]
    identity_id = identity.get_id(IdentityPoolId=pool_id, Logins={provider: ana})["IdentityId"]
    token = identity.get_open_id_token(IdentityId=identity_id, Logins={provider: ana})["Token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["iss"] == "https://cognito-identity.amazonaws.com"
    assert claims["sub"] == identity_id and claims["aud"] == pool_id
    assert claims["amr"][:2] == ["authenticated", provider]
    sts = overcast.client("sts")
    assumed = sts.assume_role_with_web_identity(
        RoleArn=reader, RoleSessionName="basic", WebIdentityToken=token
    )
    assert assumed["SubjectFromWebIdentityToken"] == identity_id
    assert assumed["Provider"] == "cognito-identity.amazonaws.com" and assumed["Audience"] == pool_id
    assert assumed["AssumedRoleUser"]["Arn"] == "arn:aws:sts::000000000000:assumed-role/reader/basic"
    tampered = token[: token.rindex(".") + 1] + "AAAA"
    with pytest.raises(ClientError) as raised:
        sts.assume_role_with_web_identity(RoleArn=reader, RoleSessionName="basic", WebIdentityToken=tampered)
    assert error_of(raised) == ("InvalidIdentityToken", 400)
    overcast.advance_clock("11m")  # OpenID tokens last ten minutes
    with pytest.raises(ClientError) as raised:
        sts.assume_role_with_web_identity(RoleArn=reader, RoleSessionName="basic", WebIdentityToken=token)
    assert error_of(raised) == ("InvalidIdentityToken", 400)


def test_developer_authenticated_identities(identity):
    pool_id = identity.create_identity_pool(
        IdentityPoolName="dev",
        AllowUnauthenticatedIdentities=False,
        DeveloperProviderName="login.mycompany.myapp",
    )["IdentityPoolId"]
    first = identity.get_open_id_token_for_developer_identity(
        IdentityPoolId=pool_id, Logins={"login.mycompany.myapp": "user-42"}
    )
    again = identity.get_open_id_token_for_developer_identity(
        IdentityPoolId=pool_id, Logins={"login.mycompany.myapp": "user-42"}
    )
    assert first["IdentityId"] == again["IdentityId"]
    found = identity.lookup_developer_identity(IdentityPoolId=pool_id, DeveloperUserIdentifier="user-42")
    assert found["IdentityId"] == first["IdentityId"] and found["DeveloperUserIdentifierList"] == ["user-42"]
    listed = identity.list_identities(IdentityPoolId=pool_id, MaxResults=10)["Identities"]
    assert [i["IdentityId"] for i in listed] == [first["IdentityId"]]
    assert (
        identity.delete_identities(IdentityIdsToDelete=[first["IdentityId"]])["UnprocessedIdentityIds"] == []
    )
    assert identity.list_identities(IdentityPoolId=pool_id, MaxResults=10)["Identities"] == []
