"""SelectObjectContent (S3 Select): an SQL expression over a CSV or JSON object, answered as an event stream.

The object is read a megabyte at a time (decompressed on the way for GZIP and BZIP2), cut into records,
filtered and projected by `select_sql`, and written as CSV or JSON into `Records` events, followed by
`Stats` and `End` (`Progress` after each piece when requested). The first event is computed before the
handler returns, so a bad expression or a bad first record is an HTTP 400 as in AWS; an error found later
in a large object ends the stream with an error message (boto3 raises `EventStreamError`).
"""

from __future__ import annotations

import bz2
import csv
import json
import time
import zlib
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.s3 import select_sql as sql
from overcast.services.s3.common import access_denied
from overcast.services.s3.select_sql import MISSING, sql_error

if TYPE_CHECKING:
    from overcast.platform import Platform
    from overcast.services.s3.provider import S3Provider

MAX_EXPRESSION = 256 * 1024
MAX_RECORD = 1 << 20  # AWS's maxCharsPerRecord
FLUSH_AT = 256 * 1024
DECOMPRESS_PIECE = 4 << 20
TIME_LIMIT = 300.0  # seconds of work one Select may take on this machine before it answers Busy


def _bad_parameter(message: str) -> ServiceError:
    return ServiceError("InvalidRequestParameter", message, 400)


def _one_format(serialization: dict[str, Any], allowed: tuple[str, ...], which: str) -> str:
    present = [name for name in allowed if serialization.get(name) is not None]
    if len(present) > 1:
        raise ServiceError(
            "ObjectSerializationConflict",
            f"{which} specifies more than one format ({', '.join(allowed)}); specify only one.",
            400,
        )
    if not present:
        raise ServiceError(
            "MissingRequiredParameter",
            f"The SelectRequest entity is missing a required parameter: {which}.",
            400,
        )
    return present[0]


def _char(options: dict[str, Any], name: str, default: str) -> str:
    value = options.get(name)
    return default if value is None or value == "" else value


