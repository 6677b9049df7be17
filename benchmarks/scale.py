#!/usr/bin/env python3
"""Overcast at scale: how its hot paths hold up as data grows. Overcast only, no peers.

A fresh persistent server (`overcast start --port P --data-dir <tmpdir>`, its defaults otherwise) is
started, then, section by section (--only s3,sqs,ddb,lambda, the default; --only all for every one):

- s3:     a 1 GiB object PUT then GET, each one presigned request streamed over http.client (MB/s each way,
          the server's RSS growth meanwhile); ListObjectsV2 (MaxKeys 1000) first and last page at 1,000 keys
          and at 100,000 keys (filled by parallel PUTs of tiny objects)
- sqs:    SendMessage and ReceiveMessage+DeleteMessage rates on a fresh queue and on one holding 100,000
          messages (filled by parallel SendMessageBatch); SendMessage -> waiting long-poll ReceiveMessage
          latency (median of 20)
- ddb:    Query (Limit 100) first page on a partition of 1,000 items and of 100,000 items, and a page deep
          in each (ExclusiveStartKey near the end)
- lambda: a trivial Python function's cold first invoke and warm invoke latency (median of 200, boto3),
          against boto3 and raw-HTTP GetCallerIdentity as the floor; 200 async invokes of a 0.2 s function
          under reserved concurrency 10: peak concurrency (from the timestamps each invocation writes) and
          that all ran exactly once

and, for the services whose data grows, a hot path at a few items and at N (10,000; --quick 2,000) with the
server's RSS before and after each fill (it must stay flat: the data is in SQLite):

- secrets:    GetSecretValue rate and ListSecrets' first page at 10 and N secrets (parallel CreateSecret)
- metrics:    PutMetricData rate (one datum); GetMetricData (one metric, 1 hour, period 60) and ListMetrics'
              first page at 100 and N metric names (parallel PutMetricData of 100 datums)
- executions: StartSyncExecution rate (Express, one Pass state); ListExecutions' first page and
              DescribeExecution at 10 and N executions of a Standard Pass machine (parallel StartExecution)
- kinesis:    kinesis_scale.py's measure at 100,000 records (--quick 20,000): PutRecords fill, GetRecords
              at the trim horizon and at the tip, RSS
- instances:  DescribeInstances (unpaged, first page of 100, one id) at 0 and 1,024 instances (--quick 256;
              records: no user data, launched 64 at a time and stopped, the virtual clock moved over the 2 s
              transitions, so it runs last); then 3 instances with user data booted as sandboxes

    .venv/bin/python benchmarks/scale.py [--only s3,sqs|all] [--quick] [--seconds 5] [--threads 8]

--quick: 100 MiB object, 20,000 keys/messages/items/records, N = 2,000, 256 instances. Rates are measured
by one client on one keep-alive connection (c=1) with signed requests (SigV4, botocore), the same way as
run.py. Results are printed and written to benchmarks/results/scale.json.
"""

from __future__ import annotations

import argparse
import base64
import concurrent.futures
import html
import http.client
import io
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

# First: run.py re-executes this script under the project venv when botocore is missing.
import run as bench  # noqa: E402

# isort: split
import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402

MiB = 1024 * 1024
ROLE = "arn:aws:iam::000000000000:role/lambda-role"


# --------------------------------------------------------------------------------------------------------
# Server and clients
# --------------------------------------------------------------------------------------------------------
class Server:
    """A fresh Overcast with a persistent data dir, started and stopped with run.py's machinery."""

    def __init__(self, logdir: Path):
        self.server = bench.SERVERS["overcast"]
        self.port = bench.free_port()
        self.running = bench.Running(self.server, self.port, logdir)
        self.startup_s = self.running.wait_ready()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.logfile = self.running.logfile.name

    @property
    def pid(self) -> int:
        return self.running.proc.pid

    def rss_mb(self) -> float:
        return bench.tree_rss_kb(self.pid) / 1024

    def processes(self) -> int:
        return len(bench.proc_tree(self.pid))

    def client(self, service: str, **config):
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=bench.REGION,
            aws_access_key_id=bench.ACCESS_KEY,
            aws_secret_access_key=bench.SECRET_KEY,
            config=Config(**config) if config else None,
        )

    def stop(self) -> None:
        self.running.stop()


def amz_now() -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())


class Conn:
    """One keep-alive HTTP/1.1 connection sending run.py-style request dicts, signed (SigV4, botocore)."""

    def __init__(self, port: int, timeout: float = 120.0):
        self.port, self.timeout = port, timeout
        self.conn: http.client.HTTPConnection | None = None

    def prepare(self, req: dict) -> tuple[str, str, dict[str, str], bytes]:
        """Method, path, headers and body of `req` signed now (a signature holds for 15 minutes)."""
        url, headers, body = bench.signed(req, self.port, amz_now())
        parts = urllib.parse.urlsplit(url)
        return req["method"], parts.path + (f"?{parts.query}" if parts.query else ""), headers, body

    def raw(self, prepared, retry: bool = True) -> tuple[int, bytes, float]:
        """Send a prepared request; status, body and seconds (request sent to body read). retry: once, on a
        new connection, if the kept-alive one fails (not for a body that can be read only once)."""
        method, path, headers, body = prepared
        for attempt in (1, 2) if retry else (2,):
            t0 = time.perf_counter()
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
                self.conn.request(method, path, body=body, headers=headers)
                resp = self.conn.getresponse()
                data = resp.read()
                if resp.getheader("connection", "").lower() == "close":
                    self.close()
                return resp.status, data, time.perf_counter() - t0
            except (OSError, http.client.HTTPException):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def send(self, req: dict) -> tuple[int, bytes, float]:
        return self.raw(self.prepare(req))

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class Failed(Exception):
    pass


def check(status: int, body: bytes, what: str) -> bytes:
    if not 200 <= status < 300:
        raise Failed(f"{what}: answered {status} {body[:300]!r}")
    return body


def json_req(service: str, target: str, payload: dict, version: str = "1.0") -> dict:
    return {
        "service": service,
        "method": "POST",
        "path": "/",
        "headers": {"Content-Type": f"application/x-amz-json-{version}", "X-Amz-Target": target},
        "body": json.dumps(payload),
    }


