"""The services Overcast implements: botocore service name -> 'module:ProviderClass', imported on first use.

A service whose package is not there yet answers 501 NotImplemented like any missing operation.
"""

from functools import cache
from pathlib import Path

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
    "resourcegroupstaggingapi": (
        "overcast.services.resourcegroupstaggingapi.provider:ResourceGroupsTaggingProvider"
    ),
    "stepfunctions": "overcast.services.stepfunctions.provider:StepFunctionsProvider",
    "kinesis": "overcast.services.kinesis.provider:KinesisProvider",
    "firehose": "overcast.services.firehose.provider:FirehoseProvider",
    "kms": "overcast.services.kms.provider:KmsProvider",
    "secretsmanager": "overcast.services.secretsmanager.provider:SecretsManagerProvider",
    "ssm": "overcast.services.ssm.provider:SsmProvider",
    "events": "overcast.services.events.provider:EventsProvider",
    "scheduler": "overcast.services.events.scheduler:SchedulerProvider",
    "pipes": "overcast.services.events.pipes:PipesProvider",
    "cloudwatch": "overcast.services.cloudwatch.provider:CloudWatchProvider",
    "cloudtrail": "overcast.services.cloudtrail.provider:CloudTrailProvider",
    "cognito-idp": "overcast.services.cognitoidp.provider:CognitoIdpProvider",
    "cognito-identity": "overcast.services.cognitoidentity.provider:CognitoIdentityProvider",
    "ec2": "overcast.services.ec2.provider:Ec2Provider",
    "cloudformation": "overcast.services.cloudformation.provider:CloudFormationProvider",
    "ecr": "overcast.services.ecr.provider:EcrProvider",
    "cloudcontrol": "overcast.services.cloudcontrol.provider:CloudControlProvider",
    "elbv2": "overcast.services.elbv2.provider:ElbV2Provider",
    "acm": "overcast.services.acm.provider:AcmProvider",
    "route53": "overcast.services.route53.provider:Route53Provider",
    "apigateway": "overcast.services.apigateway.provider:ApiGatewayProvider",
    "apigatewayv2": "overcast.services.apigatewayv2.provider:ApiGatewayV2Provider",
    "apigatewaymanagementapi": "overcast.services.apigatewaymanagementapi.provider:ApiGatewayManagementApiProvider",
    "autoscaling": "overcast.services.autoscaling.provider:AutoScalingProvider",
}

# Services started with the server (not on first use) because they observe every call (Platform.observers).
OBSERVING_SERVICES = ("cloudtrail",)


def started_with(dns_port: int | None) -> tuple[str, ...]:
    """Services started with the server whatever the data directory holds: the observers, and Route 53 when the
    DNS server is on (`--dns-port`)."""
    return OBSERVING_SERVICES + (("route53",) if dns_port else ())


# Services whose providers resolve the access keys they issued (method `credential(access_key_id)`).
CREDENTIAL_ISSUERS = ("iam", "sts")


@cache
def is_available(service: str) -> bool:
    """Whether the service's provider module is installed: looked for as a file, since finding its spec would
    import its package (the health answer asks this of every service, at start-up)."""
    target = PROVIDERS.get(service)
    if not target:
        return False
    module = _PACKAGE.joinpath(*target.split(":")[0].split(".")[1:])
    return module.with_suffix(".py").is_file() or (module / "__init__.py").is_file()


_PACKAGE = Path(__file__).resolve().parent.parent  # overcast/
