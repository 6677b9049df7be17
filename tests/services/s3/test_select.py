"""SelectObjectContent (S3 Select) end to end with boto3: the event stream, CSV and JSON in and out,
compression, the SQL subset, ScanRange and AWS's errors."""

import bz2
import gzip
import json
import sys
import threading

import pytest
from botocore.exceptions import ClientError, EventStreamError

from tests.helpers import error_of
from tests.waiting import wait_for

PEOPLE = b'name,age,city\nalice,30,Paris\nbob,25,"New York, NY"\ncarol,41,Rome\ndave,,Oslo\n'


def select(s3, bucket, key, expression, input_ser, output_ser=None, **extra):
    response = s3.select_object_content(
        Bucket=bucket,
        Key=key,
        Expression=expression,
        ExpressionType="SQL",
        InputSerialization=input_ser,
        OutputSerialization=output_ser or {"CSV": {}},
        **extra,
    )
    return list(response["Payload"])


def records(events) -> bytes:
    return b"".join(e["Records"]["Payload"] for e in events if "Records" in e)


def csv_use(**extra):
    return {"CSV": {"FileHeaderInfo": "USE", **extra}}


@pytest.fixture
def people(s3, bucket):
    s3.put_object(Bucket=bucket, Key="people.csv", Body=PEOPLE)
    return bucket


def test_event_stream_shape_and_stats(s3, people):
    events = select(
        s3,
        people,
        "people.csv",
        "SELECT s.name FROM S3Object s",
        csv_use(),
        RequestProgress={"Enabled": True},
    )
    kinds = [next(iter(e)) for e in events]
    assert kinds[0] == "Records" and kinds[-2:] == ["Stats", "End"] and "Progress" in kinds
    assert records(events) == b"alice\nbob\ncarol\ndave\n"
    stats = events[-2]["Stats"]["Details"]
    assert stats == {"BytesScanned": len(PEOPLE), "BytesProcessed": len(PEOPLE), "BytesReturned": 21}


def test_no_progress_unless_requested(s3, people):
    events = select(s3, people, "people.csv", "SELECT * FROM S3Object", csv_use())
    assert [next(iter(e)) for e in events] == ["Records", "Stats", "End"]


def test_csv_select_star_to_csv_quotes_as_needed(s3, people):
    out = records(select(s3, people, "people.csv", "SELECT * FROM S3Object", csv_use()))
    assert out == b'alice,30,Paris\nbob,25,"New York, NY"\ncarol,41,Rome\ndave,,Oslo\n'


def test_csv_header_names_become_json_keys(s3, people):
    out = records(
        select(
            s3,
            people,
            "people.csv",
            "SELECT * FROM S3Object s WHERE s.city = 'Rome'",
            csv_use(),
            {"JSON": {}},
        )
    )
    assert json.loads(out) == {"name": "carol", "age": "41", "city": "Rome"}


def test_file_header_info_none_and_ignore(s3, people):
    none = records(select(s3, people, "people.csv", "SELECT _1 FROM S3Object LIMIT 2", {"CSV": {}}))
    assert none == b"name\nalice\n"
    ignore = select(
        s3,
        people,
        "people.csv",
        "SELECT s._1, s._3 FROM S3Object s",
        {"CSV": {"FileHeaderInfo": "IGNORE"}},
        {"JSON": {}},
    )
    lines = [json.loads(line) for line in records(ignore).splitlines()]
    assert lines[0] == {"_1": "alice", "_3": "Paris"} and len(lines) == 4


def test_where_operators(s3, people):
    def names(where):
        out = select(s3, people, "people.csv", f"SELECT s.name FROM S3Object s WHERE {where}", csv_use())
        return records(out).decode().split()

    assert names("s.age > 26") == ["alice", "carol"]
    assert names("CAST(NULLIF(s.age, '') AS INT) > 26") == ["alice", "carol"]
    assert names("s.age > 26 AND NOT s.city = 'Rome'") == ["alice"]
    assert names("s.age BETWEEN 25 AND 30") == ["alice", "bob"]
    assert names("s.name IN ('bob', 'dave')") == ["bob", "dave"]
    assert names("s.name LIKE '_a%' OR s.city LIKE '%York%'") == ["bob", "carol", "dave"]
    assert names("s.name NOT LIKE '%a%'") == ["bob"]
    assert names("s.age = ''") == ["dave"]
    assert names("NULLIF(s.age, '') IS NULL") == ["dave"]
    assert names("s.age + 1 = 31") == ["alice"]
    assert names("s.nope IS MISSING AND s.name = 'bob'") == ["bob"]


