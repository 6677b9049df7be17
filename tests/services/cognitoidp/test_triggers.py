"""Lambda triggers with AWS's event shapes: pre sign-up auto-confirms, pre token generation (v1 and v2) adds,
suppresses and overrides claims, custom messages reword the outbox, user migration brings users in, post
confirmation sees the confirmed user, the custom auth challenge triggers run a challenge."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of, message_of
from tests.services.cognitoidp.helpers import (
    PASSWORD,
    confirmed_user,
    make_client,
    make_pool,
    outbox,
    sign_in,
    verified_claims,
)

ROLE = "arn:aws:iam::000000000000:role/cognito-triggers"


def function(lam, name: str, source: str) -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return lam.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": buffer.getvalue()},
    )["FunctionArn"]


@pytest.fixture
def lam(overcast):
    return overcast.client("lambda")


@pytest.fixture
def idp(overcast):
    return overcast.client("cognito-idp")


def test_pre_sign_up_auto_confirms_and_verifies_email_and_post_confirmation_sees_the_user(overcast, idp, lam):
    logs = overcast.client("sqs").create_queue(QueueName="confirmed")["QueueUrl"]
    pre = function(
        lam,
        "pre-sign-up",
        """
def handler(event, context):
    assert event["triggerSource"] == "PreSignUp_SignUp" and event["version"] == "1"
    event["response"]["autoConfirmUser"] = event["request"]["userAttributes"]["email"].endswith("@example.com")
    event["response"]["autoVerifyEmail"] = True
    return event
""",
    )
    post = function(
        lam,
        "post-confirmation",
        f"""
import json, boto3
def handler(event, context):
    boto3.client("sqs").send_message(QueueUrl="{logs}", MessageBody=json.dumps(event))
    return event
""",
    )
    pool = make_pool(
        idp, AutoVerifiedAttributes=["email"], LambdaConfig={"PreSignUp": pre, "PostConfirmation": post}
    )
    client = make_client(idp, pool["Id"])
    signed = idp.sign_up(
        ClientId=client["ClientId"],
        Username="ana",
        Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": "ana@example.com"}],
    )
    assert signed["UserConfirmed"] is True and "CodeDeliveryDetails" not in signed
    user = idp.admin_get_user(UserPoolId=pool["Id"], Username="ana")
    assert user["UserStatus"] == "CONFIRMED"
    assert {"Name": "email_verified", "Value": "true"} in user["UserAttributes"]
    assert outbox(overcast, pool["Id"]) == []  # no code to send
    event = json.loads(
        overcast.client("sqs").receive_message(QueueUrl=logs, WaitTimeSeconds=5)["Messages"][0]["Body"]
    )
    assert event["triggerSource"] == "PostConfirmation_ConfirmSignUp"
    assert event["userPoolId"] == pool["Id"] and event["userName"] == "ana"
    assert event["callerContext"]["clientId"] == client["ClientId"]
    assert event["request"]["userAttributes"]["cognito:user_status"] == "CONFIRMED"
    assert event["request"]["userAttributes"]["sub"] == signed["UserSub"]

    # Another domain is not auto-confirmed: a code goes to the outbox.
    other = idp.sign_up(
        ClientId=client["ClientId"],
        Username="bo",
        Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": "bo@elsewhere.org"}],
    )
    assert other["UserConfirmed"] is False


def test_a_trigger_that_raises_fails_the_operation_with_its_message(idp, lam):
    arn = function(
        lam, "refuse", "def handler(event, context):\n    raise Exception('sign-ups are closed')\n"
    )
    pool = make_pool(idp, LambdaConfig={"PreSignUp": arn})
    client = make_client(idp, pool["Id"])
    with pytest.raises(ClientError) as raised:
        idp.sign_up(ClientId=client["ClientId"], Username="ana", Password=PASSWORD)
    assert error_of(raised) == ("UserLambdaValidationException", 400)
    assert message_of(raised) == "PreSignUp failed with error sign-ups are closed."
    with pytest.raises(ClientError) as raised:
        idp.admin_get_user(UserPoolId=pool["Id"], Username="ana")
    assert error_of(raised) == ("UserNotFoundException", 400)


def test_pre_token_generation_v1_adds_and_suppresses_claims_and_overrides_groups(overcast, idp, lam):
    arn = function(
        lam,
        "pre-token",
        """
