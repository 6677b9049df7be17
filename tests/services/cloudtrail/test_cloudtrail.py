"""CloudTrail records every call: the event history (LookupEvents), trails delivering log files to S3, and the
'AWS API Call via CloudTrail' events on EventBridge."""

import gzip
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of, message_of
from tests.waiting import wait_for

KEY = re.compile(
    r"^AWSLogs/000000000000/CloudTrail/us-east-1/\d{4}/\d{2}/\d{2}/"
    r"000000000000_CloudTrail_us-east-1_\d{8}T\d{4}Z_[A-Za-z0-9]{16}\.json\.gz$"
)


@pytest.fixture
def cloudtrail(overcast):
    return overcast.client("cloudtrail")


@pytest.fixture
def alice(overcast):
    """An IAM user with her own access key: (name, key id, clients factory)."""
    iam = overcast.client("iam")
    iam.create_user(UserName="alice")
    iam.attach_user_policy(UserName="alice", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    key = iam.create_access_key(UserName="alice")["AccessKey"]
    return key["AccessKeyId"], lambda service: overcast.client(
        service, aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"]
    )


def lookup(cloudtrail, key: str, value: str) -> list[dict]:
    return cloudtrail.lookup_events(LookupAttributes=[{"AttributeKey": key, "AttributeValue": value}])[
        "Events"
    ]


def log_records(s3, bucket: str) -> tuple[list[str], list[dict]]:
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    records = []
    for key in keys:
        records += json.loads(gzip.decompress(s3.get_object(Bucket=bucket, Key=key)["Body"].read()))[
            "Records"
        ]
    return keys, records


def test_lookup_events_shows_the_create_bucket_an_iam_user_made_and_a_trail_writes_it_to_s3(
    overcast, cloudtrail, alice
):
    key_id, client = alice
    s3 = overcast.client("s3")
    s3.create_bucket(Bucket="trail-logs")
    trail = cloudtrail.create_trail(Name="main", S3BucketName="trail-logs")
    assert trail["TrailARN"] == "arn:aws:cloudtrail:us-east-1:000000000000:trail/main"
    cloudtrail.start_logging(Name="main")
    client("s3").create_bucket(Bucket="made-by-alice")

    found = lookup(cloudtrail, "ResourceName", "made-by-alice")
    assert len(found) == 1
    event = found[0]
    assert event["EventName"] == "CreateBucket" and event["EventSource"] == "s3.amazonaws.com"
    assert event["Username"] == "alice" and event["AccessKeyId"] == key_id and event["ReadOnly"] == "false"
    assert event["Resources"] == [{"ResourceType": "AWS::S3::Bucket", "ResourceName": "made-by-alice"}]
    record = json.loads(event["CloudTrailEvent"])
    assert record["eventVersion"] == "1.09" and record["eventType"] == "AwsApiCall"
    assert record["userIdentity"] == {
        "type": "IAMUser",
        "principalId": record["userIdentity"]["principalId"],
        "arn": "arn:aws:iam::000000000000:user/alice",
        "accountId": "000000000000",
        "accessKeyId": key_id,
        "userName": "alice",
    }
    assert record["userIdentity"]["principalId"].startswith("AIDA")
    assert record["requestParameters"] == {"bucketName": "made-by-alice"}
    assert record["awsRegion"] == "us-east-1" and record["sourceIPAddress"] == "127.0.0.1"
    assert record["userAgent"].startswith("Boto3/")
    assert record["managementEvent"] is True and record["eventCategory"] == "Management"
    assert record["recipientAccountId"] == "000000000000" and record["eventID"] == event["EventId"]

    overcast.advance_clock("5m")  # the trail delivers every five minutes of the clock
    keys, records = wait_for(lambda: (found := log_records(s3, "trail-logs")) and found[0] and found)
    assert all(KEY.match(key) for key in keys), keys
    delivered = [r for r in records if r["eventName"] == "CreateBucket"]
    assert [r["requestParameters"]["bucketName"] for r in delivered] == ["made-by-alice"]
    assert delivered[0]["eventID"] == event["EventId"]
    status = cloudtrail.get_trail_status(Name="main")
    assert (
        status["IsLogging"] is True and "LatestDeliveryTime" in status and "LatestDeliveryError" not in status
    )


def test_assumed_roles_are_recorded_with_their_session(overcast, cloudtrail):
    iam, sts = overcast.client("iam"), overcast.client("sts")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = iam.create_role(RoleName="deployer", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    credentials = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="ci-run")["Credentials"]
    sqs = overcast.client(
        "sqs",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    sqs.create_queue(QueueName="made-by-role")
    event = lookup(cloudtrail, "EventName", "CreateQueue")[0]
    assert event["Username"] == "ci-run"
    identity = json.loads(event["CloudTrailEvent"])["userIdentity"]
    assert identity["type"] == "AssumedRole"
    assert identity["arn"] == "arn:aws:sts::000000000000:assumed-role/deployer/ci-run"
    assert identity["principalId"] == f"{role['RoleId']}:ci-run"
    assert identity["sessionContext"]["sessionIssuer"] == {
        "type": "Role",
        "principalId": role["RoleId"],
        "arn": role["Arn"],
        "accountId": "000000000000",
        "userName": "deployer",
    }
    assert identity["sessionContext"]["attributes"]["mfaAuthenticated"] == "false"


def test_errors_and_secrets(overcast, cloudtrail):
    s3 = overcast.client("s3")
    with pytest.raises(ClientError):
        s3.delete_bucket(Bucket="never-made")
    failed = json.loads(lookup(cloudtrail, "EventName", "DeleteBucket")[0]["CloudTrailEvent"])
    assert (
        failed["errorCode"] == "NoSuchBucket"
        and failed["errorMessage"] == "The specified bucket does not exist"
    )
    assert failed["responseElements"] is None
    iam = overcast.client("iam")
    iam.create_user(UserName="bob")
    iam.create_access_key(UserName="bob")
    created = json.loads(lookup(cloudtrail, "EventName", "CreateAccessKey")[0]["CloudTrailEvent"])
    assert created["responseElements"]["accessKey"]["secretAccessKey"] == "HIDDEN_DUE_TO_SECURITY_REASONS"
    assert created["responseElements"]["accessKey"]["userName"] == "bob"
    assert created["awsRegion"] == "us-east-1" and created["eventSource"] == "iam.amazonaws.com"


def test_read_only_and_data_events(overcast, cloudtrail):
    s3 = overcast.client("s3")
    s3.create_bucket(Bucket="data")
    s3.put_object(Bucket="data", Key="k", Body=b"x")  # a data event: not in the event history
    s3.list_buckets()
    assert lookup(cloudtrail, "EventName", "PutObject") == []
    listed = lookup(cloudtrail, "EventName", "ListBuckets")
    assert listed[0]["ReadOnly"] == "true"
    assert json.loads(listed[0]["CloudTrailEvent"])["responseElements"] is None
    read_only = lookup(cloudtrail, "ReadOnly", "true")
    assert {e["EventName"] for e in read_only} >= {"ListBuckets"}
    assert "CreateBucket" not in {e["EventName"] for e in read_only}


def test_kms_cryptographic_calls_are_read_only_without_response_elements(overcast, cloudtrail):
    """As AWS's own example entries of Encrypt, Decrypt and GenerateDataKey show them."""
    kms = overcast.client("kms")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.generate_data_key(KeyId=key, KeySpec="AES_256")["CiphertextBlob"]
    kms.decrypt(CiphertextBlob=blob)
    kms.encrypt(KeyId=key, Plaintext=b"x")
    for name in ("GenerateDataKey", "Decrypt", "Encrypt"):
        (event,) = lookup(cloudtrail, "EventName", name)
        record = json.loads(event["CloudTrailEvent"])
        assert (event["ReadOnly"], record["readOnly"], record["responseElements"]) == ("true", True, None)
    created = json.loads(lookup(cloudtrail, "EventName", "CreateKey")[0]["CloudTrailEvent"])
    assert created["readOnly"] is False and created["responseElements"]["keyMetadata"]["keyId"] == key
    assert json.loads(event["CloudTrailEvent"])["requestParameters"]["keyId"] == key


def test_a_map_is_recorded_with_its_keys_as_given(overcast, cloudtrail):
    """Member names are camelCase in a record, but a map's keys are data: the encryption context Secrets
    Manager gives KMS (SecretARN, SecretVersionId, readable: that is what the context is for), queue
    attributes, tags."""
    secrets = overcast.client("secretsmanager")
    created = secrets.create_secret(Name="recorded", SecretString="s3cr3t")
    secrets.get_secret_value(SecretId="recorded")
    decrypted = [json.loads(e["CloudTrailEvent"]) for e in lookup(cloudtrail, "EventName", "Decrypt")]
    assert {"SecretARN": created["ARN"], "SecretVersionId": created["VersionId"]} in [
        record["requestParameters"]["encryptionContext"] for record in decrypted
    ]
    overcast.client("sqs").create_queue(
        QueueName="recorded", Attributes={"DelaySeconds": "5"}, tags={"Team": "a"}
    )
    (event,) = lookup(cloudtrail, "EventName", "CreateQueue")
    shown = json.loads(event["CloudTrailEvent"])["requestParameters"]
    assert shown == {"queueName": "recorded", "attributes": {"DelaySeconds": "5"}, "tags": {"Team": "a"}}
    read = json.loads(lookup(cloudtrail, "EventName", "GetSecretValue")[0]["CloudTrailEvent"])
    assert read["requestParameters"] == {"secretId": "recorded"}


def test_a_trail_with_data_event_selectors_logs_object_calls(overcast, cloudtrail):
    s3 = overcast.client("s3")
    s3.create_bucket(Bucket="logs")
    s3.create_bucket(Bucket="watched")
    s3.create_bucket(Bucket="ignored")
    cloudtrail.create_trail(Name="objects", S3BucketName="logs", S3KeyPrefix="audit")
    selectors = cloudtrail.put_event_selectors(
        TrailName="objects",
        EventSelectors=[
            {
                "ReadWriteType": "WriteOnly",
                "IncludeManagementEvents": False,
                "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::watched/"]}],
            }
        ],
    )
    assert selectors["EventSelectors"][0]["ReadWriteType"] == "WriteOnly"
    cloudtrail.start_logging(Name="objects")
    s3.put_object(Bucket="watched", Key="a.txt", Body=b"a")
    s3.get_object(Bucket="watched", Key="a.txt")  # read: not selected
    s3.put_object(Bucket="ignored", Key="b.txt", Body=b"b")
    s3.create_bucket(Bucket="management")  # management events are excluded
    overcast.advance_clock("5m")
    keys, records = wait_for(lambda: (found := log_records(s3, "logs")) and found[0] and found)
    assert all(key.startswith("audit/AWSLogs/000000000000/CloudTrail/us-east-1/") for key in keys)
    assert [(r["eventName"], r["eventCategory"]) for r in records] == [("PutObject", "Data")]
    assert records[0]["requestParameters"]["key"] == "a.txt" and records[0]["managementEvent"] is False
    assert "body" not in records[0]["requestParameters"]


