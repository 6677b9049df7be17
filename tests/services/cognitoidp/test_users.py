"""Users: sign-up and confirmation with codes from the outbox, password policies, account recovery,
attributes and their verification, administrators' operations, ListUsers with AWS's filter syntax."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of, message_of
from tests.services.cognitoidp.helpers import (
    PASSWORD,
    confirmed_user,
    last_code,
    make_client,
    make_pool,
    outbox,
    sign_in,
)


@pytest.fixture
def idp(overcast):
    return overcast.client("cognito-idp")


@pytest.fixture
def pool(idp):
    return make_pool(idp, AutoVerifiedAttributes=["email"])


@pytest.fixture
def client(idp, pool):
    return make_client(idp, pool["Id"])


def sign_up(idp, client, username="ana", email="ana@example.com", password=PASSWORD):
    return idp.sign_up(
        ClientId=client["ClientId"],
        Username=username,
        Password=password,
        UserAttributes=[{"Name": "email", "Value": email}],
    )


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("Sh0rt!", "Password not long enough"),
        ("NO-LOWER-CASE-1", "Password must have lowercase characters"),
        ("no-upper-case-1", "Password must have uppercase characters"),
        ("No-Numbers-Here", "Password must have numeric characters"),
        ("NoSymbols1234", "Password must have symbol characters"),
    ],
)
def test_password_policy(idp, client, password, problem):
    with pytest.raises(ClientError) as raised:
        sign_up(idp, client, password=password)
    assert error_of(raised) == ("InvalidPasswordException", 400)
    assert message_of(raised) == f"Password did not conform with policy: {problem}"


def test_sign_up_confirm_and_resend(overcast, idp, pool, client):
    answer = sign_up(idp, client)
    assert answer["UserConfirmed"] is False
    [message] = outbox(overcast, pool["Id"])
    assert message["subject"] == "Your verification code"
    assert message["message"] == f"Your verification code is {message['code']}. "
    with pytest.raises(ClientError) as raised:
        sign_up(idp, client)
    assert error_of(raised) == ("UsernameExistsException", 400)
    assert message_of(raised) == "User already exists"
    resent = idp.resend_confirmation_code(ClientId=client["ClientId"], Username="ana")
    assert resent["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
    fresh = last_code(overcast, pool["Id"])
    with pytest.raises(ClientError) as raised:
        idp.confirm_sign_up(
            ClientId=client["ClientId"],
            Username="ana",
            ConfirmationCode="000000" if fresh != "000000" else "111111",
        )
    assert error_of(raised) == ("CodeMismatchException", 400)
    assert message_of(raised) == "Invalid verification code provided, please try again."
    idp.confirm_sign_up(ClientId=client["ClientId"], Username="ana", ConfirmationCode=fresh)
    user = idp.admin_get_user(UserPoolId=pool["Id"], Username="ana")
    assert user["UserStatus"] == "CONFIRMED" and user["Enabled"] is True
    assert {"Name": "email_verified", "Value": "true"} in user["UserAttributes"]
    with pytest.raises(ClientError) as raised:
        idp.confirm_sign_up(ClientId=client["ClientId"], Username="ana", ConfirmationCode=fresh)
    assert error_of(raised) == ("NotAuthorizedException", 400)
    assert message_of(raised) == "User cannot be confirmed. Current status is CONFIRMED"


def test_a_confirmation_code_expires_after_a_day(overcast, idp, pool, client):
    sign_up(idp, client)
    code = last_code(overcast, pool["Id"])
    overcast.advance_clock("25h")
    with pytest.raises(ClientError) as raised:
        idp.confirm_sign_up(ClientId=client["ClientId"], Username="ana", ConfirmationCode=code)
    assert error_of(raised) == ("ExpiredCodeException", 400)
    assert message_of(raised) == "Invalid code provided, please request a code again."


def test_sign_up_refused_when_only_administrators_create_users(idp):
    pool = make_pool(idp, AdminCreateUserConfig={"AllowAdminCreateUserOnly": True})
    client = make_client(idp, pool["Id"])
    with pytest.raises(ClientError) as raised:
        idp.sign_up(ClientId=client["ClientId"], Username="ana", Password=PASSWORD)
    assert error_of(raised) == ("NotAuthorizedException", 400)
    assert message_of(raised) == "SignUp is not permitted for this user pool"


def test_email_as_username(idp):
    pool = make_pool(idp, UsernameAttributes=["email"])
    client = make_client(idp, pool["Id"])
    with pytest.raises(ClientError) as raised:
        idp.sign_up(ClientId=client["ClientId"], Username="ana", Password=PASSWORD)
    assert message_of(raised) == "Username should be an email."
    answer = idp.sign_up(ClientId=client["ClientId"], Username="ana@example.com", Password=PASSWORD)
    user = idp.admin_get_user(UserPoolId=pool["Id"], Username="ana@example.com")
    assert user["Username"] == answer["UserSub"]
    with pytest.raises(ClientError) as raised:
        idp.sign_up(ClientId=client["ClientId"], Username="ana@example.com", Password=PASSWORD)
    assert error_of(raised) == ("UsernameExistsException", 400)
    assert message_of(raised) == "An account with the given email already exists."


def test_forgot_password(overcast, idp, pool, client):
    sign_up(idp, client)
    idp.confirm_sign_up(
        ClientId=client["ClientId"], Username="ana", ConfirmationCode=last_code(overcast, pool["Id"])
    )
    sent = idp.forgot_password(ClientId=client["ClientId"], Username="ana")["CodeDeliveryDetails"]
    assert sent == {"Destination": "a***@e***", "DeliveryMedium": "EMAIL", "AttributeName": "email"}
    idp.confirm_forgot_password(
        ClientId=client["ClientId"],
        Username="ana",
        ConfirmationCode=last_code(overcast, pool["Id"]),
        Password="N3w-Passw0rd!",
    )
    sign_in(idp, client["ClientId"], "ana", "N3w-Passw0rd!")
    with pytest.raises(ClientError) as raised:
        sign_in(idp, client["ClientId"], "ana")
    assert message_of(raised) == "Incorrect username or password."
    with pytest.raises(ClientError) as raised:
        idp.forgot_password(ClientId=client["ClientId"], Username="nobody")
    assert error_of(raised) == ("UserNotFoundException", 400)


def test_forgot_password_needs_a_verified_destination(idp, pool, client):
    confirmed_user(idp, pool["Id"], "bo")
    with pytest.raises(ClientError) as raised:
        idp.forgot_password(ClientId=client["ClientId"], Username="bo")
    assert error_of(raised) == ("InvalidParameterException", 400)
    assert (
        message_of(raised)
        == "Cannot reset password for the user as there is no registered/verified email or phone_number"
    )


def test_admin_reset_requires_a_new_password(overcast, idp, pool, client):
    confirmed_user(idp, pool["Id"], "ana", email="ana@example.com", email_verified="true")
    idp.admin_reset_user_password(UserPoolId=pool["Id"], Username="ana")
    assert idp.admin_get_user(UserPoolId=pool["Id"], Username="ana")["UserStatus"] == "RESET_REQUIRED"
    with pytest.raises(ClientError) as raised:
        sign_in(idp, client["ClientId"], "ana")
    assert error_of(raised) == ("PasswordResetRequiredException", 400)
    idp.confirm_forgot_password(
        ClientId=client["ClientId"],
        Username="ana",
        ConfirmationCode=last_code(overcast, pool["Id"]),
        Password="N3w-Passw0rd!",
    )
    assert idp.admin_get_user(UserPoolId=pool["Id"], Username="ana")["UserStatus"] == "CONFIRMED"


def test_attribute_change_and_verification(overcast, idp, pool, client):
    confirmed_user(idp, pool["Id"], "ana", email="ana@example.com", email_verified="true")
    access = sign_in(idp, client["ClientId"], "ana")["AccessToken"]
    changed = idp.update_user_attributes(
        AccessToken=access, UserAttributes=[{"Name": "email", "Value": "ana@new.example"}]
    )
    assert changed["CodeDeliveryDetailsList"] == [
        {"Destination": "a***@n***", "DeliveryMedium": "EMAIL", "AttributeName": "email"}
    ]
    attributes = {a["Name"]: a["Value"] for a in idp.get_user(AccessToken=access)["UserAttributes"]}
    assert attributes["email"] == "ana@new.example" and attributes["email_verified"] == "false"
    idp.verify_user_attribute(AccessToken=access, AttributeName="email", Code=last_code(overcast, pool["Id"]))
    attributes = {a["Name"]: a["Value"] for a in idp.get_user(AccessToken=access)["UserAttributes"]}
    assert attributes["email_verified"] == "true"
    idp.get_user_attribute_verification_code(AccessToken=access, AttributeName="email")
    assert outbox(overcast, pool["Id"])[-1]["destination"] == "ana@new.example"
    idp.delete_user_attributes(AccessToken=access, UserAttributeNames=["email"])
    assert "email" not in {a["Name"] for a in idp.get_user(AccessToken=access)["UserAttributes"]}


def test_change_password_and_delete_self(idp, pool, client):
    confirmed_user(idp, pool["Id"], "ana")
    access = sign_in(idp, client["ClientId"], "ana")["AccessToken"]
    with pytest.raises(ClientError) as raised:
        idp.change_password(
            AccessToken=access, PreviousPassword="Wrong-Passw0rd!", ProposedPassword="N3w-Passw0rd!"
        )
    assert error_of(raised) == ("NotAuthorizedException", 400)
    idp.change_password(AccessToken=access, PreviousPassword=PASSWORD, ProposedPassword="N3w-Passw0rd!")
    sign_in(idp, client["ClientId"], "ana", "N3w-Passw0rd!")
    idp.delete_user(AccessToken=access)
    with pytest.raises(ClientError) as raised:
        idp.admin_get_user(UserPoolId=pool["Id"], Username="ana")
    assert error_of(raised) == ("UserNotFoundException", 400)


def test_admin_operations(idp, pool):
    created = idp.admin_create_user(
        UserPoolId=pool["Id"],
        Username="ana",
        UserAttributes=[{"Name": "name", "Value": "Ana"}],
        MessageAction="SUPPRESS",
    )["User"]
    assert set(created) == {
        "Username",
        "Attributes",
        "UserCreateDate",
        "UserLastModifiedDate",
        "Enabled",
        "UserStatus",
    }
    assert created["Attributes"][0]["Name"] == "sub"
    with pytest.raises(ClientError) as raised:
        idp.admin_create_user(UserPoolId=pool["Id"], Username="ana", MessageAction="SUPPRESS")
    assert error_of(raised) == ("UsernameExistsException", 400)
    assert message_of(raised) == "User account already exists"
    idp.admin_update_user_attributes(
        UserPoolId=pool["Id"], Username="ana", UserAttributes=[{"Name": "name", "Value": "Ana B"}]
    )
    idp.admin_disable_user(UserPoolId=pool["Id"], Username="ana")
    user = idp.admin_get_user(UserPoolId=pool["Id"], Username="ana")
    assert user["Enabled"] is False and {"Name": "name", "Value": "Ana B"} in user["UserAttributes"]
    idp.admin_enable_user(UserPoolId=pool["Id"], Username="ana")
    idp.admin_delete_user_attributes(UserPoolId=pool["Id"], Username="ana", UserAttributeNames=["name"])
    assert "name" not in {
        a["Name"] for a in idp.admin_get_user(UserPoolId=pool["Id"], Username="ana")["UserAttributes"]
    }
    idp.admin_delete_user(UserPoolId=pool["Id"], Username="ana")
    with pytest.raises(ClientError) as raised:
        idp.admin_get_user(UserPoolId=pool["Id"], Username="ana")
    assert message_of(raised) == "User does not exist."


def test_list_users_filters(idp, pool):
    confirmed_user(idp, pool["Id"], "ana", email="ana@example.com", given_name="Ana", family_name="Reddy")
    confirmed_user(idp, pool["Id"], "anabel", email="anabel@example.org", given_name="Anabel")
    idp.admin_create_user(
        UserPoolId=pool["Id"],
        Username="bo",
        UserAttributes=[{"Name": "email", "Value": "bo@example.com"}],
        MessageAction="SUPPRESS",
    )
    idp.admin_disable_user(UserPoolId=pool["Id"], Username="anabel")

    def names(filter_text: str | None = None, **kwargs) -> list[str]:
        args = {"Filter": filter_text} if filter_text is not None else {}
        return sorted(u["Username"] for u in idp.list_users(UserPoolId=pool["Id"], **args, **kwargs)["Users"])

    assert names() == ["ana", "anabel", "bo"]
    assert names('username = "ana"') == ["ana"]
    assert names('username ^= "ana"') == ["ana", "anabel"]
    assert names('email ^= "ana"') == ["ana", "anabel"]
    assert names('family_name = "Reddy"') == ["ana"]
    assert names('given_name ^= "Ana"') == ["ana", "anabel"]
    assert names('cognito:user_status = "force_change_password"') == ["bo"]
    assert names('status = "Disabled"') == ["anabel"]
    assert names('email = "nobody@example.com"') == []
    with pytest.raises(ClientError) as raised:
        names("email is ana")
    assert error_of(raised) == ("InvalidParameterException", 400)
    with pytest.raises(ClientError) as raised:
        names('custom:tier = "gold"')
    assert error_of(raised) == ("InvalidParameterException", 400)
    only = idp.list_users(UserPoolId=pool["Id"], Filter='username = "ana"', AttributesToGet=["email"])[
        "Users"
    ][0]
    assert only["Attributes"] == [{"Name": "email", "Value": "ana@example.com"}]
    page = idp.list_users(UserPoolId=pool["Id"], Limit=2)
    rest = idp.list_users(UserPoolId=pool["Id"], Limit=2, PaginationToken=page["PaginationToken"])
    assert (
        len(page["Users"]) == 2
        and [u["Username"] for u in rest["Users"]] == ["bo"]
        and "PaginationToken" not in rest
    )


def test_users_survive_a_restart(tmp_path):
    from overcast.config import Config
    from overcast.testing import OvercastServer

    config = Config(data_dir=tmp_path, log_level="warning")
    with OvercastServer(config) as server:
        idp = server.client("cognito-idp")
        pool = make_pool(idp)
        client = make_client(idp, pool["Id"])
        confirmed_user(idp, pool["Id"], "ana")
        tokens = sign_in(idp, client["ClientId"], "ana")
    with OvercastServer(Config(data_dir=tmp_path, log_level="warning")) as server:
        idp = server.client("cognito-idp")
        assert idp.get_user(AccessToken=tokens["AccessToken"])["Username"] == "ana"  # the pool's key was kept
        refreshed = idp.initiate_auth(
            ClientId=client["ClientId"],
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]},
        )
        assert "AccessToken" in refreshed["AuthenticationResult"]