def handler(event, context):
    assert event["triggerSource"] == "TokenGeneration_Authentication"
    assert event["request"]["groupConfiguration"]["groupsToOverride"] == ["staff"]
    event["response"]["claimsOverrideDetails"] = {
        "claimsToAddOrOverride": {"tenant": "acme", "email": "hidden@example.com"},
        "claimsToSuppress": ["family_name"],
        "groupOverrideDetails": {"groupsToOverride": ["staff", "beta"]},
    }
    return event
""",
    )
    pool = make_pool(idp, LambdaConfig={"PreTokenGeneration": arn})
    client = make_client(idp, pool["Id"])
    confirmed_user(idp, pool["Id"], "ana", email="ana@example.com", family_name="Lopez")
    idp.create_group(UserPoolId=pool["Id"], GroupName="staff")
    idp.admin_add_user_to_group(UserPoolId=pool["Id"], Username="ana", GroupName="staff")
    tokens = sign_in(idp, client["ClientId"], "ana")
    claims = verified_claims(overcast, tokens["IdToken"], client["ClientId"])
    assert claims["tenant"] == "acme" and claims["email"] == "hidden@example.com"
    assert "family_name" not in claims
    assert claims["cognito:groups"] == ["staff", "beta"]
    access = verified_claims(overcast, tokens["AccessToken"])
    assert "tenant" not in access  # v1 changes the ID token only
    assert access["cognito:groups"] == ["staff", "beta"]


def test_pre_token_generation_v2_changes_the_access_token_and_its_scopes(overcast, idp, lam):
    arn = function(
        lam,
        "pre-token-v2",
        """
def handler(event, context):
    assert event["version"] == "2" and "scopes" in event["request"]
    event["response"]["claimsAndScopeOverrideDetails"] = {
        "idTokenGeneration": {"claimsToAddOrOverride": {"plan": "gold"}},
        "accessTokenGeneration": {"claimsToAddOrOverride": {"plan": "gold"}, "scopesToAdd": ["orders/read"]},
    }
    return event
""",
    )
    pool = make_pool(
        idp, LambdaConfig={"PreTokenGenerationConfig": {"LambdaVersion": "V2_0", "LambdaArn": arn}}
    )
    client = make_client(idp, pool["Id"])
    confirmed_user(idp, pool["Id"], "ana")
    tokens = sign_in(idp, client["ClientId"], "ana")
    assert verified_claims(overcast, tokens["IdToken"], client["ClientId"])["plan"] == "gold"
    access = verified_claims(overcast, tokens["AccessToken"])
    assert access["plan"] == "gold"
    assert access["scope"].split() == ["aws.cognito.signin.user.admin", "orders/read"]


def test_custom_message_rewords_the_verification_email(overcast, idp, lam):
    arn = function(
        lam,
        "custom-message",
        """
def handler(event, context):
    if event["triggerSource"] == "CustomMessage_SignUp":
        code = event["request"]["codeParameter"]
        event["response"]["emailSubject"] = "Welcome aboard"
        event["response"]["emailMessage"] = f"Hi {event['request']['userAttributes']['name']}, your code: {code}"
    return event