def test_functions_aliases_and_arithmetic(s3, people):
    out = select(
        s3,
        people,
        "people.csv",
        "SELECT UPPER(s.name) AS n, CHAR_LENGTH(s.city) len, SUBSTRING(s.city, 1, 3), "
        "LOWER(TRIM(BOTH ' ' FROM '  X  ')), COALESCE(NULLIF(s.age, ''), 'none'), "
        "CAST(NULLIF(s.age, '') AS INT) * 2 - 1, s.name || '!' FROM S3Object s WHERE s.name IN ('bob', 'dave')",
        csv_use(),
        {"JSON": {}},
    )
    lines = [json.loads(line) for line in records(out).splitlines()]
    assert lines[0] == {"n": "BOB", "len": 12, "_3": "New", "_4": "x", "_5": "25", "_6": 49, "_7": "bob!"}
    assert lines[1]["_5"] == "none" and lines[1]["_6"] is None


def test_aggregates(s3, people):
    out = select(
        s3,
        people,
        "people.csv",
        "SELECT COUNT(*), COUNT(NULLIF(s.age, '')), SUM(CAST(NULLIF(s.age, '') AS INT)), "
        "MIN(s.name), MAX(CAST(NULLIF(s.age, '') AS INT)), AVG(CAST(NULLIF(s.age, '') AS FLOAT)) FROM S3Object s",
        csv_use(),
    )
    count, non_null, total, first, oldest, average = records(out).decode().strip().split(",")
    assert (count, non_null, total, first, oldest) == ("4", "3", "96", "alice", "41")
    assert float(average) == pytest.approx(32.0)


def test_limit(s3, people):
    out = select(s3, people, "people.csv", "SELECT s.name FROM S3Object s LIMIT 1", csv_use())
    assert records(out) == b"alice\n"


def test_csv_input_options(s3, bucket):
    body = b"a|'x;y'|1;b|'it''s'|2;#skipped|0;c|plain|3"
    s3.put_object(Bucket=bucket, Key="odd.csv", Body=body)
    options = {
        "FieldDelimiter": "|",
        "QuoteCharacter": "'",
        "RecordDelimiter": ";",
        "AllowQuotedRecordDelimiter": True,
    }
    out = select(
        s3,
        bucket,
        "odd.csv",
        "SELECT _1, _2 FROM S3Object",
        {"CSV": options},
        {"CSV": {"FieldDelimiter": "\t", "RecordDelimiter": "|", "QuoteFields": "ALWAYS"}},
    )
    assert records(out) == b'"a"\t"x;y"|"b"\t"it\'s"|"c"\t"plain"|'


def test_quoted_record_delimiter_and_crlf(s3, bucket):
    s3.put_object(Bucket=bucket, Key="multi.csv", Body=b'id,text\r\n1,"two\nlines"\r\n2,x\r\n')
    out = select(
        s3,
        bucket,
        "multi.csv",
        "SELECT s.text FROM S3Object s WHERE s.id = '1'",
        csv_use(AllowQuotedRecordDelimiter=True),
        {"JSON": {}},
    )
    assert json.loads(records(out)) == {"text": "two\nlines"}


def test_json_lines_paths(s3, bucket):
    lines = [{"id": 1, "user": {"name": "ann", "tags": ["a", "b"]}}, {"id": 2, "user": {"name": "ben"}}]
    s3.put_object(Bucket=bucket, Key="d.jsonl", Body="\n".join(json.dumps(x) for x in lines).encode())
    out = select(
        s3,
        bucket,
        "d.jsonl",
        "SELECT s.id, s.user.name AS who, s.user.tags[1] FROM S3Object s",
        {"JSON": {"Type": "LINES"}},
        {"JSON": {}},
    )
    got = [json.loads(line) for line in records(out).splitlines()]
    assert got == [{"id": 1, "who": "ann", "_3": "b"}, {"id": 2, "who": "ben"}]
    as_csv = select(
        s3, bucket, "d.jsonl", "SELECT * FROM S3Object s WHERE s.id = 2", {"JSON": {"Type": "LINES"}}
    )
    assert records(as_csv) == b'2,"{""name"":""ben""}"\n'


def test_json_document_array(s3, bucket):
    doc = {"items": [{"sku": "a", "qty": 2, "price": 1.5}, {"sku": "b", "qty": 0}, {"sku": "c", "qty": 5}]}
    s3.put_object(Bucket=bucket, Key="doc.json", Body=json.dumps(doc, indent=2).encode())
    out = select(
        s3,
        bucket,
        "doc.json",
        "SELECT i.sku FROM S3Object[*].items[*] i WHERE i.qty > 1",
        {"JSON": {"Type": "DOCUMENT"}},
        {"JSON": {"RecordDelimiter": ","}},
    )
    assert records(out) == b'{"sku":"a"},{"sku":"c"},'
    total = select(
        s3,
        bucket,
        "doc.json",
        "SELECT SUM(i.qty) AS n FROM S3Object[*].items[*] AS i",
        {"JSON": {"Type": "DOCUMENT"}},
        {"JSON": {}},
    )
    assert json.loads(records(total)) == {"n": 7}


