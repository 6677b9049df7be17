"""Sign-in flows: passwords, SRP through pycognito, refresh tokens, SECRET_HASH, NEW_PASSWORD_REQUIRED, TOTP
MFA with codes pyotp computes from AssociateSoftwareToken's secret, SMS MFA through the outbox, sign-out and
revocation, and the access-token operations."""

from __future__ import annotations

import pyotp
import pytest
from botocore.exceptions import ClientError
from pycognito import Cognito

from tests.helpers import error_of, message_of
from tests.services.cognitoidp.helpers import (
    PASSWORD,
    confirmed_user,
    last_code,
    make_client,
    make_pool,
    outbox,
    secret_hash,
    sign_in,
    verified_claims,
)


@pytest.fixture
def idp(overcast):
    return overcast.client("cognito-idp")


@pytest.fixture
def pool(idp):
    return make_pool(idp)


@pytest.fixture
def client(idp, pool):
    return make_client(idp, pool["Id"])


def test_user_password_auth_issues_aws_shaped_tokens(overcast, idp, pool, client):
    idp.add_custom_attributes(
        UserPoolId=pool["Id"], CustomAttributes=[{"Name": "tier", "AttributeDataType": "String"}]
    )
    confirmed_user(idp, pool["Id"], "ana", email="ana@example.com", **{"custom:tier": "gold"})
    answer = idp.initiate_auth(
        ClientId=client["ClientId"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "ana", "PASSWORD": PASSWORD},
    )
    assert answer["ChallengeParameters"] == {}
    tokens = answer["AuthenticationResult"]
    assert tokens["ExpiresIn"] == 3600 and tokens["TokenType"] == "Bearer"
    assert tokens["RefreshToken"].count(".") == 4  # opaque, shaped like AWS's JWE
    id_claims = verified_claims(overcast, tokens["IdToken"], client["ClientId"])
    assert id_claims["iss"] == f"{overcast.endpoint}/{pool['Id']}"
    assert id_claims["token_use"] == "id" and id_claims["aud"] == client["ClientId"]
    assert id_claims["cognito:username"] == "ana" and id_claims["custom:tier"] == "gold"
    assert id_claims["email"] == "ana@example.com"
    assert id_claims["exp"] - id_claims["iat"] == 3600 and id_claims["auth_time"] == id_claims["iat"]
    access = verified_claims(overcast, tokens["AccessToken"])
    assert access["token_use"] == "access" and access["client_id"] == client["ClientId"]
    assert access["scope"] == "aws.cognito.signin.user.admin" and access["username"] == "ana"
    assert access["origin_jti"] == id_claims["origin_jti"] and access["event_id"] == id_claims["event_id"]
    assert access["sub"] == id_claims["sub"]
    me = idp.get_user(AccessToken=tokens["AccessToken"])
    assert me["Username"] == "ana"
    assert {"Name": "custom:tier", "Value": "gold"} in me["UserAttributes"]


def test_wrong_password_unknown_user_and_disabled_user(idp, pool, client):
    confirmed_user(idp, pool["Id"], "ana")
    with pytest.raises(ClientError) as raised:
        sign_in(idp, client["ClientId"], "ana", "Wrong-Passw0rd!")
    assert error_of(raised) == ("NotAuthorizedException", 400)
    assert message_of(raised) == "Incorrect username or password."
    with pytest.raises(ClientError) as raised:
        sign_in(idp, client["ClientId"], "nobody")
    assert error_of(raised) == ("UserNotFoundException", 400)
    assert message_of(raised) == "User does not exist."
    hiding = make_client(idp, pool["Id"], ClientName="hiding", PreventUserExistenceErrors="ENABLED")
    with pytest.raises(ClientError) as raised:
        sign_in(idp, hiding["ClientId"], "nobody")
    assert error_of(raised) == ("NotAuthorizedException", 400)
    idp.admin_disable_user(UserPoolId=pool["Id"], Username="ana")
    with pytest.raises(ClientError) as raised:
        sign_in(idp, client["ClientId"], "ana")
    assert message_of(raised) == "User is disabled."