def test_advanced_event_selectors(overcast, cloudtrail):
    s3 = overcast.client("s3")
    s3.create_bucket(Bucket="logs")
    cloudtrail.create_trail(Name="advanced", S3BucketName="logs")
    cloudtrail.put_event_selectors(
        TrailName="advanced",
        AdvancedEventSelectors=[
            {
                "Name": "sqs sends",
                "FieldSelectors": [
                    {"Field": "eventCategory", "Equals": ["Data"]},
                    {"Field": "resources.type", "Equals": ["AWS::SQS::Queue"]},
                    {"Field": "eventName", "Equals": ["SendMessage"]},
                ],
            }
        ],
    )
    cloudtrail.start_logging(Name="advanced")
    sqs = overcast.client("sqs")
    url = sqs.create_queue(QueueName="audited")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="hello")
    sqs.receive_message(QueueUrl=url)
    overcast.advance_clock("5m")
    _, records = wait_for(lambda: (found := log_records(s3, "logs")) and found[1] and found)
    assert [r["eventName"] for r in records] == ["SendMessage"]


def test_stopped_trails_deliver_nothing(overcast, cloudtrail):
    s3 = overcast.client("s3")
    s3.create_bucket(Bucket="logs")
    s3.create_bucket(Bucket="canary-logs")
    cloudtrail.create_trail(Name="stopped", S3BucketName="logs")
    cloudtrail.create_trail(Name="canary", S3BucketName="canary-logs")
    cloudtrail.start_logging(Name="stopped")
    cloudtrail.start_logging(Name="canary")
    cloudtrail.stop_logging(Name="stopped")
    s3.create_bucket(Bucket="after-stop")
    overcast.advance_clock("5m")
    wait_for(
        lambda: log_records(s3, "canary-logs")[0]
    )  # the canary trail's delivery came: the other had its turn
    assert log_records(s3, "logs") == ([], [])
    status = cloudtrail.get_trail_status(Name="stopped")
    assert status["IsLogging"] is False and "StopLoggingTime" in status


