"""Delivery streams: creation with each source, descriptions with AWS's defaults, listing, updates,
validation of prefixes and partitioning, encryption, tags, the destinations recorded as configuration."""

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of, message_of
from tests.services.firehose.conftest import ROLE, s3_destination


def test_create_and_describe_an_s3_delivery_stream(firehose):
    arn = firehose.create_delivery_stream(
        DeliveryStreamName="clicks", ExtendedS3DestinationConfiguration=s3_destination(Prefix="raw/")
    )["DeliveryStreamARN"]
    assert arn == "arn:aws:firehose:us-east-1:000000000000:deliverystream/clicks"
    description = firehose.describe_delivery_stream(DeliveryStreamName="clicks")["DeliveryStreamDescription"]
    assert description["DeliveryStreamStatus"] == "ACTIVE"
    assert description["DeliveryStreamType"] == "DirectPut"
    assert description["VersionId"] == "1"
    assert description["DeliveryStreamEncryptionConfiguration"] == {"Status": "DISABLED"}
    assert description["HasMoreDestinations"] is False
    (destination,) = description["Destinations"]
    assert destination["DestinationId"] == "destinationId-000000000001"
    extended = destination["ExtendedS3DestinationDescription"]
    assert extended["BucketARN"] == "arn:aws:s3:::delivery-bucket" and extended["Prefix"] == "raw/"
    assert extended["BufferingHints"] == {"SizeInMBs": 5, "IntervalInSeconds": 300}
    assert extended["CompressionFormat"] == "UNCOMPRESSED"
    assert extended["EncryptionConfiguration"] == {"NoEncryptionConfig": "NoEncryption"}
    assert extended["S3BackupMode"] == "Disabled"
    assert destination["S3DestinationDescription"]["BucketARN"] == "arn:aws:s3:::delivery-bucket"


def test_names_are_unique_and_missing_streams_not_found(firehose):
    firehose.create_delivery_stream(
        DeliveryStreamName="once", ExtendedS3DestinationConfiguration=s3_destination()
    )
    with pytest.raises(ClientError) as raised:
        firehose.create_delivery_stream(
            DeliveryStreamName="once", ExtendedS3DestinationConfiguration=s3_destination()
        )
    assert error_of(raised) == ("ResourceInUseException", 400)
    with pytest.raises(ClientError) as raised:
        firehose.describe_delivery_stream(DeliveryStreamName="never")
    assert error_of(raised) == ("ResourceNotFoundException", 400)
    assert message_of(raised) == "Firehose never under account 000000000000 not found."


def test_list_update_and_delete(firehose):
    for name in ("a", "b", "c"):
        firehose.create_delivery_stream(
            DeliveryStreamName=name, ExtendedS3DestinationConfiguration=s3_destination()
        )
    first = firehose.list_delivery_streams(Limit=2)
    assert first == {**first, "DeliveryStreamNames": ["a", "b"], "HasMoreDeliveryStreams": True}
    rest = firehose.list_delivery_streams(ExclusiveStartDeliveryStreamName="b")
    assert rest["DeliveryStreamNames"] == ["c"] and rest["HasMoreDeliveryStreams"] is False
    assert (
        firehose.list_delivery_streams(DeliveryStreamType="KinesisStreamAsSource")["DeliveryStreamNames"]
        == []
    )

    firehose.update_destination(
        DeliveryStreamName="a",
        CurrentDeliveryStreamVersionId="1",
        DestinationId="destinationId-000000000001",
        ExtendedS3DestinationUpdate={"Prefix": "v2/", "CompressionFormat": "GZIP"},
    )
    described = firehose.describe_delivery_stream(DeliveryStreamName="a")["DeliveryStreamDescription"]
    assert described["VersionId"] == "2" and "LastUpdateTimestamp" in described
    extended = described["Destinations"][0]["ExtendedS3DestinationDescription"]
    assert (extended["Prefix"], extended["CompressionFormat"]) == ("v2/", "GZIP")
    assert extended["BucketARN"] == "arn:aws:s3:::delivery-bucket"
    with pytest.raises(ClientError) as raised:
        firehose.update_destination(
            DeliveryStreamName="a",
            CurrentDeliveryStreamVersionId="1",
            DestinationId="destinationId-000000000001",
            ExtendedS3DestinationUpdate={"Prefix": "v3/"},
        )
    assert error_of(raised) == ("ConcurrentModificationException", 400)

    firehose.delete_delivery_stream(DeliveryStreamName="b")
    assert firehose.list_delivery_streams()["DeliveryStreamNames"] == ["a", "c"]


