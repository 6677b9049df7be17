"""CloudFormation: a stack of 50 independent SQS queues from CreateStack to CREATE_COMPLETE, side by side.

This is a latency, not a throughput: run it on its own,

    .venv/bin/python benchmarks/services/cloudformation.py [--servers overcast,ministack,moto] [--repeat 5]

Each server is started as benchmarks/run.py starts it; the stack is created with boto3 and DescribeStacks is
polled every 5 ms until the stack settles; the figure is the median over the repeats (a new stack each time).
A server whose stack does not reach CREATE_COMPLETE gets its final status instead of a figure.

OPERATIONS (for run.py's throughput table): ValidateTemplate of the same 50-queue template, which is the
template parsing and checking every stack operation starts with.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

QUEUES = 50
TEMPLATE = json.dumps(
    {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            f"Queue{i}": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": 30}}
            for i in range(QUEUES)
        },
    }
)

OPERATIONS = [
    {
        "name": "cloudformation-validate-template",
        "service": "cloudformation",
        "protocol": "query",
        "method": "POST",
        "path": "/",
        "headers": {"Content-Type": "application/x-www-form-urlencoded"},
        "body": "Action=ValidateTemplate&Version=2010-05-15&TemplateBody="
        + __import__("urllib.parse").parse.quote(TEMPLATE),
        "default": False,
    },
]


def _client(port: int):
    import boto3
    from botocore.config import Config

    return boto3.client(
        "cloudformation",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}),
    )


def create_to_complete(port: int, name: str, timeout: float = 120) -> tuple[float, str]:
    """Seconds from CreateStack to the stack's settled status, and that status."""
    cfn = _client(port)
    started = time.perf_counter()
    cfn.create_stack(StackName=name, TemplateBody=TEMPLATE)
    while True:
        status = cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
        elapsed = time.perf_counter() - started
        if not status.endswith("IN_PROGRESS"):
            made = len(cfn.list_stack_resources(StackName=name)["StackResourceSummaries"])
            if status == "CREATE_COMPLETE" and made != QUEUES:  # a server that skips the work does not count
                return elapsed, f"CREATE_COMPLETE with {made} of {QUEUES} resources"
            return elapsed, status
        if elapsed > timeout:
            return elapsed, f"{status} after {timeout:.0f} s"
        time.sleep(0.005)


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import run  # benchmarks/run.py: its servers and how they start

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--servers", default="overcast,ministack,moto")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    logdir = Path(tempfile.mkdtemp(prefix="cfn-bench-"))
    results: dict[str, tuple[float | None, str]] = {}
    for name in args.servers.split(","):
        server = run.SERVERS[name]
        server.ensure_installed()
        port = run.free_port()
        running = run.Running(server, port, logdir)
        try:
            running.wait_ready()
            timings, status = [], "CREATE_COMPLETE"
            for attempt in range(args.repeat):
                elapsed, status = create_to_complete(port, f"bench-{attempt}")
                if status != "CREATE_COMPLETE":
                    break
                timings.append(elapsed)
            results[name] = (
                statistics.median(timings) if timings and status == "CREATE_COMPLETE" else None,
                status,
            )
        except Exception as error:  # a peer that cannot do it at all is reported, not fatal
            results[name] = (None, f"error: {error}"[:120])
        finally:
            running.stop()
    fastest_peer = min(
        (value for key, (value, _) in results.items() if run.is_peer(key) and value), default=None
    )
    print(f"\nA stack of {QUEUES} SQS queues, CreateStack to CREATE_COMPLETE (median of {args.repeat}):")
    for name, (value, status) in results.items():
        figure = f"{value:8.3f} s" if value is not None else f"   {status}"
        ratio = (
            f"  ({fastest_peer / value:.1f}x the fastest peer)"
            if value and fastest_peer and not run.is_peer(name)
            else ""
        )
        print(f"  {name:12} {figure}{ratio}")


if __name__ == "__main__":
    main()
