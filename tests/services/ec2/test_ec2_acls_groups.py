"""Network ACL entries and security group rules: defaults, ids, duplicates, limits, dependencies."""

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of, message_of

SSH = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}


@pytest.fixture
def acl(ec2, vpc):
    return ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]


def test_default_acl_allows_all(ec2, vpc):
    acl = ec2.describe_network_acls(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["NetworkAcls"][0]
    assert acl["IsDefault"] is True
    assert [(e["Egress"], e["RuleNumber"], e["RuleAction"]) for e in acl["Entries"]] == [
        (True, 100, "allow"), (True, 32767, "deny"), (False, 100, "allow"), (False, 32767, "deny"),
    ]  # fmt: skip
    with pytest.raises(ClientError) as raised:
        ec2.delete_network_acl(NetworkAclId=acl["NetworkAclId"])
    assert message_of(raised) == f"cannot delete default network ACL {acl['NetworkAclId']}"


def test_acl_entries(ec2, acl):
    entry = dict(NetworkAclId=acl, RuleNumber=100, Protocol="tcp", RuleAction="deny", Egress=False,
                 CidrBlock="0.0.0.0/0", PortRange={"From": 22, "To": 22})  # fmt: skip
    ec2.create_network_acl_entry(**entry)
    with pytest.raises(ClientError) as raised:
        ec2.create_network_acl_entry(**entry)
    assert error_of(raised) == ("NetworkAclEntryAlreadyExists", 400)
    assert message_of(raised) == "The network acl entry identified by 100 already exists."
    ec2.create_network_acl_entry(
        **{**entry, "Egress": True, "RuleAction": "allow", "PortRange": {"From": 443, "To": 443}}
    )
    described = ec2.describe_network_acls(NetworkAclIds=[acl])["NetworkAcls"][0]["Entries"]
    inbound = next(e for e in described if e["RuleNumber"] == 100 and not e["Egress"])
    assert inbound == {"CidrBlock": "0.0.0.0/0", "Egress": False, "PortRange": {"From": 22, "To": 22},
                       "Protocol": "6", "RuleAction": "deny", "RuleNumber": 100}  # fmt: skip
    ec2.replace_network_acl_entry(**{**entry, "RuleAction": "allow"})
    with pytest.raises(ClientError) as raised:
        ec2.replace_network_acl_entry(**{**entry, "RuleNumber": 110})
    assert error_of(raised) == ("InvalidNetworkAclEntry.NotFound", 400)
    assert message_of(raised) == "no ingress entry with number 110"
    with pytest.raises(ClientError) as raised:
        ec2.create_network_acl_entry(**{**entry, "RuleNumber": 40000})
    assert (
        message_of(raised)
        == "Value (40000) for parameter ruleNumber is invalid. Rulenumber must be in range 1..32766"
    )
    with pytest.raises(ClientError) as raised:
        ec2.create_network_acl_entry(
            **{k: v for k, v in entry.items() if k != "PortRange"} | {"RuleNumber": 120}
        )
    assert error_of(raised) == ("MissingParameter", 400)
    ec2.delete_network_acl_entry(NetworkAclId=acl, RuleNumber=100, Egress=False)
    by_entry = ec2.describe_network_acls(Filters=[{"Name": "entry.port-range.from", "Values": ["443"]}])
    assert [a["NetworkAclId"] for a in by_entry["NetworkAcls"]] == [acl]


def test_acl_limit_per_direction(ec2, acl):
    for number in range(1, 21):
        ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=number, Protocol="-1", RuleAction="allow",
                                     Egress=False, CidrBlock=f"10.0.{number}.0/24")  # fmt: skip
    with pytest.raises(ClientError) as raised:
        ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=21, Protocol="-1", RuleAction="allow",
                                     Egress=False, CidrBlock="10.0.21.0/24")  # fmt: skip
    assert error_of(raised) == ("NetworkAclEntryLimitExceeded", 400)


