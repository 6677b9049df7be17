"""Bucket configurations stored and returned; their not-found errors; validation."""

from datetime import UTC, datetime

import pytest
from botocore import xform_name
from botocore.exceptions import ClientError

from overcast.services.s3.configs import DOCUMENTS
from tests.helpers import error_of
from tests.waiting import wait_for


def test_cors(s3, bucket):
    with pytest.raises(ClientError) as raised:
        s3.get_bucket_cors(Bucket=bucket)
    assert error_of(raised) == ("NoSuchCORSConfiguration", 404)
    rules = [
        {
            "AllowedMethods": ["GET", "PUT"],
            "AllowedOrigins": ["https://example.com"],
            "AllowedHeaders": ["*"],
            "ExposeHeaders": ["ETag"],
            "MaxAgeSeconds": 300,
        }
    ]
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": rules})
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == rules
    with pytest.raises(ClientError) as raised:
        s3.put_bucket_cors(
            Bucket=bucket,
            CORSConfiguration={"CORSRules": [{"AllowedMethods": ["PATCH"], "AllowedOrigins": ["*"]}]},
        )
    assert error_of(raised) == ("InvalidRequest", 400)
    s3.delete_bucket_cors(Bucket=bucket)
    with pytest.raises(ClientError):
        s3.get_bucket_cors(Bucket=bucket)


def test_lifecycle_configuration(s3, bucket):
    rules = [
        {
            "ID": "archive",
            "Filter": {"Prefix": "logs/"},
            "Status": "Enabled",
            "Transitions": [{"Days": 30, "StorageClass": "GLACIER"}],
            "Expiration": {"Days": 365},
        },
        {
            "ID": "dated",
            "Filter": {},
            "Status": "Disabled",
            "Expiration": {"Date": datetime(2030, 1, 1, tzinfo=UTC)},
        },
    ]
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": rules})
    got = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert got[0]["Transitions"] == [{"Days": 30, "StorageClass": "GLACIER"}]
    assert got[1]["Expiration"]["Date"] == datetime(2030, 1, 1, tzinfo=UTC)
    with pytest.raises(ClientError) as raised:
        s3.put_bucket_lifecycle_configuration(
            Bucket=bucket, LifecycleConfiguration={"Rules": [rules[0], rules[0]]}
        )
    assert error_of(raised) == ("InvalidArgument", 400)
    s3.delete_bucket_lifecycle(Bucket=bucket)
    with pytest.raises(ClientError) as raised:
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert error_of(raised) == ("NoSuchLifecycleConfiguration", 404)


def test_tagging(s3, bucket):
    with pytest.raises(ClientError) as raised:
        s3.get_bucket_tagging(Bucket=bucket)
    assert error_of(raised) == ("NoSuchTagSet", 404)
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "team", "Value": "data"}]})
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "team", "Value": "data"}]
    s3.delete_bucket_tagging(Bucket=bucket)
    with pytest.raises(ClientError):
        s3.get_bucket_tagging(Bucket=bucket)


def test_tagging_replaces_the_whole_set_in_its_order(s3, bucket):
    first = [{"Key": "z", "Value": "1"}, {"Key": "a", "Value": "2"}, {"Key": "m", "Value": ""}]
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": first})
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == first
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "only", "Value": "this"}]})
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "only", "Value": "this"}]


def test_tagging_is_checked(s3, bucket):
    twice = [{"Key": "k", "Value": "1"}, {"Key": "k", "Value": "2"}]
    for tags, expected in (
        (twice, ("InvalidTag", 400)),
        ([{"Key": "aws:reserved", "Value": "v"}], ("InvalidTag", 400)),
        ([{"Key": "k" * 129, "Value": "v"}], ("InvalidTag", 400)),
        ([{"Key": f"k{i}", "Value": "v"} for i in range(51)], ("BadRequest", 400)),
    ):
        with pytest.raises(ClientError) as raised:
            s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tags})
        assert error_of(raised) == expected
    with pytest.raises(ClientError) as raised:
        s3.get_bucket_tagging(Bucket=bucket)
    assert error_of(raised) == ("NoSuchTagSet", 404)  # nothing was stored


