"""PutEvents to targets: patterns, input transformation, SQS/SNS/Logs/bus/API-destination targets, retries and
dead-letter queues."""

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of, message_of
from tests.services.events.conftest import put, s3_event
from tests.waiting import wait_for

UPLOADS = {
    "source": ["demo.s3"],
    "detail-type": ["Object Created"],
    "detail": {
        "bucket": {"name": ["photos"]},
        "object": {"key": [{"prefix": "uploads/"}], "size": [{"numeric": [">=", 1024, "<", 1048576]}]},
    },
}
RESHAPE = {
    "InputPathsMap": {
        "bucket": "$.detail.bucket.name",
        "key": "$.detail.object.key",
        "size": "$.detail.object.size",
    },
    "InputTemplate": '{"file": "s3://<bucket>/<key>", "bytes": <size>, "rule": "<aws.events.rule-name>"}',
}


def test_an_s3_object_created_event_is_matched_reshaped_and_delivered_to_sqs(
    events, sqs, make_queue, receive
):
    url, arn = make_queue("uploads")
    events.put_rule(Name="big-uploads", EventPattern=json.dumps(UPLOADS))
    events.put_targets(Rule="big-uploads", Targets=[{"Id": "q", "Arn": arn, "InputTransformer": RESHAPE}])
    put(events, s3_event(key="other/cat.png", size=2048), source="demo.s3")  # wrong prefix
    put(events, s3_event(key="uploads/tiny.png", size=10), source="demo.s3")  # too small
    put(events, s3_event(key="uploads/cat.png", size=2048), source="demo.s3")
    messages = receive(url)
    assert [json.loads(m["Body"]) for m in messages] == [
        {"file": "s3://photos/uploads/cat.png", "bytes": 2048, "rule": "big-uploads"}
    ]
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages") is None


def test_the_event_a_target_receives_is_eventbridges_envelope(overcast, events, make_queue, receive):
    url, arn = make_queue("envelope")
    events.put_rule(Name="all", EventPattern=json.dumps({"source": ["demo.app"]}))
    events.put_targets(Rule="all", Targets=[{"Id": "q", "Arn": arn}])
    event_id = put(events, {"n": 1}, source="demo.app", detail_type="Thing", Resources=["arn:aws:s3:::b"])
    body = json.loads(receive(url)[0]["Body"])
    assert list(body) == [
        "version",
        "id",
        "detail-type",
        "source",
        "account",
        "time",
        "region",
        "resources",
        "detail",
    ]
    assert body["id"] == event_id
    assert body["detail-type"] == "Thing" and body["detail"] == {"n": 1}
    assert body["account"] == "000000000000" and body["region"] == "us-east-1"
    assert body["resources"] == ["arn:aws:s3:::b"]
    assert body["time"].endswith("Z") and len(body["time"]) == 20


def test_input_and_input_path(events, make_queue, receive):
    url, arn = make_queue("inputs")
    events.put_rule(Name="r", EventPattern=json.dumps({"source": ["demo.app"]}))
    events.put_targets(
        Rule="r",
        Targets=[
            {"Id": "const", "Arn": arn, "Input": '{"constant": 1}'},
            {"Id": "path", "Arn": arn, "InputPath": "$.detail.inner"},
        ],
    )
    put(events, {"inner": {"x": [1, 2]}})
    bodies = sorted(m["Body"] for m in receive(url, 2))
    assert bodies == ['{"constant": 1}', '{"x":[1,2]}']


def test_a_text_template_inserts_values_unquoted(events, make_queue, receive):
    url, arn = make_queue("text")
    events.put_rule(Name="r", EventPattern=json.dumps({"source": ["demo.app"]}))
    transformer = {
        "InputPathsMap": {"instance": "$.detail.instance", "state": "$.detail.state"},
        "InputTemplate": '"<instance> is in state <state>"',
    }
    events.put_targets(Rule="r", Targets=[{"Id": "q", "Arn": arn, "InputTransformer": transformer}])
    put(events, {"instance": "i-123", "state": "running"})
    assert receive(url)[0]["Body"] == '"i-123 is in state running"'


def test_fifo_queue_targets_get_the_message_group(events, make_queue, receive):
    url, arn = make_queue("ordered.fifo", ContentBasedDeduplication="false")
    events.put_rule(Name="r", EventPattern=json.dumps({"source": ["demo.app"]}))
    events.put_targets(Rule="r", Targets=[{"Id": "q", "Arn": arn, "SqsParameters": {"MessageGroupId": "g1"}}])
    event_id = put(events, {"n": 1})
    message = receive(url)[0]
    assert message["Attributes"]["MessageGroupId"] == "g1"
    assert message["Attributes"]["MessageDeduplicationId"] == event_id


