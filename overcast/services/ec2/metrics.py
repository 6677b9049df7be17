"""AWS/EC2 metrics of running instances, published to CloudWatch (the `published_metrics` hook, kit/metrics.py).

Per instance (dimension InstanceId) and per Auto Scaling group (AutoScalingGroupName, a statistic set over its
running members), each whole minute:
- CPUUtilization: the CPU time the instance's sandbox (its process group) used over the real time since the
  last collection, as a percentage of the instance type's vCPUs; an instance without a sandbox (no user data)
  runs nothing and is idle (0);
- NetworkIn / NetworkOut: the bytes its network namespace's interfaces received and sent since then (0 where
  sandboxes have no network namespace of their own);
- StatusCheckFailed, StatusCheckFailed_Instance, StatusCheckFailed_System: 1 when an instance that was
  booted has no living sandbox (its init is gone), else 0.
CPU and traffic are measured in real time (they are real work), the datapoints stamped on the virtual clock.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from overcast.services.kit.metrics import MetricPoint

if TYPE_CHECKING:
    from overcast.services.ec2.provider import Ec2Provider
    from overcast.services.ec2.store import Resource

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
GROUP_TAG = "aws:autoscaling:groupName"


class Meter:
    """The last reading of each sandbox ({instance id: (monotonic time, CPU seconds, bytes in, bytes out)}),
    bounded by the running sandboxes."""

    def __init__(self) -> None:
        self.readings: dict[str, tuple[float, float, float, float]] = {}

    def measure(
        self, instance_id: str, pid: int | None, namespaced: bool, sessions: dict[int, float]
    ) -> tuple[float, float, float]:
        """(CPU seconds per second, bytes in, bytes out) since the last reading of this instance; `sessions`:
        CPU seconds by session id (`cpu_by_session`)."""
        if pid is None:
            self.readings.pop(instance_id, None)
            return 0.0, 0.0, 0.0
        now = time.monotonic()
        cpu = sessions.get(pid, 0.0)
        received, sent = _namespace_traffic(pid) if namespaced else (0.0, 0.0)
        last = self.readings.get(instance_id)
        self.readings[instance_id] = (now, cpu, received, sent)
        if last is None or now <= last[0]:
            return 0.0, 0.0, 0.0
        return (
            max(cpu - last[1], 0.0) / (now - last[0]),
            max(received - last[2], 0.0),
            max(sent - last[3], 0.0),
        )

    def forget_others(self, running: set[str]) -> None:
        for instance_id in [i for i in self.readings if i not in running]:
            del self.readings[instance_id]


def published(provider: Ec2Provider, minutes: list[float]) -> list[MetricPoint]:
    points: list[MetricPoint] = []
    instances = provider.store.running_instances()
    meter = provider.meter
    meter.forget_others({i.id for i in instances})
    groups: dict[tuple[str, str, str], list[dict[str, float]]] = {}
    sessions = cpu_by_session() if any(provider.sandboxes.running(i.id) for i in instances) else {}
    for instance in instances:
        values = _values(provider, instance, sessions)
        dimensions = (("InstanceId", instance.id),)
        points += _points(instance.account, instance.region, dimensions, values, minutes)
        group = provider.net.tags.get(provider.net.arn(instance)).get(GROUP_TAG)
        if group:
            groups.setdefault((instance.account, instance.region, group), []).append(values)
    for (account, region, group), members in groups.items():
        for name, unit in UNITS.items():
            samples = [m[name] for m in members]
            for mark in minutes:
                points.append(MetricPoint(account, region, "AWS/EC2", name, (("AutoScalingGroupName", group),),
                                          sum(samples), unit, mark - 60, float(len(samples)), min(samples),
                                          max(samples)))  # fmt: skip
    return points


UNITS = {
    "CPUUtilization": "Percent",
    "NetworkIn": "Bytes",
    "NetworkOut": "Bytes",
    "StatusCheckFailed": "Count",
    "StatusCheckFailed_Instance": "Count",
    "StatusCheckFailed_System": "Count",
}


def _values(provider: Ec2Provider, instance: Resource, sessions: dict[int, float]) -> dict[str, float]:
    sandbox = provider.sandboxes.running(instance.id)
    process = sandbox.process if sandbox else None
    alive = process is not None and process.poll() is None
    cpu, received, sent = provider.meter.measure(
        instance.id, process.pid if alive and process else None, provider.sandboxes.namespaces, sessions
    )
    options = instance.body.get("CpuOptions") or {}
    vcpus = max(int(options.get("CoreCount", 1)) * int(options.get("ThreadsPerCore", 1)), 1)
    failed = 1.0 if instance.body.get("_Booted") and sandbox is not None and not alive else 0.0
    return {
        "CPUUtilization": round(min(cpu / vcpus * 100, 100.0), 4),
        "NetworkIn": received,
        "NetworkOut": sent,
        "StatusCheckFailed": failed,
        "StatusCheckFailed_Instance": failed,
        "StatusCheckFailed_System": 0.0,
    }


def _points(
    account: str,
    region: str,
    dimensions: tuple[tuple[str, str], ...],
    values: dict[str, float],
    minutes: list[float],
) -> list[MetricPoint]:
    """The latest minute carries the measurement; earlier minutes (a jump of the clock) repeat it."""
    return [
        MetricPoint(account, region, "AWS/EC2", name, dimensions, value, UNITS[name], mark - 60)
        for mark in minutes
        for name, value in values.items()
    ]


def cpu_by_session() -> dict[int, float]:
    """CPU seconds of the processes of each session (a sandbox starts its own, led by its first process), with
    their waited-for children's: one pass over /proc for every sandbox."""
    totals: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            fields = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        session = int(fields[3])  # field 6 of stat
        totals[session] = totals.get(session, 0) + sum(
            int(f) for f in fields[11:15]
        )  # utime, stime, cutime, cstime
    return {session: ticks / TICKS for session, ticks in totals.items()}


def _namespace_traffic(pid: int) -> tuple[float, float]:
    """Bytes received and sent by the interfaces of `pid`'s network namespace (not loopback)."""
    received = sent = 0.0
    try:
        lines = Path(f"/proc/{pid}/net/dev").read_text().splitlines()[2:]
    except OSError:
        return 0.0, 0.0
    for line in lines:
        name, _, counters = line.partition(":")
        if name.strip() == "lo":
            continue
        numbers = counters.split()
        received += float(numbers[0])
        sent += float(numbers[8])
    return received, sent