def test_a_flow_the_client_does_not_allow_is_refused(idp, pool):
    srp_only = make_client(
        idp, pool["Id"], ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    )
    confirmed_user(idp, pool["Id"], "ana")
    with pytest.raises(ClientError) as raised:
        sign_in(idp, srp_only["ClientId"], "ana")
    assert error_of(raised) == ("InvalidParameterException", 400)
    assert message_of(raised) == "USER_PASSWORD_AUTH flow not enabled for this client"


def test_admin_user_password_auth_and_unconfirmed_users(idp, pool):
    client = make_client(
        idp, pool["Id"], ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_USER_PASSWORD_AUTH"]
    )
    idp.sign_up(ClientId=client["ClientId"], Username="ana", Password=PASSWORD)
    with pytest.raises(ClientError) as raised:
        sign_in(idp, client["ClientId"], "ana")
    assert error_of(raised) == ("UserNotConfirmedException", 400)
    assert message_of(raised) == "User is not confirmed."
    idp.admin_confirm_sign_up(UserPoolId=pool["Id"], Username="ana")
    answer = idp.admin_initiate_auth(
        UserPoolId=pool["Id"],
        ClientId=client["ClientId"],
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "ana", "PASSWORD": PASSWORD},
    )
    assert "IdToken" in answer["AuthenticationResult"]


def test_srp_sign_in_with_pycognito_then_refresh(overcast, idp, pool, client):
    confirmed_user(idp, pool["Id"], "ana", email="ana@example.com")
    user = Cognito(
        pool["Id"],
        client["ClientId"],
        username="ana",
        boto3_client_kwargs={"endpoint_url": overcast.endpoint},
    )
    user.authenticate(password=PASSWORD)
    user.verify_tokens()
    assert user.id_claims["cognito:username"] == "ana"
    first_access = user.access_token
    overcast.advance_clock("10s")
    user.renew_access_token()
    assert user.access_token != first_access
    assert (
        verified_claims(overcast, user.access_token)["origin_jti"]
        == verified_claims(overcast, first_access)["origin_jti"]
    )
    wrong = Cognito(
        pool["Id"],
        client["ClientId"],
        username="ana",
        boto3_client_kwargs={"endpoint_url": overcast.endpoint},
    )
    with pytest.raises(ClientError) as raised:
        wrong.authenticate(password="Not-The-Passw0rd")
    assert error_of(raised) == ("NotAuthorizedException", 400)


def test_srp_with_a_client_secret_and_secret_hash(overcast, idp, pool):
    client = make_client(idp, pool["Id"], GenerateSecret=True)
    assert len(client["ClientSecret"]) == 51
    confirmed_user(idp, pool["Id"], "ana")
    with pytest.raises(ClientError) as raised:
        sign_in(idp, client["ClientId"], "ana")
    assert (
        message_of(raised)
        == f"Client {client['ClientId']} is configured with secret but SECRET_HASH was not received"
    )
    with pytest.raises(ClientError) as raised:
        idp.initiate_auth(
            ClientId=client["ClientId"],
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "ana", "PASSWORD": PASSWORD, "SECRET_HASH": "bm9wZQ=="},
        )
    assert message_of(raised) == f"Unable to verify secret hash for client {client['ClientId']}"
    user = Cognito(
        pool["Id"],
        client["ClientId"],
        username="ana",
        client_secret=client["ClientSecret"],
        boto3_client_kwargs={"endpoint_url": overcast.endpoint},
    )
    user.authenticate(password=PASSWORD)
    user.verify_tokens()
    tokens = idp.initiate_auth(
        ClientId=client["ClientId"],
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={
            "REFRESH_TOKEN": user.refresh_token,
            "SECRET_HASH": secret_hash("ana", client["ClientId"], client["ClientSecret"]),
        },
    )["AuthenticationResult"]
    assert "RefreshToken" not in tokens and "AccessToken" in tokens