def test_trail_management(overcast, cloudtrail):
    overcast.client("s3").create_bucket(Bucket="logs")
    cloudtrail.create_trail(
        Name="trail-1", S3BucketName="logs", IsMultiRegionTrail=True, TagsList=[{"Key": "k", "Value": "v"}]
    )
    trails = cloudtrail.describe_trails()["trailList"]
    assert trails == [
        {
            "Name": "trail-1",
            "S3BucketName": "logs",
            "IncludeGlobalServiceEvents": True,
            "IsMultiRegionTrail": True,
            "HomeRegion": "us-east-1",
            "TrailARN": "arn:aws:cloudtrail:us-east-1:000000000000:trail/trail-1",
            "LogFileValidationEnabled": False,
            "HasCustomEventSelectors": False,
            "HasInsightSelectors": False,
            "IsOrganizationTrail": False,
        }
    ]
    assert (
        overcast.client("cloudtrail", region="eu-west-1").describe_trails()["trailList"][0]["Name"]
        == "trail-1"
    )
    assert cloudtrail.get_trail(Name="trail-1")["Trail"]["Name"] == "trail-1"
    assert cloudtrail.list_trails()["Trails"] == [
        {"TrailARN": trails[0]["TrailARN"], "Name": "trail-1", "HomeRegion": "us-east-1"}
    ]
    assert cloudtrail.list_tags(ResourceIdList=[trails[0]["TrailARN"]])["ResourceTagList"] == [
        {"ResourceId": trails[0]["TrailARN"], "TagsList": [{"Key": "k", "Value": "v"}]}
    ]
    assert cloudtrail.get_event_selectors(TrailName="trail-1")["EventSelectors"] == [
        {
            "ReadWriteType": "All",
            "IncludeManagementEvents": True,
            "DataResources": [],
            "ExcludeManagementEventSources": [],
        }
    ]
    updated = cloudtrail.update_trail(Name="trail-1", S3KeyPrefix="p")
    assert updated["S3KeyPrefix"] == "p"
    cloudtrail.delete_trail(Name="trail-1")
    with pytest.raises(ClientError) as raised:
        cloudtrail.get_trail_status(Name="trail-1")
    assert error_of(raised) == ("TrailNotFoundException", 400)
    assert message_of(raised) == (
        "Unknown trail: arn:aws:cloudtrail:us-east-1:000000000000:trail/trail-1 for the user: 000000000000"
    )


