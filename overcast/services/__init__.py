"""The services Overcast implements: botocore service name -> 'module:ProviderClass', imported on first use.

A service whose package is not there yet answers 501 NotImplemented like any missing operation.
"""

import importlib.util
from functools import cache

PROVIDERS: dict[str, str] = {
    "sts": "overcast.services.sts.provider:StsProvider",
    "iam": "overcast.services.iam.provider:IamProvider",
    "organizations": "overcast.services.organizations.provider:OrganizationsProvider",
    "s3": "overcast.services.s3.provider:S3Provider",
    "s3control": "overcast.services.s3control.provider:S3ControlProvider",
    "sqs": "overcast.services.sqs.provider:SqsProvider",
    "sns": "overcast.services.sns.provider:SnsProvider",
    "dynamodb": "overcast.services.dynamodb.provider:DynamoDBProvider",
    "dynamodbstreams": "overcast.services.dynamodb.streams:DynamoDBStreamsProvider",
    "lambda": "overcast.services.lambda_.provider:LambdaProvider",
    "logs": "overcast.services.logs.provider:LogsProvider",
    "ec2": "overcast.services.ec2.provider:Ec2Provider",
    "autoscaling": "overcast.services.autoscaling.provider:AutoScalingProvider",
}

# Services whose providers resolve the access keys they issued (method `credential(access_key_id)`).
CREDENTIAL_ISSUERS = ("iam", "sts")


@cache
def is_available(service: str) -> bool:
    """Whether the service's provider module is installed (found without importing it)."""
    target = PROVIDERS.get(service)
    if not target:
        return False
    try:
        return importlib.util.find_spec(target.split(":")[0]) is not None
    except ModuleNotFoundError:  # the service's package itself is missing
        return False