def query_req(service: str, action: str, version: str, params: dict) -> dict:
    """A query-protocol request (CloudWatch, EC2): the form the AWS CLI sends."""
    return {
        "service": service,
        "method": "POST",
        "path": "/",
        "headers": {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        "body": urllib.parse.urlencode({"Action": action, "Version": version, **params}),
    }


def xml_all(body: bytes, tag: str) -> list[str]:
    """The text of every <tag> element of a query-protocol answer (enough for ids and tokens)."""
    return [
        html.unescape(m.decode())
        for m in re.findall(rb"<%s>([^<]*)</%s>" % (tag.encode(), tag.encode()), body)
    ]


def sqs_req(action: str, payload: dict) -> dict:
    return json_req("sqs", f"AmazonSQS.{action}", payload)


def ddb_req(action: str, payload: dict) -> dict:
    return json_req("dynamodb", f"DynamoDB_20120810.{action}", payload)


def call(conn: Conn, req: dict) -> dict:
    """A JSON-protocol call; its decoded answer (raises Failed on non-2xx)."""
    status, body, _ = conn.send(req)
    check(status, body, f"{req['headers'].get('X-Amz-Target')}")
    return json.loads(body or b"{}")


def call_xml(conn: Conn, req: dict) -> bytes:
    """A query-protocol call; its XML answer (raises Failed on non-2xx)."""
    status, body, _ = conn.send(req)
    return check(status, body, re.sub(r"&.*", "", req["body"]))


def latencies(conn: Conn, req: dict, what: str, times: int = 20, expect: bytes = b"") -> list[float]:
    """Seconds of `times` sends of one signed request (each answer 2xx and holding `expect`)."""
    prepared = conn.prepare(req)
    out = []
    for _ in range(times):
        status, body, seconds = conn.raw(prepared)
        if expect not in check(status, body, what):
            raise Failed(f"{what}: {expect!r} not in the answer {body[:300]!r}")
        out.append(seconds)
    return out


def rate_of(conn: Conn, req: dict, what: str, seconds: float) -> tuple[float, int]:
    """One signed request sent again and again for `seconds` (c=1): calls per second and count."""
    prepared = conn.prepare(req)

    def one() -> None:
        check(*conn.raw(prepared)[:2], what)

    return rate_loop(conn, seconds, one)


def parallel(port: int, fn, items, threads: int) -> tuple[float, int]:
    """fn(conn, item) for every item on `threads` threads (one connection each); seconds and how many
    raised (the first error is re-raised if all of them failed)."""
    local = threading.local()

    def work(item):
        if not hasattr(local, "conn"):
            local.conn = Conn(port)
        fn(local.conn, item)

    items = list(items)
    errors: list[BaseException] = []
    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        for future in [pool.submit(work, item) for item in items]:
            exc = future.exception()
            if exc is not None:
                errors.append(exc)
    seconds = time.perf_counter() - t0
    if errors and len(errors) == len(items):
        raise errors[0]
    if errors:
        log(f"  {len(errors)} of {len(items)} fill requests failed, first: {errors[0]!r}")
    return seconds, len(errors)


def median_ms(times: list[float]) -> float:
    return statistics.median(times) * 1000


def rate_loop(conn: Conn, seconds: float, one) -> tuple[float, int]:
    """Call one() (which returns False to stop early) for `seconds`; calls per second and count."""
    n = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        if one() is False:
            break
        n += 1
    return n / (time.perf_counter() - t0), n


class RssWatch:
    """Samples the server tree's RSS every 50 ms in a thread; `peak_mb` while it ran."""

    def __init__(self, server: Server):
        self.server = server
        self.peak_mb = server.rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            self.peak_mb = max(self.peak_mb, self.server.rss_mb())

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, self.server.rss_mb())


# --------------------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------------------
class Results:
    def __init__(self):
        self.rows: list[dict] = []
        self.raw: dict[str, dict] = {}
        self.errors: dict[str, str] = {}

    def add(self, section: str, measure: str, value, unit: str, note: str = "") -> None:
        self.rows.append({"section": section, "measure": measure, "value": value, "unit": unit, "note": note})
        shown = value if isinstance(value, str) else f"{value:.{decimals(value)}f}"
        log(f"  {section}: {measure}: {shown} {unit} {note}".rstrip())


def decimals(value: float) -> int:
    value = abs(value)
    return 0 if value >= 100 else 1 if value >= 10 else 2 if value >= 1 else 3


def log(msg: str) -> None:
    bench.log(msg)