def test_prefix_expressions_are_validated(firehose):
    with pytest.raises(ClientError) as raised:
        firehose.create_delivery_stream(
            DeliveryStreamName="p",
            ExtendedS3DestinationConfiguration=s3_destination(Prefix="x/!{timestamp:yyyy}/"),
        )
    assert error_of(raised) == ("InvalidArgumentException", 400)
    assert "ErrorOutputPrefix" in message_of(raised)
    with pytest.raises(ClientError) as raised:
        firehose.create_delivery_stream(
            DeliveryStreamName="p",
            ExtendedS3DestinationConfiguration=s3_destination(Prefix="!{bogus:x}/", ErrorOutputPrefix="err/"),
        )
    assert error_of(raised) == ("InvalidArgumentException", 400)
    with pytest.raises(ClientError) as raised:
        firehose.create_delivery_stream(
            DeliveryStreamName="p",
            ExtendedS3DestinationConfiguration=s3_destination(
                Prefix="!{partitionKeyFromQuery:customer}/", ErrorOutputPrefix="err/"
            ),
        )
    assert "dynamic partitioning" in message_of(raised)
    with pytest.raises(ClientError) as raised:
        firehose.create_delivery_stream(
            DeliveryStreamName="p",
            ExtendedS3DestinationConfiguration=s3_destination(
                Prefix="!{partitionKeyFromQuery:customer}/",
                ErrorOutputPrefix="err/",
                DynamicPartitioningConfiguration={"Enabled": True},
                BufferingHints={"SizeInMBs": 5, "IntervalInSeconds": 60},
            ),
        )
    assert "at least 64" in message_of(raised)


def test_unsupported_jq_and_format_conversion_are_refused_clearly(firehose):
    processing = {
        "Enabled": True,
        "Processors": [
            {
                "Type": "MetadataExtraction",
                "Parameters": [
                    {
                        "ParameterName": "MetadataExtractionQuery",
                        "ParameterValue": "{k: .a | ascii_downcase}",
                    },
                    {"ParameterName": "JsonParsingEngine", "ParameterValue": "JQ-1.6"},
                ],
            }
        ],
    }
    with pytest.raises(ClientError) as raised:
        firehose.create_delivery_stream(
            DeliveryStreamName="jq",
            ExtendedS3DestinationConfiguration=s3_destination(
                Prefix="!{partitionKeyFromQuery:k}/",
                ErrorOutputPrefix="err/",
                DynamicPartitioningConfiguration={"Enabled": True},
                BufferingHints={"SizeInMBs": 64, "IntervalInSeconds": 60},
                ProcessingConfiguration=processing,
            ),
        )
    assert error_of(raised) == ("InvalidArgumentException", 400)
    assert "Unsupported jq expression" in message_of(raised)
    with pytest.raises(ClientError) as raised:
        firehose.create_delivery_stream(
            DeliveryStreamName="parquet",
            ExtendedS3DestinationConfiguration=s3_destination(
                DataFormatConversionConfiguration={"Enabled": True}
            ),
        )
    assert "Parquet" in message_of(raised)