def test_each_subnet_has_exactly_one_acl(ec2, vpc, subnet, acl):
    found = ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id", "Values": [subnet]}])[
        "NetworkAcls"
    ]
    assert len(found) == 1 and found[0]["IsDefault"] is True
    association = next(a for a in found[0]["Associations"] if a["SubnetId"] == subnet)[
        "NetworkAclAssociationId"
    ]
    new = ec2.replace_network_acl_association(AssociationId=association, NetworkAclId=acl)["NewAssociationId"]
    found = ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id", "Values": [subnet]}])[
        "NetworkAcls"
    ]
    assert [a["NetworkAclId"] for a in found] == [acl]
    with pytest.raises(ClientError) as raised:
        ec2.delete_network_acl(NetworkAclId=acl)
    assert error_of(raised) == ("DependencyViolation", 400)
    assert message_of(raised) == f"The networkAcl '{acl}' has dependencies and cannot be deleted."
    default = ec2.describe_network_acls(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "default", "Values": ["true"]}]
    )
    ec2.replace_network_acl_association(
        AssociationId=new, NetworkAclId=default["NetworkAcls"][0]["NetworkAclId"]
    )
    ec2.delete_network_acl(NetworkAclId=acl)


# -- security groups -------------------------------------------------------------------------------------


def test_new_group_allows_all_out_and_nothing_in(ec2, vpc):
    created = ec2.create_security_group(GroupName="app", Description="app tier", VpcId=vpc)
    assert (
        created["SecurityGroupArn"]
        == f"arn:aws:ec2:us-east-1:000000000000:security-group/{created['GroupId']}"
    )
    group = ec2.describe_security_groups(GroupIds=[created["GroupId"]])["SecurityGroups"][0]
    assert group["IpPermissions"] == []
    assert group["IpPermissionsEgress"] == [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": [],
                                             "PrefixListIds": [], "UserIdGroupPairs": []}]  # fmt: skip
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [created["GroupId"]]}])
    (rule,) = rules["SecurityGroupRules"]
    assert rule["SecurityGroupRuleId"].startswith("sgr-") and rule["IsEgress"] is True
    assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"], rule["CidrIpv4"]) == (
        "-1",
        -1,
        -1,
        "0.0.0.0/0",
    )


def test_group_names(ec2, vpc):
    ec2.create_security_group(GroupName="app", Description="app", VpcId=vpc)
    with pytest.raises(ClientError) as raised:
        ec2.create_security_group(GroupName="app", Description="again", VpcId=vpc)
    assert error_of(raised) == ("InvalidGroup.Duplicate", 400)
    assert message_of(raised) == f"The security group 'app' already exists for VPC '{vpc}'"
    with pytest.raises(ClientError) as raised:
        ec2.create_security_group(GroupName="sg-mine", Description="x", VpcId=vpc)
    assert message_of(raised) == "Group names may not be in the format sg-*"
    with pytest.raises(ClientError) as raised:
        ec2.describe_security_groups(GroupIds=["sg-0123456789abcdef0"])
    assert error_of(raised) == ("InvalidGroup.NotFound", 400)
    assert message_of(raised) == "The security group 'sg-0123456789abcdef0' does not exist"
    default = ec2.describe_security_groups(GroupNames=["default"])["SecurityGroups"][0]
    with pytest.raises(ClientError) as raised:
        ec2.delete_security_group(GroupId=default["GroupId"])
    assert error_of(raised) == ("CannotDelete", 400)
    assert (
        message_of(raised)
        == f'the specified group: "{default["GroupId"]}" name: "default" cannot be deleted by a user'
    )