# --------------------------------------------------------------------------------------------------------
# S3
# --------------------------------------------------------------------------------------------------------
def s3_section(server: Server, res: Results, sizes: dict, args) -> None:
    raw = res.raw.setdefault("s3", {})
    conn = Conn(server.port, timeout=600)
    bucket = "scale-bench"
    check(
        *conn.send({"service": "s3", "method": "PUT", "path": f"/{bucket}", "headers": {}, "body": ""})[:2],
        "CreateBucket",
    )

    # One big object, streamed both ways: a presigned PUT (UNSIGNED-PAYLOAD) fed from a generator, a
    # presigned GET read into a reused buffer. The client does next to nothing per byte.
    size = sizes["big_bytes"]
    block = os.urandom(MiB)
    rss0 = server.rss_mb()
    put = conn.prepare(
        {
            "service": "s3",
            "method": "PUT",
            "path": f"/{bucket}/big",
            "headers": {},
            "body": "",
            "sign": "presign",
        }
    )

    def blocks():
        for _ in range(size // MiB):
            yield block

    with RssWatch(server) as watch:
        t0 = time.perf_counter()
        status, body, _ = conn.raw(
            (put[0], put[1], {**put[2], "Content-Length": str(size)}, blocks()), retry=False
        )
        put_s = time.perf_counter() - t0
    check(status, body, "PutObject (streamed)")
    put_peak, rss_after_put = watch.peak_mb, server.rss_mb()
    res.add(
        "s3", f"PUT {size // MiB} MiB, one streamed request", size / MiB / put_s, "MiB/s", f"{put_s:.2f} s"
    )
    res.add(
        "s3",
        "  server RSS growth during the PUT (peak - before)",
        put_peak - rss0,
        "MB",
        f"before {rss0:.1f} MB",
    )

    get = conn.prepare(
        {
            "service": "s3",
            "method": "GET",
            "path": f"/{bucket}/big",
            "headers": {},
            "body": "",
            "sign": "presign",
        }
    )
    conn.close()
    buf = bytearray(MiB)
    view = memoryview(buf)
    got = mismatched = 0
    with RssWatch(server) as watch:
        t0 = time.perf_counter()
        hc = http.client.HTTPConnection("127.0.0.1", server.port, timeout=600)
        hc.request(get[0], get[1], headers=get[2])
        resp = hc.getresponse()
        first_byte_s = time.perf_counter() - t0
        if resp.status != 200:
            raise Failed(f"GetObject (streamed): answered {resp.status} {resp.read(300)!r}")
        while True:
            filled = 0
            while filled < MiB:
                n = resp.readinto(view[filled:])
                if not n:
                    break
                filled += n
            got += filled
            if filled and buf[:filled] != block[:filled]:
                mismatched += 1
            if filled < MiB:
                break
        get_s = time.perf_counter() - t0
        hc.close()
    if got != size or mismatched:
        raise Failed(f"GetObject returned {got} bytes of {size}, {mismatched} MiB blocks differing")
    res.add(
        "s3",
        f"GET {size // MiB} MiB, one streamed request",
        size / MiB / get_s,
        "MiB/s",
        f"{get_s:.2f} s; first byte after {first_byte_s * 1000:.1f} ms",
    )
    res.add(
        "s3",
        "  server RSS growth during the GET (peak - before)",
        watch.peak_mb - rss0,
        "MB",
        f"before {rss0:.1f} MB",
    )
    raw["big"] = {
        "bytes": size,
        "put_s": put_s,
        "get_s": get_s,
        "get_first_byte_s": first_byte_s,
        "rss_before_mb": rss0,
        "rss_peak_put_mb": put_peak,
        "rss_after_put_mb": rss_after_put,
        "rss_peak_get_mb": watch.peak_mb,
        "rss_after_get_mb": server.rss_mb(),
    }
    # Free the disk space for what follows.
    check(
        *conn.send(
            {"service": "s3", "method": "DELETE", "path": f"/{bucket}/big", "headers": {}, "body": ""}
        )[:2],
        "DeleteObject",
    )

    # ListObjectsV2 at 1,000 keys, then at N keys (same bucket, filled further).
    lbucket = "scale-list"
    check(
        *conn.send({"service": "s3", "method": "PUT", "path": f"/{lbucket}", "headers": {}, "body": ""})[:2],
        "CreateBucket",
    )

    def put_key(c: Conn, i: int) -> None:
        req = {
            "service": "s3",
            "method": "PUT",
            "path": f"/{lbucket}/key/{i:07d}",
            "headers": {},
            "body": b"x",
        }
        check(*c.send(req)[:2], "PutObject")

    filled = 0
    raw["list"] = {}
    for count in (sizes["small"], sizes["many"]):
        seconds, failed = parallel(server.port, put_key, range(filled, count), args.threads)
        res.add(
            "s3",
            f"fill to {count:,} keys: parallel PutObject ({args.threads} threads)",
            (count - filled) / seconds,
            "req/s",
            f"{failed} failed" if failed else "",
        )
        filled = count
        pages = list_all(conn, lbucket)
        keys = sum(p["keys"] for p in pages)
        if keys != count:
            res.errors[f"s3 list at {count}"] = f"listing returned {keys} keys, expected {count}"
        first = [send_time(conn, pages[0]["req"]) for _ in range(5)]
        last = [send_time(conn, pages[-1]["req"]) for _ in range(5)]
        walk = sum(p["seconds"] for p in pages)
        res.add("s3", f"ListObjectsV2 first page at {count:,} keys (median of 5)", median_ms(first), "ms")
        res.add(
            "s3",
            f"ListObjectsV2 last page at {count:,} keys (median of 5)",
            median_ms(last),
            "ms",
            f"page {len(pages)}",
        )
        res.add(
            "s3",
            f"ListObjectsV2 all {len(pages)} pages at {count:,} keys",
            walk * 1000,
            "ms",
            f"{keys:,} keys listed",
        )
        raw["list"][str(count)] = {
            "keys_listed": keys,
            "pages": len(pages),
            "page_s": [p["seconds"] for p in pages],
            "first_page_s": first,
            "last_page_s": last,
            "fill_s": seconds,
        }
    res.add("s3", f"server RSS after {filled:,} keys", server.rss_mb(), "MB")


def list_req(bucket: str, token: str | None) -> dict:
    query = "list-type=2&max-keys=1000"
    if token:
        query += "&continuation-token=" + urllib.parse.quote(token, safe="")
    return {"service": "s3", "method": "GET", "path": f"/{bucket}?{query}", "headers": {}, "body": ""}


def list_all(conn: Conn, bucket: str) -> list[dict]:
    pages, token = [], None
    while True:
        req = list_req(bucket, token)
        status, body, seconds = conn.send(req)
        check(status, body, "ListObjectsV2")
        pages.append({"req": req, "seconds": seconds, "keys": body.count(b"<Key>")})
        m = re.search(rb"<NextContinuationToken>(.*?)</NextContinuationToken>", body)
        if not m or b"<IsTruncated>true</IsTruncated>" not in body:
            return pages
        token = html.unescape(m.group(1).decode())


def send_time(conn: Conn, req: dict) -> float:
    status, body, seconds = conn.send(req)
    check(status, body, "request")
    return seconds


# --------------------------------------------------------------------------------------------------------
# SQS
# --------------------------------------------------------------------------------------------------------
def sqs_section(server: Server, res: Results, sizes: dict, args) -> None:
    raw = res.raw.setdefault("sqs", {})
    conn = Conn(server.port)

    def rates(queue_url: str, label: str) -> dict:
        send = conn.prepare(sqs_req("SendMessage", {"QueueUrl": queue_url, "MessageBody": "x" * 100}))

        def one_send():
            check(*conn.raw(send)[:2], "SendMessage")

        send_rate, sent = rate_loop(conn, args.seconds, one_send)
        receive = conn.prepare(sqs_req("ReceiveMessage", {"QueueUrl": queue_url, "MaxNumberOfMessages": 1}))

        def one_receive_delete():
            status, body, _ = conn.raw(receive)
            messages = json.loads(check(status, body, "ReceiveMessage")).get("Messages") or []
            if not messages:
                return False
            call(
                conn,
                sqs_req(
                    "DeleteMessage", {"QueueUrl": queue_url, "ReceiptHandle": messages[0]["ReceiptHandle"]}
                ),
            )

        rd_rate, received = rate_loop(conn, args.seconds, one_receive_delete)
        res.add("sqs", f"SendMessage, {label}", send_rate, "req/s", f"{sent:,} sent")
        res.add("sqs", f"ReceiveMessage+DeleteMessage, {label}", rd_rate, "pairs/s", f"{received:,} received")
        return {"send_per_s": send_rate, "sent": sent, "receive_delete_per_s": rd_rate, "received": received}

    small = call(conn, sqs_req("CreateQueue", {"QueueName": "scale-fresh"}))["QueueUrl"]
    raw["fresh"] = rates(small, "fresh queue (receives drain the messages just sent)")

    big = call(conn, sqs_req("CreateQueue", {"QueueName": "scale-full"}))["QueueUrl"]
    n = sizes["many"]

    def send_batch(c: Conn, start: int) -> None:
        entries = [{"Id": str(k), "MessageBody": f"message {start + k}"} for k in range(min(10, n - start))]
        answer = call(c, sqs_req("SendMessageBatch", {"QueueUrl": big, "Entries": entries}))
        if answer.get("Failed"):
            raise Failed(f"SendMessageBatch: {answer['Failed'][:2]}")

    seconds, failed = parallel(server.port, send_batch, range(0, n, 10), args.threads)
    res.add(
        "sqs",
        f"fill to {n:,} messages: parallel SendMessageBatch of 10 ({args.threads} threads)",
        n / seconds,
        "msg/s",
        f"{failed} batches failed" if failed else "",
    )
    attrs = sqs_req(
        "GetQueueAttributes", {"QueueUrl": big, "AttributeNames": ["ApproximateNumberOfMessages"]}
    )
    status, body, attr_s = conn.send(attrs)
    queued = int(
        json.loads(check(status, body, "GetQueueAttributes"))["Attributes"]["ApproximateNumberOfMessages"]
    )
    res.add("sqs", f"GetQueueAttributes ApproximateNumberOfMessages at {queued:,}", attr_s * 1000, "ms")
    res.add("sqs", f"server RSS with {queued:,} messages queued", server.rss_mb(), "MB")
    raw["full"] = {
        "queued": queued,
        "fill_s": seconds,
        "get_attributes_s": attr_s,
        **rates(big, f"{queued:,} queued"),
    }

    # Long poll: a ReceiveMessage (WaitTimeSeconds 20) is waiting on an empty queue; how long after a
    # SendMessage starts does it return with the message?
    lp = call(conn, sqs_req("CreateQueue", {"QueueName": "scale-longpoll"}))["QueueUrl"]
    poll_conn = Conn(server.port, timeout=30)
    latencies, waits = [], []
    poll_req = sqs_req("ReceiveMessage", {"QueueUrl": lp, "WaitTimeSeconds": 20, "MaxNumberOfMessages": 1})

    def poll(done: dict) -> None:
        t0 = time.perf_counter()
        status, body, _ = poll_conn.send(poll_req)
        done.update(t=time.perf_counter(), status=status, body=body, waited=time.perf_counter() - t0)

    for i in range(20):
        done: dict = {}
        thread = threading.Thread(target=poll, args=(done,))
        thread.start()
        time.sleep(0.3)  # the receive is waiting by now
        send = conn.prepare(sqs_req("SendMessage", {"QueueUrl": lp, "MessageBody": f"wake up {i}"}))
        t0 = time.perf_counter()
        check(*conn.raw(send)[:2], "SendMessage")
        thread.join(30)
        messages = (
            json.loads(check(done["status"], done["body"], "ReceiveMessage (long poll)")).get("Messages")
            or []
        )
        if not messages:
            raise Failed(f"long poll {i} returned no message after {done['waited']:.2f} s")
        latencies.append(done["t"] - t0)
        waits.append(done["waited"])
        call(conn, sqs_req("DeleteMessage", {"QueueUrl": lp, "ReceiptHandle": messages[0]["ReceiptHandle"]}))
    res.add(
        "sqs",
        "SendMessage -> waiting long-poll ReceiveMessage returns (median of 20)",
        median_ms(latencies),
        "ms",
        f"min {min(latencies) * 1000:.1f}, max {max(latencies) * 1000:.1f}",
    )
    raw["long_poll_latency_s"] = latencies
    raw["long_poll_wait_s"] = waits


# --------------------------------------------------------------------------------------------------------
# DynamoDB
# --------------------------------------------------------------------------------------------------------
def ddb_section(server: Server, res: Results, sizes: dict, args) -> None:
    raw = res.raw.setdefault("ddb", {})
    conn = Conn(server.port)
    table = "scale-bench"
    call(
        conn,
        ddb_req("CreateTable", bench.pk_sk_table(table)),
    )
    deadline = time.monotonic() + 30
    while call(conn, ddb_req("DescribeTable", {"TableName": table}))["Table"]["TableStatus"] != "ACTIVE":
        if time.monotonic() > deadline:
            raise Failed("table not ACTIVE after 30 s")
        time.sleep(0.05)

    def fill(partition: str, count: int) -> None:
        def batch(c: Conn, start: int) -> None:
            items = [
                {
                    "PutRequest": {
                        "Item": {
                            "pk": {"S": partition},
                            "sk": {"S": f"item#{k:07d}"},
                            "n": {"N": str(k)},
                            "payload": {"S": "x" * 50},
                        }
                    }
                }
                for k in range(start, min(start + 25, count))
            ]
            todo = {table: items}
            for _ in range(20):
                answer = call(c, ddb_req("BatchWriteItem", {"RequestItems": todo}))
                todo = answer.get("UnprocessedItems") or {}
                if not todo:
                    return
            raise Failed(f"BatchWriteItem left {todo} unprocessed")

        seconds, failed = parallel(server.port, batch, range(0, count, 25), args.threads)
        res.add(
            "ddb",
            f"fill partition {partition!r} with {count:,} items: parallel BatchWriteItem of 25 ({args.threads} threads)",
            count / seconds,
            "items/s",
            f"{failed} batches failed" if failed else "",
        )

    def query_times(partition: str, count: int, label: str) -> dict:
        first = ddb_req(
            "Query",
            {
                "TableName": table,
                "KeyConditionExpression": "pk = :pk",
                "ExpressionAttributeValues": {":pk": {"S": partition}},
                "Limit": 100,
            },
        )
        deep = ddb_req(
            "Query",
            {
                "TableName": table,
                "KeyConditionExpression": "pk = :pk",
                "ExpressionAttributeValues": {":pk": {"S": partition}},
                "Limit": 100,
                "ExclusiveStartKey": {"pk": {"S": partition}, "sk": {"S": f"item#{count - 151:07d}"}},
            },
        )
        out = {}
        for name, req in (("first", first), ("deep", deep)):
            prepared = conn.prepare(req)
            times = []
            for _ in range(20):
                status, body, seconds = conn.raw(prepared)
                answer = json.loads(check(status, body, "Query"))
                if answer.get("Count") != 100:
                    raise Failed(
                        f"Query {name} page of {partition!r}: Count {answer.get('Count')}, expected 100"
                    )
                times.append(seconds)
            out[name] = times
        res.add(
            "ddb",
            f"Query Limit 100, first page, partition of {count:,} items{label} (median of 20)",
            median_ms(out["first"]),
            "ms",
        )
        res.add(
            "ddb",
            f"Query Limit 100, page after item {count - 151:,} of {count:,}{label} (median of 20)",
            median_ms(out["deep"]),
            "ms",
        )
        return out

    small, many = sizes["small"], sizes["many"]
    fill("small", small)
    raw["small"] = query_times("small", small, "")
    fill("big", many)
    raw["big"] = query_times("big", many, "")
    raw["small_after_big"] = query_times("small", small, f" (table now {small + many:,} items)")
    res.add("ddb", f"server RSS after {small + many:,} items", server.rss_mb(), "MB")


# --------------------------------------------------------------------------------------------------------
# Lambda
# --------------------------------------------------------------------------------------------------------
TRIVIAL = "def handler(event, context):\n    return {'ok': 1}\n"
SLEEPER = """
import os, time
def handler(event, context):
    started = time.time()
    time.sleep(0.2)
    ended = time.time()
    with open(os.environ["OUT"], "a") as out:
        out.write(f"{os.getpid()} {started} {ended} {event['n']}\\n")
    return {"ok": 1}
"""


def zip_of(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o644 << 16
            archive.writestr(info, text)
    return buffer.getvalue()


def lambda_section(server: Server, res: Results, sizes: dict, args) -> None:
    raw = res.raw.setdefault("lambda", {})
    lam = server.client("lambda", read_timeout=120, retries={"total_max_attempts": 1})

    def create(name: str, source: str, **kwargs) -> None:
        lam.create_function(
            FunctionName=name,
            Runtime="python3.11",
            Role=ROLE,
            Handler="app.handler",
            Code={"ZipFile": zip_of({"app.py": source})},
            **kwargs,
        )
        deadline = time.monotonic() + 60
        while lam.get_function(FunctionName=name)["Configuration"].get("State", "Active") != "Active":
            if time.monotonic() > deadline:
                raise Failed(f"function {name} not Active after 60 s")
            time.sleep(0.05)

    def invoke(name: str, **kwargs) -> float:
        t0 = time.perf_counter()
        response = lam.invoke(FunctionName=name, Payload=b"{}", **kwargs)
        payload = response["Payload"].read()
        seconds = time.perf_counter() - t0
        if response.get("FunctionError") or json.loads(payload or b"null") != {"ok": 1}:
            raise Failed(f"invoke {name}: {response.get('FunctionError')} {payload[:300]!r}")
        return seconds

    create("scale-trivial", TRIVIAL)
    cold = invoke("scale-trivial")
    res.add("lambda", "cold first invoke (RequestResponse, boto3)", cold * 1000, "ms")
    warm = [invoke("scale-trivial") for _ in range(200)]
    sts = server.client("sts")
    floor = []
    for _ in range(200):
        t0 = time.perf_counter()
        sts.get_caller_identity()
        floor.append(time.perf_counter() - t0)
    conn = Conn(server.port)
    gci = conn.prepare(
        {
            "service": "sts",
            "method": "POST",
            "path": "/",
            "headers": {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
            "body": "Action=GetCallerIdentity&Version=2011-06-15",
        }
    )
    floor_http = []
    for _ in range(200):
        status, body, seconds = conn.raw(gci)
        check(status, body, "GetCallerIdentity")
        floor_http.append(seconds)
    res.add(
        "lambda",
        "warm invoke (RequestResponse, boto3; median of 200)",
        median_ms(warm),
        "ms",
        f"p90 {statistics.quantiles(warm, n=10)[-1] * 1000:.2f} ms",
    )
    res.add("lambda", "  floor: GetCallerIdentity with boto3 (median of 200)", median_ms(floor), "ms")
    res.add(
        "lambda",
        "  floor: GetCallerIdentity raw HTTP, keep-alive (median of 200)",
        median_ms(floor_http),
        "ms",
    )
    res.add("lambda", "  warm invoke minus the boto3 floor", median_ms(warm) - median_ms(floor), "ms")
    raw["cold_s"], raw["warm_s"], raw["floor_boto3_s"], raw["floor_http_s"] = cold, warm, floor, floor_http

    # 200 async invokes of a 0.2 s function under reserved concurrency 10.
    outdir = Path(tempfile.mkdtemp(prefix="overcast-scale-lambda-"))
    try:
        out = outdir / "out.txt"
        create("scale-sleeper", SLEEPER, Environment={"Variables": {"OUT": str(out)}}, Timeout=30)
        lam.put_function_concurrency(FunctionName="scale-sleeper", ReservedConcurrentExecutions=10)
        started = time.time()
        t0 = time.perf_counter()
        for n in range(200):
            response = lam.invoke(
                FunctionName="scale-sleeper", InvocationType="Event", Payload=json.dumps({"n": n}).encode()
            )
            if response["StatusCode"] != 202:
                raise Failed(f"async invoke {n}: StatusCode {response['StatusCode']}")
        enqueue_s = time.perf_counter() - t0
        lines: list[str] = []
        rss_peak, procs_peak = server.rss_mb(), server.processes()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            lines = out.read_text().splitlines() if out.exists() else []
            rss_peak, procs_peak = max(rss_peak, server.rss_mb()), max(procs_peak, server.processes())
            if len(lines) >= 200:
                break
            time.sleep(0.05)
        time.sleep(0.5)  # any duplicate run would show up now
        lines = out.read_text().splitlines() if out.exists() else []
        records = [line.split() for line in lines if line.strip()]
        ns = sorted(int(r[3]) for r in records)
        edges = sorted([(float(r[1]), 1) for r in records] + [(float(r[2]), -1) for r in records])
        in_flight = peak = 0
        for _, step in edges:
            in_flight += step
            peak = max(peak, in_flight)
        makespan = (max(float(r[2]) for r in records) - started) if records else None
        missing = sorted(set(range(200)) - set(ns))
        duplicates = len(ns) - len(set(ns))
        res.add("lambda", "200 async invokes (Event, boto3): enqueue rate", 200 / enqueue_s, "req/s")
        res.add(
            "lambda",
            "  completed (each exactly once)",
            f"{len(set(ns))}/200"
            + (f", {duplicates} duplicates" if duplicates else "")
            + (f", missing {missing[:10]}" if missing else ""),
            "",
        )
        res.add(
            "lambda",
            "  peak concurrent executions (reserved 10)",
            float(peak),
            "",
            "OK" if peak <= 10 else "EXCEEDED",
        )
        res.add("lambda", "  execution environments (distinct pids)", float(len({r[0] for r in records})), "")
        if makespan is not None:
            res.add("lambda", "  first invoke to last end (ideal 200 x 0.2 s / 10 = 4 s)", makespan, "s")
        res.add("lambda", "  server tree RSS peak while they ran", rss_peak, "MB", f"{procs_peak} processes")
        raw["async"] = {
            "enqueue_s": enqueue_s,
            "completed": len(set(ns)),
            "duplicates": duplicates,
            "missing": missing,
            "peak_concurrency": peak,
            "environments": len({r[0] for r in records}),
            "makespan_s": makespan,
            "rss_peak_mb": rss_peak,
            "processes_peak": procs_peak,
            # each run: [event n, start, end] in seconds after the first invoke was sent
            "runs": sorted([int(r[3]), float(r[1]) - started, float(r[2]) - started] for r in records),
        }
        if makespan is not None and makespan > 12:
            late = sorted(raw["async"]["runs"], key=lambda r: r[1])[-3:]
            res.errors["lambda async slow"] = (
                f"the last run ended {makespan:.1f} s after the first invoke (ideal 4 s); the last to start "
                f"[event, start s, end s]: {[[n, round(a, 2), round(b, 2)] for n, a, b in late]}"
            )
        if peak > 10 or missing or duplicates:
            res.errors["lambda async"] = f"peak {peak}, missing {missing[:20]}, duplicates {duplicates}"
    finally:
        shutil.rmtree(outdir, ignore_errors=True)


# --------------------------------------------------------------------------------------------------------
# Services whose data grows: a hot path's figures at a few items and at many, the server's RSS as it fills
# --------------------------------------------------------------------------------------------------------
def fill_to(
    server: Server,
    res: Results,
    section: str,
    what: str,
    how: str,
    fill,
    done: int,
    count: int,
    args,
    step: int = 1,
) -> float:
    """fill(conn, first, end) over [done, count) in steps of `step` on args.threads connections; rows: the
    fill's rate, and the server's RSS after it (before it in the note). Seconds the fill took."""
    rss0 = server.rss_mb()
    seconds, failed = parallel(
        server.port, lambda c, i: fill(c, i, min(i + step, count)), range(done, count, step), args.threads
    )
    res.add(
        section,
        f"fill {done:,} -> {count:,} {what}: parallel {how} ({args.threads} threads)",
        (count - done) / seconds,
        f"{what}/s",
        f"{failed} requests failed" if failed else "",
    )
    res.add(
        section, f"  server RSS at {count:,} {what}", server.rss_mb(), "MB", f"before the fill {rss0:.1f} MB"
    )
    return seconds


def median_row(res: Results, section: str, measure: str, times: list[float], note: str = "") -> None:
    res.add(
        section,
        f"{measure} (median of {len(times)})",
        median_ms(times),
        "ms",
        f"p90 {statistics.quantiles(times, n=10)[-1] * 1000:.2f} ms" + (f"; {note}" if note else ""),
    )


def secrets_section(server: Server, res: Results, sizes: dict, args) -> None:
    """GetSecretValue rate and ListSecrets' first page at a few secrets and at many."""
    raw = res.raw.setdefault("secrets", {})
    conn = Conn(server.port)

    def sm(action: str, payload: dict) -> dict:
        return json_req("secretsmanager", f"secretsmanager.{action}", payload, "1.1")

    def create(c: Conn, first: int, end: int) -> None:
        for k in range(first, end):
            secret = json.dumps({"user": "app", "password": f"p{k:06d}"})
            call(c, sm("CreateSecret", {"Name": f"scale/secret-{k:06d}", "SecretString": secret}))

    done = 0
    for count in (sizes["few"], sizes["records"]):
        fill_s = fill_to(server, res, "secrets", "secrets", "CreateSecret", create, done, count, args)
        done = count
        get = sm("GetSecretValue", {"SecretId": "scale/secret-000000"})
        rate, n = rate_of(conn, get, "GetSecretValue", args.seconds)
        res.add("secrets", f"GetSecretValue at {count:,} secrets (c=1)", rate, "req/s", f"{n:,} calls")
        listing = sm("ListSecrets", {})
        page = len(call(conn, listing)["SecretList"])
        times = latencies(conn, listing, "ListSecrets", expect=b'"SecretList"')
        median_row(
            res, "secrets", f"ListSecrets first page at {count:,} secrets", times, f"{page} on the page"
        )
        raw[str(count)] = {"fill_s": fill_s, "get_per_s": rate, "list_first_page_s": times, "page": page}


def metrics_section(server: Server, res: Results, sizes: dict, args) -> None:
    """PutMetricData rate; GetMetricData of one busy metric and ListMetrics' first page as the number of
    distinct metric names grows."""
    raw = res.raw.setdefault("metrics", {})
    conn = Conn(server.port)

    def cw(action: str, params: dict) -> dict:
        return query_req("monitoring", action, "2010-08-01", params)

    datum = {"MetricData.member.1.MetricName": "hot", "MetricData.member.1.Unit": "Milliseconds"}
    put = cw("PutMetricData", {"Namespace": "Scale", **datum, "MetricData.member.1.Value": "12.5"})
    rate, n = rate_of(conn, put, "PutMetricData", args.seconds)
    res.add("metrics", "PutMetricData, one datum of one metric (c=1)", rate, "req/s", f"{n:,} datapoints")
    raw["put_per_s"], raw["hot_datapoints"] = rate, n

    def put_names(c: Conn, first: int, end: int) -> None:
        data = {}
        for j, k in enumerate(range(first, end), 1):
            data[f"MetricData.member.{j}.MetricName"] = f"m{k:06d}"
            data[f"MetricData.member.{j}.Value"] = str(k)
        call_xml(c, cw("PutMetricData", {"Namespace": "Scale", **data}))

    now = time.time()
    get = cw(
        "GetMetricData",
        {
            "StartTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 3600)),
            "EndTime": time.strftime(
                "%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 600)
            ),  # past the rate loop's last datapoint, whatever the load
            "MetricDataQueries.member.1.Id": "m1",
            "MetricDataQueries.member.1.MetricStat.Metric.Namespace": "Scale",
            "MetricDataQueries.member.1.MetricStat.Metric.MetricName": "hot",
            "MetricDataQueries.member.1.MetricStat.Period": "60",
            "MetricDataQueries.member.1.MetricStat.Stat": "Average",
        },
    )
    listing = cw("ListMetrics", {"Namespace": "Scale"})
    done = 0
    for count in (sizes["few_metrics"], sizes["records"]):
        fill_s = fill_to(
            server,
            res,
            "metrics",
            "metric names",
            "PutMetricData of 100 datums",
            put_names,
            done,
            count,
            args,
            step=100,
        )
        done = count
        answer = call_xml(conn, get)
        values = len(xml_all(answer.partition(b"<Values>")[2].partition(b"</Values>")[0], "member"))
        got = latencies(conn, get, "GetMetricData", expect=b"<StatusCode>Complete</StatusCode>")
        median_row(
            res,
            "metrics",
            f"GetMetricData, 1 h of 'hot' by minute, at {count:,} names",
            got,
            f"{n:,} datapoints, {values} minutes with values",
        )
        page = len(xml_all(call_xml(conn, listing), "MetricName"))
        listed = latencies(conn, listing, "ListMetrics", expect=b"<MetricName>")
        median_row(
            res, "metrics", f"ListMetrics first page at {count:,} names", listed, f"{page} on the page"
        )
        raw[str(count)] = {
            "fill_s": fill_s,
            "get_metric_data_s": got,
            "list_first_page_s": listed,
            "page": page,
        }
    rate, n = rate_of(conn, put, "PutMetricData", args.seconds)
    res.add("metrics", f"PutMetricData, one datum of one metric, at {done:,} names (c=1)", rate, "req/s")
    raw["put_per_s_at_many"] = rate


SFN_ROLE = "arn:aws:iam::000000000000:role/scale-sfn"
PASS = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"ok": 1}, "End": True}}})