""",
    )
    pool = make_pool(idp, AutoVerifiedAttributes=["email"], LambdaConfig={"CustomMessage": arn})
    client = make_client(idp, pool["Id"])
    idp.sign_up(
        ClientId=client["ClientId"],
        Username="ana",
        Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": "ana@example.com"}, {"Name": "name", "Value": "Ana"}],
    )
    [message] = outbox(overcast, pool["Id"])
    assert message["subject"] == "Welcome aboard"
    assert message["message"] == f"Hi Ana, your code: {message['code']}"
    assert message["destination"] == "ana@example.com" and message["channel"] == "EMAIL"


def test_user_migration_brings_a_user_in_at_sign_in(overcast, idp, lam):
    arn = function(
        lam,
        "migrate",
        """
def handler(event, context):
    if event["request"]["password"] != "Legacy-Passw0rd!":
        raise Exception("Bad password")
    event["response"]["userAttributes"] = {"email": event["userName"] + "@legacy.example", "email_verified": "true"}
    event["response"]["finalUserStatus"] = "CONFIRMED"
    event["response"]["messageAction"] = "SUPPRESS"
    return event
""",
    )
    pool = make_pool(idp, LambdaConfig={"UserMigration": arn})
    client = make_client(idp, pool["Id"])
    with pytest.raises(ClientError) as raised:
        sign_in(idp, client["ClientId"], "old-timer", "wrong")
    assert error_of(raised) == ("UserNotFoundException", 400)
    tokens = sign_in(idp, client["ClientId"], "old-timer", "Legacy-Passw0rd!")
    assert (
        verified_claims(overcast, tokens["IdToken"], client["ClientId"])["email"]
        == "old-timer@legacy.example"
    )
    assert idp.admin_get_user(UserPoolId=pool["Id"], Username="old-timer")["UserStatus"] == "CONFIRMED"
    sign_in(idp, client["ClientId"], "old-timer", "Legacy-Passw0rd!")  # now a user of the pool


def test_custom_auth_challenge_with_define_create_and_verify_triggers(overcast, idp, lam):
    define = function(
        lam,
        "define",
        """
def handler(event, context):
    session = event["request"]["session"]
    if session and session[-1]["challengeResult"]:
        event["response"].update(issueTokens=True, failAuthentication=False)
    elif len(session) >= 2:
        event["response"].update(issueTokens=False, failAuthentication=True)
    else:
        event["response"].update(challengeName="CUSTOM_CHALLENGE", issueTokens=False, failAuthentication=False)
    return event
""",
    )
    create = function(
        lam,
        "create",
        """
def handler(event, context):
    event["response"]["publicChallengeParameters"] = {"question": "2 + 2?"}
    event["response"]["privateChallengeParameters"] = {"answer": "4"}
    event["response"]["challengeMetadata"] = "MATH"
    return event
""",
    )
    verify = function(
        lam,
        "verify",
        """
def handler(event, context):
    event["response"]["answerCorrect"] = event["request"]["challengeAnswer"] == event["request"]["privateChallengeParameters"]["answer"]
    return event
""",
    )
    pool = make_pool(
        idp,
        LambdaConfig={
            "DefineAuthChallenge": define,
            "CreateAuthChallenge": create,
            "VerifyAuthChallengeResponse": verify,
        },
    )
    client = make_client(idp, pool["Id"])
    confirmed_user(idp, pool["Id"], "ana")
    started = idp.initiate_auth(
        ClientId=client["ClientId"], AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": "ana"}
    )
    assert started["ChallengeName"] == "CUSTOM_CHALLENGE"
    assert started["ChallengeParameters"] == {"question": "2 + 2?", "USERNAME": "ana"}
    wrong = idp.respond_to_auth_challenge(
        ClientId=client["ClientId"],
        ChallengeName="CUSTOM_CHALLENGE",
        Session=started["Session"],
        ChallengeResponses={"USERNAME": "ana", "ANSWER": "5"},
    )
    assert wrong["ChallengeName"] == "CUSTOM_CHALLENGE"
    done = idp.respond_to_auth_challenge(
        ClientId=client["ClientId"],
        ChallengeName="CUSTOM_CHALLENGE",
        Session=wrong["Session"],
        ChallengeResponses={"USERNAME": "ana", "ANSWER": "4"},
    )
    assert (
        verified_claims(overcast, done["AuthenticationResult"]["IdToken"], client["ClientId"])[
            "cognito:username"
        ]
        == "ana"
    )
    with pytest.raises(ClientError) as raised:  # a session is good once
        idp.respond_to_auth_challenge(
            ClientId=client["ClientId"],
            ChallengeName="CUSTOM_CHALLENGE",
            Session=wrong["Session"],
            ChallengeResponses={"USERNAME": "ana", "ANSWER": "4"},
        )
    assert error_of(raised) == ("NotAuthorizedException", 400)


def test_custom_auth_after_an_srp_password_check(overcast, idp, lam):
    from pycognito.aws_srp import AWSSRP

    define = function(
        lam,
        "define-srp",
        """