@pytest.mark.parametrize(
    "name, message",
    [
        (
            "ab",
            "Trail name too short. Minimum allowed length: 3 characters. Specified name length: 2 characters.",
        ),
        ("-abc", "Trail name must starts with a letter or number."),
        ("abc-", "Trail name must ends with a letter or number."),
        (
            "a b c",
            "Trail name or ARN can only contain uppercase letters, lowercase letters, numbers, periods (.), hyphens (-), and underscores (_).",
        ),
    ],
)
def test_invalid_trail_names(overcast, cloudtrail, name, message):
    with pytest.raises(ClientError) as raised:
        cloudtrail.create_trail(Name=name, S3BucketName="logs")
    assert error_of(raised) == ("InvalidTrailNameException", 400)
    assert message_of(raised) == message


def test_create_trail_errors(overcast, cloudtrail):
    with pytest.raises(ClientError) as raised:
        cloudtrail.create_trail(Name="main", S3BucketName="no-such-bucket")
    assert error_of(raised) == ("S3BucketDoesNotExistException", 400)
    assert message_of(raised) == "S3 bucket no-such-bucket does not exist."
    overcast.client("s3").create_bucket(Bucket="logs")
    cloudtrail.create_trail(Name="main", S3BucketName="logs")
    with pytest.raises(ClientError) as raised:
        cloudtrail.create_trail(Name="main", S3BucketName="logs")
    assert error_of(raised) == ("TrailAlreadyExistsException", 400)
    assert message_of(raised) == "Trail main already exists for customer: 000000000000"


