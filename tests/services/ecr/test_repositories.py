"""ECR repositories: create, describe, delete, policies, lifecycle policies, tags."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of, message_of

POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "pull", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "ecr:BatchGetImage"}
        ],
    }
)
LIFECYCLE = json.dumps(
    {
        "rules": [
            {
                "rulePriority": 1,
                "selection": {
                    "tagStatus": "untagged",
                    "countType": "sinceImagePushed",
                    "countUnit": "days",
                    "countNumber": 1,
                },
                "action": {"type": "expire"},
            }
        ]
    }
)


def test_repository_lifecycle(overcast):
    ecr = overcast.client("ecr")
    created = ecr.create_repository(
        repositoryName="team/app",
        imageScanningConfiguration={"scanOnPush": True},
        tags=[{"Key": "env", "Value": "dev"}],
    )["repository"]
    assert created["repositoryArn"] == "arn:aws:ecr:us-east-1:000000000000:repository/team/app"
    assert created["repositoryUri"] == "000000000000.dkr.ecr.us-east-1.amazonaws.com/team/app"
    assert created["imageTagMutability"] == "MUTABLE"
    assert created["imageScanningConfiguration"] == {"scanOnPush": True}
    assert created["encryptionConfiguration"] == {"encryptionType": "AES256"}
    with pytest.raises(ClientError) as raised:
        ecr.create_repository(repositoryName="team/app")
    assert error_of(raised) == ("RepositoryAlreadyExistsException", 400)
    assert (
        message_of(raised)
        == "The repository with name 'team/app' already exists in the registry with id '000000000000'"
    )

    assert [r["repositoryName"] for r in ecr.describe_repositories()["repositories"]] == ["team/app"]
    assert ecr.list_tags_for_resource(resourceArn=created["repositoryArn"])["tags"] == [
        {"Key": "env", "Value": "dev"}
    ]
    ecr.put_image_tag_mutability(repositoryName="team/app", imageTagMutability="IMMUTABLE")
    assert (
        ecr.describe_repositories(repositoryNames=["team/app"])["repositories"][0]["imageTagMutability"]
        == "IMMUTABLE"
    )

    with pytest.raises(ClientError) as raised:
        ecr.get_repository_policy(repositoryName="team/app")
    assert error_of(raised) == ("RepositoryPolicyNotFoundException", 400)
    ecr.set_repository_policy(repositoryName="team/app", policyText=POLICY)
    assert json.loads(ecr.get_repository_policy(repositoryName="team/app")["policyText"]) == json.loads(
        POLICY
    )
    ecr.delete_repository_policy(repositoryName="team/app")

    ecr.put_lifecycle_policy(repositoryName="team/app", lifecyclePolicyText=LIFECYCLE)
    assert ecr.get_lifecycle_policy(repositoryName="team/app")["lifecyclePolicyText"] == LIFECYCLE
    with pytest.raises(ClientError) as raised:
        ecr.put_lifecycle_policy(
            repositoryName="team/app", lifecyclePolicyText=json.dumps({"policy": "x" * 100})
        )
    assert error_of(raised) == ("InvalidParameterException", 400)
    ecr.delete_lifecycle_policy(repositoryName="team/app")
    with pytest.raises(ClientError) as raised:
        ecr.get_lifecycle_policy(repositoryName="team/app")
    assert error_of(raised) == ("LifecyclePolicyNotFoundException", 400)

    assert ecr.list_images(repositoryName="team/app")["imageIds"] == []
    ecr.delete_repository(repositoryName="team/app")
    with pytest.raises(ClientError) as raised:
        ecr.describe_repositories(repositoryNames=["team/app"])
    assert error_of(raised) == ("RepositoryNotFoundException", 400)
    assert (
        message_of(raised)
        == "The repository with name 'team/app' does not exist in the registry with id '000000000000'"
    )