def executions_section(server: Server, res: Results, sizes: dict, args) -> None:
    """StartSyncExecution rate of an Express Pass machine; ListExecutions' first page and DescribeExecution
    as a Standard machine's executions grow."""
    raw = res.raw.setdefault("executions", {})
    conn = Conn(server.port)

    def sfn(action: str, payload: dict) -> dict:
        return json_req("states", f"AWSStepFunctions.{action}", payload)

    def machine(name: str, kind: str) -> str:
        body = {"name": name, "definition": PASS, "roleArn": SFN_ROLE, "type": kind}
        return call(conn, sfn("CreateStateMachine", body))["stateMachineArn"]

    express, standard = machine("scale-express", "EXPRESS"), machine("scale-standard", "STANDARD")
    sync = sfn("StartSyncExecution", {"stateMachineArn": express, "input": '{"order": 1}'})
    if call(conn, sync).get("status") != "SUCCEEDED":
        raise Failed(f"StartSyncExecution did not succeed: {call(conn, sync)}")
    rate, n = rate_of(conn, sync, "StartSyncExecution", args.seconds)
    res.add(
        "executions", "StartSyncExecution, Express Pass machine (c=1)", rate, "req/s", f"{n:,} executions"
    )
    raw["sync_per_s"] = rate

    def start(c: Conn, first: int, end: int) -> None:
        for k in range(first, end):
            call(
                c, sfn("StartExecution", {"stateMachineArn": standard, "name": f"run-{k:06d}", "input": "{}"})
            )

    running = sfn("ListExecutions", {"stateMachineArn": standard, "statusFilter": "RUNNING", "maxResults": 1})
    listing = sfn("ListExecutions", {"stateMachineArn": standard})
    arn = standard.replace(":stateMachine:", ":execution:") + ":run-000000"
    describe = sfn("DescribeExecution", {"executionArn": arn})
    done = 0
    for count in (sizes["few"], sizes["records"]):
        fill_s = fill_to(
            server,
            res,
            "executions",
            "executions",
            "StartExecution (Standard, Pass)",
            start,
            done,
            count,
            args,
        )
        done = count
        t0, deadline = time.perf_counter(), time.monotonic() + 300
        while call(conn, running)["executions"]:
            if time.monotonic() > deadline:
                raise Failed(f"executions still RUNNING 300 s after the fill to {count:,}")
            time.sleep(0.05)
        drain_s = time.perf_counter() - t0
        res.add("executions", "  every one SUCCEEDED, after the fill's end", drain_s, "s")
        page = len(call(conn, listing)["executions"])
        listed = latencies(conn, listing, "ListExecutions", expect=b'"executions"')
        median_row(
            res, "executions", f"ListExecutions first page at {count:,}", listed, f"{page} on the page"
        )
        described = latencies(conn, describe, "DescribeExecution", expect=b'"SUCCEEDED"')
        median_row(res, "executions", f"DescribeExecution at {count:,}", described)
        raw[str(count)] = {
            "fill_s": fill_s,
            "drain_s": drain_s,
            "list_first_page_s": listed,
            "describe_s": described,
            "page": page,
        }


