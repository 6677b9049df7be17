"""Tags (CreateTags/DeleteTags/DescribeTags, TagSpecifications, tag filters), DryRun, IAM, the filter engine."""

import pytest
from botocore.exceptions import ClientError

from overcast.services.ec2 import filters
from tests.helpers import error_of, message_of
from tests.policy.servers import client_as, document, user_with_key


def test_tags_on_create_and_after(ec2, vpc, subnet):
    ec2.create_tags(
        Resources=[vpc, subnet], Tags=[{"Key": "env", "Value": "prod"}, {"Key": "Name", "Value": "main"}]
    )
    assert {t["Key"]: t["Value"] for t in ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["Tags"]} == {
        "env": "prod",
        "Name": "main",
    }
    tagged = ec2.describe_vpcs(Filters=[{"Name": "tag:env", "Values": ["prod"]}])["Vpcs"]
    assert [v["VpcId"] for v in tagged] == [vpc]
    assert ec2.describe_vpcs(Filters=[{"Name": "tag-key", "Values": ["Na*"]}])["Vpcs"][0]["VpcId"] == vpc
    described = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [subnet]}])["Tags"]
    assert sorted((t["Key"], t["Value"], t["ResourceType"]) for t in described) == [
        ("Name", "main", "subnet"),
        ("env", "prod", "subnet"),
    ]
    by_type = ec2.describe_tags(
        Filters=[{"Name": "resource-type", "Values": ["vpc"]}, {"Name": "key", "Values": ["env"]}]
    )
    assert [(t["ResourceId"], t["Value"]) for t in by_type["Tags"]] == [(vpc, "prod")]
    ec2.delete_tags(Resources=[vpc], Tags=[{"Key": "env", "Value": "other"}])  # a different value: kept
    ec2.delete_tags(Resources=[vpc], Tags=[{"Key": "Name"}])
    assert ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["Tags"] == [{"Key": "env", "Value": "prod"}]
    with pytest.raises(ClientError) as raised:
        ec2.create_tags(Resources=["vpc-0123456789abcdef0"], Tags=[{"Key": "a", "Value": "b"}])
    assert error_of(raised) == ("InvalidVpcID.NotFound", 400)
    with pytest.raises(ClientError) as raised:
        ec2.create_tags(Resources=["nonsense"], Tags=[{"Key": "a", "Value": "b"}])
    assert error_of(raised) == ("InvalidID", 400)


def test_tag_specifications_and_paging_tags(ec2, vpc):
    spec = [{"ResourceType": "security-group", "Tags": [{"Key": "team", "Value": "blue"}]}]
    created = ec2.create_security_group(GroupName="g", Description="g", VpcId=vpc, TagSpecifications=spec)
    assert created["Tags"] == [{"Key": "team", "Value": "blue"}]
    for i in range(6):
        ec2.create_tags(Resources=[vpc], Tags=[{"Key": f"k{i}", "Value": str(i)}])
    first = ec2.describe_tags(MaxResults=5)
    rest = ec2.describe_tags(MaxResults=5, NextToken=first["NextToken"])
    everything = ec2.describe_tags()["Tags"]
    assert first["Tags"] + rest["Tags"] == everything and len(everything) == 7


def test_dry_run_answers_412(ec2, vpc):
    with pytest.raises(ClientError) as raised:
        ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.5.0/24", DryRun=True)
    assert error_of(raised) == ("DryRunOperation", 412)
    assert message_of(raised) == "Request would have succeeded, but DryRun flag is set."
    assert ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"] == []


def test_dry_run_under_iam_enforcement(enforced):
    policy = enforced.client("iam").create_policy(
        PolicyName="describe-only",
        PolicyDocument=document({"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"}),
    )["Policy"]["Arn"]
    key = user_with_key(enforced, "viewer", policy)
    ec2 = client_as(enforced, "ec2", key)
    with pytest.raises(ClientError) as raised:
        ec2.describe_vpcs(DryRun=True)
    assert error_of(raised) == ("DryRunOperation", 412)
    with pytest.raises(ClientError) as raised:
        ec2.create_vpc(CidrBlock="10.0.0.0/16", DryRun=True)
    assert error_of(raised) == ("UnauthorizedOperation", 403)
    with pytest.raises(ClientError) as raised:
        ec2.create_vpc(CidrBlock="10.0.0.0/16")
    assert error_of(raised) == ("UnauthorizedOperation", 403)
    assert [v["IsDefault"] for v in ec2.describe_vpcs()["Vpcs"]] == [True]


# -- the filter engine, on its own -----------------------------------------------------------------------

SPEC = {"vpc-id": "VpcId", "cidr": "CidrBlockAssociationSet.CidrBlock", "default": "IsDefault"}
VPC = {
    "VpcId": "vpc-1",
    "IsDefault": False,
    "CidrBlockAssociationSet": [{"CidrBlock": "10.0.0.0/16"}, {"CidrBlock": "10.1.0.0/16"}],
    "Tags": [{"Key": "Name", "Value": "a*b"}],
}


@pytest.mark.parametrize(
    ("given", "matched"),
    [
        ([{"Name": "vpc-id", "Values": ["vpc-1"]}], True),
        ([{"Name": "vpc-id", "Values": ["vpc-2", "vpc-1"]}], True),  # values: any
        (
            [{"Name": "vpc-id", "Values": ["vpc-1"]}, {"Name": "default", "Values": ["true"]}],
            False,
        ),  # filters: all
        ([{"Name": "cidr", "Values": ["10.1.*"]}], True),  # lists are flattened
        ([{"Name": "cidr", "Values": ["10.?.0.0/16"]}], True),
        ([{"Name": "cidr", "Values": ["10.2.*"]}], False),
        ([{"Name": "default", "Values": ["false"]}], True),
        ([{"Name": "tag:Name", "Values": ["a\\*b"]}], True),  # an escaped star is a star
        ([{"Name": "tag:Name", "Values": ["a\\*c"]}], False),
        ([{"Name": "tag:Missing", "Values": ["*"]}], False),
        ([{"Name": "tag-key", "Values": ["Name"]}], True),
        ([{"Name": "tag-value", "Values": ["a*"]}], True),
        ([{"Name": "vpc-id", "Values": ["VPC-1"]}], False),  # case matters
    ],
)
def test_filter_engine(given, matched):
    filters.check(given, SPEC)
    assert filters.matches(VPC, given, SPEC) is matched


def test_filter_engine_refuses_unknown_names():
    with pytest.raises(Exception) as raised:
        filters.check([{"Name": "colour", "Values": ["red"]}], SPEC)
    assert (
        raised.value.code == "InvalidParameterValue"
        and raised.value.message == "The filter 'colour' is invalid"
    )