def test_tags_given_at_creation_and_gone_with_the_bucket(s3):
    tags = [{"Key": "team", "Value": "data"}, {"Key": "env", "Value": "dev"}]
    s3.create_bucket(Bucket="born-tagged", CreateBucketConfiguration={"Tags": tags})
    assert s3.get_bucket_tagging(Bucket="born-tagged")["TagSet"] == tags
    s3.delete_bucket(Bucket="born-tagged")
    s3.create_bucket(Bucket="born-tagged")
    with pytest.raises(ClientError) as raised:
        s3.get_bucket_tagging(Bucket="born-tagged")
    assert error_of(raised) == ("NoSuchTagSet", 404)
    with pytest.raises(ClientError) as raised:
        s3.create_bucket(
            Bucket="badly-tagged", CreateBucketConfiguration={"Tags": [{"Key": "aws:x", "Value": ""}]}
        )
    assert error_of(raised) == ("InvalidTag", 400)
    with pytest.raises(ClientError) as raised:
        s3.head_bucket(Bucket="badly-tagged")
    assert error_of(raised) == ("404", 404)  # not created


def test_encryption_defaults_to_sse_s3(overcast, s3, bucket):
    kms = overcast.client("kms")
    key = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName="alias/mine", TargetKeyId=key["KeyId"])
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": "alias/mine",
                    }
                }
            ]
        },
    )
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert put["ServerSideEncryption"] == "aws:kms"
    assert put["SSEKMSKeyId"] == key["Arn"]  # the key the alias named, as S3 reports it
    s3.delete_bucket_encryption(Bucket=bucket)
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"


def test_simple_documents(s3, bucket):
    assert s3.get_bucket_request_payment(Bucket=bucket)["Payer"] == "BucketOwner"
    s3.put_bucket_request_payment(Bucket=bucket, RequestPaymentConfiguration={"Payer": "Requester"})
    assert s3.get_bucket_request_payment(Bucket=bucket)["Payer"] == "Requester"
    assert "Status" not in s3.get_bucket_accelerate_configuration(Bucket=bucket)
    s3.put_bucket_accelerate_configuration(Bucket=bucket, AccelerateConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_accelerate_configuration(Bucket=bucket)["Status"] == "Enabled"
    assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=bucket)
    s3.create_bucket(Bucket=f"{bucket}-logs")
    s3.put_bucket_logging(
        Bucket=bucket,
        BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": f"{bucket}-logs", "TargetPrefix": "access/"}},
    )
    assert s3.get_bucket_logging(Bucket=bucket)["LoggingEnabled"]["TargetPrefix"] == "access/"
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
    assert s3.get_bucket_website(Bucket=bucket)["IndexDocument"] == {"Suffix": "index.html"}
    s3.delete_bucket_website(Bucket=bucket)
    with pytest.raises(ClientError) as raised:
        s3.get_bucket_website(Bucket=bucket)
    assert error_of(raised) == ("NoSuchWebsiteConfiguration", 404)


def test_replication_needs_versioning(s3, bucket):
    configuration = {
        "Role": "arn:aws:iam::000000000000:role/replication",
        "Rules": [
            {
                "ID": "all",
                "Priority": 1,
                "Status": "Enabled",
                "Filter": {},
                "DeleteMarkerReplication": {"Status": "Disabled"},
                "Destination": {"Bucket": "arn:aws:s3:::elsewhere"},
            }
        ],
    }
    with pytest.raises(ClientError) as raised:
        s3.put_bucket_replication(Bucket=bucket, ReplicationConfiguration=configuration)
    assert error_of(raised) == ("InvalidRequest", 400)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    with pytest.raises(ClientError) as raised:  # no such destination
        s3.put_bucket_replication(Bucket=bucket, ReplicationConfiguration=configuration)
    assert error_of(raised) == ("InvalidRequest", 400)
    assert "must exist" in raised.value.response["Error"]["Message"]
    s3.create_bucket(Bucket="elsewhere")
    with pytest.raises(ClientError) as raised:  # a destination without versioning
        s3.put_bucket_replication(Bucket=bucket, ReplicationConfiguration=configuration)
    assert error_of(raised) == ("InvalidRequest", 400)
    assert "versioning" in raised.value.response["Error"]["Message"]
    s3.put_bucket_versioning(Bucket="elsewhere", VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_replication(Bucket=bucket, ReplicationConfiguration=configuration)
    assert s3.get_bucket_replication(Bucket=bucket)["ReplicationConfiguration"]["Rules"][0]["ID"] == "all"
    s3.delete_bucket_replication(Bucket=bucket)
    with pytest.raises(ClientError) as raised:
        s3.get_bucket_replication(Bucket=bucket)
    assert error_of(raised) == ("ReplicationConfigurationNotFoundError", 404)


def test_notification_configuration(s3, bucket):
    assert s3.get_bucket_notification_configuration(Bucket=bucket).get("QueueConfigurations") is None
    queue = {
        "Id": "q",
        "QueueArn": "arn:aws:sqs:us-east-1:000000000000:events",
        "Events": ["s3:ObjectCreated:*"],
    }
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={"QueueConfigurations": [queue]},
        SkipDestinationValidation=True,
    )
    assert s3.get_bucket_notification_configuration(Bucket=bucket)["QueueConfigurations"] == [queue]


