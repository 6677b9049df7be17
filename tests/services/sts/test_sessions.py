"""STS: AssumeRole with trust policies (external id, MFA, duration, chaining, session policies and tags),
GetSessionToken, AssumeRoleWithWebIdentity, GetAccessKeyInfo, expiry on the virtual clock."""

import base64
import json

import pytest
from botocore.exceptions import ClientError

import overcast.services.sts.api as sts_api
from overcast.errors import ServiceError
from overcast.services.iam.keys import totp
from tests.helpers import code_of, message_of
from tests.policy.servers import client_as, document, user_with_key

ACCOUNT = "000000000000"


def trust(principal, **condition):
    statement = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    return document(statement)


def make_role(overcast, name, trust_policy, **extra):
    return overcast.client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=trust_policy, **extra)[
        "Role"
    ]["Arn"]


def test_assume_role_returns_working_temporary_credentials(overcast):
    arn = make_role(overcast, "deploy", trust({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}))
    result = overcast.client("sts").assume_role(RoleArn=arn, RoleSessionName="ci-run")
    credentials = result["Credentials"]
    assert credentials["AccessKeyId"].startswith("ASIA") and credentials["SessionToken"]
    assert result["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/deploy/ci-run"
    assert result["AssumedRoleUser"]["AssumedRoleId"].startswith("AROA")
    identity = client_as(overcast, "sts", credentials).get_caller_identity()
    assert identity["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/deploy/ci-run"
    assert identity["UserId"] == result["AssumedRoleUser"]["AssumedRoleId"]


def test_session_expires_on_the_virtual_clock(overcast):
    arn = make_role(overcast, "short", trust({"AWS": ACCOUNT}))
    credentials = overcast.client("sts").assume_role(RoleArn=arn, RoleSessionName="s1", DurationSeconds=900)[
        "Credentials"
    ]
    sts = client_as(overcast, "sts", credentials)
    sts.get_caller_identity()
    overcast.advance_clock("16m")
    with pytest.raises(ClientError) as raised:
        sts.get_caller_identity()
    assert code_of(raised) == "ExpiredToken"


def test_wrong_session_token_is_refused(overcast):
    arn = make_role(overcast, "r", trust({"AWS": ACCOUNT}))
    credentials = dict(overcast.client("sts").assume_role(RoleArn=arn, RoleSessionName="s1")["Credentials"])
    credentials["SessionToken"] = "forged"
    with pytest.raises(ClientError) as raised:
        client_as(overcast, "sts", credentials).get_caller_identity()
    assert code_of(raised) == "InvalidClientTokenId"


def test_duration_is_bounded_by_the_role(overcast):
    arn = make_role(overcast, "r", trust({"AWS": ACCOUNT}), MaxSessionDuration=3600)
    with pytest.raises(ClientError) as raised:
        overcast.client("sts").assume_role(RoleArn=arn, RoleSessionName="s1", DurationSeconds=7200)
    assert (code_of(raised), message_of(raised)) == (
        "ValidationError",
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
    )


def test_trust_policy_refuses_other_principals(overcast):
    iam = overcast.client("iam")
    key = user_with_key(overcast, "mallory")
    arn = make_role(overcast, "private", trust({"AWS": f"arn:aws:iam::{ACCOUNT}:user/alice"}))
    with pytest.raises(ClientError) as raised:
        client_as(overcast, "sts", key).assume_role(RoleArn=arn, RoleSessionName="attempt")
    assert (code_of(raised), message_of(raised)) == (
        "AccessDenied",
        f"User: arn:aws:iam::{ACCOUNT}:user/mallory is not authorized to "
        f"perform: sts:AssumeRole on resource: {arn}",
    )
    assert iam.get_role(RoleName="private")


def test_external_id_condition(overcast):
    arn = make_role(overcast, "vendor", trust({"AWS": ACCOUNT}, StringEquals={"sts:ExternalId": "s3cret"}))
    sts = overcast.client("sts")
    with pytest.raises(ClientError):
        sts.assume_role(RoleArn=arn, RoleSessionName="vendor")
    with pytest.raises(ClientError):
        sts.assume_role(RoleArn=arn, RoleSessionName="vendor", ExternalId="wrong-id")
    sts.assume_role(RoleArn=arn, RoleSessionName="vendor", ExternalId="s3cret")


def test_mfa_condition_with_real_codes(overcast):
    iam = overcast.client("iam")
    key = user_with_key(overcast, "alice")
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="alice")["VirtualMFADevice"]
    seed = device["Base32StringSeed"].decode()
    step = int(overcast.platform.clock.now() // 30)
    iam.enable_mfa_device(
        UserName="alice",
        SerialNumber=device["SerialNumber"],
        AuthenticationCode1=totp(seed, step - 1),
        AuthenticationCode2=totp(seed, step),
    )
    arn = make_role(overcast, "admin", trust({"AWS": ACCOUNT}, Bool={"aws:MultiFactorAuthPresent": "true"}))
    sts = client_as(overcast, "sts", key)
    with pytest.raises(ClientError):
        sts.assume_role(RoleArn=arn, RoleSessionName="no-mfa")
    overcast.advance_clock("30s")
    code = totp(seed, int(overcast.platform.clock.now() // 30))
    with pytest.raises(ClientError) as raised:
        sts.assume_role(
            RoleArn=arn,
            RoleSessionName="bad",
            SerialNumber=device["SerialNumber"],
            TokenCode="000000" if code != "000000" else "111111",
        )
    assert code_of(raised) == "AccessDenied"
    sts.assume_role(RoleArn=arn, RoleSessionName="mfa", SerialNumber=device["SerialNumber"], TokenCode=code)
    # GetSessionToken with MFA gives a session whose MFA flag satisfies the condition
    overcast.advance_clock("30s")
    code = totp(seed, int(overcast.platform.clock.now() // 30))
    session = sts.get_session_token(SerialNumber=device["SerialNumber"], TokenCode=code)["Credentials"]
    assert session["AccessKeyId"].startswith("ASIA")
    mfa_sts = client_as(overcast, "sts", session)
    assert mfa_sts.get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/alice"
    mfa_sts.assume_role(RoleArn=arn, RoleSessionName="via-session")


def test_role_chaining_is_limited_to_one_hour(overcast):
    first = make_role(overcast, "first", trust({"AWS": ACCOUNT}))
    second = make_role(overcast, "second", trust({"AWS": first}), MaxSessionDuration=43200)
    hop = overcast.client("sts").assume_role(RoleArn=first, RoleSessionName="hop1")["Credentials"]
    chained = client_as(overcast, "sts", hop)
    with pytest.raises(ClientError) as raised:
        chained.assume_role(RoleArn=second, RoleSessionName="hop2", DurationSeconds=7200)
    assert "role chaining" in message_of(raised)
    result = chained.assume_role(RoleArn=second, RoleSessionName="hop2", DurationSeconds=3600)
    assert result["AssumedRoleUser"]["Arn"].endswith("assumed-role/second/hop2")


def test_get_session_token_refused_for_sessions(overcast):
    arn = make_role(overcast, "r", trust({"AWS": ACCOUNT}))
    credentials = overcast.client("sts").assume_role(RoleArn=arn, RoleSessionName="s1")["Credentials"]
    with pytest.raises(ClientError) as raised:
        client_as(overcast, "sts", credentials).get_session_token()
    assert code_of(raised) == "AccessDenied"


def test_get_access_key_info(overcast):
    key = user_with_key(overcast, "alice")
    sts = overcast.client("sts")
    assert sts.get_access_key_info(AccessKeyId=key["AccessKeyId"])["Account"] == ACCOUNT
    # AWS's documented example key encodes its account
    assert sts.get_access_key_info(AccessKeyId="ASIAY34FZKBOKMUTVV7A")["Account"] == "609629065308"


def jwt(claims: dict) -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


def test_assume_role_with_web_identity(overcast):
    iam = overcast.client("iam")
    provider = iam.create_open_id_connect_provider(
        Url="https://token.actions.githubusercontent.com",
        ClientIDList=["sts.amazonaws.com"],
        ThumbprintList=["a" * 40],
    )["OpenIDConnectProviderArn"]
    role = make_role(
        overcast,
        "gha",
        document(
            {
                "Effect": "Allow",
                "Principal": {"Federated": provider},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringLike": {"token.actions.githubusercontent.com:sub": "repo:acme/*"}},
            }
        ),
    )
    sts = overcast.client("sts")
    token = jwt(
        {
            "iss": "https://token.actions.githubusercontent.com",
            "aud": "sts.amazonaws.com",
            "sub": "repo:acme/app:ref:refs/heads/main",
        }
    )
    result = sts.assume_role_with_web_identity(RoleArn=role, RoleSessionName="gh-run", WebIdentityToken=token)
    assert result["SubjectFromWebIdentityToken"] == "repo:acme/app:ref:refs/heads/main"
    assert (
        client_as(overcast, "sts", result["Credentials"])
        .get_caller_identity()["Arn"]
        .endswith("assumed-role/gha/gh-run")
    )
    other = jwt(
        {
            "iss": "https://token.actions.githubusercontent.com",
            "aud": "sts.amazonaws.com",
            "sub": "repo:evil/x",
        }
    )
    with pytest.raises(ClientError):
        sts.assume_role_with_web_identity(RoleArn=role, RoleSessionName="gh-run", WebIdentityToken=other)
    wrong_audience = jwt(
        {"iss": "https://token.actions.githubusercontent.com", "aud": "x", "sub": "repo:acme/a"}
    )
    with pytest.raises(ClientError) as raised:
        sts.assume_role_with_web_identity(
            RoleArn=role, RoleSessionName="gh-run", WebIdentityToken=wrong_audience
        )
    assert code_of(raised) == "InvalidIdentityToken"


def test_session_policy_narrows_the_role_under_enforce(enforced):
    iam = enforced.client("iam")
    arn = make_role(enforced, "admin", trust({"AWS": ACCOUNT}))
    iam.attach_role_policy(RoleName="admin", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    narrowed = document({"Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*"})
    credentials = enforced.client("sts").assume_role(RoleArn=arn, RoleSessionName="s1", Policy=narrowed)[
        "Credentials"
    ]
    session = client_as(enforced, "iam", credentials)
    session.list_roles()
    with pytest.raises(ClientError) as raised:
        session.list_users()
    assert "because no session policy allows the iam:ListUsers action" in message_of(raised)


def test_session_tags_are_principal_tags_under_enforce(enforced):
    iam = enforced.client("iam")
    arn = make_role(
        enforced,
        "tagged",
        document(
            {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": ["sts:AssumeRole", "sts:TagSession"]}
        ),
    )
    iam.put_role_policy(
        RoleName="tagged",
        PolicyName="by-tag",
        PolicyDocument=document(
            {
                "Effect": "Allow",
                "Action": "iam:ListUsers",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:PrincipalTag/team": "blue"}},
            }
        ),
    )
    sts = enforced.client("sts")
    blue = sts.assume_role(RoleArn=arn, RoleSessionName="blue", Tags=[{"Key": "team", "Value": "blue"}])[
        "Credentials"
    ]
    red = sts.assume_role(RoleArn=arn, RoleSessionName="red", Tags=[{"Key": "team", "Value": "red"}])[
        "Credentials"
    ]
    client_as(enforced, "iam", blue).list_users()
    with pytest.raises(ClientError):
        client_as(enforced, "iam", red).list_users()


def test_user_needs_identity_permission_to_assume_under_enforce(enforced):
    key = user_with_key(enforced, "bob")
    arn = make_role(enforced, "r", trust({"AWS": ACCOUNT}))
    with pytest.raises(ClientError):
        client_as(enforced, "sts", key).assume_role(RoleArn=arn, RoleSessionName="s1")
    enforced.client("iam").put_user_policy(
        UserName="bob",
        PolicyName="assume",
        PolicyDocument=document({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": arn}),
    )
    client_as(enforced, "sts", key).assume_role(RoleArn=arn, RoleSessionName="s1")


def test_federation_token_is_the_intersection_of_user_and_session_policy(enforced):
    iam = enforced.client("iam")
    key = user_with_key(enforced, "broker", "arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    iam.put_user_policy(
        UserName="broker",
        PolicyName="federate",
        PolicyDocument=document({"Effect": "Allow", "Action": "sts:GetFederationToken", "Resource": "*"}),
    )
    session_policy = document(
        {"Effect": "Allow", "Action": ["iam:ListRoles", "iam:CreateUser"], "Resource": "*"}
    )
    result = client_as(enforced, "sts", key).get_federation_token(Name="visitor", Policy=session_policy)
    assert result["FederatedUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:federated-user/visitor"
    visitor = client_as(enforced, "iam", result["Credentials"])
    visitor.list_roles()  # both allow
    with pytest.raises(ClientError):
        visitor.list_users()  # the session policy does not
    with pytest.raises(ClientError):
        visitor.create_user(UserName="x")  # the user's policies do not


def test_credentials_for_a_service_follow_the_trust_policy(overcast):
    iam = overcast.client("iam")
    lambda_role = make_role(
        overcast,
        "fn-role",
        document(
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ),
    )
    ec2_role = make_role(
        overcast,
        "ec2-role",
        document(
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ),
    )
    platform = overcast.platform
    with platform.db.transaction():
        credentials = sts_api.credentials_for_role(
            platform, lambda_role, "lambda.amazonaws.com", "my-function"
        )
    identity = client_as(overcast, "sts", credentials).get_caller_identity()
    assert identity["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/fn-role/my-function"
    with pytest.raises(ServiceError) as raised, platform.db.transaction():
        sts_api.credentials_for_role(platform, ec2_role, "lambda.amazonaws.com", "my-function")
    assert (raised.value.code, raised.value.status) == ("AccessDenied", 403)
    assert iam.get_role(RoleName="fn-role")


def test_credentials_for_a_service_honour_source_conditions_and_the_session_limit(overcast):
    source = "arn:aws:lambda:us-east-1:000000000000:function:mine"
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {"ArnEquals": {"aws:SourceArn": source}},
    }
    role = make_role(overcast, "scoped", document(statement))
    platform = overcast.platform
    with pytest.raises(ServiceError), platform.db.transaction():
        sts_api.credentials_for_role(platform, role, "lambda.amazonaws.com", "other", source_arn=source + "x")
    with platform.db.transaction():
        credentials = sts_api.credentials_for_role(
            platform, role, "lambda.amazonaws.com", "mine", duration=7200, source_arn=source
        )
    now = overcast.platform.clock.now()
    assert credentials["Expiration"] == pytest.approx(now + 3600, abs=5)  # the role's MaxSessionDuration
