"""amazon-cognito-identity-js (the library behind Amplify's older releases and many single-page apps) signs up,
confirms and signs in with SRP against Overcast unchanged, given the endpoint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.js import run_node
from tests.services.cognitoidp.helpers import PASSWORD, last_code, make_client, make_pool, verified_claims

HERE = Path(__file__).resolve().parent / "js"


def program(pool_id: str, client_id: str, body: str) -> str:
    return f"""
import pkg from "amazon-cognito-identity-js";
const {{ CognitoUserPool, CognitoUser, AuthenticationDetails, CognitoUserAttribute }} = pkg;
const pool = new CognitoUserPool({{ UserPoolId: {json.dumps(pool_id)}, ClientId: {json.dumps(client_id)},
                                   endpoint: process.env.OVERCAST_ENDPOINT }});
const done = (value) => console.log(JSON.stringify(value));
const fail = (err) => done({{ error: err.code || err.name, message: err.message }});
{body}
"""


@pytest.mark.slow
def test_sign_up_confirm_and_srp_sign_in_with_amazon_cognito_identity_js(overcast):
    idp = overcast.client("cognito-idp")
    pool = make_pool(idp, AutoVerifiedAttributes=["email"])
    client = make_client(idp, pool["Id"])
    signed = run_node(
        overcast.endpoint,
        program(
            pool["Id"],
            client["ClientId"],
            f"""
pool.signUp("ana", {json.dumps(PASSWORD)}, [new CognitoUserAttribute({{ Name: "email", Value: "ana@example.com" }})], null,
  (err, result) => err ? fail(err) : done({{ confirmed: result.userConfirmed, sub: result.userSub }}));
""",
        ),
        where=HERE,
    )
    assert signed["confirmed"] is False
    code = last_code(overcast, pool["Id"])
    session = run_node(
        overcast.endpoint,
        program(
            pool["Id"],
            client["ClientId"],
            f"""
const user = new CognitoUser({{ Username: "ana", Pool: pool }});
user.confirmRegistration({json.dumps(code)}, true, (err) => {{
  if (err) return fail(err);
  user.authenticateUser(new AuthenticationDetails({{ Username: "ana", Password: {json.dumps(PASSWORD)} }}), {{
    onSuccess: (session) => user.getUserAttributes((err, attributes) => err ? fail(err) : done({{
      id: session.getIdToken().getJwtToken(),
      access: session.getAccessToken().getJwtToken(),
      email: attributes.find((a) => a.getName() === "email").getValue(),
    }})),
    onFailure: fail,
  }});
}});
""",
        ),
        where=HERE,
    )
    assert "error" not in session, session
    assert session["email"] == "ana@example.com"
    claims = verified_claims(overcast, session["id"], client["ClientId"])
    assert claims["sub"] == signed["sub"] and claims["cognito:username"] == "ana"
    wrong = run_node(
        overcast.endpoint,
        program(
            pool["Id"],
            client["ClientId"],
            """
const user = new CognitoUser({ Username: "ana", Pool: pool });
user.authenticateUser(new AuthenticationDetails({ Username: "ana", Password: "Not-The-Passw0rd" }), {
  onSuccess: () => done({ signedIn: true }), onFailure: fail });
""",
        ),
        where=HERE,
    )
    assert wrong == {"error": "NotAuthorizedException", "message": "Incorrect username or password."}
