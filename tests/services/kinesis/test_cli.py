"""The notes' CLI session (aws kinesis create-stream, put-record, get-shard-iterator, get-records), unchanged."""

import base64

import pytest

from tests.helpers import AWS_V2, aws


@pytest.mark.slow
@pytest.mark.parametrize("cli", ["v1", "v2"])
def test_the_notes_cli_session(overcast, cli):
    run = {"cli": AWS_V2} if cli == "v2" else {}
    aws(overcast, "kinesis", "create-stream", "--stream-name", "my-first-stream", "--shard-count", "1", **run)
    assert aws(overcast, "kinesis", "list-streams", **run)["StreamNames"] == ["my-first-stream"]
    data = ["--data", "user signed up"]
    if cli == "v2":  # CLI v2 takes blobs as base64 unless told otherwise
        data = ["--cli-binary-format", "raw-in-base64-out", *data]
    put = aws(
        overcast,
        "kinesis",
        "put-record",
        "--stream-name",
        "my-first-stream",
        "--partition-key",
        "user_123",
        *data,
        **run,
    )
    assert put["ShardId"] == "shardId-000000000000" and len(put["SequenceNumber"]) == 56
    iterator = aws(
        overcast,
        "kinesis",
        "get-shard-iterator",
        "--stream-name",
        "my-first-stream",
        "--shard-id",
        "shardId-000000000000",
        "--shard-iterator-type",
        "TRIM_HORIZON",
        **run,
    )["ShardIterator"]
    records = aws(overcast, "kinesis", "get-records", "--shard-iterator", iterator, **run)["Records"]
    assert len(records) == 1
    assert records[0]["SequenceNumber"] == put["SequenceNumber"]
    assert records[0]["PartitionKey"] == "user_123"
    assert base64.b64decode(records[0]["Data"]) == b"user signed up"
    assert "ApproximateArrivalTimestamp" in records[0]