def test_lookup_events_paging_time_range_and_errors(overcast, cloudtrail):
    sqs = overcast.client("sqs")
    for index in range(5):
        sqs.create_queue(QueueName=f"q{index}")
    first = cloudtrail.lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateQueue"}], MaxResults=3
    )
    assert [e["Resources"][0]["ResourceName"] for e in first["Events"]] == ["q4", "q3", "q2"]  # newest first
    rest = cloudtrail.lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateQueue"}],
        MaxResults=3,
        NextToken=first["NextToken"],
    )
    assert [e["Resources"][0]["ResourceName"] for e in rest["Events"]] == [
        "q1",
        "q0",
    ] and "NextToken" not in rest
    future = datetime.now(UTC) + timedelta(days=1)
    assert cloudtrail.lookup_events(StartTime=future, EndTime=future + timedelta(hours=1))["Events"] == []
    assert {e["EventSource"] for e in lookup(cloudtrail, "EventSource", "sqs.amazonaws.com")} == {
        "sqs.amazonaws.com"
    }
    with pytest.raises(ClientError) as raised:
        cloudtrail.lookup_events(
            LookupAttributes=[
                {"AttributeKey": "EventName", "AttributeValue": "a"},
                {"AttributeKey": "Username", "AttributeValue": "b"},
            ]
        )
    assert error_of(raised) == ("InvalidLookupAttributesException", 400)
    with pytest.raises(ClientError) as raised:
        cloudtrail.lookup_events(StartTime=future, EndTime=future - timedelta(hours=1))
    assert error_of(raised) == ("InvalidTimeRangeException", 400)
    overcast.advance_clock("91d")  # the event history keeps 90 days
    assert lookup(cloudtrail, "EventName", "CreateQueue") == []


def test_api_calls_reach_eventbridge(overcast, cloudtrail):
    events, sqs = overcast.client("events"), overcast.client("sqs")
    url = sqs.create_queue(QueueName="api-calls")["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    pattern = {
        "source": ["aws.s3"],
        "detail-type": ["AWS API Call via CloudTrail"],
        "detail": {"eventName": ["CreateBucket"]},
    }
    events.put_rule(Name="bucket-made", EventPattern=json.dumps(pattern))
    events.put_targets(Rule="bucket-made", Targets=[{"Id": "q", "Arn": queue}])
    overcast.client("s3").create_bucket(Bucket="announced")
    message = wait_for(lambda: sqs.receive_message(QueueUrl=url).get("Messages"))[0]
    event = json.loads(message["Body"])
    assert event["detail"]["eventName"] == "CreateBucket"
    assert event["detail"]["requestParameters"] == {"bucketName": "announced"}
    assert event["detail"]["userIdentity"]["type"] == "Root"


def test_a_denied_call_is_recorded_with_its_error(enforced):
    from tests.policy.servers import client_as, user_with_key

    key = user_with_key(enforced, "nobody")  # no policy: everything is denied
    with pytest.raises(ClientError):
        client_as(enforced, "s3", key).create_bucket(Bucket="not-allowed")
    found = lookup(enforced.client("cloudtrail"), "Username", "nobody")
    record = json.loads(found[0]["CloudTrailEvent"])
    assert record["eventName"] == "CreateBucket" and record["errorCode"] == "AccessDenied"
    assert "is not authorized to perform: s3:CreateBucket" in record["errorMessage"]
    assert record["responseElements"] is None and record["userIdentity"]["userName"] == "nobody"