def handler(event, context):
    session = event["request"]["session"]
    last = session[-1] if session else None
    response = event["response"]
    if last and last["challengeName"] == "SRP_A":
        response.update(challengeName="PASSWORD_VERIFIER", issueTokens=False, failAuthentication=False)
    elif last and last["challengeName"] == "PASSWORD_VERIFIER" and last["challengeResult"]:
        response.update(challengeName="CUSTOM_CHALLENGE", issueTokens=False, failAuthentication=False)
    elif last and last["challengeName"] == "CUSTOM_CHALLENGE" and last["challengeResult"]:
        response.update(issueTokens=True, failAuthentication=False)
    else:
        response.update(issueTokens=False, failAuthentication=True)
    return event
""",
    )
    create = function(
        lam,
        "create-otp",
        """
def handler(event, context):
    event["response"]["publicChallengeParameters"] = {"hint": "the magic word"}
    event["response"]["privateChallengeParameters"] = {"answer": "please"}
    return event
""",
    )
    verify = function(
        lam,
        "verify-otp",
        """
def handler(event, context):
    event["response"]["answerCorrect"] = event["request"]["challengeAnswer"] == "please"
    return event
""",
    )
    pool = make_pool(
        idp,
        LambdaConfig={
            "DefineAuthChallenge": define,
            "CreateAuthChallenge": create,
            "VerifyAuthChallengeResponse": verify,
        },
    )
    client = make_client(idp, pool["Id"])
    confirmed_user(idp, pool["Id"], "ana")

    def start(password: str):
        helper = AWSSRP("ana", password, pool["Id"], client["ClientId"], client=idp)
        parameters = {**helper.get_auth_params(), "CHALLENGE_NAME": "SRP_A"}
        verifier = idp.initiate_auth(
            ClientId=client["ClientId"], AuthFlow="CUSTOM_AUTH", AuthParameters=parameters
        )
        assert verifier["ChallengeName"] == "PASSWORD_VERIFIER"
        answers = helper.process_challenge(verifier["ChallengeParameters"], parameters)
        return idp.respond_to_auth_challenge(
            ClientId=client["ClientId"], ChallengeName="PASSWORD_VERIFIER", ChallengeResponses=answers
        )

    with pytest.raises(ClientError) as raised:
        start("Wrong-Passw0rd!")
    assert message_of(raised) == "Incorrect username or password."
    challenge = start(PASSWORD)
    assert challenge["ChallengeName"] == "CUSTOM_CHALLENGE"
    assert challenge["ChallengeParameters"]["hint"] == "the magic word"
    done = idp.respond_to_auth_challenge(
        ClientId=client["ClientId"],
        ChallengeName="CUSTOM_CHALLENGE",
        Session=challenge["Session"],
        ChallengeResponses={"USERNAME": "ana", "ANSWER": "please"},
    )
    assert (
        verified_claims(overcast, done["AuthenticationResult"]["IdToken"], client["ClientId"])[
            "cognito:username"
        ]
        == "ana"
    )