def test_rules_and_duplicates(ec2, vpc):
    group = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    added = ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[SSH])
    assert added["Return"] is True
    (rule,) = added["SecurityGroupRules"]
    assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"], rule["CidrIpv4"], rule["IsEgress"]) == (
        "tcp",
        22,
        22,
        "0.0.0.0/0",
        False,
    )
    with pytest.raises(ClientError) as raised:
        ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[SSH])
    assert error_of(raised) == ("InvalidPermission.Duplicate", 400)
    assert (
        message_of(raised)
        == 'the specified rule "peer: 0.0.0.0/0, TCP, from port: 22, to port: 22, ALLOW" already exists'
    )
    with pytest.raises(ClientError) as raised:
        ec2.authorize_security_group_egress(
            GroupId=group, IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
        )
    assert message_of(raised) == 'the specified rule "peer: 0.0.0.0/0, ALL, ALLOW" already exists'
    # by the legacy members too, and with a protocol number
    ec2.authorize_security_group_ingress(
        GroupId=group, IpProtocol="6", FromPort=443, ToPort=443, CidrIp="10.0.0.0/8"
    )
    # itself as the source, IPv6, a prefix list, a description
    prefix_list = ec2.describe_prefix_lists()["PrefixLists"][0]["PrefixListId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8081, "UserIdGroupPairs": [{"GroupId": group, "Description": "peers"}],
         "Ipv6Ranges": [{"CidrIpv6": "::/0"}], "PrefixListIds": [{"PrefixListId": prefix_list}]},
    ])  # fmt: skip
    permissions = ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"][0]["IpPermissions"]
    by_port = {p["FromPort"]: p for p in permissions}
    assert by_port[443]["IpRanges"] == [{"CidrIp": "10.0.0.0/8"}] and by_port[443]["IpProtocol"] == "tcp"
    assert by_port[8080]["UserIdGroupPairs"] == [
        {"Description": "peers", "GroupId": group, "UserId": "000000000000"}
    ]
    assert by_port[8080]["Ipv6Ranges"] == [{"CidrIpv6": "::/0"}]
    assert by_port[8080]["PrefixListIds"] == [{"PrefixListId": prefix_list}]
    ec2.revoke_security_group_ingress(GroupId=group, IpPermissions=[SSH])
    with pytest.raises(ClientError) as raised:
        ec2.revoke_security_group_ingress(GroupId=group, IpPermissions=[SSH])
    assert error_of(raised) == ("InvalidPermission.NotFound", 400)
    assert message_of(raised) == "The specified rule does not exist in this security group."
    with pytest.raises(ClientError) as raised:
        ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
                                                                             "IpRanges": [{"CidrIp": "10.0.0.0/33"}]}])  # fmt: skip
    assert error_of(raised) == ("InvalidParameterValue", 400)


def test_rule_limit(ec2, vpc):
    group = ec2.create_security_group(GroupName="many", Description="many", VpcId=vpc)["GroupId"]
    ranges = [{"CidrIp": f"10.0.{i}.0/24"} for i in range(60)]
    ec2.authorize_security_group_ingress(
        GroupId=group, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 1, "ToPort": 1, "IpRanges": ranges}]
    )
    with pytest.raises(ClientError) as raised:
        ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[SSH])
    assert error_of(raised) == ("RulesPerSecurityGroupLimitExceeded", 400)


def test_modify_rules_by_id(ec2, vpc):
    group = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    rule_id = ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[SSH])["SecurityGroupRules"][
        0
    ]["SecurityGroupRuleId"]
    ec2.modify_security_group_rules(GroupId=group, SecurityGroupRules=[{
        "SecurityGroupRuleId": rule_id,
        "SecurityGroupRule": {"IpProtocol": "tcp", "FromPort": 2222, "ToPort": 2222, "CidrIpv4": "10.0.0.0/16", "Description": "moved"},
    }])  # fmt: skip
    (rule,) = ec2.describe_security_group_rules(SecurityGroupRuleIds=[rule_id])["SecurityGroupRules"]
    assert (rule["FromPort"], rule["CidrIpv4"], rule["Description"]) == (2222, "10.0.0.0/16", "moved")
    ec2.revoke_security_group_ingress(GroupId=group, SecurityGroupRuleIds=[rule_id])
    with pytest.raises(ClientError) as raised:
        ec2.describe_security_group_rules(SecurityGroupRuleIds=[rule_id])
    assert error_of(raised) == ("InvalidSecurityGroupRuleId.NotFound", 400)


def test_referenced_group_cannot_be_deleted(ec2, vpc, subnet):
    web = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    db = ec2.create_security_group(GroupName="db", Description="db", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=db, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 3306, "ToPort": 3306, "UserIdGroupPairs": [{"GroupId": web}]}])  # fmt: skip
    with pytest.raises(ClientError) as raised:
        ec2.delete_security_group(GroupId=web)
    assert error_of(raised) == ("DependencyViolation", 400)
    assert message_of(raised) == f"resource {web} has a dependent object"
    eni = ec2.create_network_interface(SubnetId=subnet, Groups=[db])["NetworkInterface"]["NetworkInterfaceId"]
    with pytest.raises(ClientError) as raised:
        ec2.delete_security_group(GroupId=db)
    assert error_of(raised) == ("DependencyViolation", 400)
    ec2.delete_network_interface(NetworkInterfaceId=eni)
    assert ec2.delete_security_group(GroupId=db)["Return"] is True
    ec2.delete_security_group(GroupId=web)