def test_id_keyed_configurations(s3, bucket):
    metrics = {"Id": "all", "Filter": {"Prefix": "docs/"}}
    s3.put_bucket_metrics_configuration(Bucket=bucket, Id="all", MetricsConfiguration=metrics)
    assert s3.get_bucket_metrics_configuration(Bucket=bucket, Id="all")["MetricsConfiguration"] == metrics
    listed = s3.list_bucket_metrics_configurations(Bucket=bucket)
    assert listed["MetricsConfigurationList"] == [metrics]
    s3.delete_bucket_metrics_configuration(Bucket=bucket, Id="all")
    with pytest.raises(ClientError) as raised:
        s3.get_bucket_metrics_configuration(Bucket=bucket, Id="all")
    assert error_of(raised) == ("NoSuchConfiguration", 404)
    tiering = {"Id": "t", "Status": "Enabled", "Tierings": [{"Days": 90, "AccessTier": "ARCHIVE_ACCESS"}]}
    s3.put_bucket_intelligent_tiering_configuration(
        Bucket=bucket, Id="t", IntelligentTieringConfiguration=tiering
    )
    assert (
        s3.get_bucket_intelligent_tiering_configuration(Bucket=bucket, Id="t")[
            "IntelligentTieringConfiguration"
        ]
        == tiering
    )
    inventory = {
        "Id": "inv",
        "IsEnabled": True,
        "IncludedObjectVersions": "Current",
        "Schedule": {"Frequency": "Daily"},
        "Destination": {"S3BucketDestination": {"Bucket": "arn:aws:s3:::dest", "Format": "CSV"}},
    }
    s3.put_bucket_inventory_configuration(Bucket=bucket, Id="inv", InventoryConfiguration=inventory)
    assert s3.list_bucket_inventory_configurations(Bucket=bucket)["InventoryConfigurationList"] == [inventory]
    analytics = {"Id": "a", "StorageClassAnalysis": {}}
    s3.put_bucket_analytics_configuration(Bucket=bucket, Id="a", AnalyticsConfiguration=analytics)
    assert s3.get_bucket_analytics_configuration(Bucket=bucket, Id="a")["AnalyticsConfiguration"]["Id"] == "a"


def test_object_lock(s3):
    s3.create_bucket(Bucket="locked-bucket", ObjectLockEnabledForBucket=True)
    assert s3.get_bucket_versioning(Bucket="locked-bucket")["Status"] == "Enabled"
    s3.put_object_lock_configuration(
        Bucket="locked-bucket",
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}},
        },
    )
    version = s3.put_object(Bucket="locked-bucket", Key="k", Body=b"x")["VersionId"]
    assert s3.get_object_retention(Bucket="locked-bucket", Key="k")["Retention"]["Mode"] == "GOVERNANCE"
    with pytest.raises(ClientError) as raised:
        s3.delete_object(Bucket="locked-bucket", Key="k", VersionId=version)
    assert error_of(raised) == ("AccessDenied", 403)
    s3.delete_object(Bucket="locked-bucket", Key="k", VersionId=version, BypassGovernanceRetention=True)
    version = s3.put_object(Bucket="locked-bucket", Key="held", Body=b"x")["VersionId"]
    s3.put_object_legal_hold(Bucket="locked-bucket", Key="held", LegalHold={"Status": "ON"})
    assert s3.get_object_legal_hold(Bucket="locked-bucket", Key="held")["LegalHold"]["Status"] == "ON"
    with pytest.raises(ClientError):
        s3.delete_object(
            Bucket="locked-bucket", Key="held", VersionId=version, BypassGovernanceRetention=True
        )


def test_ownership_controls_round_trip(s3, bucket):
    s3.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]}
    )
    assert (
        s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"][0]["ObjectOwnership"]
        == "ObjectWriter"
    )
    s3.delete_bucket_ownership_controls(Bucket=bucket)
    with pytest.raises(ClientError) as raised:
        s3.get_bucket_ownership_controls(Bucket=bucket)
    assert error_of(raised) == ("OwnershipControlsNotFoundError", 404)


