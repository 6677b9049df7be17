"""User pools and what hangs off them: the description AWS returns with its defaults, updates, deletion
protection, listing; app clients; domains; resource servers; identity providers; groups; tags."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of, message_of
from tests.services.cognitoidp.helpers import make_client, make_pool


@pytest.fixture
def idp(overcast):
    return overcast.client("cognito-idp")


def test_create_user_pool_returns_aws_defaults(idp):
    pool = idp.create_user_pool(PoolName="app-users")["UserPool"]
    region, _, suffix = pool["Id"].partition("_")
    assert region == "us-east-1" and len(suffix) == 9 and suffix.isalnum()
    assert pool["Name"] == "app-users"
    assert pool["Arn"] == f"arn:aws:cognito-idp:us-east-1:000000000000:userpool/{pool['Id']}"
    assert pool["Policies"]["PasswordPolicy"] == {
        "MinimumLength": 8,
        "RequireUppercase": True,
        "RequireLowercase": True,
        "RequireNumbers": True,
        "RequireSymbols": True,
        "TemporaryPasswordValidityDays": 7,
    }
    assert pool["DeletionProtection"] == "INACTIVE"
    assert pool["LambdaConfig"] == {}
    assert pool["MfaConfiguration"] == "OFF"
    assert pool["EstimatedNumberOfUsers"] == 0
    assert pool["AdminCreateUserConfig"] == {
        "AllowAdminCreateUserOnly": False,
        "UnusedAccountValidityDays": 7,
    }
    assert pool["VerificationMessageTemplate"] == {"DefaultEmailOption": "CONFIRM_WITH_CODE"}
    assert pool["EmailConfiguration"] == {"EmailSendingAccount": "COGNITO_DEFAULT"}
    assert pool["UserAttributeUpdateSettings"] == {"AttributesRequireVerificationBeforeUpdate": []}
    names = [attribute["Name"] for attribute in pool["SchemaAttributes"]]
    assert names[0] == "sub" and {
        "email",
        "email_verified",
        "phone_number",
        "updated_at",
        "birthdate",
    } <= set(names)
    sub = pool["SchemaAttributes"][0]
    assert sub == {
        "Name": "sub",
        "AttributeDataType": "String",
        "DeveloperOnlyAttribute": False,
        "Mutable": False,
        "Required": True,
        "StringAttributeConstraints": {"MinLength": "1", "MaxLength": "2048"},
    }
    for absent in (
        "UsernameAttributes",
        "AliasAttributes",
        "AutoVerifiedAttributes",
        "Domain",
        "UsernameConfiguration",
    ):
        assert absent not in pool
    assert idp.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]["Id"] == pool["Id"]


def test_custom_and_required_attributes(idp):
    pool = make_pool(
        idp,
        Schema=[
            {"Name": "email", "Required": True},
            {
                "Name": "tier",
                "AttributeDataType": "String",
                "StringAttributeConstraints": {"MinLength": "1", "MaxLength": "5"},
            },
            {"Name": "age", "AttributeDataType": "Number", "NumberAttributeConstraints": {"MinValue": "18"}},
        ],
    )
    by_name = {a["Name"]: a for a in pool["SchemaAttributes"]}
    assert by_name["email"]["Required"] is True
    assert by_name["custom:tier"]["StringAttributeConstraints"] == {"MinLength": "1", "MaxLength": "5"}
    assert by_name["custom:age"]["AttributeDataType"] == "Number"
    client = make_client(idp, pool["Id"])
    with pytest.raises(ClientError) as raised:
        idp.sign_up(ClientId=client["ClientId"], Username="ana", Password="Corr3ct-Horse!")
    assert error_of(raised) == ("InvalidParameterException", 400)
    assert (
        message_of(raised)
        == "Attributes did not conform to the schema: email: The attribute email is required"
    )
    with pytest.raises(ClientError) as raised:
        idp.sign_up(
            ClientId=client["ClientId"],
            Username="ana",
            Password="Corr3ct-Horse!",
            UserAttributes=[
                {"Name": "email", "Value": "a@example.com"},
                {"Name": "custom:tier", "Value": "platinum"},
            ],
        )
    assert "custom:tier: String must be no longer than 5 characters" in message_of(raised)
    with pytest.raises(ClientError) as raised:
        idp.sign_up(
            ClientId=client["ClientId"],
            Username="ana",
            Password="Corr3ct-Horse!",
            UserAttributes=[
                {"Name": "email", "Value": "a@example.com"},
                {"Name": "custom:nope", "Value": "x"},
            ],
        )
    assert message_of(raised).startswith("Attribute does not exist in the schema.")
    idp.add_custom_attributes(
        UserPoolId=pool["Id"], CustomAttributes=[{"Name": "nope", "AttributeDataType": "String"}]
    )
    idp.sign_up(
        ClientId=client["ClientId"],
        Username="ana",
        Password="Corr3ct-Horse!",
        UserAttributes=[{"Name": "email", "Value": "a@example.com"}, {"Name": "custom:nope", "Value": "x"}],
    )


def test_username_and_alias_attributes_exclude_each_other(idp):
    with pytest.raises(ClientError) as raised:
        idp.create_user_pool(PoolName="p", UsernameAttributes=["email"], AliasAttributes=["email"])
    assert error_of(raised) == ("InvalidParameterException", 400)
    assert (
        message_of(raised)
        == "Only one of the aliasAttributes or usernameAttributes can be set in a User Pool."
    )


def test_update_resets_what_it_leaves_out_and_deletion_protection(idp):
    pool = make_pool(
        idp, DeletionProtection="ACTIVE", AutoVerifiedAttributes=["email"], MfaConfiguration="OFF"
    )
    with pytest.raises(ClientError) as raised:
        idp.delete_user_pool(UserPoolId=pool["Id"])
    assert error_of(raised) == ("InvalidParameterException", 400)
    assert message_of(raised) == (
        "The user pool cannot be deleted because deletion protection is activated. "
        "Deletion protection must be inactivated first."
    )
    idp.update_user_pool(UserPoolId=pool["Id"], Policies={"PasswordPolicy": {"MinimumLength": 12}})
    updated = idp.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]
    assert updated["DeletionProtection"] == "INACTIVE"
    assert "AutoVerifiedAttributes" not in updated
    assert updated["Policies"]["PasswordPolicy"]["MinimumLength"] == 12
    idp.delete_user_pool(UserPoolId=pool["Id"])
    with pytest.raises(ClientError) as raised:
        idp.describe_user_pool(UserPoolId=pool["Id"])
    assert error_of(raised) == ("ResourceNotFoundException", 400)
    assert message_of(raised) == f"User pool {pool['Id']} does not exist."


def test_list_user_pools_pages(idp):
    ids = {make_pool(idp, PoolName=f"pool-{n}")["Id"] for n in range(5)}
    seen, token, pages = set(), None, 0
    while pages < 10:
        page = idp.list_user_pools(MaxResults=2, **({"NextToken": token} if token else {}))
        seen |= {entry["Id"] for entry in page["UserPools"]}
        assert all(
            set(entry) == {"Id", "Name", "LambdaConfig", "LastModifiedDate", "CreationDate"}
            for entry in page["UserPools"]
        )
        pages += 1
        token = page.get("NextToken")
        if not token:
            break
    assert seen == ids and pages == 3
    paginated = [
        p["Id"]
        for page in idp.get_paginator("list_user_pools").paginate(MaxResults=3)
        for p in page["UserPools"]
    ]
    assert set(paginated) == ids


def test_app_clients(idp):
    pool = make_pool(idp)
    plain = idp.create_user_pool_client(UserPoolId=pool["Id"], ClientName="web")["UserPoolClient"]
    assert len(plain["ClientId"]) == 26 and "ClientSecret" not in plain
    assert plain["RefreshTokenValidity"] == 30 and plain["TokenValidityUnits"] == {}
    assert plain["AllowedOAuthFlowsUserPoolClient"] is False and plain["EnableTokenRevocation"] is True
    assert plain["AuthSessionValidity"] == 3 and plain["EnablePropagateAdditionalUserContextData"] is False
    secret = make_client(idp, pool["Id"], ClientName="server", GenerateSecret=True)
    assert (
        idp.describe_user_pool_client(UserPoolId=pool["Id"], ClientId=secret["ClientId"])["UserPoolClient"][
            "ClientSecret"
        ]
        == secret["ClientSecret"]
    )
    updated = idp.update_user_pool_client(
        UserPoolId=pool["Id"],
        ClientId=plain["ClientId"],
        ClientName="web2",
        AccessTokenValidity=5,
        TokenValidityUnits={"AccessToken": "minutes"},
    )["UserPoolClient"]
    assert updated["ClientName"] == "web2" and updated["AccessTokenValidity"] == 5
    listed = idp.list_user_pool_clients(UserPoolId=pool["Id"])["UserPoolClients"]
    assert sorted(c["ClientName"] for c in listed) == ["server", "web2"]
    with pytest.raises(ClientError) as raised:
        idp.create_user_pool_client(
            UserPoolId=pool["Id"],
            ClientName="m2m",
            AllowedOAuthFlows=["client_credentials"],
            AllowedOAuthFlowsUserPoolClient=True,
        )
    assert (
        message_of(raised)
        == "client_credentials flow can not be selected if client does not have a client secret."
    )
    idp.delete_user_pool_client(UserPoolId=pool["Id"], ClientId=plain["ClientId"])
    with pytest.raises(ClientError) as raised:
        idp.describe_user_pool_client(UserPoolId=pool["Id"], ClientId=plain["ClientId"])
    assert error_of(raised) == ("ResourceNotFoundException", 400)
    assert message_of(raised) == f"User pool client {plain['ClientId']} does not exist."


def test_token_validity_of_a_client(overcast, idp):
    from tests.services.cognitoidp.helpers import confirmed_user, sign_in

    pool = make_pool(idp)
    client = make_client(
        idp,
        pool["Id"],
        AccessTokenValidity=5,
        IdTokenValidity=2,
        TokenValidityUnits={"AccessToken": "minutes", "IdToken": "hours"},
    )
    confirmed_user(idp, pool["Id"], "ana")
    tokens = sign_in(idp, client["ClientId"], "ana")
    assert tokens["ExpiresIn"] == 300
    overcast.advance_clock("6m")
    with pytest.raises(ClientError) as raised:
        idp.get_user(AccessToken=tokens["AccessToken"])
    assert message_of(raised) == "Access Token has expired"


def test_domains(idp):
    pool = make_pool(idp)
    idp.create_user_pool_domain(UserPoolId=pool["Id"], Domain="my-app")
    description = idp.describe_user_pool_domain(Domain="my-app")["DomainDescription"]
    assert description["UserPoolId"] == pool["Id"] and description["Status"] == "ACTIVE"
    assert description["AWSAccountId"] == "000000000000" and description["CustomDomainConfig"] == {}
    assert idp.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]["Domain"] == "my-app"
    other = make_pool(idp, PoolName="other")
    with pytest.raises(ClientError) as raised:
        idp.create_user_pool_domain(UserPoolId=other["Id"], Domain="my-app")
    assert message_of(raised) == "Domain already associated with another user pool."
    assert idp.describe_user_pool_domain(Domain="nobody-has-this")["DomainDescription"] == {}
    idp.delete_user_pool_domain(UserPoolId=pool["Id"], Domain="my-app")
    assert "Domain" not in idp.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]


def test_resource_servers_and_identity_providers(idp):
    pool = make_pool(idp)
    server = idp.create_resource_server(
        UserPoolId=pool["Id"],
        Identifier="orders",
        Name="Orders",
        Scopes=[{"ScopeName": "read", "ScopeDescription": "Read"}],
    )["ResourceServer"]
    assert server == {
        "UserPoolId": pool["Id"],
        "Identifier": "orders",
        "Name": "Orders",
        "Scopes": [{"ScopeName": "read", "ScopeDescription": "Read"}],
    }
    assert idp.list_resource_servers(UserPoolId=pool["Id"], MaxResults=10)["ResourceServers"] == [server]
    with pytest.raises(ClientError) as raised:
        idp.create_user_pool_client(
            UserPoolId=pool["Id"],
            ClientName="c",
            AllowedOAuthScopes=["orders/write"],
            AllowedOAuthFlows=["code"],
            CallbackURLs=["https://x"],
        )
    assert error_of(raised) == ("ScopeDoesNotExistException", 400)
    provider = idp.create_identity_provider(
        UserPoolId=pool["Id"],
        ProviderName="Corp",
        ProviderType="OIDC",
        ProviderDetails={
            "client_id": "abc",
            "client_secret": "s",
            "authorize_scopes": "openid",
            "oidc_issuer": "https://idp.example.com",
            "attributes_request_method": "GET",
        },
        AttributeMapping={"email": "email"},
        IdpIdentifiers=["corp"],
    )["IdentityProvider"]
    assert provider["ProviderDetails"]["jwks_uri"] == "https://idp.example.com/.well-known/jwks.json"
    assert (
        idp.get_identity_provider_by_identifier(UserPoolId=pool["Id"], IdpIdentifier="corp")[
            "IdentityProvider"
        ]["ProviderName"]
        == "Corp"
    )
    with pytest.raises(ClientError) as raised:
        idp.create_identity_provider(
            UserPoolId=pool["Id"],
            ProviderName="Corp",
            ProviderType="OIDC",
            ProviderDetails={"client_id": "x"},
        )
    assert error_of(raised) == ("DuplicateProviderException", 400)
    assert [p["ProviderName"] for p in idp.list_identity_providers(UserPoolId=pool["Id"])["Providers"]] == [
        "Corp"
    ]


def test_groups_and_membership(idp):
    from tests.services.cognitoidp.helpers import confirmed_user

    pool = make_pool(idp)
    group = idp.create_group(
        UserPoolId=pool["Id"],
        GroupName="admins",
        Description="people in charge",
        RoleArn="arn:aws:iam::000000000000:role/admin",
        Precedence=1,
    )["Group"]
    assert {k: group[k] for k in ("GroupName", "UserPoolId", "Description", "RoleArn", "Precedence")} == {
        "GroupName": "admins",
        "UserPoolId": pool["Id"],
        "Description": "people in charge",
        "RoleArn": "arn:aws:iam::000000000000:role/admin",
        "Precedence": 1,
    }
    with pytest.raises(ClientError) as raised:
        idp.create_group(UserPoolId=pool["Id"], GroupName="admins")
    assert error_of(raised) == ("GroupExistsException", 400)
    assert message_of(raised) == "A group with the name admins already exists."
    confirmed_user(idp, pool["Id"], "ana")
    idp.admin_add_user_to_group(UserPoolId=pool["Id"], Username="ana", GroupName="admins")
    assert [
        g["GroupName"]
        for g in idp.admin_list_groups_for_user(UserPoolId=pool["Id"], Username="ana")["Groups"]
    ] == ["admins"]
    assert [
        u["Username"] for u in idp.list_users_in_group(UserPoolId=pool["Id"], GroupName="admins")["Users"]
    ] == ["ana"]
    idp.delete_group(UserPoolId=pool["Id"], GroupName="admins")
    assert idp.admin_list_groups_for_user(UserPoolId=pool["Id"], Username="ana")["Groups"] == []
    with pytest.raises(ClientError) as raised:
        idp.get_group(UserPoolId=pool["Id"], GroupName="admins")
    assert error_of(raised) == ("ResourceNotFoundException", 400)
    assert message_of(raised) == "Group not found."


def test_tags(idp):
    pool = make_pool(idp, UserPoolTags={"team": "identity"})
    assert idp.list_tags_for_resource(ResourceArn=pool["Arn"])["Tags"] == {"team": "identity"}
    idp.tag_resource(ResourceArn=pool["Arn"], Tags={"env": "dev"})
    idp.untag_resource(ResourceArn=pool["Arn"], TagKeys=["team"])
    assert idp.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]["UserPoolTags"] == {"env": "dev"}


def test_mfa_configuration(idp):
    pool = make_pool(idp)
    with pytest.raises(ClientError) as raised:
        idp.set_user_pool_mfa_config(UserPoolId=pool["Id"], MfaConfiguration="ON")
    assert error_of(raised) == ("InvalidParameterException", 400)
    answer = idp.set_user_pool_mfa_config(
        UserPoolId=pool["Id"], SoftwareTokenMfaConfiguration={"Enabled": True}, MfaConfiguration="OPTIONAL"
    )
    assert answer["MfaConfiguration"] == "OPTIONAL" and answer["SoftwareTokenMfaConfiguration"] == {
        "Enabled": True
    }
    assert idp.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]["MfaConfiguration"] == "OPTIONAL"


def test_pools_of_another_account_are_not_found(overcast, idp):
    pool = make_pool(idp)
    other = overcast.client("cognito-idp", aws_access_key_id="111111111111", aws_secret_access_key="x")
    with pytest.raises(ClientError) as raised:
        other.describe_user_pool(UserPoolId=pool["Id"])
    assert error_of(raised) == ("ResourceNotFoundException", 400)