def kinesis_section(server: Server, res: Results, sizes: dict, args) -> None:
    """kinesis_scale.py's measure at sizes["many"] records: PutRecords fill, GetRecords, RSS."""
    import kinesis_scale  # imports this file as `scale`: the measure only uses the Server it is given

    out = kinesis_scale.measure(
        server, argparse.Namespace(records=sizes["many"], shards=4, threads=args.threads)
    )
    res.raw["kinesis"] = out
    samples = out["rss_samples"]
    res.add(
        "kinesis",
        f"fill {out['records']:,} records: parallel PutRecords of 500 x 100 B ({args.threads} "
        "threads, 4 shards, throttling off)",
        out["records_per_second"],
        "records/s",
        f"{out['failed']} failed" if out["failed"] else "",
    )
    res.add(
        "kinesis",
        f"  server RSS at {samples[-1]['records']:,} records",
        samples[-1]["rss_mb"],
        "MB",
        f"before the fill {samples[0]['rss_mb']:.1f} MB",
    )
    res.add(
        "kinesis",
        "GetRecords Limit 100 at TRIM_HORIZON (median of 20)",
        out["get_records_100_trim_horizon_ms"],
        "ms",
    )
    res.add(
        "kinesis", "GetRecords at LATEST (the tip, empty; median of 20)", out["get_records_latest_ms"], "ms"
    )