def test_event_notifications_to_sqs(overcast, s3, bucket):
    import json

    sqs = overcast.client("sqs")
    queue_url = sqs.create_queue(QueueName="s3-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    with pytest.raises(ClientError) as raised:
        s3.put_bucket_notification_configuration(
            Bucket=bucket,
            NotificationConfiguration={
                "QueueConfigurations": [
                    {
                        "QueueArn": "arn:aws:sqs:us-east-1:000000000000:missing",
                        "Events": ["s3:ObjectCreated:*"],
                    }
                ]
            },
        )
    assert error_of(raised) == ("InvalidArgument", 400)
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "Id": "uploads",
                    "QueueArn": queue_arn,
                    "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "in/"}]}},
                }
            ]
        },
    )
    s3.put_object(Bucket=bucket, Key="in/photo.jpg", Body=b"jpeg")
    s3.put_object(Bucket=bucket, Key="elsewhere.txt", Body=b"ignored")
    s3.delete_object(Bucket=bucket, Key="in/photo.jpg")
    bodies = []
    for _ in range(20):
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        )
        bodies += [json.loads(m["Body"]) for m in messages]
        if sum(1 for b in bodies if "Records" in b) >= 2:
            break
    assert any(b.get("Event") == "s3:TestEvent" for b in bodies)
    records = [b["Records"][0] for b in bodies if "Records" in b]
    assert [(r["eventName"], r["s3"]["object"]["key"]) for r in records] == [
        ("ObjectCreated:Put", "in/photo.jpg"),
        ("ObjectRemoved:Delete", "in/photo.jpg"),
    ]
    assert records[0]["s3"]["object"]["size"] == 4
    assert records[0]["s3"]["bucket"]["name"] == bucket
    assert records[0]["s3"]["configurationId"] == "uploads"


@pytest.mark.slow  # runs a real Python function
def test_event_notifications_to_lambda(overcast, s3, bucket):
    import io
    import zipfile

    lam = overcast.client("lambda")
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr(
            "app.py",
            "def handler(event, context):\n"
            "    record = event['Records'][0]\n"
            "    print('S3EVENT', record['eventName'], record['s3']['object']['key'])\n",
        )
    function_arn = lam.create_function(
        FunctionName="on-upload",
        Runtime="python3.11",
        Role="arn:aws:iam::000000000000:role/lambda-role",
        Handler="app.handler",
        Code={"ZipFile": package.getvalue()},
    )["FunctionArn"]
    missing = function_arn.replace("on-upload", "no-such-function")
    lambda_config = {"LambdaFunctionArn": missing, "Events": ["s3:ObjectCreated:*"]}
    with pytest.raises(ClientError) as raised:
        s3.put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration={"LambdaFunctionConfigurations": [lambda_config]}
        )
    assert error_of(raised) == ("InvalidArgument", 400)
    lambda_config = {
        "Id": "thumbnails",
        "LambdaFunctionArn": function_arn,
        "Events": ["s3:ObjectCreated:*"],
        "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": ".png"}]}},
    }
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"LambdaFunctionConfigurations": [lambda_config]}
    )
    config = s3.get_bucket_notification_configuration(Bucket=bucket)
    assert config["LambdaFunctionConfigurations"] == [lambda_config]
    s3.put_object(Bucket=bucket, Key="img/cat.png", Body=b"png")
    s3.put_object(Bucket=bucket, Key="img/readme.txt", Body=b"txt")
    logs = overcast.client("logs")

    def logged() -> list[str]:
        try:
            events = logs.filter_log_events(logGroupName="/aws/lambda/on-upload", filterPattern="S3EVENT")
        except logs.exceptions.ResourceNotFoundException:
            return []
        return [e["message"] for e in events["events"]]

    lines = wait_for(logged, interval=0.5)
    assert len(lines) == 1 and "ObjectCreated:Put img/cat.png" in lines[0]


def test_every_stored_configuration_answers_before_one_is_put(s3, bucket):
    """Each Get of a stored document on a fresh bucket answers its default or its own not-found error, and
    each Delete succeeds (every operation the shared methods serve finds its document)."""
    s3.delete_public_access_block(Bucket=bucket)  # a new bucket has one: its Get would succeed
    for name, document in DOCUMENTS.items():
        call = getattr(s3, xform_name(name))
        if name.startswith("Delete"):
            assert call(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
        elif name.startswith("Get") and document.missing is not None and document.kind != "encryption":
            with pytest.raises(ClientError) as raised:
                call(Bucket=bucket)
            assert error_of(raised) == (document.missing[0], 404)
        elif name.startswith("Get"):
            assert call(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 200
