"""Resource-based policies on tables: Put/Get/DeleteResourcePolicy with revision ids, and the policy engine
evaluating them (an explicit deny in a table's policy refuses even an allowed user under --iam enforce)."""

import json

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of
from tests.policy.servers import client_as, document, user_with_key


def policy(effect, action, arn, principal="*"):
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": effect, "Principal": principal, "Action": action, "Resource": arn}],
        }
    )


def create(client, name="Guarded"):
    return client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
    )["TableDescription"]["TableArn"]


def test_put_get_delete_with_revisions(ddb):
    arn = create(ddb)
    with pytest.raises(ClientError) as raised:
        ddb.get_resource_policy(ResourceArn=arn)
    assert error_of(raised) == ("PolicyNotFoundException", 400)
    document = policy("Allow", "dynamodb:GetItem", arn, {"AWS": "arn:aws:iam::111111111111:root"})
    first = ddb.put_resource_policy(ResourceArn=arn, Policy=document)["RevisionId"]
    got = ddb.get_resource_policy(ResourceArn=arn)
    assert (got["Policy"], got["RevisionId"]) == (document, first)
    with pytest.raises(ClientError) as raised:
        ddb.put_resource_policy(ResourceArn=arn, Policy=document, ExpectedRevisionId="not-it")
    assert error_of(raised) == ("PolicyNotFoundException", 400)
    with pytest.raises(ClientError) as raised:
        ddb.put_resource_policy(ResourceArn=arn, Policy="{not json")
    assert error_of(raised) == ("ValidationException", 400)
    ddb.put_resource_policy(ResourceArn=arn, Policy=document, ExpectedRevisionId=first)
    ddb.delete_resource_policy(ResourceArn=arn)
    with pytest.raises(ClientError) as raised:
        ddb.delete_resource_policy(ResourceArn=arn)
    assert error_of(raised) == ("PolicyNotFoundException", 400)
    with pytest.raises(ClientError) as raised:
        ddb.get_resource_policy(ResourceArn=arn.replace("Guarded", "Missing"))
    assert error_of(raised) == ("ResourceNotFoundException", 400)


def test_an_explicit_deny_in_the_table_policy_wins_under_enforce(enforced):
    root = enforced.client("dynamodb")
    arn = create(root)
    root.put_item(TableName="Guarded", Item={"pk": {"S": "a"}})
    user = client_as(
        enforced,
        "dynamodb",
        user_with_key(enforced, "writer", "arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess"),
    )
    user.delete_item(TableName="Guarded", Key={"pk": {"S": "a"}})
    root.put_resource_policy(ResourceArn=arn, Policy=policy("Deny", "dynamodb:DeleteItem", arn))
    root.put_item(TableName="Guarded", Item={"pk": {"S": "a"}})
    with pytest.raises(ClientError) as raised:
        user.delete_item(TableName="Guarded", Key={"pk": {"S": "a"}})
    assert error_of(raised) == ("AccessDeniedException", 400)
    assert "Item" in user.get_item(TableName="Guarded", Key={"pk": {"S": "a"}})
    root.delete_resource_policy(ResourceArn=arn)
    user.delete_item(TableName="Guarded", Key={"pk": {"S": "a"}})


def test_table_tags_are_resource_tags_under_enforce(enforced):
    root = enforced.client("dynamodb")
    arn = create(root)
    create(root, "Untagged")
    root.tag_resource(ResourceArn=arn, Tags=[{"Key": "team", "Value": "red"}])
    key = user_with_key(enforced, "red")
    enforced.client("iam").put_user_policy(
        UserName="red",
        PolicyName="red-tables",
        PolicyDocument=document(
            {
                "Effect": "Allow",
                "Action": "dynamodb:GetItem",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:ResourceTag/team": "red"}},
            }
        ),
    )
    red = client_as(enforced, "dynamodb", key)
    assert "Item" not in red.get_item(TableName="Guarded", Key={"pk": {"S": "a"}})
    with pytest.raises(ClientError) as raised:
        red.get_item(TableName="Untagged", Key={"pk": {"S": "a"}})
    assert error_of(raised) == ("AccessDeniedException", 400)
    root.untag_resource(ResourceArn=arn, TagKeys=["team"])
    with pytest.raises(ClientError) as raised:
        red.get_item(TableName="Guarded", Key={"pk": {"S": "a"}})
    assert error_of(raised) == ("AccessDeniedException", 400)