class SelectOperations(Operations):
    service: S3Provider

    async def select_object_content(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        if ctx.principal.is_anonymous:
            raise access_denied()
        expression = params.get("Expression") or ""
        if (params.get("ExpressionType") or "SQL") != "SQL":
            raise ServiceError(
                "InvalidExpressionType",
                "The ExpressionType is invalid. Only SQL expressions are supported.",
                400,
            )
        if not expression.strip():
            raise ServiceError(
                "MissingRequiredParameter", "The SelectRequest entity is missing Expression.", 400
            )
        if len(expression.encode()) > MAX_EXPRESSION:
            raise ServiceError(
                "ExpressionTooLong", "The SQL expression is too long: the maximum is 256 KB.", 400
            )
        input_ser = params.get("InputSerialization") or {}
        output_ser = params.get("OutputSerialization") or {}
        in_format = _one_format(input_ser, ("CSV", "JSON", "Parquet"), "InputSerialization")
        out_format = _one_format(output_ser, ("CSV", "JSON"), "OutputSerialization")
        compression = input_ser.get("CompressionType") or "NONE"
        if compression not in ("NONE", "GZIP", "BZIP2"):
            raise ServiceError(
                "InvalidCompressionFormat",
                "The file is not in a supported compression format. Only GZIP and BZIP2 are supported.",
                400,
            )
        if in_format == "Parquet":
            raise ServiceError(
                "NotImplemented",
                "Overcast does not read Parquet objects in S3 Select (CSV and JSON only).",
                501,
            )
        reader = _reader_for(in_format, input_ser[in_format])
        writer = _writer_for(out_format, output_ser[out_format])
        query = sql.parse(expression)
        if query.from_path and in_format == "CSV":
            raise sql_error("InvalidDataSource", "Paths after S3Object are only supported for JSON objects.")

        bucket, version = self.service.versions.readable_version(ctx, params, "s3:GetObject")
        size = version.size
        start, end = 0, size
        scan = params.get("ScanRange")
        skip_first = False
        if scan and (scan.get("Start") is not None or scan.get("End") is not None):
            if compression != "NONE" or not reader.scan_range_ok:
                raise ServiceError(
                    "UnsupportedScanRangeInput",
                    "Scan range queries are not supported on this type of object.",
                    400,
                )
            first, last = scan.get("Start"), scan.get("End")
            if (first is not None and first < 0) or (last is not None and last < 0):
                raise _bad_parameter("The ScanRange Start and End must not be negative.")
            if first is None:
                first, last = max(0, size - last), None
            elif last is not None and last < first:
                raise _bad_parameter("The ScanRange End must not be smaller than its Start.")
            reader.scan_end = last  # records starting after End are not read
            if first > 0:
                start, skip_first = min(first - 1, size), True
        body = self.service.versions.body_of(version, start, end, params, ctx=ctx)
        progress = bool((params.get("RequestProgress") or {}).get("Enabled"))
        scan = _Scan(compression, reader, query, writer, progress, start, skip_first)
        events = _select_events(self.platform, _pieces(body), scan)
        first_event = await events.__anext__()
        return {"Payload": _prepend(first_event, events)}


async def _prepend(first: dict, rest: AsyncIterator[dict]) -> AsyncIterator[dict]:
    yield first
    async for event in rest:
        yield event


async def _pieces(body: Any) -> AsyncIterator[bytes]:
    if isinstance(body, (bytes, bytearray, memoryview)):
        if body:
            yield bytes(body)
        return
    async for chunk in body:
        yield chunk


# ------------------------------------------------------------------------------------------ decompression


class _Decompressor:
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.obj = self._new()
        self.in_member = False  # the current decompressor has been given data and has not reached its end

    def _new(self) -> Any:
        self.in_member = False
        if self.kind == "GZIP":
            return zlib.decompressobj(wbits=31)
        if self.kind == "BZIP2":
            return bz2.BZ2Decompressor()
        return None

    def feed(self, data: bytes) -> Iterator[bytes]:
        """Decompressed output for `data`, in bounded pieces; concatenated members (gzip, bzip2) continue."""
        if self.obj is None:
            if data:
                yield data
            return
        try:
            while data:
                self.in_member = True
                if self.kind == "GZIP":
                    out = self.obj.decompress(data, DECOMPRESS_PIECE)
                    data = self.obj.unconsumed_tail
                    if self.obj.eof:
                        data = self.obj.unused_data + data
                        self.obj = self._new()
                    if out:
                        yield out
                    continue
                out = self.obj.decompress(data, DECOMPRESS_PIECE)
                data = b""
                while True:
                    if out:
                        yield out
                    if self.obj.eof or self.obj.needs_input:
                        break
                    out = self.obj.decompress(b"", DECOMPRESS_PIECE)
                if self.obj.eof:
                    data = self.obj.unused_data
                    self.obj = self._new()
        except (zlib.error, OSError, EOFError, ValueError):
            raise _bad_compression() from None

    def finish(self) -> None:
        """A member begun and never finished is a truncated (or not compressed) object."""
        if self.obj is not None and self.in_member:
            raise _bad_compression()


def _bad_compression() -> ServiceError:
    return ServiceError(
        "InvalidCompressionFormat",
        "The file is not in a supported compression format. Only GZIP and BZIP2 are supported.",
        400,
    )


# ----------------------------------------------------------------------------------------------- records


class _Row:
    __slots__ = ()

    def resolve(self, steps: list[Any]) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError


def _descend(value: Any, steps: list[Any]) -> Any:
    for step in steps:
        if value is MISSING or value is None:
            return MISSING
        if isinstance(step, int):
            value = value[step] if isinstance(value, list) and -len(value) <= step < len(value) else MISSING
        elif isinstance(step, tuple) and step[0] != "#":
            value = _member(value, step[0], step[1])
        else:
            return MISSING
    return value


def _member(value: Any, name: str, exact: bool) -> Any:
    if not isinstance(value, dict):
        return MISSING
    if name in value:
        return value[name]
    if exact:
        return MISSING
    low = name.lower()
    found = [k for k in value if k.lower() == low]
    if len(found) > 1:
        raise sql_error(
            "AmbiguousFieldName",
            "The field name matches to multiple fields in the file. Check the SQL expression and the file, "
            "and try again.",
        )
    return value[found[0]] if found else MISSING


class CsvRow(_Row):
    __slots__ = ("fields", "header")

    def __init__(self, fields: list[str], header: _Header | None) -> None:
        self.fields, self.header = fields, header

    def resolve(self, steps: list[Any]) -> Any:
        first = steps[0]
        index: int | None
        if isinstance(first, tuple) and first[0] == "#":
            index = first[1] - 1
        elif isinstance(first, tuple) and self.header is not None:
            index = self.header.index(first[0], first[1])
        else:
            return MISSING
        if index is None or index >= len(self.fields):
            return MISSING
        value = self.fields[index]
        return value if len(steps) == 1 else MISSING

    def names(self) -> list[str]:
        if self.header is not None:
            names = list(self.header.names[: len(self.fields)])
            names += [f"_{i}" for i in range(len(names) + 1, len(self.fields) + 1)]
            return names
        return [f"_{i}" for i in range(1, len(self.fields) + 1)]


class _Header:
    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.exact = {}
        self.folded: dict[str, list[int]] = {}
        for i, name in enumerate(names):
            self.exact.setdefault(name, i)
            self.folded.setdefault(name.lower(), []).append(i)

    def index(self, name: str, exact: bool) -> int | None:
        if exact:
            return self.exact.get(name)
        found = self.folded.get(name.lower()) or []
        if len(found) > 1:
            if name in self.exact:
                return self.exact[name]
            raise sql_error(
                "AmbiguousFieldName",
                "The field name matches to multiple fields in the file. Check the SQL expression and the file, "
                "and try again.",
            )
        return found[0] if found else None


class JsonRow(_Row):
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def resolve(self, steps: list[Any]) -> Any:
        if isinstance(steps[0], tuple) and steps[0][0] == "#":
            return MISSING
        return _descend(self.value, steps)


class _EmptyRow(_Row):
    def resolve(self, steps: list[Any]) -> Any:
        return MISSING


# ----------------------------------------------------------------------------------------------- readers


class CsvReader:
    scan_range_ok = True

    def __init__(self, options: dict[str, Any]) -> None:
        header = options.get("FileHeaderInfo") or "NONE"
        if header not in ("USE", "IGNORE", "NONE"):
            raise ServiceError(
                "InvalidFileHeaderInfo",
                "The FileHeaderInfo is invalid. Only NONE, USE, and IGNORE are supported.",
                400,
            )
        self.header_mode = header
        self.field_delimiter = _char(options, "FieldDelimiter", ",")
        self.quote = _char(options, "QuoteCharacter", '"')
        self.escape = _char(options, "QuoteEscapeCharacter", self.quote)
        self.record_delimiter = _char(options, "RecordDelimiter", "\n").encode()
        self.comments = options.get("Comments")
        if self.comments is None:
            self.comments = "#"
        self.allow_quoted = bool(options.get("AllowQuotedRecordDelimiter"))
        if self.allow_quoted:
            self.scan_range_ok = False
        for name, value in (("FieldDelimiter", self.field_delimiter), ("QuoteCharacter", self.quote)):
            if len(value) != 1:
                raise _bad_parameter(f"The {name} must be a single character.")
        if len(self.escape) != 1 or len(self.comments) > 1:
            raise _bad_parameter("QuoteEscapeCharacter and Comments must be single characters.")
        self.header: _Header | None = None
        self.header_pending = header in ("USE", "IGNORE")
        self.scan_end: int | None = None
        kwargs: dict[str, Any] = {"delimiter": self.field_delimiter, "quotechar": self.quote, "strict": False}
        if self.escape != self.quote:
            kwargs.update(escapechar=self.escape, doublequote=False)
        self.dialect = kwargs
        self.quote_bytes = self.quote.encode()
        self.special = {self.quote, self.escape}

    def fields(self, text: str) -> list[str]:
        if not any(c in text for c in self.special):
            return text.split(self.field_delimiter)
        try:
            parsed = next(csv.reader((text,), **self.dialect), [])
        except csv.Error:
            raise sql_error("CSVParsingError", "Encountered an error parsing the CSV file.") from None
        return parsed

    def rows(self, record: bytes) -> Iterator[_Row]:
        if record.endswith(b"\r") and self.record_delimiter == b"\n":
            record = record[:-1]
        if not record:
            return
        try:
            text = record.decode("utf-8")
        except UnicodeDecodeError:
            raise sql_error(
                "InvalidTextEncoding", "Invalid encoding type. Only UTF-8 encoding is supported."
            ) from None
        if self.comments and text.startswith(self.comments):
            return
        fields = self.fields(text)
        if self.header_pending:
            self.header_pending = False
            if self.header_mode == "USE":
                self.header = _Header(fields)
            return
        yield CsvRow(fields, self.header)

    def records(self, buffer: bytearray, final: bool) -> Iterator[tuple[bytes, int]]:
        """Complete records in `buffer` (removed from it) with their lengths including the delimiter."""
        delimiter = self.record_delimiter
        pos = 0
        n = len(buffer)
        while pos < n:
            at = buffer.find(delimiter, pos)
            if self.allow_quoted:
                while at != -1 and buffer.count(self.quote_bytes, pos, at) % 2:
                    at = buffer.find(delimiter, at + len(delimiter))
            if at == -1:
                if not final:
                    break
                record = bytes(buffer[pos:])
                yield record, len(record)
                pos = n
                break
            record = bytes(buffer[pos:at])
            yield record, at + len(delimiter) - pos
            pos = at + len(delimiter)
        del buffer[:pos]
        if len(buffer) > MAX_RECORD:
            raise sql_error(
                "OverMaxRecordSize",
                "The length of a record in the input or result is greater than maxCharsPerRecord of 1 MB.",
            )

    def skip_delimiter(self) -> bytes:
        return self.record_delimiter


class JsonReader:
    def __init__(self, options: dict[str, Any]) -> None:
        kind = options.get("Type")
        if kind not in ("DOCUMENT", "LINES"):
            raise ServiceError(
                "InvalidJsonType", "The JsonType is invalid. Only DOCUMENT and LINES are supported.", 400
            )
        self.kind = kind
        self.scan_range_ok = kind == "LINES"
        self.scan_end: int | None = None
        self.decoder = json.JSONDecoder(parse_float=Decimal)
        self.grown_at = 0

    def rows_of(self, text: str) -> Any:
        try:
            return self.decoder.decode(text)
        except ValueError:
            raise sql_error("JSONParsingError", "Encountered an error parsing the JSON file.") from None

    def records(self, buffer: bytearray, final: bool) -> Iterator[tuple[Any, int]]:
        if self.kind == "LINES":
            pos = 0
            n = len(buffer)
            while pos < n:
                at = buffer.find(b"\n", pos)
                if at == -1:
                    if not final:
                        break
                    at = n
                yield bytes(buffer[pos:at]), min(at + 1, n) - pos
                pos = at + 1
            del buffer[: min(pos, n)]
            if len(buffer) > MAX_RECORD:
                raise sql_error(
                    "OverMaxRecordSize",
                    "The length of a record in the input or result is greater than maxCharsPerRecord of 1 MB.",
                )
            return
        # DOCUMENT: one or more whitespace-separated JSON values; wait for more data while one is incomplete
        if not final and len(buffer) < 2 * self.grown_at:
            return
        leftover = b""
        try:
            text = buffer.decode("utf-8")
        except UnicodeDecodeError as exc:
            if final or exc.start < len(buffer) - 4:
                raise sql_error(
                    "InvalidTextEncoding", "Invalid encoding type. Only UTF-8 encoding is supported."
                ) from None
            text, leftover = buffer[: exc.start].decode("utf-8"), bytes(buffer[exc.start :])
        pos = 0
        while True:
            while pos < len(text) and text[pos] in " \t\r\n":
                pos += 1
            if pos >= len(text):
                break
            try:
                value, end = self.decoder.raw_decode(text, pos)
            except ValueError:
                if final:
                    raise sql_error(
                        "JSONParsingError", "Encountered an error parsing the JSON file."
                    ) from None
                self.grown_at = len(text) - pos
                break
            if not final and end == len(text) and not isinstance(value, (dict, list, str)):
                break  # a number or literal at the very end may continue in the next piece
            yield value, len(text[pos:end].encode("utf-8"))
            pos = end
        rest = text[pos:]
        buffer[:] = (rest.encode("utf-8") if rest.strip() else b"") + leftover
        if not buffer:
            self.grown_at = 0

    def rows(self, record: Any, from_path: list[Any]) -> Iterator[_Row]:
        if isinstance(record, bytes):
            if not record.strip():
                return
            try:
                text = record.decode("utf-8")
            except UnicodeDecodeError:
                raise sql_error(
                    "InvalidTextEncoding", "Invalid encoding type. Only UTF-8 encoding is supported."
                ) from None
            record = self.rows_of(text)
        for value in _walk(record, from_path):
            yield JsonRow(value)

    def skip_delimiter(self) -> bytes:
        return b"\n"


def _walk(value: Any, steps: list[Any]) -> Iterator[Any]:
    if not steps:
        yield value
        return
    step, rest = steps[0], steps[1:]
    if step == "*":
        if isinstance(value, list):
            for item in value:
                yield from _walk(item, rest)
        else:
            yield from _walk(value, rest)
        return
    if isinstance(step, int):
        if isinstance(value, list) and -len(value) <= step < len(value):
            yield from _walk(value[step], rest)
        return
    found = _member(value, step[0], step[1])
    if found is not MISSING:
        yield from _walk(found, rest)


def _reader_for(kind: str, options: dict[str, Any] | None) -> Any:
    if kind == "CSV":
        return CsvReader(options or {})
    return JsonReader(options or {})


# ----------------------------------------------------------------------------------------------- writers


class CsvWriter:
    def __init__(self, options: dict[str, Any]) -> None:
        quote_fields = options.get("QuoteFields") or "ASNEEDED"
        if quote_fields not in ("ALWAYS", "ASNEEDED"):
            raise ServiceError(
                "InvalidQuoteFields",
                "The QuoteFields is invalid. Only ALWAYS and ASNEEDED are supported.",
                400,
            )
        self.always = quote_fields == "ALWAYS"
        self.field_delimiter = _char(options, "FieldDelimiter", ",")
        self.record_delimiter = _char(options, "RecordDelimiter", "\n")
        self.quote = _char(options, "QuoteCharacter", '"')
        self.escape = _char(options, "QuoteEscapeCharacter", self.quote)
        self.specials = {self.field_delimiter, self.record_delimiter, self.quote, "\n", "\r"}

    def _field(self, value: Any) -> str:
        if value is None or value is MISSING:
            text = ""
        else:
            text = _text(value)
        if self.always or (text and any(s in text for s in self.specials)):
            return self.quote + text.replace(self.quote, self.escape + self.quote) + self.quote
        return text

    def record(self, names: list[str], values: list[Any]) -> str:
        return self.field_delimiter.join(self._field(v) for v in values) + self.record_delimiter


class JsonWriter:
    def __init__(self, options: dict[str, Any]) -> None:
        self.record_delimiter = _char(options, "RecordDelimiter", "\n")

    def record(self, names: list[str], values: list[Any]) -> str:
        parts = [
            json.dumps(name, ensure_ascii=False) + ":" + _json(value)
            for name, value in zip(names, values, strict=False)
            if value is not MISSING
        ]
        return "{" + ",".join(parts) + "}" + self.record_delimiter


def _writer_for(kind: str, options: dict[str, Any] | None) -> Any:
    return CsvWriter(options or {}) if kind == "CSV" else JsonWriter(options or {})


def _text(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return _json(value)
    return sql.to_text(value)


def _json(value: Any) -> str:
    if value is None or value is MISSING:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        if not value.is_finite():
            return "null"
        return str(value.normalize()) if value.as_tuple().exponent < -6 else str(value)
    if isinstance(value, float):
        return repr(value) if value == value and value not in (float("inf"), float("-inf")) else "null"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return json.dumps(sql.to_text(value))
    if isinstance(value, dict):
        return (
            "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + _json(v) for k, v in value.items()) + "}"
        )
    if isinstance(value, list):
        return "[" + ",".join(_json(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


# ------------------------------------------------------------------------------------------------ engine


def _project(query: sql.Query, row: _Row) -> tuple[list[str], list[Any]]:
    if query.star:
        if isinstance(row, CsvRow):
            return row.names(), list(row.fields)
        value = row.value if isinstance(row, JsonRow) else MISSING
        if isinstance(value, dict):
            return list(value.keys()), list(value.values())
        return ["_1"], [value]
    return [item.name for item in query.items], [item.expr.eval(row) for item in query.items]


class _Scan:
    """One Select's scan: pieces of the object in, events out. Synchronous and CPU-bound (decompression,
    parsing, evaluation), so it runs in the platform's worker threads (`Platform.run_blocking`), a batch of
    events at a time; it stops at the time limit (`Busy`) or when the client has gone (`cancelled`)."""

    def __init__(
        self,
        compression: str,
        reader: Any,
        query: sql.Query,
        writer: Any,
        progress: bool,
        offset: int,
        skip_first: bool,
    ) -> None:
        self.reader, self.query, self.writer, self.progress = reader, query, writer, progress
        self.scanned = self.processed = self.returned = 0
        self.out: list[str] = []
        self.out_size = 0
        self.emitted = 0
        self.done = query.limit == 0
        self.aggregate = bool(query.aggregates)
        for agg in query.aggregates:
            agg.reset()
        self.decompressor = _Decompressor(compression)
        self.buffer = bytearray()
        self.position = offset  # byte offset in the object of the buffer's first byte (uncompressed input)
        self.skip_first = skip_first
        self.is_json = isinstance(reader, JsonReader)
        self.last_progress: dict | None = None
        self.deadline = time.monotonic() + TIME_LIMIT  # a resource limit of this machine, not AWS time
        self.cancelled = False

    # -- the events of one piece of the object, and of its end

    def feed(self, piece: bytes) -> Iterator[dict]:
        self.scanned += len(piece)
        try:
            for data in self.decompressor.feed(piece):
                self._check_limits()
                self.processed += len(data)
                self.buffer.extend(data)
                self._drain(False)
                if self.done:
                    break
                if self.out_size >= FLUSH_AT:
                    yield self._records()
        except _ScanDone:
            self.done = True
        if self.out:
            yield self._records()
        if self.progress and not self.done:
            self.last_progress = self._stats()
            yield {"Progress": {"Details": self.last_progress}}

    def end(self) -> Iterator[dict]:
        try:
            if not self.done:
                self.decompressor.finish()
                self._drain(True)
        except _ScanDone:
            pass
        if self.aggregate:
            names = [item.name for item in self.query.items]
            values = [item.expr.eval(_EmptyRow()) for item in self.query.items]
            self.out.append(self.writer.record(names, values))
        if self.out:
            yield self._records()
        if self.progress and self._stats() != self.last_progress:
            yield {"Progress": {"Details": self._stats()}}
        yield {"Stats": {"Details": self._stats()}}
        yield {"End": {}}

    # -- the work

    def _check_limits(self) -> None:
        if self.cancelled:
            raise _ScanDone
        if time.monotonic() > self.deadline:
            raise ServiceError("Busy", "The service is unavailable. Please retry.", 503, sender_fault=False)

    def _handle(self, record: Any) -> None:
        query = self.query
        rows = self.reader.rows(record, query.from_path) if self.is_json else self.reader.rows(record)
        for row in rows:
            if query.where is not None and sql.truth(query.where.eval(row)) is not True:
                continue
            if self.aggregate:
                for agg in query.aggregates:
                    agg.accumulate(row)
                continue
            names, values = _project(query, row)
            text = self.writer.record(names, values)
            self.out.append(text)
            self.out_size += len(text)
            self.emitted += 1
            if query.limit is not None and self.emitted >= query.limit:
                self.done = True
                return

    def _drain(self, final: bool) -> None:
        buffer, reader = self.buffer, self.reader
        if self.skip_first:
            delimiter = reader.skip_delimiter()
            at = buffer.find(delimiter)
            if at == -1:
                if not final:
                    return
                self.position += len(buffer)
                del buffer[:]
                self.skip_first = False
                return
            self.position += at + len(delimiter)
            del buffer[: at + len(delimiter)]
            self.skip_first = False
        scan_end = reader.scan_end
        for count, (record, size) in enumerate(reader.records(buffer, final)):
            if scan_end is not None and self.position > scan_end:
                raise _ScanDone
            if count % 4096 == 4095:
                self._check_limits()
            self.position += size
            self._handle(record)
            if self.done:
                return

    def _records(self) -> dict:
        payload = "".join(self.out).encode("utf-8")
        self.out, self.out_size = [], 0
        self.returned += len(payload)
        return {"Records": {"Payload": payload}}

    def _stats(self) -> dict:
        return {
            "BytesScanned": self.scanned,
            "BytesProcessed": self.processed,
            "BytesReturned": self.returned,
        }


def _next_event(events: Iterator[dict]) -> dict | None:
    try:
        return next(events)
    except RecursionError:
        raise sql_error("UnsupportedSyntax", "The SQL expression is nested too deeply.") from None
    except StopIteration:
        return None


async def _select_events(
    platform: Platform, pieces: AsyncIterator[bytes], scan: _Scan
) -> AsyncIterator[dict]:
    """The event stream: the object's pieces read here, on the event loop; the scan's work off it."""
    try:
        async for piece in pieces:
            events = scan.feed(piece)
            while (event := await platform.run_blocking(_next_event, events)) is not None:
                yield event
            if scan.done:
                break
        events = scan.end()
        while (event := await platform.run_blocking(_next_event, events)) is not None:
            yield event
    finally:
        scan.cancelled = True  # the client went away, or the stream ended: any batch in flight stops
        aclose = getattr(pieces, "aclose", None)
        if aclose is not None:
            await aclose()


class _ScanDone(Exception):
    """The scan range's end was passed: no record starting later is read."""
