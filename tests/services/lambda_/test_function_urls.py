"""Function URLs: the configuration API, and real HTTP requests to the URL becoming invocations."""

import base64
import http.client
import json
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.helpers import error_of

ECHO_EVENT = """
import json
def handler(event, context):
    return {
        "statusCode": 201,
        "headers": {"content-type": "application/json", "x-custom": "yes"},
        "cookies": ["session=abc; Path=/"],
        "body": json.dumps(event),
    }
"""


def request(url: str, method="GET", path="/", body=None, headers=None, *, host_form=True):
    """An HTTP request to a function URL, by its host name (sent to 127.0.0.1) or by the path form."""
    parts = urlsplit(url)
    url_id = parts.hostname.split(".")[0]
    connection = http.client.HTTPConnection("127.0.0.1", parts.port, timeout=30)
    sent = dict(headers or {})
    if host_form:
        sent["Host"] = parts.netloc
        target = path
    else:
        target = f"/_overcast/lambda-url/{url_id}{path}"
    connection.request(method, target, body=body, headers=sent)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, response.getheader, data


def public_url(lam, name, **kwargs):
    config = lam.create_function_url_config(FunctionName=name, AuthType="NONE", **kwargs)
    lam.add_permission(
        FunctionName=name,
        StatementId="public-url",
        Action="lambda:InvokeFunctionUrl",
        Principal="*",
        FunctionUrlAuthType="NONE",
        **({"Qualifier": kwargs["Qualifier"]} if "Qualifier" in kwargs else {}),
    )
    return config["FunctionUrl"]


def test_url_config_api(lam, make_function):
    make_function("web")
    created = lam.create_function_url_config(
        FunctionName="web", AuthType="NONE", Cors={"AllowOrigins": ["https://example.com"]}
    )
    url = created["FunctionUrl"]
    assert url.startswith("http://") and ".lambda-url.us-east-1.localhost:" in url and url.endswith("/")
    assert created["AuthType"] == "NONE" and created["InvokeMode"] == "BUFFERED"
    assert lam.get_function_url_config(FunctionName="web")["FunctionUrl"] == url
    updated = lam.update_function_url_config(FunctionName="web", AuthType="AWS_IAM")
    assert updated["AuthType"] == "AWS_IAM" and updated["FunctionUrl"] == url
    listed = lam.list_function_url_configs(FunctionName="web")["FunctionUrlConfigs"]
    assert [c["FunctionUrl"] for c in listed] == [url]
    with pytest.raises(ClientError) as raised:
        lam.create_function_url_config(FunctionName="web", AuthType="NONE")
    assert error_of(raised) == ("ResourceConflictException", 409)
    with pytest.raises(ClientError) as raised:
        lam.create_function_url_config(FunctionName="web", AuthType="NONE", Qualifier="missing")
    assert error_of(raised) == ("ResourceNotFoundException", 404)
    lam.delete_function_url_config(FunctionName="web")
    with pytest.raises(ClientError) as raised:
        lam.get_function_url_config(FunctionName="web")
    assert error_of(raised) == ("ResourceNotFoundException", 404)


def test_http_request_becomes_a_v2_event_and_the_response_is_mapped(lam, make_function):
    make_function("echo", ECHO_EVENT)
    url = public_url(lam, "echo")
    status, headers, getheader, data = request(
        url,
        "POST",
        "/orders/42?size=L&size=XL&x=1",
        body=json.dumps({"item": "tea"}),
        headers={"content-type": "application/json", "cookie": "a=1; b=2", "user-agent": "tester"},
    )
    assert status == 201
    assert headers["x-custom"] == "yes" and headers["set-cookie"] == "session=abc; Path=/"
    assert headers["x-amzn-requestid"]
    event = json.loads(data)
    assert event["version"] == "2.0" and event["routeKey"] == "$default"
    assert event["rawPath"] == "/orders/42" and event["rawQueryString"] == "size=L&size=XL&x=1"
    assert event["queryStringParameters"] == {"size": "L,XL", "x": "1"}
    assert event["cookies"] == ["a=1", "b=2"]
    assert event["headers"]["content-type"] == "application/json"
    assert event["body"] == '{"item": "tea"}' and event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["http"]["method"] == "POST" and context["http"]["path"] == "/orders/42"
    assert context["http"]["userAgent"] == "tester" and context["accountId"] == "anonymous"
    assert context["apiId"] == urlsplit(url).hostname.split(".")[0]

    # the path form reaches the same function
    status, _, _, data = request(url, "PUT", "/p", body=b"\x00\x01", host_form=False)
    assert status == 201
    event = json.loads(data)
    assert event["rawPath"] == "/p" and event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\x00\x01"


def test_plain_return_values_and_errors(lam, make_function):
    make_function("plain", "def handler(event, context):\n    return {'hello': 'world'}\n")
    status, headers, _, data = request(public_url(lam, "plain"))
    assert status == 200 and headers["content-type"] == "application/json"
    assert json.loads(data) == {"hello": "world"}

    make_function("broken", "def handler(event, context):\n    raise ValueError('no')\n")
    status, _, _, data = request(public_url(lam, "broken"))
    assert (status, data) == (502, b"Internal Server Error")


