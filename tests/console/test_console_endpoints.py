"""The console's server side, over HTTP: its files (content types, caching, compression, no escape from the
package), its API (config, services, models), the request log, the login token, SQS's peek."""

from __future__ import annotations

import gzip
import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from overcast.config import Config
from overcast.testing import OvercastServer

STATIC = Path(__file__).resolve().parents[2] / "overcast" / "console" / "static"


def get(server, path: str, headers: dict | None = None, method: str = "GET"):
    """(status, headers, body) of a request; redirects are not followed."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    request = urllib.request.Request(server.endpoint + path, headers=headers or {}, method=method)
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def get_json(server, path: str, headers: dict | None = None):
    status, _, body = get(server, path, headers)
    return status, json.loads(body)


# -- files -------------------------------------------------------------------------------------------------


def test_the_page_and_its_modules_are_served_with_their_types(overcast):
    status, headers, body = get(overcast, "/_overcast/console/")
    assert status == 200
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert b'<script type="module" src="js/app.js">' in body
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    for path, kind in (
        ("js/app.js", "text/javascript; charset=utf-8"),
        ("js/views/s3.js", "text/javascript; charset=utf-8"),
        ("app.css", "text/css; charset=utf-8"),
        ("favicon.svg", "image/svg+xml"),
    ):
        status, headers, body = get(overcast, f"/_overcast/console/{path}")
        assert (status, headers["content-type"]) == (200, kind), path
        assert body == (STATIC / path).read_bytes()


def test_without_the_trailing_slash_the_page_redirects(overcast):
    status, headers, _ = get(overcast, "/_overcast/console")
    assert status == 301
    assert headers["location"] == "/_overcast/console/"


def test_files_are_revalidated_by_etag_and_gzipped_for_browsers(overcast):
    status, headers, body = get(overcast, "/_overcast/console/js/aws.js", {"accept-encoding": "gzip, br"})
    assert status == 200
    assert headers["content-encoding"] == "gzip"
    assert headers["cache-control"] == "no-cache"
    assert gzip.decompress(body) == (STATIC / "js" / "aws.js").read_bytes()
    status, _, body = get(overcast, "/_overcast/console/js/aws.js", {"if-none-match": headers["etag"]})
    assert (status, body) == (304, b"")


def test_no_path_leads_out_of_the_shipped_files(overcast):
    for path in (
        "/_overcast/console/../__init__.py",
        "/_overcast/console/%2e%2e/__init__.py",
        "/_overcast/console/js/../../__init__.py",
        "/_overcast/console/nothing.js",
        "/_overcast/console/js",
    ):
        status, _, body = get(overcast, path)
        assert status == 404, path
        assert b"import" not in body


def test_the_console_takes_no_writes(overcast):
    status, _, body = get(overcast, "/_overcast/console/index.html", method="DELETE")
    assert status == 405


def test_every_asset_is_in_the_package_data():
    import tomllib
    from fnmatch import fnmatch

    pyproject = tomllib.loads((STATIC.parents[2] / "pyproject.toml").read_text())
    globs = pyproject["tool"]["setuptools"]["package-data"]["overcast.console"]
    for path in STATIC.rglob("*"):
        if path.is_file():
            relative = path.relative_to(STATIC.parent).as_posix()
            assert any(
                fnmatch(relative, pattern) and relative.count("/") == pattern.count("/") for pattern in globs
            ), relative


def test_the_shipped_assets_stay_small():
    total = sum(path.stat().st_size for path in STATIC.rglob("*") if path.is_file())
    assert total < 2 * 1024 * 1024


# -- the console's API ---------------------------------------------------------------------------------------


def test_config_gives_the_root_credentials_outside_enforce(overcast):
    status, config = get_json(overcast, "/_overcast/console/api/config")
    assert status == 200
    assert config["iam"] == "off"
    assert config["account"] == "000000000000"
    assert config["credentials"] == {"accessKeyId": "test", "secretAccessKey": "test"}


def test_config_under_enforce_leaves_credentials_to_the_person(enforced):
    status, config = get_json(enforced, "/_overcast/console/api/config")
    assert status == 200
    assert config["iam"] == "enforce"
    assert config["credentials"] is None


def test_services_lists_what_overcast_serves_with_protocols(overcast):
    overcast.client("sqs").list_queues()
    status, answer = get_json(overcast, "/_overcast/console/api/services")
    services = {row["name"]: row for row in answer["services"]}
    assert services["sqs"] == {
        "name": "sqs",
        "state": "running",
        "protocol": "json",
        "signing": "sqs",
        "prefix": "sqs",
    }
    assert services["s3"]["protocol"] == "rest-xml"
    assert services["iam"]["protocol"] == "query"
    assert services["cloudwatch"]["protocol"] == "json"  # its model prefers CBOR, which the console skips
    assert services["cloudwatch"]["signing"] == "monitoring"


def test_models_carry_operations_shapes_and_paginators_without_documentation(overcast):
    status, headers, body = get(overcast, "/_overcast/console/api/models/sqs", {"accept-encoding": "gzip"})
    assert status == 200
    assert headers["content-encoding"] == "gzip"
    model = json.loads(gzip.decompress(body))
    assert model["metadata"]["consoleProtocol"] == "json"
    assert model["operations"]["ListQueues"]["output"] == {"shape": "ListQueuesResult"}
    assert model["paginators"]["ListQueues"]["result_key"] == "QueueUrls"
    assert "documentation" not in json.dumps(model)
    status, _, _ = get(overcast, "/_overcast/console/api/models/ec2")  # a model for a service to come
    assert status == 200


def test_an_unknown_model_is_a_404(overcast):
    status, answer = get_json(overcast, "/_overcast/console/api/models/no-such-service")
    assert status == 404
    assert "no-such-service" in answer["error"]


# -- the request log -----------------------------------------------------------------------------------------


def test_the_request_log_lists_calls_with_their_facts_and_filters(overcast):
    sqs = overcast.client("sqs")
    _, before = get_json(overcast, "/_overcast/requests?limit=1")
    url = sqs.create_queue(QueueName="logged")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="hello log")
    try:
        sqs.get_queue_url(QueueName="not-there")
    except sqs.exceptions.QueueDoesNotExist:
        pass
    status, answer = get_json(overcast, f"/_overcast/requests?after={before['last']}")
    assert status == 200
    calls = [(e["service"], e["operation"], e["status"], e["error"]) for e in answer["entries"]]
    assert calls == [
        ("sqs", "CreateQueue", 200, ""),
        ("sqs", "SendMessage", 200, ""),
        ("sqs", "GetQueueUrl", 400, "QueueDoesNotExist"),
    ]
    entry = answer["entries"][1]
    assert entry["principal"] == "arn:aws:iam::000000000000:root"
    assert (entry["account"], entry["region"]) == ("000000000000", "us-east-1")
    assert entry["agent"].lower().startswith("boto3/")
    assert entry["millis"] >= 0
    _, errors = get_json(overcast, f"/_overcast/requests?after={before['last']}&status=4xx")
    assert [e["operation"] for e in errors["entries"]] == ["GetQueueUrl"]
    _, sends = get_json(overcast, f"/_overcast/requests?after={before['last']}&operation=send")
    assert [e["operation"] for e in sends["entries"]] == ["SendMessage"]


def test_the_request_log_keeps_parsed_requests_and_responses_while_watched(overcast):
    sqs = overcast.client("sqs")
    url = sqs.create_queue(QueueName="watched")["QueueUrl"]
    _, answer = get_json(overcast, "/_overcast/requests?limit=1")  # someone reads the log now
    sqs.send_message(QueueUrl=url, MessageBody="look at me")
    _, answer = get_json(overcast, f"/_overcast/requests?after={answer['last']}")
    (entry,) = answer["entries"]
    assert entry["detail"] is True
    status, detail = get_json(overcast, f"/_overcast/requests/{entry['seq']}")
    assert status == 200
    assert detail["request"] == {"QueueUrl": url, "MessageBody": "look at me"}
    assert detail["response"]["MessageId"]
    status, _ = get_json(overcast, "/_overcast/requests/999999999")
    assert status == 404


def test_the_request_log_is_bounded(overcast):
    from overcast.server.log import RING_SIZE

    sqs = overcast.client("sqs")
    for _ in range(3):
        sqs.list_queues()
    _, answer = get_json(overcast, "/_overcast/requests?limit=2000")
    assert len(answer["entries"]) <= RING_SIZE
    status, _ = get_json(overcast, "/_overcast/requests?after=x")
    assert status == 400


# -- the login token -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def guarded():
    config = Config(ephemeral=True, log_level="warning", console_token="s3cret-token")
    with OvercastServer(config) as server:
        yield server


def test_with_a_token_the_console_asks_for_it(guarded):
    status, headers, body = get(guarded, "/_overcast/console/")
    assert status == 401
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert b"login token" in body
    for path in ("/_overcast/console/js/app.js", "/_overcast/console/api/config", "/_overcast/requests"):
        assert get(guarded, path)[0] == 401, path
    assert get(guarded, "/_overcast/console/?token=wrong")[0] == 401


def test_the_token_once_sets_a_cookie_that_opens_the_console(guarded):
    status, headers, _ = get(guarded, "/_overcast/console/?token=s3cret-token")
    assert status == 303
    assert headers["location"] == "/_overcast/console/"
    cookie = headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/_overcast" in cookie
    jar = cookie.split(";", 1)[0]
    assert get(guarded, "/_overcast/console/", {"cookie": jar})[0] == 200
    assert get(guarded, "/_overcast/console/api/config", {"cookie": jar})[0] == 200
    assert get(guarded, "/_overcast/requests", {"cookie": jar})[0] == 200
    assert get(guarded, "/_overcast/requests", {"x-overcast-console-token": "s3cret-token"})[0] == 200
    assert get(guarded, "/_overcast/health")[0] == 200  # the rest stays as it was


def test_the_console_token_is_made_and_printed_when_listening_beyond_loopback():
    assert Config(host="127.0.0.1").loopback_only
    assert Config(host="::1").loopback_only
    assert Config(host="localhost").loopback_only
    assert not Config(host="0.0.0.0").loopback_only
    assert not Config(host="192.168.1.5").loopback_only


# -- SQS peek --------------------------------------------------------------------------------------------------


def test_peek_shows_messages_without_receiving_them(overcast):
    sqs = overcast.client("sqs")
    url = sqs.create_queue(QueueName="peeked", Attributes={"VisibilityTimeout": "60"})["QueueUrl"]
    sqs.send_message(
        QueueUrl=url,
        MessageBody="first",
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "a"}},
    )
    sqs.send_message(QueueUrl=url, MessageBody="second", DelaySeconds=30)
    sqs.send_message(QueueUrl=url, MessageBody="third")
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)["Messages"]
    assert [m["Body"] for m in received] == ["first"]

    for _ in range(2):  # looking twice changes nothing
        status, answer = get_json(overcast, f"/_overcast/sqs/messages?queue={url}")
        assert status == 200
        assert answer["queue"] == "arn:aws:sqs:us-east-1:000000000000:peeked"
        states = [(m["Body"], m["State"], m["ReceiveCount"]) for m in answer["messages"]]
        assert states == [("first", "in flight", 1), ("second", "delayed", 0), ("third", "visible", 0)]
    assert answer["messages"][0]["MessageAttributes"] == {"kind": {"DataType": "String", "StringValue": "a"}}
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "1"
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "1"
    assert attributes["ApproximateNumberOfMessagesDelayed"] == "1"
    (third,) = sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"]
    assert (third["Body"], third["Attributes"]["ApproximateReceiveCount"]) == ("third", "1")


def test_peek_pages_and_finds_queues_by_name_or_arn(overcast):
    sqs = overcast.client("sqs", region="eu-west-1")
    url = sqs.create_queue(QueueName="paged")["QueueUrl"]
    for index in range(5):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{index}")
    arn = "arn:aws:sqs:eu-west-1:000000000000:paged"
    _, first = get_json(overcast, f"/_overcast/sqs/messages?queue={arn}&limit=3")
    assert [m["Body"] for m in first["messages"]] == ["m0", "m1", "m2"]
    _, rest = get_json(overcast, f"/_overcast/sqs/messages?queue={arn}&limit=3&after={first['next']}")
    assert [m["Body"] for m in rest["messages"]] == ["m3", "m4"]
    assert rest["next"] is None
    _, by_name = get_json(overcast, "/_overcast/sqs/messages?queue=paged&region=eu-west-1")
    assert len(by_name["messages"]) == 5


def test_peek_answers_plainly_for_bad_input(overcast):
    assert get_json(overcast, "/_overcast/sqs/messages")[0] == 400
    assert get_json(overcast, "/_overcast/sqs/messages?queue=nope")[0] == 404
    assert get_json(overcast, "/_overcast/sqs/messages?queue=nope&limit=x")[0] == 400


@pytest.mark.slow
def test_listening_beyond_loopback_prints_a_token_that_opens_the_console(tmp_path):
    import re

    from tests.server_process import ServerProcess

    server = ServerProcess(tmp_path, "--host", "0.0.0.0", "--ephemeral")
    try:
        assert get(server, "/_overcast/console/")[0] == 401
        assert get(server, "/_overcast/requests")[0] == 401
        assert get(server, "/_overcast/health")[0] == 200
    finally:
        banner = server.stop()
    match = re.search(r"console: http://0\.0\.0\.0:\d+/_overcast/console/\?token=([\w-]+)", banner)
    assert match, banner

    server = ServerProcess(tmp_path, "--ephemeral")  # on loopback: no token, no login
    try:
        assert get(server, "/_overcast/console/")[0] == 200
    finally:
        banner = server.stop()
    assert "?token=" not in banner


@pytest.mark.slow
def test_a_chosen_token_is_taken_from_the_environment(tmp_path):
    import os

    from tests.server_process import ServerProcess

    env = {**os.environ, "OVERCAST_CONSOLE_TOKEN": "chosen-token"}
    server = ServerProcess(tmp_path, "--host", "0.0.0.0", "--ephemeral", env=env)
    try:
        status, headers, _ = get(server, "/_overcast/console/?token=chosen-token")
        assert status == 303
        assert get(server, "/_overcast/console/", {"cookie": headers["set-cookie"].split(";")[0]})[0] == 200
    finally:
        banner = server.stop()
    assert "?token=chosen-token" in banner


def test_an_own_ip_address_origin_is_this_servers_page():
    from overcast.server.origins import is_own_address, origin_allowed

    assert origin_allowed("http://192.168.1.5:4566", "", "192.168.1.5:4566")
    assert is_own_address("http://[fe80::1]:4566", "[fe80::1]:4566")
    assert not origin_allowed("http://192.168.1.5:4566", "", "192.168.1.5:4567")
    assert not origin_allowed("http://evil.example:4566", "", "evil.example:4566")  # a name may be rebound
    assert not origin_allowed("http://192.168.1.6:4566", "", "192.168.1.5:4566")
