#!/usr/bin/env python3
"""The data planes no peer has, measured alone: an ALB's added latency and the DNS server's queries/s.

    .venv/bin/python benchmarks/traffic.py [--duration 5] [--records 10000]

1. ALB: a small keep-alive HTTP target (asyncio, fixed 200 answer) is measured directly and through an
   Application Load Balancer forwarding to it (IP target), with `hey` at concurrency 1 and 8; the figure is the
   median latency through the ALB minus the median direct (the issue's target: at most 1 ms added).
2. DNS: a hosted zone of 10,000 A records, then UDP queries for its names in random order, round after round,
   from one client process keeping 64 queries in flight; queries answered per second over the run (target: at
   least 10,000), and over the first round alone (every answer computed, none kept from before).

Overcast runs as its own process (`overcast start --ephemeral --dns-port`), like a user's.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OVERCAST = Path(sys.executable).with_name("overcast")


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


TARGET = r"""
import asyncio, sys
try:
    import uvloop; uvloop.install()
except ImportError:
    pass
BODY = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"
class Target(asyncio.Protocol):
    def connection_made(self, transport): self.transport, self.buffer = transport, b""
    def data_received(self, data):
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            _, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            self.transport.write(BODY)
async def main():
    server = await asyncio.get_running_loop().create_server(Target, "127.0.0.1", int(sys.argv[1]))
    await server.serve_forever()
asyncio.run(main())
"""


def start_overcast(port: int, dns_port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            str(OVERCAST),
            "start",
            "--ephemeral",
            "--port",
            str(port),
            "--dns-port",
            str(dns_port),
            "--log-level",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("overcast did not start")


def client(service: str, port: int):
    import boto3

    return boto3.client(service, endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")  # fmt: skip


def hey_median(url: str, concurrency: int, duration: int) -> float:
    """Median latency in milliseconds over `duration` seconds at `concurrency`."""
    out = subprocess.run(
        ["hey", "-z", f"{duration}s", "-c", str(concurrency), url], capture_output=True, text=True, check=True
    )
    match = re.search(r"50%+ in ([\d.]+) secs", out.stdout)
    if not match:
        raise SystemExit(f"unexpected hey output:\n{out.stdout}")
    return float(match.group(1)) * 1000


def alb_latency(port: int, duration: int) -> dict:
    target_port = free_port()
    target = subprocess.Popen([sys.executable, "-c", TARGET, str(target_port)])
    try:
        time.sleep(0.5)
        elb = client("elbv2", port)
        lb = elb.create_load_balancer(Name="bench", Subnets=["subnet-a", "subnet-b"])["LoadBalancers"][0]
        tg = elb.create_target_group(
            Name="bench", Protocol="HTTP", Port=80, VpcId=lb["VpcId"], TargetType="ip"
        )["TargetGroups"][0]
        elb.register_targets(
            TargetGroupArn=tg["TargetGroupArn"], Targets=[{"Id": "127.0.0.1", "Port": target_port}]
        )
        elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                            DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])  # fmt: skip
        alb_port = int(lb["DNSName"].rsplit(":", 1)[1])
        results = {}
        for concurrency in (1, 8):
            hey_median(f"http://127.0.0.1:{alb_port}/", concurrency, 1)  # warm-up
            direct = hey_median(f"http://127.0.0.1:{target_port}/", concurrency, duration)
            through = hey_median(f"http://127.0.0.1:{alb_port}/", concurrency, duration)
            results[f"c={concurrency}"] = {"direct_ms": round(direct, 3), "alb_ms": round(through, 3),
                                           "added_ms": round(through - direct, 3)}  # fmt: skip
        return results
    finally:
        target.kill()


def dns_rate(port: int, dns_port: int, records: int, duration: int) -> dict:
    import dns.message

    r53 = client("route53", port)
    zone = r53.create_hosted_zone(Name="bench.example", CallerReference="bench")["HostedZone"]["Id"]
    names = [f"host{i}.bench.example" for i in range(records)]
    for start in range(0, records, 1000):
        changes = [{"Action": "CREATE", "ResourceRecordSet": {"Name": name, "Type": "A", "TTL": 60,
                    "ResourceRecords": [{"Value": f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"}]}}
                   for i, name in enumerate(names[start : start + 1000], start)]  # fmt: skip
        r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": changes})
    queries = [dns.message.make_query(name, "A").to_wire() for name in random.sample(names, len(names))]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.connect(("127.0.0.1", dns_port))
    sock.settimeout(1.0)
    window, sent, answered, errors = 64, 0, 0, 0
    for wire in queries[:window]:
        sock.send(wire)
        sent += 1
    started = time.monotonic()
    cold_elapsed = None
    deadline = started + duration
    while time.monotonic() < deadline or cold_elapsed is None:
        try:
            reply = sock.recv(4096)
        except TimeoutError:
            errors += 1
            sock.send(queries[sent % len(queries)])
            sent += 1
            continue
        answered += 1
        if reply[3] & 0x0F:
            errors += 1
        if answered == len(queries):  # every name asked once: each answer computed, none kept yet
            cold_elapsed = time.monotonic() - started
        sock.send(queries[sent % len(queries)])
        sent += 1
    elapsed = time.monotonic() - started
    return {
        "records": records,
        "queries_per_second": round(answered / elapsed),
        "first_pass_queries_per_second": round(len(queries) / cold_elapsed),
        "errors": errors,
        "in_flight": window,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--records", type=int, default=10000)
    args = parser.parse_args()
    if not shutil.which("hey"):
        raise SystemExit("hey is needed (apt install hey)")
    port, dns_port = free_port(), free_port(socket.SOCK_DGRAM)
    process = start_overcast(port, dns_port)
    try:
        results = {
            "alb": alb_latency(port, args.duration),
            "dns": dns_rate(port, dns_port, args.records, args.duration),
        }
    finally:
        process.terminate()
        process.wait(timeout=20)
    print(json.dumps(results, indent=2))
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "traffic.json").write_text(json.dumps({"cpus": os.cpu_count(), **results}, indent=2))


if __name__ == "__main__":
    main()