def test_refresh_tokens_expire_on_the_virtual_clock_and_can_be_revoked(overcast, idp, pool, client):
    confirmed_user(idp, pool["Id"], "ana")
    tokens = sign_in(idp, client["ClientId"], "ana")
    refreshed = idp.initiate_auth(
        ClientId=client["ClientId"],
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]},
    )["AuthenticationResult"]
    idp.get_user(AccessToken=refreshed["AccessToken"])
    idp.revoke_token(Token=tokens["RefreshToken"], ClientId=client["ClientId"])
    with pytest.raises(ClientError) as raised:
        idp.initiate_auth(
            ClientId=client["ClientId"],
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]},
        )
    assert message_of(raised) == "Refresh Token has been revoked"
    with pytest.raises(ClientError) as raised:  # access tokens of that sign-in go with it
        idp.get_user(AccessToken=refreshed["AccessToken"])
    assert message_of(raised) == "Access Token has been revoked"

    later = sign_in(idp, client["ClientId"], "ana")
    overcast.advance_clock("61m")
    with pytest.raises(ClientError) as raised:
        idp.get_user(AccessToken=later["AccessToken"])
    assert error_of(raised) == ("NotAuthorizedException", 400)
    assert message_of(raised) == "Access Token has expired"
    overcast.advance_clock("30d")
    with pytest.raises(ClientError) as raised:
        idp.initiate_auth(
            ClientId=client["ClientId"],
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": later["RefreshToken"]},
        )
    assert error_of(raised) == ("NotAuthorizedException", 400)


def test_global_sign_out_revokes_every_session(idp, pool, client):
    confirmed_user(idp, pool["Id"], "ana")
    first, second = sign_in(idp, client["ClientId"], "ana"), sign_in(idp, client["ClientId"], "ana")
    idp.global_sign_out(AccessToken=first["AccessToken"])
    for tokens in (first, second):
        with pytest.raises(ClientError) as raised:
            idp.get_user(AccessToken=tokens["AccessToken"])
        assert message_of(raised) == "Access Token has been revoked"
    with pytest.raises(ClientError) as raised:
        idp.get_user(AccessToken="not-a-token")
    assert message_of(raised) == "Invalid Access Token"


