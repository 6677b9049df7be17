"""The Resource Groups Tagging API sees the tags every service keeps, and its tags show in each service's API."""

import io
import zipfile

import pytest
from botocore.exceptions import ClientError

from tests.helpers import code_of
from tests.policy.servers import client_as, document, user_with_key

ACCOUNT = "000000000000"


def zipped(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


def make_tagged_resources(server, team: str = "blue") -> dict[str, str]:
    """One resource per service, each tagged through that service's own API; {kind: ARN}."""
    region = "us-east-1"
    s3, sqs, sns = server.client("s3"), server.client("sqs"), server.client("sns")
    ddb, lam, logs = server.client("dynamodb"), server.client("lambda"), server.client("logs")
    s3.create_bucket(Bucket=f"tagged-{team}")
    s3.put_bucket_tagging(Bucket=f"tagged-{team}", Tagging={"TagSet": [{"Key": "team", "Value": team}]})
    url = sqs.create_queue(QueueName=f"tagged-{team}", tags={"team": team})["QueueUrl"]
    topic = sns.create_topic(Name=f"tagged-{team}", Tags=[{"Key": "team", "Value": team}])["TopicArn"]
    table = ddb.create_table(
        TableName=f"tagged-{team}",
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        Tags=[{"Key": "team", "Value": team}],
    )["TableDescription"]["TableArn"]
    function = lam.create_function(
        FunctionName=f"tagged-{team}",
        Runtime="python3.12",
        Role=f"arn:aws:iam::{ACCOUNT}:role/r",
        Handler="app.handler",
        Code={"ZipFile": zipped("def handler(e, c):\n    return 1\n")},
        Tags={"team": team},
    )["FunctionArn"]
    logs.create_log_group(logGroupName=f"/tagged/{team}", tags={"team": team})
    return {
        "bucket": f"arn:aws:s3:::tagged-{team}",
        "queue": f"arn:aws:sqs:{region}:{ACCOUNT}:tagged-{team}",
        "topic": topic,
        "table": table,
        "function": function,
        "log-group": f"arn:aws:logs:{region}:{ACCOUNT}:log-group:/tagged/{team}",
        "queue_url": url,
    }


def arns_of(page: dict) -> set[str]:
    return {entry["ResourceARN"] for entry in page["ResourceTagMappingList"]}


def test_get_resources_by_tag_and_type_across_services(overcast):
    blue = make_tagged_resources(overcast, "blue")
    red = make_tagged_resources(overcast, "red")
    tagging = overcast.client("resourcegroupstaggingapi")
    kinds = ("bucket", "queue", "topic", "table", "function", "log-group")
    found = tagging.get_resources(TagFilters=[{"Key": "team", "Values": ["blue"]}])
    assert arns_of(found) == {blue[kind] for kind in kinds}
    assert found["PaginationToken"] == ""
    assert {entry["ResourceARN"]: entry["Tags"] for entry in found["ResourceTagMappingList"]}[
        blue["queue"]
    ] == [{"Key": "team", "Value": "blue"}]
    by_type = tagging.get_resources(ResourceTypeFilters=["s3", "dynamodb:table", "lambda:function"])
    assert arns_of(by_type) == {
        blue["bucket"],
        red["bucket"],
        blue["table"],
        red["table"],
        blue["function"],
        red["function"],
    }
    both = tagging.get_resources(TagFilters=[{"Key": "team"}], ResourceTypeFilters=["sqs", "sns", "logs"])
    assert arns_of(both) == {team[kind] for team in (blue, red) for kind in ("queue", "topic", "log-group")}
    assert tagging.get_tag_keys()["TagKeys"] == ["team"]
    assert tagging.get_tag_values(Key="team")["TagValues"] == ["blue", "red"]
    listed = tagging.get_resources(
        ResourceARNList=[blue["queue"], red["topic"], "arn:aws:sqs:us-east-1:000000000000:none"]
    )
    assert arns_of(listed) == {blue["queue"], red["topic"]}


def test_pages(overcast):
    sqs = overcast.client("sqs")
    for i in range(7):
        sqs.create_queue(QueueName=f"paged-{i}", tags={"page": "yes"})
    tagging = overcast.client("resourcegroupstaggingapi")
    seen, token, pages = [], None, 0
    while pages < 10:
        page = tagging.get_resources(ResourcesPerPage=3, **({"PaginationToken": token} if token else {}))
        seen += [entry["ResourceARN"] for entry in page["ResourceTagMappingList"]]
        pages += 1
        token = page["PaginationToken"]
        if not token:
            break
    assert pages == 3 and len(seen) == 7 == len(set(seen))
    with pytest.raises(ClientError) as raised:
        tagging.get_resources(PaginationToken="not-a-token")
    assert code_of(raised) == "InvalidParameterException"
    with pytest.raises(ClientError) as raised:
        tagging.get_resources(ResourceARNList=[seen[0]], TagFilters=[{"Key": "page"}])
    assert code_of(raised) == "InvalidParameterException"


def test_tag_resources_shows_in_each_services_own_api(overcast):
    made = make_tagged_resources(overcast, "green")
    tagging = overcast.client("resourcegroupstaggingapi")
    arns = [made[kind] for kind in ("bucket", "queue", "topic", "table", "function", "log-group")]
    missing = "arn:aws:sqs:us-east-1:000000000000:no-such-queue"
    answer = tagging.tag_resources(ResourceARNList=[*arns, missing], Tags={"cost": "42"})
    assert list(answer["FailedResourcesMap"]) == [missing]
    expected = {"team": "green", "cost": "42"}
    s3, sqs, sns = overcast.client("s3"), overcast.client("sqs"), overcast.client("sns")
    ddb, lam, logs = overcast.client("dynamodb"), overcast.client("lambda"), overcast.client("logs")
    pairs = lambda items: {t["Key"]: t["Value"] for t in items}  # noqa: E731
    assert pairs(s3.get_bucket_tagging(Bucket="tagged-green")["TagSet"]) == expected
    assert sqs.list_queue_tags(QueueUrl=made["queue_url"])["Tags"] == expected
    assert pairs(sns.list_tags_for_resource(ResourceArn=made["topic"])["Tags"]) == expected
    assert pairs(ddb.list_tags_of_resource(ResourceArn=made["table"])["Tags"]) == expected
    assert lam.list_tags(Resource=made["function"])["Tags"] == expected
    assert logs.list_tags_for_resource(resourceArn=made["log-group"])["tags"] == expected
    assert tagging.untag_resources(ResourceARNList=arns, TagKeys=["team"])["FailedResourcesMap"] == {}
    assert sqs.list_queue_tags(QueueUrl=made["queue_url"])["Tags"] == {"cost": "42"}
    assert pairs(s3.get_bucket_tagging(Bucket="tagged-green")["TagSet"]) == {"cost": "42"}
    assert arns_of(tagging.get_resources(TagFilters=[{"Key": "team"}])) == set()


def test_tagging_needs_the_services_own_permission(enforced):
    sqs = enforced.client("sqs")
    url = sqs.create_queue(QueueName="guarded")["QueueUrl"]
    arn = "arn:aws:sqs:us-east-1:000000000000:guarded"
    iam = enforced.client("iam")
    policy = iam.create_policy(
        PolicyName="tag-only",
        PolicyDocument=document({"Effect": "Allow", "Action": "tag:*", "Resource": "*"}),
    )["Policy"]["Arn"]
    keys = user_with_key(enforced, "tagger", policy)
    tagging = client_as(enforced, "resourcegroupstaggingapi", keys)
    failed = tagging.tag_resources(ResourceARNList=[arn], Tags={"a": "b"})["FailedResourcesMap"]
    assert failed[arn]["StatusCode"] == 403 and "AccessDenied" in failed[arn]["ErrorMessage"]
    iam.attach_user_policy(UserName="tagger", PolicyArn="arn:aws:iam::aws:policy/AmazonSQSFullAccess")
    assert tagging.tag_resources(ResourceARNList=[arn], Tags={"a": "b"})["FailedResourcesMap"] == {}
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"a": "b"}