def instances_section(server: Server, res: Results, sizes: dict, args) -> None:
    """DescribeInstances at 0 instances and at many (records: launched without user data, then stopped, 64
    at a time under the vCPU quota, the clock moved over the 2 s transitions); then a few sandboxes booted."""
    raw = res.raw.setdefault("instances", {})
    conn = Conn(server.port)

    def ec2(action: str, params: dict) -> dict:
        return query_req("ec2", action, "2016-11-15", params)

    def advance(duration: str) -> None:
        body = json.dumps({"advance": duration}).encode()
        answer = bench.http_request(
            server.port, "POST", "/_overcast/clock", {"Content-Type": "application/json"}, body, 30
        )
        check(answer[0] or 0, answer[1], "advancing the clock")

    images = ec2(
        "DescribeImages",
        {"Owner.1": "amazon", "Filter.1.Name": "name", "Filter.1.Value.1": "al2023-ami-2023*-x86_64"},
    )
    image = xml_all(call_xml(conn, images), "imageId")[0]
    queries = {
        "DescribeInstances, unpaged": ec2("DescribeInstances", {}),
        "DescribeInstances MaxResults 100, first page": ec2("DescribeInstances", {"MaxResults": "100"}),
    }

    def measure(count: int, first_id: str | None) -> None:
        by_id = ec2("DescribeInstances", {"InstanceId.1": first_id}) if first_id else None
        for label, req in [
            *queries.items(),
            *([("DescribeInstances of one InstanceId", by_id)] if by_id else []),
        ]:
            status, body, first_s = conn.send(req)
            check(status, body, label)
            times = latencies(conn, req, label)
            median_row(
                res,
                "instances",
                f"{label} at {count:,}",
                times,
                f"{body.count(b'<instanceId>')} listed; first call {first_s * 1000:.1f} ms",
            )
            raw.setdefault(str(count), {})[label] = {"first_s": first_s, "s": times}

    call_xml(conn, ec2("DescribeVpcs", {}))  # the region's default VPC, made by its first request
    measure(0, None)
    rss0, t0, ids, runs = server.rss_mb(), time.perf_counter(), [], []
    while len(ids) < sizes["instances"]:
        batch = min(64, sizes["instances"] - len(ids))  # 64 vCPUs per region, t2.nano has 1
        launch = ec2(
            "RunInstances",
            {"ImageId": image, "InstanceType": "t2.nano", "MinCount": str(batch), "MaxCount": str(batch)},
        )
        status, body, seconds = conn.send(launch)
        launched = xml_all(check(status, body, "RunInstances"), "instanceId")
        runs.append(seconds)
        advance("3s")  # pending -> running
        stop = {f"InstanceId.{j}": i for j, i in enumerate(launched, 1)}
        call_xml(conn, ec2("StopInstances", stop))
        advance("3s")  # stopping -> stopped: no longer under the quota
        ids += launched
    fill_s = time.perf_counter() - t0
    res.add(
        "instances",
        f"fill 0 -> {len(ids):,} instances: RunInstances of 64 + StopInstances (c=1)",
        len(ids) / fill_s,
        "instances/s",
        f"RunInstances of 64: median {median_ms(runs):.0f} ms",
    )
    res.add(
        "instances",
        f"  server RSS at {len(ids):,} instances",
        server.rss_mb(),
        "MB",
        f"before the fill {rss0:.1f} MB",
    )
    measure(len(ids), ids[0])
    raw["fill_s"], raw["run_instances_s"] = fill_s, runs
    sandboxes(server, res, conn, ec2, image, sizes["sandboxes"], raw)