def test_sns_target(overcast, events, make_queue, receive):
    sns = overcast.client("sns")
    url, queue = make_queue("from-topic")
    topic = sns.create_topic(Name="events-topic")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue, Attributes={"RawMessageDelivery": "true"})
    events.put_rule(Name="r", EventPattern=json.dumps({"source": ["demo.app"]}))
    events.put_targets(Rule="r", Targets=[{"Id": "t", "Arn": topic}])
    put(events, {"via": "sns"})
    assert json.loads(receive(url)[0]["Body"])["detail"] == {"via": "sns"}


def test_another_bus_as_target(events, make_queue, receive):
    url, queue = make_queue("second-bus")
    bus = events.create_event_bus(Name="second")["EventBusArn"]
    events.put_rule(Name="forward", EventPattern=json.dumps({"source": ["demo.app"]}))
    events.put_targets(Rule="forward", Targets=[{"Id": "bus", "Arn": bus}])
    events.put_rule(Name="land", EventBusName="second", EventPattern=json.dumps({"detail": {"hop": [1]}}))
    events.put_targets(Rule="land", EventBusName="second", Targets=[{"Id": "q", "Arn": queue}])
    put(events, {"hop": 1})
    body = json.loads(receive(url)[0]["Body"])
    assert body["source"] == "demo.app" and body["detail"] == {"hop": 1}


def test_another_accounts_bus(overcast, make_queue, receive):
    """Account 111122223333 lets 000000000000 put events on its bus; the events keep their sender's account."""
    receiver = overcast.client("events", aws_access_key_id="111122223333", aws_secret_access_key="x")
    receiver_sqs = overcast.client("sqs", aws_access_key_id="111122223333", aws_secret_access_key="x")
    url = receiver_sqs.create_queue(QueueName="inbox")["QueueUrl"]
    queue = receiver_sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    bus = receiver.create_event_bus(Name="shared")["EventBusArn"]
    receiver.put_permission(
        EventBusName="shared", Action="events:PutEvents", Principal="000000000000", StatementId="s"
    )
    receiver.put_rule(Name="in", EventBusName="shared", EventPattern=json.dumps({"source": ["demo.app"]}))
    receiver.put_targets(Rule="in", EventBusName="shared", Targets=[{"Id": "q", "Arn": queue}])
    sender = overcast.client("events")
    put(sender, {"from": "sender"}, EventBusName=bus)
    got = []
    wait_for(lambda: got.extend(receiver_sqs.receive_message(QueueUrl=url).get("Messages", [])) or got)
    assert json.loads(got[0]["Body"])["account"] == "000000000000"


def test_logs_target(overcast, events):
    logs = overcast.client("logs")
    logs.create_log_group(logGroupName="/aws/events/demo")
    group = "arn:aws:logs:us-east-1:000000000000:log-group:/aws/events/demo:*"
    events.put_rule(Name="r", EventPattern=json.dumps({"source": ["demo.app"]}))
    events.put_targets(Rule="r", Targets=[{"Id": "logs", "Arn": group}])
    event_id = put(events, {"logged": True})
    found = wait_for(lambda: logs.filter_log_events(logGroupName="/aws/events/demo")["events"])
    assert found[0]["logStreamName"] == event_id
    assert json.loads(found[0]["message"])["detail"] == {"logged": True}


def test_a_missing_lambda_target_goes_to_the_dead_letter_queue_at_once(events, make_queue, receive):
    dlq_url, dlq = make_queue("dead-letters")
    function = "arn:aws:lambda:us-east-1:000000000000:function:does-not-exist"
    rule = events.put_rule(Name="doomed", EventPattern=json.dumps({"source": ["demo.app"]}))["RuleArn"]
    events.put_targets(
        Rule="doomed",
        Targets=[
            {
                "Id": "fn",
                "Arn": function,
                "DeadLetterConfig": {"Arn": dlq},
                "RetryPolicy": {"MaximumRetryAttempts": 5},
            }
        ],
    )
    event_id = put(events, {"n": 1})
    message = receive(dlq_url)[0]
    attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert attributes["RULE_ARN"] == rule
    assert attributes["TARGET_ARN"] == function
    assert attributes["ERROR_CODE"] == "NO_RESOURCE"
    assert "does-not-exist" in attributes["ERROR_MESSAGE"]
    assert attributes["RETRY_ATTEMPTS"] == "0"  # a missing resource is not retried
    assert "EXHAUSTED_RETRY_CONDITION" not in attributes
    assert json.loads(message["Body"])["id"] == event_id


