"""AWS/EC2 metrics of running instances: CPUUtilization measured from the sandbox's processes."""

import time
from datetime import UTC, datetime

import pytest

from tests.waiting import wait_for

pytestmark = pytest.mark.slow
BUSY = "#!/bin/sh\n(while :; do :; done) >/dev/null 2>&1 &\necho busy\n"


def test_cpu_utilization_follows_what_the_instance_runs(overcast, ec2):
    cloudwatch = overcast.client("cloudwatch")
    ami = ec2.describe_images(
        Owners=["amazon"], Filters=[{"Name": "name", "Values": ["al2023-ami-*-x86_64"]}]
    )["Images"][0]["ImageId"]
    busy = ec2.run_instances(ImageId=ami, InstanceType="t3.micro", MinCount=1, MaxCount=1, UserData=BUSY)[
        "Instances"][0]["InstanceId"]  # fmt: skip
    idle = ec2.run_instances(ImageId=ami, InstanceType="t3.micro", MinCount=1, MaxCount=1)["Instances"][0][
        "InstanceId"
    ]
    overcast.advance_clock("30s")  # running
    wait_for(lambda: "busy" in (ec2.get_console_output(InstanceId=busy).get("Output") or ""))

    def latest(instance_id, metric):
        now = overcast.advance_clock("0s")["epoch"]
        found = cloudwatch.get_metric_statistics(
            Namespace="AWS/EC2", MetricName=metric, Dimensions=[{"Name": "InstanceId", "Value": instance_id}],
            Period=60, Statistics=["Maximum"], StartTime=datetime.fromtimestamp(now - 600, UTC),
            EndTime=datetime.fromtimestamp(now, UTC),
        )["Datapoints"]  # fmt: skip
        return max(found, key=lambda d: d["Timestamp"])["Maximum"] if found else None

    overcast.advance_clock("60s")
    latest(busy, "CPUUtilization")  # the first reading: utilization is measured from the next one
    time.sleep(1.0)  # real time for the loop to burn
    overcast.advance_clock("60s")
    assert latest(busy, "CPUUtilization") > 1.0  # one busy process of a 2-vCPU type: up to 50%
    assert latest(idle, "CPUUtilization") == 0.0  # nothing runs on it
    assert latest(busy, "StatusCheckFailed") == 0.0
    names = {m["MetricName"] for m in cloudwatch.list_metrics(
        Namespace="AWS/EC2", Dimensions=[{"Name": "InstanceId", "Value": busy}])["Metrics"]}  # fmt: skip
    assert {"CPUUtilization", "NetworkIn", "NetworkOut", "StatusCheckFailed", "StatusCheckFailed_Instance",
            "StatusCheckFailed_System"} <= names  # fmt: skip
    ec2.terminate_instances(InstanceIds=[busy, idle])