def sandboxes(server: Server, res: Results, conn: Conn, ec2, image: str, count: int, raw: dict) -> None:
    """`count` instances with user data: each is a sandbox (network namespaces where the machine allows
    them) that prints a line; seconds from RunInstances to every console output holding it, and the RSS."""
    unshare = ["unshare", "--pid", "--fork", "--net", "true"]
    namespaces = (
        bool(shutil.which("unshare")) and subprocess.run(unshare, capture_output=True).returncode == 0
    )
    user_data = base64.b64encode(b"#!/bin/sh\necho scale-booted-$(hostname)\n").decode()
    rss0, procs0 = server.rss_mb(), server.processes()
    t0 = time.perf_counter()
    launch = ec2(
        "RunInstances",
        {
            "ImageId": image,
            "InstanceType": "t2.nano",
            "MinCount": str(count),
            "MaxCount": str(count),
            "UserData": user_data,
        },
    )
    ids = xml_all(call_xml(conn, launch), "instanceId")
    booted: dict[str, float] = {}
    deadline = time.monotonic() + 120
    while len(booted) < len(ids) and time.monotonic() < deadline:
        for i in ids:
            if i not in booted:
                output = xml_all(
                    call_xml(conn, ec2("GetConsoleOutput", {"InstanceId": i, "Latest": "true"})), "output"
                )
                if output and b"scale-booted" in base64.b64decode(output[0]):
                    booted[i] = time.perf_counter() - t0
        time.sleep(0.05)
    rss, procs = server.rss_mb(), server.processes()
    kind = "network-namespace sandboxes" if namespaces else "no namespaces here: plain processes"
    if len(booted) < len(ids):
        call_xml(conn, ec2("TerminateInstances", {f"InstanceId.{j}": i for j, i in enumerate(ids, 1)}))
        if namespaces:
            raise Failed(f"{len(booted)} of {len(ids)} sandboxes printed their line within 120 s ({kind})")
        res.add("instances", "instances with user data", "skipped", "", f"{kind}; they did not boot in 120 s")
        return
    res.add(
        "instances",
        f"{count} instances with user data ({kind}): RunInstances to the last console line",
        max(booted.values()),
        "s",
        f"first {min(booted.values()):.2f} s",
    )
    res.add(
        "instances",
        f"  server tree RSS with {count} sandboxes",
        rss,
        "MB",
        f"before {rss0:.1f} MB; {procs} processes (before {procs0})",
    )
    raw["sandboxes"] = {
        "namespaces": namespaces,
        "boot_s": booted,
        "rss_mb": rss,
        "rss_before_mb": rss0,
        "processes": procs,
        "processes_before": procs0,
    }
    call_xml(conn, ec2("TerminateInstances", {f"InstanceId.{j}": i for j, i in enumerate(ids, 1)}))