def test_new_password_required_for_an_admin_created_user(overcast, idp, pool, client):
    created = idp.admin_create_user(
        UserPoolId=pool["Id"],
        Username="ana",
        TemporaryPassword="Temp-Passw0rd!",
        UserAttributes=[{"Name": "email", "Value": "ana@example.com"}],
        DesiredDeliveryMediums=["EMAIL"],
    )["User"]
    assert created["UserStatus"] == "FORCE_CHANGE_PASSWORD" and created["Enabled"] is True
    [invitation] = outbox(overcast, pool["Id"])
    assert invitation["message"] == "Your username is ana and temporary password is Temp-Passw0rd!. "
    assert invitation["subject"] == "Your temporary password"
    challenge = idp.initiate_auth(
        ClientId=client["ClientId"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "ana", "PASSWORD": "Temp-Passw0rd!"},
    )
    assert challenge["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    assert challenge["ChallengeParameters"]["USER_ID_FOR_SRP"] == "ana"
    with pytest.raises(ClientError) as raised:
        idp.respond_to_auth_challenge(
            ClientId=client["ClientId"],
            ChallengeName="NEW_PASSWORD_REQUIRED",
            Session=challenge["Session"],
            ChallengeResponses={"USERNAME": "ana", "NEW_PASSWORD": "short"},
        )
    assert error_of(raised) == ("InvalidPasswordException", 400)
    assert message_of(raised) == "Password did not conform with policy: Password not long enough"
    done = idp.respond_to_auth_challenge(
        ClientId=client["ClientId"],
        ChallengeName="NEW_PASSWORD_REQUIRED",
        Session=challenge["Session"],
        ChallengeResponses={"USERNAME": "ana", "NEW_PASSWORD": PASSWORD},
    )
    assert "IdToken" in done["AuthenticationResult"]
    assert idp.admin_get_user(UserPoolId=pool["Id"], Username="ana")["UserStatus"] == "CONFIRMED"


def test_a_temporary_password_expires(overcast, idp, pool, client):
    idp.admin_create_user(
        UserPoolId=pool["Id"], Username="ana", TemporaryPassword="Temp-Passw0rd!", MessageAction="SUPPRESS"
    )
    overcast.advance_clock("8d")
    with pytest.raises(ClientError) as raised:
        sign_in(idp, client["ClientId"], "ana", "Temp-Passw0rd!")
    assert message_of(raised) == "Temporary password has expired and must be reset by an administrator."


def test_totp_mfa_with_pyotp(overcast, idp):
    pool = make_pool(idp)
    idp.set_user_pool_mfa_config(
        UserPoolId=pool["Id"], SoftwareTokenMfaConfiguration={"Enabled": True}, MfaConfiguration="OPTIONAL"
    )
    client = make_client(idp, pool["Id"])
    confirmed_user(idp, pool["Id"], "ana")
    access = sign_in(idp, client["ClientId"], "ana")["AccessToken"]
    secret = idp.associate_software_token(AccessToken=access)["SecretCode"]
    with pytest.raises(ClientError) as raised:
        idp.verify_software_token(
            AccessToken=access, UserCode="000000" if pyotp.TOTP(secret).now() != "000000" else "111111"
        )
    assert error_of(raised) == ("EnableSoftwareTokenMFAException", 400)
    assert (
        idp.verify_software_token(AccessToken=access, UserCode=pyotp.TOTP(secret).now())["Status"]
        == "SUCCESS"
    )
    idp.set_user_mfa_preference(
        AccessToken=access, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True}
    )
    assert idp.get_user(AccessToken=access)["PreferredMfaSetting"] == "SOFTWARE_TOKEN_MFA"

    challenge = idp.initiate_auth(
        ClientId=client["ClientId"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "ana", "PASSWORD": PASSWORD},
    )
    assert challenge["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    with pytest.raises(ClientError) as raised:
        idp.respond_to_auth_challenge(
            ClientId=client["ClientId"],
            ChallengeName="SOFTWARE_TOKEN_MFA",
            Session=challenge["Session"],
            ChallengeResponses={"USERNAME": "ana", "SOFTWARE_TOKEN_MFA_CODE": "12345x"},
        )
    assert error_of(raised) == ("CodeMismatchException", 400)
    done = idp.respond_to_auth_challenge(
        ClientId=client["ClientId"],
        ChallengeName="SOFTWARE_TOKEN_MFA",
        Session=challenge["Session"],
        ChallengeResponses={"USERNAME": "ana", "SOFTWARE_TOKEN_MFA_CODE": pyotp.TOTP(secret).now()},
    )
    assert "AccessToken" in done["AuthenticationResult"]

    # pycognito meets the same challenge after SRP and answers it with the TOTP code.
    user = Cognito(
        pool["Id"],
        client["ClientId"],
        username="ana",
        boto3_client_kwargs={"endpoint_url": overcast.endpoint},
    )
    from pycognito.exceptions import SoftwareTokenMFAChallengeException

    with pytest.raises(SoftwareTokenMFAChallengeException) as mfa:
        user.authenticate(password=PASSWORD)
    user.respond_to_software_token_mfa_challenge(pyotp.TOTP(secret).now(), mfa.value.get_tokens())
    user.verify_tokens()


def test_mfa_setup_when_the_pool_requires_mfa(idp):
    pool = make_pool(idp)
    idp.set_user_pool_mfa_config(
        UserPoolId=pool["Id"], SoftwareTokenMfaConfiguration={"Enabled": True}, MfaConfiguration="ON"
    )
    client = make_client(idp, pool["Id"])
    confirmed_user(idp, pool["Id"], "ana")
    setup = idp.initiate_auth(
        ClientId=client["ClientId"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "ana", "PASSWORD": PASSWORD},
    )
    assert setup["ChallengeName"] == "MFA_SETUP"
    associated = idp.associate_software_token(Session=setup["Session"])
    verified = idp.verify_software_token(
        Session=associated["Session"], UserCode=pyotp.TOTP(associated["SecretCode"]).now()
    )
    done = idp.respond_to_auth_challenge(
        ClientId=client["ClientId"],
        ChallengeName="MFA_SETUP",
        Session=verified["Session"],
        ChallengeResponses={"USERNAME": "ana"},
    )
    assert "IdToken" in done["AuthenticationResult"]
    again = idp.initiate_auth(
        ClientId=client["ClientId"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "ana", "PASSWORD": PASSWORD},
    )
    assert again["ChallengeName"] == "SOFTWARE_TOKEN_MFA"


def test_sms_mfa_code_through_the_outbox(overcast, idp):
    pool = make_pool(
        idp,
        SmsConfiguration={"SnsCallerArn": "arn:aws:iam::000000000000:role/sns-caller", "ExternalId": "x"},
        MfaConfiguration="OPTIONAL",
    )
    client = make_client(idp, pool["Id"])
    confirmed_user(idp, pool["Id"], "ana", phone_number="+15555550100")
    idp.admin_set_user_mfa_preference(
        UserPoolId=pool["Id"], Username="ana", SMSMfaSettings={"Enabled": True, "PreferredMfa": True}
    )
    challenge = idp.initiate_auth(
        ClientId=client["ClientId"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "ana", "PASSWORD": PASSWORD},
    )
    assert challenge["ChallengeName"] == "SMS_MFA"
    assert challenge["ChallengeParameters"]["CODE_DELIVERY_DESTINATION"] == "+*******0100"
    message = outbox(overcast, pool["Id"])[-1]
    assert message["channel"] == "SMS" and message["destination"] == "+15555550100"
    assert message["message"] == f"Your authentication code is {message['code']}. "
    done = idp.respond_to_auth_challenge(
        ClientId=client["ClientId"],
        ChallengeName="SMS_MFA",
        Session=challenge["Session"],
        ChallengeResponses={"USERNAME": "ana", "SMS_MFA_CODE": last_code(overcast, pool["Id"])},
    )
    assert "IdToken" in done["AuthenticationResult"]


def test_sign_in_by_email_in_a_pool_with_email_as_username_and_case_insensitivity(idp):
    pool = make_pool(idp, UsernameAttributes=["email"], UsernameConfiguration={"CaseSensitive": False})
    client = make_client(idp, pool["Id"])
    confirmed_user(idp, pool["Id"], "Ana@Example.com")
    tokens = sign_in(idp, client["ClientId"], "ana@example.com")
    me = idp.get_user(AccessToken=tokens["AccessToken"])
    sub = next(a["Value"] for a in me["UserAttributes"] if a["Name"] == "sub")
    assert me["Username"] == sub  # the username is the UUID; the email signs in


def test_alias_sign_in_needs_a_verified_email(idp):
    pool = make_pool(idp, AliasAttributes=["email", "preferred_username"])
    client = make_client(idp, pool["Id"])
    confirmed_user(idp, pool["Id"], "ana", email="ana@example.com", preferred_username="anita")
    with pytest.raises(ClientError):
        sign_in(idp, client["ClientId"], "ana@example.com")
    sign_in(idp, client["ClientId"], "anita")
    idp.admin_update_user_attributes(
        UserPoolId=pool["Id"], Username="ana", UserAttributes=[{"Name": "email_verified", "Value": "true"}]
    )
    sign_in(idp, client["ClientId"], "ana@example.com")


def test_get_tokens_from_refresh_token_and_auth_factors(idp, pool):
    rotating = make_client(
        idp, pool["Id"], RefreshTokenRotation={"Feature": "ENABLED", "RetryGracePeriodSeconds": 0}
    )
    confirmed_user(idp, pool["Id"], "ana")
    tokens = sign_in(idp, rotating["ClientId"], "ana")
    fresh = idp.get_tokens_from_refresh_token(
        RefreshToken=tokens["RefreshToken"], ClientId=rotating["ClientId"]
    )
    result = fresh["AuthenticationResult"]
    assert result["RefreshToken"] != tokens["RefreshToken"]
    with pytest.raises(ClientError) as raised:
        idp.get_tokens_from_refresh_token(RefreshToken=tokens["RefreshToken"], ClientId=rotating["ClientId"])
    assert message_of(raised) == "Refresh Token has been revoked"
    factors = idp.get_user_auth_factors(AccessToken=result["AccessToken"])
    assert factors["Username"] == "ana" and factors["ConfiguredUserAuthFactors"] == ["PASSWORD"]
    assert idp.admin_get_user_auth_factors(UserPoolId=pool["Id"], Username="ana")[
        "ConfiguredUserAuthFactors"
    ] == ["PASSWORD"]


def test_devices_are_remembered_when_the_pool_tracks_them(idp):
    pool = make_pool(
        idp,
        DeviceConfiguration={
            "ChallengeRequiredOnNewDevice": False,
            "DeviceOnlyRememberedOnUserPrompt": False,
        },
    )
    client = make_client(idp, pool["Id"])
    confirmed_user(idp, pool["Id"], "ana")
    tokens = sign_in(idp, client["ClientId"], "ana")
    device = tokens["NewDeviceMetadata"]
    assert device["DeviceKey"].startswith("us-east-1_") and device["DeviceGroupKey"]
    assert idp.list_devices(AccessToken=tokens["AccessToken"])["Devices"] == []  # not confirmed yet
    confirmed = idp.confirm_device(
        AccessToken=tokens["AccessToken"],
        DeviceKey=device["DeviceKey"],
        DeviceSecretVerifierConfig={"PasswordVerifier": "dmVyaWZpZXI=", "Salt": "c2FsdA=="},
        DeviceName="laptop",
    )
    assert confirmed["UserConfirmationNecessary"] is False
    [listed] = idp.list_devices(AccessToken=tokens["AccessToken"])["Devices"]
    assert listed["DeviceKey"] == device["DeviceKey"]
    assert listed["DeviceAttributes"] == [
        {"Name": "device_status", "Value": "valid"},
        {"Name": "device_name", "Value": "laptop"},
        {"Name": "dev:device_remembered_status", "Value": "remembered"},
    ]
    idp.update_device_status(
        AccessToken=tokens["AccessToken"],
        DeviceKey=device["DeviceKey"],
        DeviceRememberedStatus="not_remembered",
    )
    status = idp.get_device(AccessToken=tokens["AccessToken"], DeviceKey=device["DeviceKey"])["Device"][
        "DeviceAttributes"
    ][-1]
    assert status == {"Name": "dev:device_remembered_status", "Value": "not_remembered"}
    assert (
        idp.admin_get_device(UserPoolId=pool["Id"], Username="ana", DeviceKey=device["DeviceKey"])["Device"][
            "DeviceKey"
        ]
        == device["DeviceKey"]
    )
    idp.forget_device(AccessToken=tokens["AccessToken"], DeviceKey=device["DeviceKey"])
    with pytest.raises(ClientError) as raised:
        idp.get_device(AccessToken=tokens["AccessToken"], DeviceKey=device["DeviceKey"])
    assert error_of(raised) == ("ResourceNotFoundException", 400)


def test_choice_based_sign_in_with_a_password_or_an_email_code(overcast, idp):
    pool = make_pool(idp, Policies={"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "EMAIL_OTP"]}})
    client = make_client(idp, pool["Id"], ExplicitAuthFlows=["ALLOW_USER_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])
    confirmed_user(idp, pool["Id"], "ana", email="ana@example.com", email_verified="true")
    direct = idp.initiate_auth(
        ClientId=client["ClientId"],
        AuthFlow="USER_AUTH",
        AuthParameters={"USERNAME": "ana", "PREFERRED_CHALLENGE": "PASSWORD", "PASSWORD": PASSWORD},
    )
    assert "IdToken" in direct["AuthenticationResult"]
    choice = idp.initiate_auth(
        ClientId=client["ClientId"], AuthFlow="USER_AUTH", AuthParameters={"USERNAME": "ana"}
    )
    assert choice["ChallengeName"] == "SELECT_CHALLENGE"
    assert choice["AvailableChallenges"] == ["PASSWORD", "PASSWORD_SRP", "EMAIL_OTP"]
    code_sent = idp.respond_to_auth_challenge(
        ClientId=client["ClientId"],
        ChallengeName="SELECT_CHALLENGE",
        Session=choice["Session"],
        ChallengeResponses={"USERNAME": "ana", "ANSWER": "EMAIL_OTP"},
    )
    assert code_sent["ChallengeName"] == "EMAIL_OTP"
    assert code_sent["ChallengeParameters"]["CODE_DELIVERY_DESTINATION"] == "a***@e***"
    message = outbox(overcast, pool["Id"])[-1]
    assert message["channel"] == "EMAIL" and len(message["code"]) == 8
    done = idp.respond_to_auth_challenge(
        ClientId=client["ClientId"],
        ChallengeName="EMAIL_OTP",
        Session=code_sent["Session"],
        ChallengeResponses={"USERNAME": "ana", "EMAIL_OTP_CODE": message["code"]},
    )
    assert (
        verified_claims(overcast, done["AuthenticationResult"]["IdToken"], client["ClientId"])["email"]
        == "ana@example.com"
    )