def test_streams_and_state_machines_too(overcast):
    kinesis, sfn = overcast.client("kinesis"), overcast.client("stepfunctions")
    kinesis.create_stream(StreamName="tagged-stream", ShardCount=1, Tags={"team": "x"})
    stream = kinesis.describe_stream_summary(StreamName="tagged-stream")["StreamDescriptionSummary"][
        "StreamARN"
    ]
    machine = sfn.create_state_machine(
        name="tagged-machine",
        definition='{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}',
        roleArn="arn:aws:iam::000000000000:role/r",
        tags=[{"key": "team", "value": "x"}],
    )["stateMachineArn"]
    tagging = overcast.client("resourcegroupstaggingapi")
    assert arns_of(tagging.get_resources(ResourceTypeFilters=["kinesis", "states:stateMachine"])) == {
        stream,
        machine,
    }
    assert (
        tagging.tag_resources(ResourceARNList=[stream, machine], Tags={"cost": "1"})["FailedResourcesMap"]
        == {}
    )
    listed = kinesis.list_tags_for_stream(StreamName="tagged-stream")["Tags"]
    assert {t["Key"]: t["Value"] for t in listed} == {"team": "x", "cost": "1"}
    assert {t["key"]: t["value"] for t in sfn.list_tags_for_resource(resourceArn=machine)["tags"]} == {
        "team": "x",
        "cost": "1",
    }