def test_compressed_inputs(s3, bucket):
    s3.put_object(Bucket=bucket, Key="p.csv.gz", Body=gzip.compress(PEOPLE))
    s3.put_object(Bucket=bucket, Key="p.csv.bz2", Body=bz2.compress(PEOPLE))
    for key, kind in (("p.csv.gz", "GZIP"), ("p.csv.bz2", "BZIP2")):
        events = select(
            s3, bucket, key, "SELECT COUNT(*) FROM S3Object", {**csv_use(), "CompressionType": kind}
        )
        assert records(events) == b"4\n"
        stats = events[-2]["Stats"]["Details"]
        assert stats["BytesProcessed"] == len(PEOPLE) and stats["BytesScanned"] < len(PEOPLE) + 64


def test_not_compressed_as_announced(s3, people):
    with pytest.raises(ClientError) as raised:
        select(s3, people, "people.csv", "SELECT * FROM S3Object", {**csv_use(), "CompressionType": "GZIP"})
    assert error_of(raised) == ("InvalidCompressionFormat", 400)


def test_large_object_streams_and_limit_stops_early(s3, bucket):
    row = b"x" * 90 + b",1\n"
    body = gzip.compress(row * 60_000, compresslevel=1)  # ~5.5 MB uncompressed
    s3.put_object(Bucket=bucket, Key="big.csv.gz", Body=body)
    events = select(
        s3,
        bucket,
        "big.csv.gz",
        "SELECT COUNT(*), SUM(_2) FROM S3Object",
        {"CSV": {}, "CompressionType": "GZIP"},
    )
    assert records(events) == b"60000,60000\n"
    plain = row * 30_000
    s3.put_object(Bucket=bucket, Key="big.csv", Body=plain)
    events = select(s3, bucket, "big.csv", "SELECT _2 FROM S3Object LIMIT 3", {"CSV": {}})
    assert records(events) == b"1\n1\n1\n"
    assert events[-2]["Stats"]["Details"]["BytesScanned"] < len(plain)
    everything = select(s3, bucket, "big.csv", "SELECT _1 FROM S3Object", {"CSV": {}})
    assert len([e for e in everything if "Records" in e]) > 1
    assert records(everything).count(b"\n") == 30_000


def test_scan_range(s3, bucket):
    body = b"a,1\nbb,2\nccc,3\ndddd,4\n"  # records start at 0, 4, 9, 15
    s3.put_object(Bucket=bucket, Key="r.csv", Body=body)

    def scan(**scan_range):
        out = select(s3, bucket, "r.csv", "SELECT _1 FROM S3Object", {"CSV": {}}, ScanRange=scan_range)
        return records(out).decode().split()

    assert scan(Start=0, End=3) == ["a"]
    assert scan(Start=1, End=9) == ["bb", "ccc"]
    assert scan(Start=4, End=4) == ["bb"]
    assert scan(Start=10) == ["dddd"]
    assert scan(End=7) == ["dddd"]
    with pytest.raises(ClientError) as raised:
        select(
            s3,
            bucket,
            "r.csv",
            "SELECT * FROM S3Object",
            {"CSV": {}, "CompressionType": "GZIP"},
            ScanRange={"Start": 1},
        )
    assert error_of(raised) == ("UnsupportedScanRangeInput", 400)


@pytest.mark.parametrize(
    "expression, code",
    [
        ("SELECT * FROM S3Object WHERE", "ParseExpectedExpression"),
        ("SELECT * FROM S3Object s WHERE s.a = = 1", "ParseUnexpectedToken"),
        ("SELECT FROM S3Object", "ParseEmptySelect"),
        ("SELECT *, _1 FROM S3Object", "ParseAsteriskIsNotAloneInSelectList"),
        ("SELECT _0 FROM S3Object", "InvalidColumnIndex"),
        ("SELECT _1", "ParseSelectMissingFrom"),
        ("SELECT _1 FROM Other", "InvalidDataSource"),
        ("SELECT _1 FROM S3Object LIMIT -1", "EvaluatorNegativeLimit"),
        ("SELECT FOO(_1) FROM S3Object", "UnsupportedFunction"),
        ("SELECT _1 FROM S3Object ORDER BY _1", "UnsupportedSqlOperation"),
        ("SELECT CAST(_1 AS INT) FROM S3Object", "CastFailed"),
        ("SELECT SUM(_1) FROM S3Object", "IncorrectSqlFunctionArgumentType"),
        ("SELECT _1 FROM S3Object WHERE _1 $ 2", "LexerInvalidChar"),
        ("SELECT AVG(*) FROM S3Object", "ParseUnsupportedCallWithStar"),
    ],
)
def test_sql_errors_are_400(s3, people, expression, code):
    with pytest.raises(ClientError) as raised:
        select(s3, people, "people.csv", expression, {"CSV": {}})
    assert error_of(raised) == (code, 400)