# --------------------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------------------
def server_log_errors(path: Path) -> list[str]:
    """Each ERROR record of the server's log: its first line and the exception its traceback ends with."""
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return []
    errors: list[str] = []
    current: list[str] | None = None
    for line in [*lines, "END"]:
        text = line.strip()
        if current is not None:
            if (
                line[:1].isspace()
                or not text
                or text.startswith(("Traceback", "During handling", "The above"))
            ):
                continue
            if re.match(r"[\w.]+(Error|Exception|Exit|Interrupt)\b", text):
                current[1:] = [text]  # the last exception of a chained traceback wins
                continue
            errors.append(" / ".join(current))
            current = None
        if line.startswith("ERROR"):
            current = [text]
    return errors


SECTIONS = {
    "s3": s3_section,
    "sqs": sqs_section,
    "ddb": ddb_section,
    "lambda": lambda_section,
    "secrets": secrets_section,
    "metrics": metrics_section,
    "executions": executions_section,
    "kinesis": kinesis_section,
    "instances": instances_section,  # last: it moves the virtual clock
}
DEFAULT_SECTIONS = ("s3", "sqs", "ddb", "lambda")


def print_table(res: Results) -> None:
    lines = [("section", "measure", "value", "unit", "note")]
    for row in res.rows:
        v = row["value"]
        shown = v if isinstance(v, str) else f"{v:,.{decimals(v)}f}"
        lines.append((row["section"], row["measure"], shown, row["unit"], row["note"]))
    widths = [max(len(str(line[i])) for line in lines) for i in range(5)]
    print()
    for j, line in enumerate(lines):
        print(
            "  ".join(
                str(cell).rjust(widths[i]) if i == 2 else str(cell).ljust(widths[i])
                for i, cell in enumerate(line)
            ).rstrip()
        )
        if j == 0:
            print("  ".join("-" * w for w in widths))
    for name, error in res.errors.items():
        print(f"\n  ERROR in {name}: {error}")
    print()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--only",
        default=",".join(DEFAULT_SECTIONS),
        help=f"comma list of sections, or all ({', '.join(SECTIONS)}; default: %(default)s)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="100 MiB object, 20,000 keys/messages/items/records, N = 2,000, 256 instances",
    )
    p.add_argument(
        "--seconds", type=float, default=5.0, help="seconds per rate measurement (default %(default)s)"
    )
    p.add_argument(
        "--threads", type=int, default=8, help="client threads for the fills (default %(default)s)"
    )
    p.add_argument(
        "--many",
        type=int,
        help="keys/messages/items for the depth measures (e.g. 1000000 for the RSS targets)",
    )
    p.add_argument("--json", default=str(bench.RESULTS / "scale.json"), help="where to write results")
    args = p.parse_args(argv)
    sections = (
        list(SECTIONS) if args.only == "all" else [s.strip() for s in args.only.split(",") if s.strip()]
    )
    unknown = [s for s in sections if s not in SECTIONS]
    if unknown:
        p.error(f"unknown section(s) {unknown}; known: {', '.join(SECTIONS)}")
    sizes = (
        {"big_bytes": 100 * MiB, "small": 1_000, "many": 20_000, "records": 2_000, "instances": 256}
        if args.quick
        else {"big_bytes": 1024 * MiB, "small": 1_000, "many": 100_000, "records": 10_000, "instances": 1_024}
    )
    sizes.update(few=10, few_metrics=100, sandboxes=3)

    if args.many:
        sizes["many"] = args.many
    logdir = bench.RESULTS / "logs"
    logdir.mkdir(parents=True, exist_ok=True)
    with open("/proc/loadavg") as f:
        loadavg = f.read().split()[:3]
    server = Server(logdir)
    log(f"overcast started on port {server.port} in {server.startup_s:.3f} s; log {server.logfile}")
    res = Results()
    t_all = time.perf_counter()
    section_s = {}
    try:
        for name in sections:
            log(f"{name}:")
            t0 = time.perf_counter()
            try:
                SECTIONS[name](server, res, sizes, args)
            except Exception as exc:
                res.errors[name] = f"{exc!r}\n{traceback.format_exc(limit=-4)}"
                log(f"  {name} failed: {exc!r}")
                if server.running.proc.poll() is not None:
                    log(f"  the server exited: {server.running.tail()}")
                    break
            section_s[name] = time.perf_counter() - t0
        rss_end = server.rss_mb()
    finally:
        server.stop()
    # Errors the server logged (an internal error, a failed asynchronous invocation...), even if the client
    # never saw them: reported, with their last line (the exception).
    server_errors = server_log_errors(Path(server.logfile))
    for error in server_errors[:5]:
        res.errors.setdefault("server log", "")
        res.errors["server log"] += f"\n    {error}"
    if len(server_errors) > 5:
        res.errors["server log"] += f"\n    ... {len(server_errors) - 5} more"
    print_table(res)
    doc = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "loadavg_before": loadavg,
        "overcast_version": bench.SERVERS["overcast"].version(),
        "settings": {
            "sections": sections,
            "quick": args.quick,
            "sizes": sizes,
            "seconds": args.seconds,
            "threads": args.threads,
        },
        "startup_s": server.startup_s,
        "rss_end_mb": rss_end,
        "section_s": section_s,
        "total_s": time.perf_counter() - t_all,
        "rows": res.rows,
        "raw": res.raw,
        "errors": res.errors,
        "server_log_errors": server_errors,
    }
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(doc, indent=2, default=str) + "\n")
    print(f"results written to {args.json}; server log {server.logfile}")
    return 1 if res.errors else 0


if __name__ == "__main__":
    sys.exit(main())