def test_other_destinations_are_recorded_without_their_secrets(firehose):
    backup = s3_destination()
    firehose.create_delivery_stream(
        DeliveryStreamName="warehouse",
        RedshiftDestinationConfiguration={
            "RoleARN": ROLE,
            "ClusterJDBCURL": "jdbc:redshift://cluster.abc123.us-east-1.redshift.amazonaws.com:5439/db",
            "CopyCommand": {"DataTableName": "events"},
            "Username": "admin",
            "Password": "s3cr3t-password",
            "S3Configuration": backup,
        },
    )
    redshift = firehose.describe_delivery_stream(DeliveryStreamName="warehouse")["DeliveryStreamDescription"][
        "Destinations"
    ][0]["RedshiftDestinationDescription"]
    assert (
        redshift["ClusterJDBCURL"]
        == "jdbc:redshift://cluster.abc123.us-east-1.redshift.amazonaws.com:5439/db"
    )
    assert redshift["Username"] == "admin" and "Password" not in redshift
    assert redshift["S3DestinationDescription"]["BucketARN"] == backup["BucketARN"]
    firehose.create_delivery_stream(
        DeliveryStreamName="search",
        AmazonopensearchserviceDestinationConfiguration={
            "RoleARN": ROLE,
            "DomainARN": "arn:aws:es:us-east-1:000000000000:domain/logs",
            "IndexName": "logs",
            "S3Configuration": backup,
        },
    )
    search = firehose.describe_delivery_stream(DeliveryStreamName="search")["DeliveryStreamDescription"]
    assert search["Destinations"][0]["AmazonopensearchserviceDestinationDescription"]["IndexName"] == "logs"
    with pytest.raises(ClientError) as raised:
        firehose.create_delivery_stream(DeliveryStreamName="none")
    assert error_of(raised) == ("InvalidArgumentException", 400)


def test_encryption_settings(firehose):
    firehose.create_delivery_stream(
        DeliveryStreamName="sealed",
        ExtendedS3DestinationConfiguration=s3_destination(),
        DeliveryStreamEncryptionConfigurationInput={"KeyType": "AWS_OWNED_CMK"},
    )
    described = firehose.describe_delivery_stream(DeliveryStreamName="sealed")["DeliveryStreamDescription"]
    assert described["DeliveryStreamEncryptionConfiguration"] == {
        "KeyType": "AWS_OWNED_CMK",
        "Status": "ENABLED",
    }
    assert firehose.put_record(DeliveryStreamName="sealed", Record={"Data": b"x"})["Encrypted"] is True
    firehose.stop_delivery_stream_encryption(DeliveryStreamName="sealed")
    described = firehose.describe_delivery_stream(DeliveryStreamName="sealed")["DeliveryStreamDescription"]
    assert described["DeliveryStreamEncryptionConfiguration"]["Status"] == "DISABLED"


def test_tags(firehose):
    firehose.create_delivery_stream(
        DeliveryStreamName="tagged",
        ExtendedS3DestinationConfiguration=s3_destination(),
        Tags=[{"Key": "team", "Value": "data"}],
    )
    firehose.tag_delivery_stream(DeliveryStreamName="tagged", Tags=[{"Key": "env", "Value": "prod"}])
    listed = firehose.list_tags_for_delivery_stream(DeliveryStreamName="tagged")
    assert listed["Tags"] == [{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "data"}]
    assert listed["HasMoreTags"] is False
    firehose.untag_delivery_stream(DeliveryStreamName="tagged", TagKeys=["env"])
    assert firehose.list_tags_for_delivery_stream(DeliveryStreamName="tagged")["Tags"] == [
        {"Key": "team", "Value": "data"}
    ]


def test_put_limits_and_kinesis_sourced_streams_refuse_puts(overcast, firehose):
    overcast.client("kinesis").create_stream(StreamName="source", ShardCount=1)
    firehose.create_delivery_stream(
        DeliveryStreamName="from-kinesis",
        DeliveryStreamType="KinesisStreamAsSource",
        KinesisStreamSourceConfiguration={
            "KinesisStreamARN": "arn:aws:kinesis:us-east-1:000000000000:stream/source",
            "RoleARN": ROLE,
        },
        ExtendedS3DestinationConfiguration=s3_destination(),
    )
    with pytest.raises(ClientError) as raised:
        firehose.put_record(DeliveryStreamName="from-kinesis", Record={"Data": b"x"})
    assert error_of(raised) == ("InvalidArgumentException", 400)
    assert (
        message_of(raised) == "This operation is not permitted on KinesisStreamAsSource delivery stream type."
    )
    source = firehose.describe_delivery_stream(DeliveryStreamName="from-kinesis")[
        "DeliveryStreamDescription"
    ]["Source"]
    assert source["KinesisStreamSourceDescription"]["KinesisStreamARN"].endswith(":stream/source")
    assert "DeliveryStartTimestamp" in source["KinesisStreamSourceDescription"]
