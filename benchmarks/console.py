"""The console's targets, measured in headless Chromium against a real `overcast start` process:

- the dashboard is interactive (cards and search answer) in under 300 ms with 1,000 resources;
- a bucket of 100,000 objects is browsed a page at a time (the time of the first, next and a deep page, and
  the keys each page asked for).

    .venv/bin/python benchmarks/console.py                 # 1,000 resources, 100,000 objects (a few minutes)
    .venv/bin/python benchmarks/console.py --objects 20000

Needs Debian's chromium (/usr/bin/chromium) and playwright (a dev extra). Prints JSON; nothing is asserted:
the machine is shared, so figures vary.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.console.browser import ConsolePage, launch  # noqa: E402
from tests.server_process import ServerProcess  # noqa: E402


def client(endpoint: str, service: str):
    import boto3
    from botocore.config import Config

    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(max_pool_connections=16, retries={"max_attempts": 10}),
    )


def put_range(endpoint: str, start: int, stop: int) -> None:
    s3 = client(endpoint, "s3")
    with ThreadPoolExecutor(8) as pool:
        list(
            pool.map(
                lambda i: s3.put_object(Bucket="big", Key=f"data/{i:06d}.json", Body=b"{}"),
                range(start, stop),
            )
        )


def seed(endpoint: str, objects: int) -> float:
    sqs, sns, s3 = client(endpoint, "sqs"), client(endpoint, "sns"), client(endpoint, "s3")
    for index in range(400):
        sqs.create_queue(QueueName=f"q-{index:04d}")
        sns.create_topic(Name=f"t-{index:04d}")
    for index in range(199):
        s3.create_bucket(Bucket=f"b-{index:04d}")
    s3.create_bucket(Bucket="big")
    started = time.perf_counter()
    step = max(1, objects // 16)
    with ProcessPoolExecutor(4) as pool:
        list(
            pool.map(
                put_range,
                [endpoint] * 16,
                range(0, objects, step),
                [min(i + step, objects) for i in range(0, objects, step)],
            )
        )
    return time.perf_counter() - started


def dashboard(browser, endpoint: str, runs: int = 5) -> dict:
    ready, counted = [], []
    for _ in range(runs):
        context = browser.new_context(viewport={"width": 1360, "height": 900})
        page = ConsolePage(context.new_page(), endpoint)
        page.open("#/")
        page.page.wait_for_selector("#view[data-counted=true]", timeout=120_000)
        ready.append(float(page.page.get_attribute("body", "data-ready-ms")))
        counted.append(page.page.evaluate("performance.now()"))
        context.close()
    return {
        "interactive_ms": ready,
        "median_interactive_ms": statistics.median(ready),
        "all_counted_ms": counted,
    }


def bucket(browser, endpoint: str) -> dict:
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    page = ConsolePage(context.new_page(), endpoint)
    page.open("#/")
    timings = {}
    started = time.perf_counter()
    page.go("#/s3/big?prefix=data%2F")
    page.page.wait_for_selector("#page-info:text('Page 1 · 100 entries')", timeout=60_000)
    timings["first_page_ms"] = (time.perf_counter() - started) * 1000
    for number in range(2, 6):
        started = time.perf_counter()
        page.page.click("#page-next")
        page.page.wait_for_selector(f"#page-info:text('Page {number} · 100 entries')", timeout=60_000)
        timings[f"page_{number}_ms"] = (time.perf_counter() - started) * 1000
    timings["rows_in_page"] = page.page.locator(".object-name").count()
    context.close()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--objects", type=int, default=100_000)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as data:
        server = ServerProcess(Path(data), "--log-level", "warning")
        try:
            seeded = seed(server.endpoint, args.objects)
            with sync_playwright() as playwright:
                browser = launch(playwright)
                result = {
                    "objects": args.objects,
                    "seed_seconds": round(seeded, 1),
                    "dashboard_1000_resources": dashboard(browser, server.endpoint),
                    "bucket": bucket(browser, server.endpoint),
                }
                browser.close()
        finally:
            server.stop()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
