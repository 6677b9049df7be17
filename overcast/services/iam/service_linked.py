"""Service-linked roles as AWS creates them: per service principal, the role's fixed name and the AWS managed
policy (under /aws-service-role/) AWS attaches, and whether the service accepts a CustomSuffix.

From each service's "Using service-linked roles" page (linked from "AWS services that work with IAM"); the
policies are in managed_policies.json.gz. A principal not listed here still gets a role named after the
service (AWSServiceRoleFor<Service>), without a policy.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LinkedRole:
    name: str
    policy: str | None  # the AWS managed policy's name, under /aws-service-role/
    suffix: bool = False  # whether the service accepts CustomSuffix


# fmt: off
ROLES: dict[str, LinkedRole] = {
    "autoscaling.amazonaws.com": LinkedRole("AWSServiceRoleForAutoScaling", "AutoScalingServiceRolePolicy", True),
    "elasticloadbalancing.amazonaws.com": LinkedRole(
        "AWSServiceRoleForElasticLoadBalancing", "AWSElasticLoadBalancingServiceRolePolicy"),
    "ecs.amazonaws.com": LinkedRole("AWSServiceRoleForECS", "AmazonECSServiceRolePolicy"),
    "rds.amazonaws.com": LinkedRole("AWSServiceRoleForRDS", "AmazonRDSServiceRolePolicy"),
    "acm.amazonaws.com": LinkedRole("AWSServiceRoleForCertificateManager", "CertificateManagerServiceRolePolicy"),
    "elasticache.amazonaws.com": LinkedRole("AWSServiceRoleForElastiCache", "ElastiCacheServiceRolePolicy"),
    "es.amazonaws.com": LinkedRole(
        "AWSServiceRoleForAmazonElasticsearchService", "AmazonElasticsearchServiceRolePolicy"),
    "opensearchservice.amazonaws.com": LinkedRole(
        "AWSServiceRoleForAmazonOpenSearchService", "AmazonOpenSearchServiceRolePolicy"),
    "organizations.amazonaws.com": LinkedRole(
        "AWSServiceRoleForOrganizations", "AWSOrganizationsServiceTrustPolicy"),
    "support.amazonaws.com": LinkedRole("AWSServiceRoleForSupport", "AWSSupportServiceRolePolicy"),
    "trustedadvisor.amazonaws.com": LinkedRole(
        "AWSServiceRoleForTrustedAdvisor", "AWSTrustedAdvisorServiceRolePolicy"),
    "spot.amazonaws.com": LinkedRole("AWSServiceRoleForEC2Spot", "AWSEC2SpotServiceRolePolicy"),
    "spotfleet.amazonaws.com": LinkedRole("AWSServiceRoleForEC2SpotFleet", "AWSEC2SpotFleetServiceRolePolicy"),
    "ec2fleet.amazonaws.com": LinkedRole("AWSServiceRoleForEC2Fleet", "AWSEC2FleetServiceRolePolicy"),
    "dynamodb.application-autoscaling.amazonaws.com": LinkedRole(
        "AWSServiceRoleForApplicationAutoScaling_DynamoDBTable", "AWSApplicationAutoscalingDynamoDBTablePolicy"),
    "ecs.application-autoscaling.amazonaws.com": LinkedRole(
        "AWSServiceRoleForApplicationAutoScaling_ECSService", "AWSApplicationAutoscalingECSServicePolicy"),
    "lambda.application-autoscaling.amazonaws.com": LinkedRole(
        "AWSServiceRoleForApplicationAutoScaling_LambdaConcurrency",
        "AWSApplicationAutoscalingLambdaConcurrencyPolicy"),
    "rds.application-autoscaling.amazonaws.com": LinkedRole(
        "AWSServiceRoleForApplicationAutoScaling_RDSCluster", "AWSApplicationAutoscalingRDSClusterPolicy"),
    "sagemaker.application-autoscaling.amazonaws.com": LinkedRole(
        "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint",
        "AWSApplicationAutoscalingSageMakerEndpointPolicy"),
    "ec2.application-autoscaling.amazonaws.com": LinkedRole(
        "AWSServiceRoleForApplicationAutoScaling_EC2SpotFleetRequest",
        "AWSApplicationAutoscalingEC2SpotFleetRequestPolicy"),
    "config.amazonaws.com": LinkedRole("AWSServiceRoleForConfig", "AWSConfigServiceRolePolicy"),
    "cloudtrail.amazonaws.com": LinkedRole("AWSServiceRoleForCloudTrail", "CloudTrailServiceRolePolicy"),
    "guardduty.amazonaws.com": LinkedRole("AWSServiceRoleForAmazonGuardDuty", "AmazonGuardDutyServiceRolePolicy"),
    "securityhub.amazonaws.com": LinkedRole("AWSServiceRoleForSecurityHub", "AWSSecurityHubServiceRolePolicy"),
    "eks.amazonaws.com": LinkedRole("AWSServiceRoleForAmazonEKS", "AmazonEKSServiceRolePolicy"),
    "eks-nodegroup.amazonaws.com": LinkedRole(
        "AWSServiceRoleForAmazonEKSNodegroup", "AWSServiceRoleForAmazonEKSNodegroup"),
    "eks-fargate.amazonaws.com": LinkedRole(
        "AWSServiceRoleForAmazonEKSForFargate", "AmazonEKSForFargateServiceRolePolicy"),
    "replication.dynamodb.amazonaws.com": LinkedRole(
        "AWSServiceRoleForDynamoDBReplication", "DynamoDBReplicationServiceRolePolicy"),
    "ssm.amazonaws.com": LinkedRole("AWSServiceRoleForAmazonSSM", "AmazonSSMServiceRolePolicy"),
    "redshift.amazonaws.com": LinkedRole("AWSServiceRoleForRedshift", "AmazonRedshiftServiceLinkedRolePolicy"),
    "elasticbeanstalk.amazonaws.com": LinkedRole(
        "AWSServiceRoleForElasticBeanstalk", "AWSElasticBeanstalkServiceRolePolicy"),
    "replicator.lambda.amazonaws.com": LinkedRole("AWSServiceRoleForLambdaReplicator", "AWSLambdaReplicator"),
    "logger.cloudfront.amazonaws.com": LinkedRole("AWSServiceRoleForCloudFrontLogger", "AWSCloudFrontLogger"),
    "ops.apigateway.amazonaws.com": LinkedRole("AWSServiceRoleForAPIGateway", "APIGatewayServiceRolePolicy"),
    "kafka.amazonaws.com": LinkedRole("AWSServiceRoleForKafka", "KafkaServiceRolePolicy"),
    "events.amazonaws.com": LinkedRole("AWSServiceRoleForCloudWatchEvents", "CloudWatchEventsServiceRolePolicy"),
    "elasticmapreduce.amazonaws.com": LinkedRole("AWSServiceRoleForEMRCleanup", "AmazonEMRCleanupPolicy"),
    "transitgateway.amazonaws.com": LinkedRole(
        "AWSServiceRoleForVPCTransitGateway", "AWSVPCTransitGatewayServiceRolePolicy"),
    "globalaccelerator.amazonaws.com": LinkedRole(
        "AWSServiceRoleForGlobalAccelerator", "AWSGlobalAcceleratorSLRPolicy"),
    "backup.amazonaws.com": LinkedRole("AWSServiceRoleForBackup", "AWSBackupServiceLinkedRolePolicyForBackup"),
    "sso.amazonaws.com": LinkedRole("AWSServiceRoleForSSO", "AWSSSOServiceRolePolicy"),
    "access-analyzer.amazonaws.com": LinkedRole(
        "AWSServiceRoleForAccessAnalyzer", "AccessAnalyzerServiceRolePolicy"),
    "inspector2.amazonaws.com": LinkedRole(
        "AWSServiceRoleForAmazonInspector2", "AmazonInspector2ServiceRolePolicy"),
    "elasticfilesystem.amazonaws.com": LinkedRole(
        "AWSServiceRoleForAmazonElasticFileSystem", "AmazonElasticFileSystemServiceRolePolicy"),
    "mq.amazonaws.com": LinkedRole("AWSServiceRoleForAmazonMQ", "AmazonMQServiceRolePolicy"),
    "macie.amazonaws.com": LinkedRole("AWSServiceRoleForAmazonMacie", "AmazonMacieServiceRolePolicy"),
    "delivery.logs.amazonaws.com": LinkedRole("AWSServiceRoleForLogDelivery", "AWSServiceRoleForLogDeliveryPolicy"),
    "rum.amazonaws.com": LinkedRole("AWSServiceRoleForCloudWatchRUM", "AmazonCloudWatchRUMServiceRolePolicy"),
    "imagebuilder.amazonaws.com": LinkedRole("AWSServiceRoleForImageBuilder", "AWSServiceRoleForImageBuilder"),
}
# fmt: on


def linked_role(service: str) -> LinkedRole:
    """The role AWS creates for a service principal (a name after the service's own when it is not listed)."""
    known = ROLES.get(service)
    if known:
        return known
    label = "".join(part[:1].upper() + part[1:] for part in service.split(".")[0].split("-"))
    return LinkedRole(f"AWSServiceRoleFor{label}", None)
