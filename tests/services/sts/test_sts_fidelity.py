"""STS as AWS answers it (issue 14): AssumeRole validates its input before authorizing, and AWS's three
rules for session tags."""

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of, message_of
from tests.policy.servers import client_as, document, user_with_key

ACCOUNT = "000000000000"


def fail(call):
    with pytest.raises(ClientError) as raised:
        call()
    return error_of(raised), message_of(raised)


def test_malformed_role_arn_is_a_validation_error_before_authorization(enforced):
    nobody = client_as(enforced, "sts", user_with_key(enforced, "nobody"))
    for arn in ("arn:aws:iam::000000000000:role", "not-an-arn-of-any-kind"):
        assert fail(lambda arn=arn: nobody.assume_role(RoleArn=arn, RoleSessionName="s1")) == (
            ("ValidationError", 400),
            f"{arn} is invalid",
        )
    assert fail(lambda: nobody.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/x", RoleSessionName="a b"))[
        0
    ] == ("ValidationError", 400)
    denied = fail(lambda: nobody.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/x", RoleSessionName="s1"))
    assert denied[0] == ("AccessDenied", 403)


def test_session_tag_rules(overcast):
    iam, sts = overcast.client("iam"), overcast.client("sts")
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": ACCOUNT},
        "Action": ["sts:AssumeRole", "sts:TagSession"],
    }
    first = iam.create_role(RoleName="first", AssumeRolePolicyDocument=document(statement))["Role"]["Arn"]
    second = iam.create_role(RoleName="second", AssumeRolePolicyDocument=document(statement))["Role"]["Arn"]
    allow = {"Effect": "Allow", "Action": "sts:*", "Resource": "*"}
    iam.put_role_policy(RoleName="first", PolicyName="chain", PolicyDocument=document(allow))
    assert fail(
        lambda: sts.assume_role(
            RoleArn=first,
            RoleSessionName="s1",
            Tags=[{"Key": "team", "Value": "a"}, {"Key": "Team", "Value": "b"}],
        )
    ) == (
        ("InvalidParameterValue", 400),
        "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
    )
    assert fail(
        lambda: sts.assume_role(
            RoleArn=first,
            RoleSessionName="s1",
            Tags=[{"Key": "team", "Value": "a"}],
            TransitiveTagKeys=["cost"],
        )
    ) == (
        ("InvalidParameterValue", 400),
        "The specified transitive tag key must be included in the requested tags.",
    )
    session = sts.assume_role(
        RoleArn=first, RoleSessionName="s1", Tags=[{"Key": "team", "Value": "a"}], TransitiveTagKeys=["team"]
    )["Credentials"]
    chained = client_as(overcast, "sts", session)
    assert fail(
        lambda: chained.assume_role(
            RoleArn=second, RoleSessionName="s2", Tags=[{"Key": "Team", "Value": "b"}]
        )
    ) == (
        ("InvalidParameterValue", 400),
        "One of the specified transitive tag keys can't be set because it conflicts with a transitive tag key "
        "from the calling session.",
    )
    assert chained.assume_role(RoleArn=second, RoleSessionName="s2", Tags=[{"Key": "cost", "Value": "c"}])


IDP = "https://idp.example.test/saml"
METADATA = (
    f'<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{IDP}">'
    + "<!-- metadata padding to AWS's minimum length -->" * 25
    + "</EntityDescriptor>"
)


def saml_response(
    role: str, provider: str, *, issuer: str = IDP, not_after: str = "2099-01-01T00:00:00Z"
) -> str:
    import base64

    attribute = (
        '<saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/{}">'
        "<saml:AttributeValue>{}</saml:AttributeValue></saml:Attribute>"
    )
    document = (
        '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
        'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">'
        f"<saml:Issuer>{issuer}</saml:Issuer><saml:Assertion><saml:Issuer>{issuer}</saml:Issuer>"
        '<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">ann</saml:NameID>'
        '<saml:SubjectConfirmation><saml:SubjectConfirmationData Recipient="https://signin.aws.amazon.com/saml" '
        f'NotOnOrAfter="{not_after}"/></saml:SubjectConfirmation></saml:Subject><saml:AttributeStatement>'
        + attribute.format("Role", f"{role},{provider}")
        + attribute.format("RoleSessionName", "ann@example.test")
        + attribute.format("PrincipalTag:team", "blue")
        + "</saml:AttributeStatement></saml:Assertion></samlp:Response>"
    )
    return base64.b64encode(document.encode()).decode()


def test_assume_role_with_saml(overcast):
    iam, sts = overcast.client("iam"), overcast.client("sts")
    provider = iam.create_saml_provider(Name="corp", SAMLMetadataDocument=METADATA)["SAMLProviderArn"]
    trust = document(
        {
            "Effect": "Allow",
            "Principal": {"Federated": provider},
            "Action": ["sts:AssumeRoleWithSAML", "sts:TagSession"],
            "Condition": {"StringEquals": {"saml:aud": "https://signin.aws.amazon.com/saml"}},
        }
    )
    role = iam.create_role(RoleName="federated", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    result = sts.assume_role_with_saml(
        RoleArn=role, PrincipalArn=provider, SAMLAssertion=saml_response(role, provider)
    )
    assert (
        result["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/federated/ann@example.test"
    )
    assert (result["Subject"], result["SubjectType"], result["Issuer"]) == ("ann", "persistent", IDP)
    assert result["Audience"] == "https://signin.aws.amazon.com/saml" and result["NameQualifier"]
    identity = client_as(overcast, "sts", result["Credentials"]).get_caller_identity()
    assert identity["Arn"] == result["AssumedRoleUser"]["Arn"]

    other = iam.create_role(RoleName="not-in-assertion", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    assert fail(
        lambda: sts.assume_role_with_saml(
            RoleArn=other, PrincipalArn=provider, SAMLAssertion=saml_response(role, provider)
        )
    ) == (("AccessDenied", 403), "Not authorized to perform sts:AssumeRoleWithSAML")
    assert fail(
        lambda: sts.assume_role_with_saml(
            RoleArn=role,
            PrincipalArn=provider,
            SAMLAssertion=saml_response(role, provider, issuer="https://evil"),
        )
    ) == (("InvalidIdentityToken", 400), "Issuer not present in specified provider")
    expired = saml_response(role, provider, not_after="2001-01-01T00:00:00Z")
    assert fail(
        lambda: sts.assume_role_with_saml(RoleArn=role, PrincipalArn=provider, SAMLAssertion=expired)
    )[0] == (
        "ExpiredTokenException",
        400,
    )