class Endpoint:
    """A loopback HTTP endpoint answering with the statuses it is given, recording what it received."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.requests: list[dict] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("content-length") or 0)
                endpoint.requests.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": self.rfile.read(length),
                    }
                )
                status = endpoint.statuses.pop(0) if len(endpoint.statuses) > 1 else endpoint.statuses[0]
                self.send_response(status)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            do_POST = do_PUT = do_GET = _answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint():
    made: list[Endpoint] = []

    def make(*statuses: int) -> Endpoint:
        made.append(Endpoint(list(statuses)))
        return made[-1]

    yield make
    for server in made:
        server.close()


def api_destination(events, url: str, auth: dict, kind: str = "BASIC", method: str = "POST") -> str:
    connection = events.create_connection(Name="conn", AuthorizationType=kind, AuthParameters=auth)
    assert connection["ConnectionState"] == "AUTHORIZED"
    return events.create_api_destination(
        Name="hook", ConnectionArn=connection["ConnectionArn"], InvocationEndpoint=url, HttpMethod=method
    )["ApiDestinationArn"]


def test_an_api_destination_really_calls_the_endpoint(events, endpoint):
    server = endpoint(200)
    destination = api_destination(
        events,
        server.url + "/hooks/*",
        {
            "BasicAuthParameters": {"Username": "user", "Password": "secret"},
            "InvocationHttpParameters": {"HeaderParameters": [{"Key": "x-team", "Value": "a"}]},
        },
    )
    described = events.describe_connection(Name="conn")
    assert described["AuthParameters"]["BasicAuthParameters"] == {
        "Username": "user"
    }  # the password is not shown
    events.put_rule(Name="r", EventPattern=json.dumps({"source": ["demo.app"]}))
    events.put_targets(
        Rule="r",
        Targets=[
            {
                "Id": "hook",
                "Arn": destination,
                "HttpParameters": {"PathParameterValues": ["orders"], "QueryStringParameters": {"v": "1"}},
            }
        ],
    )
    event_id = put(events, {"order": 7})
    wait_for(lambda: server.requests)
    request = server.requests[0]
    assert request["method"] == "POST" and request["path"] == "/hooks/orders?v=1"
    assert request["headers"]["authorization"] == "Basic " + base64.b64encode(b"user:secret").decode()
    assert request["headers"]["x-team"] == "a"
    assert request["headers"]["user-agent"] == "Amazon/EventBridge/ApiDestinations"
    assert json.loads(request["body"])["id"] == event_id


def test_a_failing_endpoint_is_retried_then_dead_lettered(overcast, events, endpoint, make_queue, receive):
    server = endpoint(500)
    dlq_url, dlq = make_queue("hook-dlq")
    destination = api_destination(
        events,
        server.url,
        {"ApiKeyAuthParameters": {"ApiKeyName": "x-api-key", "ApiKeyValue": "k"}},
        "API_KEY",
    )
    events.put_rule(Name="r", EventPattern=json.dumps({"source": ["demo.app"]}))
    events.put_targets(
        Rule="r",
        Targets=[
            {
                "Id": "hook",
                "Arn": destination,
                "RetryPolicy": {"MaximumRetryAttempts": 2},
                "DeadLetterConfig": {"Arn": dlq},
            }
        ],
    )
    put(events, {"n": 1})
    for expected in (1, 2):  # each retry waits for its backoff on the clock
        wait_for(lambda expected=expected: len(server.requests) >= expected)
        overcast.advance_clock(10)
    message = receive(dlq_url)[0]
    attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert len(server.requests) == 3  # the first attempt and two retries
    assert server.requests[0]["headers"]["x-api-key"] == "k"
    assert attributes["ERROR_CODE"] == "ERROR_FROM_TARGET"
    assert attributes["EXHAUSTED_RETRY_CONDITION"] == "MaximumRetryAttempts"
    assert attributes["RETRY_ATTEMPTS"] == "2"


def test_an_endpoint_answering_400_is_not_retried(events, endpoint, make_queue, receive):
    server = endpoint(400)
    dlq_url, dlq = make_queue("bad-request-dlq")
    destination = api_destination(
        events, server.url, {"BasicAuthParameters": {"Username": "u", "Password": "p"}}
    )
    events.put_rule(Name="r", EventPattern=json.dumps({"source": ["demo.app"]}))
    events.put_targets(
        Rule="r", Targets=[{"Id": "hook", "Arn": destination, "DeadLetterConfig": {"Arn": dlq}}]
    )
    put(events, {"n": 1})
    attributes = {k: v["StringValue"] for k, v in receive(dlq_url)[0]["MessageAttributes"].items()}
    assert attributes["RETRY_ATTEMPTS"] == "0" and len(server.requests) == 1


def test_put_events_per_entry_errors(events):
    answer = events.put_events(
        Entries=[
            {"Source": "demo.app", "DetailType": "t", "Detail": "{}"},
            {"DetailType": "t", "Detail": "{}"},
            {"Source": "demo.app", "Detail": "{}"},
            {"Source": "demo.app", "DetailType": "t"},
            {"Source": "demo.app", "DetailType": "t", "Detail": "[1]"},
            {"Source": "aws.s3", "DetailType": "t", "Detail": "{}"},
            {"Source": "demo.app", "DetailType": "t", "Detail": "{}", "EventBusName": "nope"},
        ]
    )
    assert answer["FailedEntryCount"] == 6
    entries = answer["Entries"]
    assert set(entries[0]) == {"EventId"}
    assert entries[1:] == [
        {
            "ErrorCode": "InvalidArgument",
            "ErrorMessage": "Parameter Source is not valid. Reason: Source is a required argument.",
        },
        {
            "ErrorCode": "InvalidArgument",
            "ErrorMessage": "Parameter DetailType is not valid. Reason: DetailType is a required argument.",
        },
        {
            "ErrorCode": "InvalidArgument",
            "ErrorMessage": "Parameter Detail is not valid. Reason: Detail is a required argument.",
        },
        {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."},
        {"ErrorCode": "NotAuthorizedForSourceException", "ErrorMessage": "Not authorized for the source."},
        {"ErrorCode": "ResourceNotFoundException", "ErrorMessage": "Event bus nope does not exist."},
    ]


def test_put_events_limits(events):
    with pytest.raises(ClientError) as raised:
        events.put_events(Entries=[{"Source": "a", "DetailType": "t", "Detail": "{}"}] * 11)
    assert error_of(raised)[1] == 400
    big = json.dumps({"blob": "x" * (256 * 1024)})
    with pytest.raises(ClientError) as raised:
        events.put_events(Entries=[{"Source": "a", "DetailType": "t", "Detail": big}])
    assert error_of(raised) == ("ValidationException", 400)
    assert message_of(raised) == "Total size of the entries in the request is over the limit."


def test_a_disabled_rule_delivers_nothing(events, sqs, make_queue, receive):
    url, arn = make_queue("disabled")
    events.put_rule(Name="off", EventPattern=json.dumps({"source": ["demo.app"]}), State="DISABLED")
    events.put_rule(Name="on", EventPattern=json.dumps({"source": ["demo.app"], "detail": {"n": [2]}}))
    for rule in ("off", "on"):
        events.put_targets(Rule=rule, Targets=[{"Id": "q", "Arn": arn, "Input": json.dumps({"rule": rule})}])
    put(events, {"n": 1})
    put(events, {"n": 2})
    assert [json.loads(m["Body"]) for m in receive(url)] == [{"rule": "on"}]
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages") is None


def test_another_accounts_bus_refuses_events_without_its_permission(overcast):
    receiver = overcast.client("events", aws_access_key_id="111122223333", aws_secret_access_key="x")
    bus = receiver.create_event_bus(Name="private")["EventBusArn"]
    with pytest.raises(ClientError) as raised:
        overcast.client("events").put_events(
            Entries=[{"Source": "demo.app", "DetailType": "t", "Detail": "{}", "EventBusName": bus}]
        )
    assert error_of(raised)[0] == "AccessDeniedException"
    assert message_of(raised).endswith(
        "is not authorized to perform: events:PutEvents on resource: "
        "arn:aws:events:us-east-1:111122223333:event-bus/private because no resource-based policy allows the "
        "events:PutEvents action"
    )


def test_a_rule_forwards_to_another_accounts_bus(overcast, events):
    receiver = overcast.client("events", aws_access_key_id="111122223333", aws_secret_access_key="x")
    receiver_sqs = overcast.client("sqs", aws_access_key_id="111122223333", aws_secret_access_key="x")
    url = receiver_sqs.create_queue(QueueName="forwarded")["QueueUrl"]
    queue = receiver_sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    bus = receiver.create_event_bus(Name="central")["EventBusArn"]
    receiver.put_permission(
        EventBusName="central", Action="events:PutEvents", Principal="000000000000", StatementId="s"
    )
    receiver.put_rule(Name="in", EventBusName="central", EventPattern=json.dumps({"source": ["demo.app"]}))
    receiver.put_targets(Rule="in", EventBusName="central", Targets=[{"Id": "q", "Arn": queue}])
    events.put_rule(Name="forward", EventPattern=json.dumps({"source": ["demo.app"]}))
    events.put_targets(Rule="forward", Targets=[{"Id": "central", "Arn": bus}])
    put(events, {"hop": "accounts"})
    got = wait_for(lambda: receiver_sqs.receive_message(QueueUrl=url).get("Messages"))
    body = json.loads(got[0]["Body"])
    assert body["account"] == "000000000000" and body["detail"] == {"hop": "accounts"}