def test_url_without_public_permission_is_forbidden(lam, make_function):
    make_function("private")
    url = lam.create_function_url_config(FunctionName="private", AuthType="NONE")["FunctionUrl"]
    status, _, _, data = request(url)
    assert status == 403 and json.loads(data) == {"Message": "Forbidden"}
    status, _, _, _ = request("http://" + "x" * 32 + f".lambda-url.us-east-1.localhost:{urlsplit(url).port}/")
    assert status == 404


def test_iam_auth_needs_a_signature(lam, make_function):
    make_function("signed", "def handler(event, context):\n    return event['requestContext']\n")
    url = lam.create_function_url_config(FunctionName="signed", AuthType="AWS_IAM")["FunctionUrl"]
    assert request(url)[0] == 403
    signed = AWSRequest(method="GET", url=url, headers={"Host": urlsplit(url).netloc})
    SigV4Auth(Credentials("test", "test"), "lambda", "us-east-1").add_auth(signed)
    status, _, _, data = request(url, headers=dict(signed.headers.items()))
    context = json.loads(data)
    assert status == 200 and context["accountId"] == "000000000000"
    assert context["authorizer"]["iam"]["accessKey"] == "test"
    assert context["authorizer"]["iam"]["userArn"] == "arn:aws:iam::000000000000:root"


def test_alias_url_and_cors(lam, make_function, package):
    make_function("versioned", "def handler(event, context):\n    return 'v1'\n", Publish=True)
    lam.create_alias(FunctionName="versioned", Name="live", FunctionVersion="1")
    lam.update_function_code(
        FunctionName="versioned",
        ZipFile=package({"app.py": "def handler(event, context):\n    return 'v2'\n"}),
    )
    url = public_url(
        lam,
        "versioned",
        Qualifier="live",
        Cors={"AllowOrigins": ["https://app.example"], "AllowMethods": ["GET"], "MaxAge": 60},
    )
    status, headers, _, data = request(url, headers={"Origin": "https://app.example"})
    assert status == 200 and data == b"v1"
    assert headers["access-control-allow-origin"] == "https://app.example"
    status, headers, _, _ = request(
        url, "OPTIONS", headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"}
    )
    assert status == 200 and headers["access-control-allow-methods"] == "GET"
    assert headers["access-control-max-age"] == "60"
    with pytest.raises(ClientError) as raised:
        lam.create_function_url_config(FunctionName="versioned", AuthType="NONE", Qualifier="1")
    assert error_of(raised)[0] == "ValidationException"  # the model's pattern refuses version numbers


def signed_headers(url: str, key: dict) -> dict:
    signed = AWSRequest(method="GET", url=url, headers={"Host": urlsplit(url).netloc})
    credentials = Credentials(key["AccessKeyId"], key["SecretAccessKey"])
    SigV4Auth(credentials, "lambda", "us-east-1").add_auth(signed)
    return dict(signed.headers.items())


def test_iam_auth_asks_the_policy_engine_under_enforce(enforced, package):
    """AWS_IAM: a valid signature is not enough; the caller's policies or the function's resource policy
    must allow lambda:InvokeFunctionUrl (issue 13, finding 3)."""
    from tests.policy.servers import document, user_with_key

    iam, lam = enforced.client("iam"), enforced.client("lambda")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    source = "def handler(event, context):\n    return 'hello'\n"
    arn = lam.create_function(
        FunctionName="guarded",
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": package({"app.py": source})},
    )["FunctionArn"]
    url = lam.create_function_url_config(FunctionName="guarded", AuthType="AWS_IAM")["FunctionUrl"]

    nobody = user_with_key(enforced, "nobody")
    assert request(url, headers=signed_headers(url, nobody))[0] == 403

    invoker = user_with_key(enforced, "invoker")
    allow = {"Effect": "Allow", "Action": "lambda:InvokeFunctionUrl", "Resource": arn}
    iam.put_user_policy(UserName="invoker", PolicyName="p", PolicyDocument=document(allow))
    status, _, _, data = request(url, headers=signed_headers(url, invoker))
    assert (status, data) == (200, b"hello")

    condition = {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}}
    iam.put_user_policy(
        UserName="invoker", PolicyName="p", PolicyDocument=document(dict(allow, Condition=condition))
    )
    assert request(url, headers=signed_headers(url, invoker))[0] == 403

    granted = user_with_key(enforced, "granted")
    lam.add_permission(
        FunctionName="guarded",
        StatementId="granted",
        Action="lambda:InvokeFunctionUrl",
        Principal=iam.get_user(UserName="granted")["User"]["Arn"],
        FunctionUrlAuthType="AWS_IAM",
    )
    assert request(url, headers=signed_headers(url, granted))[0] == 200
