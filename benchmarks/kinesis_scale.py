#!/usr/bin/env python3
"""Kinesis at scale: a stream filled with 1,000,000 records (PutRecords of 500, 100-byte records) while the
server's RSS is sampled, then GetRecords (Limit 100) at the trim horizon and near the tip, and the RSS again.

Records live in SQLite, so the RSS must stay flat as the stream grows. Throttling is switched off for the fill
(`POST /_overcast/kinesis/throttling`), as 1,000 records/s per shard would take hours.

    .venv/bin/python benchmarks/kinesis_scale.py [--records 1000000] [--shards 4] [--threads 4]

Results are printed and written to benchmarks/results/kinesis_scale.json.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import scale  # noqa: E402  (re-executes under the project venv when needed)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()

    logdir = Path(tempfile.mkdtemp(prefix="kinesis-scale-"))
    server = scale.Server(logdir)
    try:
        result = measure(server, args)
    finally:
        server.stop()
    out = HERE / "results" / "kinesis_scale.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


def measure(server: scale.Server, args: argparse.Namespace) -> dict:
    request = urllib.request.Request(
        server.endpoint + "/_overcast/kinesis/throttling", data=b'{"enabled": false}', method="POST"
    )
    kinesis = server.client("kinesis")
    kinesis.create_stream(StreamName="scale", ShardCount=args.shards)
    urllib.request.urlopen(request, timeout=10).read()
    samples = [{"records": 0, "rss_mb": round(server.rss_mb(), 1)}]
    batch = 500
    batches = args.records // batch
    clients = [server.client("kinesis") for _ in range(args.threads)]

    def put(i: int) -> int:
        client = clients[i % len(clients)]
        records = [{"Data": os.urandom(50).hex().encode(), "PartitionKey": f"k{i}-{j}"} for j in range(batch)]
        return client.put_records(StreamName="scale", Records=records)["FailedRecordCount"]

    started = time.perf_counter()
    failed = 0
    step = max(1, batches // 10)
    with concurrent.futures.ThreadPoolExecutor(args.threads) as pool:
        for chunk in range(0, batches, step):
            failed += sum(pool.map(put, range(chunk, min(chunk + step, batches))))
            samples.append(
                {"records": min(chunk + step, batches) * batch, "rss_mb": round(server.rss_mb(), 1)}
            )
            print(samples[-1], flush=True)
    fill_s = time.perf_counter() - started

    def read_ms(kind: str) -> float:
        timings = []
        for _ in range(20):
            iterator = kinesis.get_shard_iterator(
                StreamName="scale", ShardId="shardId-000000000000", ShardIteratorType=kind
            )["ShardIterator"]
            t0 = time.perf_counter()
            answer = kinesis.get_records(ShardIterator=iterator, Limit=100)
            timings.append((time.perf_counter() - t0) * 1000)
            assert kind == "LATEST" or len(answer["Records"]) == 100
        return round(statistics.median(timings), 2)

    return {
        "records": batches * batch,
        "failed": failed,
        "shards": args.shards,
        "fill_seconds": round(fill_s, 1),
        "records_per_second": round(batches * batch / fill_s),
        "rss_samples": samples,
        "rss_growth_mb": round(samples[-1]["rss_mb"] - samples[1]["rss_mb"], 1),
        "get_records_100_trim_horizon_ms": read_ms("TRIM_HORIZON"),
        "get_records_latest_ms": read_ms("LATEST"),
        "rss_after_reads_mb": round(server.rss_mb(), 1),
    }


if __name__ == "__main__":
    main()