def test_request_errors(s3, people):
    cases = [
        (
            {"InputSerialization": {"CSV": {}, "JSON": {"Type": "LINES"}}},
            ("ObjectSerializationConflict", 400),
        ),
        ({"InputSerialization": {"Parquet": {}}}, ("NotImplemented", 501)),
        ({"InputSerialization": {"JSON": {}}}, ("InvalidJsonType", 400)),
        ({"InputSerialization": {"CSV": {"FileHeaderInfo": "MAYBE"}}}, ("InvalidFileHeaderInfo", 400)),
        ({"OutputSerialization": {"CSV": {"QuoteFields": "NEVER"}}}, ("InvalidQuoteFields", 400)),
        ({"ExpressionType": "XPATH"}, ("InvalidExpressionType", 400)),
    ]
    for change, expected in cases:
        args = {
            "Bucket": people,
            "Key": "people.csv",
            "Expression": "SELECT * FROM S3Object",
            "ExpressionType": "SQL",
            "InputSerialization": {"CSV": {}},
            "OutputSerialization": {"CSV": {}},
            **change,
        }
        with pytest.raises(ClientError) as raised:
            list(s3.select_object_content(**args)["Payload"])
        assert error_of(raised) == expected, change
    with pytest.raises(ClientError) as raised:
        select(s3, people, "missing.csv", "SELECT * FROM S3Object", {"CSV": {}})
    assert error_of(raised) == ("NoSuchKey", 404)


def test_error_after_the_first_records_ends_the_stream(s3, bucket):
    good = (
        b"1," + b"x" * 100 + b"\n"
    ) * 12_000  # the first megabyte is fine, then a value that cannot be cast
    s3.put_object(Bucket=bucket, Key="late.csv", Body=good + b"oops\n")
    response = s3.select_object_content(
        Bucket=bucket,
        Key="late.csv",
        Expression="SELECT CAST(_1 AS INT) FROM S3Object",
        ExpressionType="SQL",
        InputSerialization={"CSV": {}},
        OutputSerialization={"CSV": {}},
    )
    seen = []
    with pytest.raises(EventStreamError) as raised:
        for event in response["Payload"]:
            seen.append(event)
    assert raised.value.response["Error"]["Code"] == "CastFailed"  # an event-stream error: no HTTP status
    assert any("Records" in e for e in seen)


def test_a_select_that_expands_a_small_gzip_does_not_stall_other_requests(overcast, s3, bucket):
    """Issue 13, finding 5: the scan runs off the event loop. A 4 KB gzip object expanding to 4 MiB of
    records with a query that returns nothing until the end: while it runs, another client is answered."""
    body = gzip.compress(b"1,2\n" * (1 << 20), 9)
    assert len(body) < 16 * 1024
    s3.put_object(Bucket=bucket, Key="bomb.csv.gz", Body=body)
    outcome: dict = {}

    def heavy_select():
        events = select(
            s3,
            bucket,
            "bomb.csv.gz",
            "SELECT COUNT(*) FROM S3Object s WHERE s._1 = '1'",
            {"CSV": {}, "CompressionType": "GZIP"},
        )
        outcome["count"] = records(events)

    worker = threading.Thread(target=heavy_select, daemon=True)
    worker.start()
    sts = overcast.client("sts")
    wait_for(lambda: _scanning(overcast), timeout=30)
    assert sts.get_caller_identity()["Account"]
    still_running = worker.is_alive()
    worker.join(timeout=600)
    assert outcome["count"] == b"1048576\n"
    assert still_running, "the select ended before the other request was answered: make it heavier"


def _scanning(overcast) -> bool:
    """Whether the server's worker threads are busy with a scan (Platform.run_blocking)."""
    pool = overcast.platform._blocking
    return pool is not None and any(
        frame.f_code.co_name in ("feed", "_drain", "_handle")
        for thread in pool._threads
        for frame in [sys._current_frames().get(thread.ident)]
        if frame is not None
        for frame in _stack(frame)
    )


def _stack(frame):
    while frame is not None:
        yield frame
        frame = frame.f_back


def test_deeply_nested_parentheses_are_a_parse_error(s3, people):
    expression = "SELECT * FROM S3Object s WHERE " + "(" * 150 + "1 = 1" + ")" * 150
    with pytest.raises(ClientError) as raised:
        select(s3, people, "people.csv", expression, csv_use())
    assert error_of(raised) == ("UnsupportedSyntax", 400)
