"""The AWS services a VPC reaches through endpoints: their endpoint service names, the address ranges of the
gateway-endpoint services (AWS's own prefix lists), and the prefix list ids an account sees for them."""

from __future__ import annotations

import hashlib

# The address ranges AWS publishes for its gateway-endpoint services (a representative subset).
GATEWAY_SERVICE_RANGES = {
    "s3": ["3.5.0.0/19", "16.182.0.0/16", "18.34.0.0/19", "52.216.0.0/15", "54.231.0.0/16"],
    "dynamodb": ["3.218.180.0/22", "35.71.64.0/22", "52.94.0.0/22", "52.119.224.0/20"],
}
INTERFACE_SERVICES = (
    "s3", "dynamodb", "sqs", "sns", "lambda", "logs", "sts", "kms", "secretsmanager", "ssm", "ssmmessages",
    "ec2", "ec2messages", "ecr.api", "ecr.dkr", "events", "states", "monitoring", "execute-api", "kinesis-streams",
    "elasticloadbalancing", "autoscaling", "rds", "sagemaker.api",
)  # fmt: skip


def prefix_list_id(account: str, region: str, service: str) -> str:
    """The id of AWS's prefix list for a gateway service, stable per account and region."""
    return "pl-" + hashlib.sha256(f"{account}/{region}/{service}".encode()).hexdigest()[:8]


def service_name(region: str, service: str) -> str:
    return f"com.amazonaws.{region}.{service}"


def service_of(name: str, region: str) -> str | None:
    """`s3` of `com.amazonaws.us-east-1.s3`, or None for a name that is not an AWS service of the region."""
    prefix = f"com.amazonaws.{region}."
    if not name.startswith(prefix):
        return None
    service = name[len(prefix) :]
    return service if service in INTERFACE_SERVICES or service in GATEWAY_SERVICE_RANGES else None
