"""Reusable delegation sets (one set of name servers for many zones) and VPCs of another account associated
with a private zone once the zone's owner authorizes them."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of, message_of, new_vpc


@pytest.fixture
def r53(overcast):
    return overcast.client("route53")


def test_zones_created_with_a_reusable_delegation_set_share_its_name_servers(r53):
    created = r53.create_reusable_delegation_set(CallerReference="ds-1")
    delegation = created["DelegationSet"]
    set_id = delegation["Id"]
    assert set_id.startswith("/delegationset/N") and len(delegation["NameServers"]) == 4
    assert delegation["CallerReference"] == "ds-1"
    assert created["Location"].endswith(set_id.split("/")[-1])
    with pytest.raises(ClientError) as raised:
        r53.create_reusable_delegation_set(CallerReference="ds-1")
    assert error_of(raised) == ("DelegationSetAlreadyCreated", 400)

    zones = [
        r53.create_hosted_zone(Name=name, CallerReference=name, DelegationSetId=set_id)
        for name in ("one.example", "two.example")
    ]
    for made in zones:
        assert made["DelegationSet"] == {"Id": set_id, "NameServers": delegation["NameServers"]}
        got = r53.get_hosted_zone(Id=made["HostedZone"]["Id"])["DelegationSet"]
        assert got["NameServers"] == delegation["NameServers"]
        ns = r53.list_resource_record_sets(HostedZoneId=made["HostedZone"]["Id"], StartRecordType="NS",
                                           StartRecordName=made["HostedZone"]["Name"], MaxItems="1")  # fmt: skip
        assert [r["Value"] for r in ns["ResourceRecordSets"][0]["ResourceRecords"]] == [
            f"{server}." for server in delegation["NameServers"]
        ]
    assert r53.get_reusable_delegation_set(Id=set_id)["DelegationSet"] == delegation
    limit = r53.get_reusable_delegation_set_limit(
        DelegationSetId=set_id, Type="MAX_ZONES_BY_REUSABLE_DELEGATION_SET"
    )
    assert limit == {
        **limit,
        "Limit": {"Type": "MAX_ZONES_BY_REUSABLE_DELEGATION_SET", "Value": 100},
        "Count": 2,
    }

    with pytest.raises(ClientError) as raised:
        r53.delete_reusable_delegation_set(Id=set_id)
    assert error_of(raised) == ("DelegationSetInUse", 400)
    for made in zones:
        r53.delete_hosted_zone(Id=made["HostedZone"]["Id"])
    r53.delete_reusable_delegation_set(Id=set_id)
    with pytest.raises(ClientError) as raised:
        r53.get_reusable_delegation_set(Id=set_id)
    assert error_of(raised) == ("NoSuchDelegationSet", 400)
    assert message_of(raised) == "A reusable delegation set with the specified ID does not exist."
    with pytest.raises(ClientError) as raised:
        r53.create_hosted_zone(Name="three.example", CallerReference="three", DelegationSetId=set_id)
    assert error_of(raised) == ("NoSuchDelegationSet", 400)


def test_an_existing_zones_name_servers_become_reusable(r53):
    made = r53.create_hosted_zone(Name="moving.example", CallerReference="m")
    servers = made["DelegationSet"]["NameServers"]
    created = r53.create_reusable_delegation_set(
        CallerReference="from-zone", HostedZoneId=made["HostedZone"]["Id"]
    )
    assert created["DelegationSet"]["NameServers"] == servers
    assert (
        r53.get_hosted_zone(Id=made["HostedZone"]["Id"])["DelegationSet"]["Id"]
        == created["DelegationSet"]["Id"]
    )
    with pytest.raises(ClientError) as raised:
        r53.create_reusable_delegation_set(CallerReference="again", HostedZoneId=made["HostedZone"]["Id"])
    assert error_of(raised) == ("DelegationSetAlreadyReusable", 400)
    with pytest.raises(ClientError) as raised:
        r53.create_reusable_delegation_set(CallerReference="none", HostedZoneId="Z0000000000000000000")
    assert error_of(raised) == ("HostedZoneNotFound", 400)
    again = r53.create_hosted_zone(Name="moving.example", CallerReference="m2",
                                   DelegationSetId=created["DelegationSet"]["Id"])  # fmt: skip
    assert again["DelegationSet"]["NameServers"] == servers

    listed = r53.list_reusable_delegation_sets(MaxItems="1")
    assert listed["IsTruncated"] is False and listed["MaxItems"] == "1"
    assert [item["Id"] for item in listed["DelegationSets"]] == [created["DelegationSet"]["Id"]]
    assert r53.get_account_limit(Type="MAX_REUSABLE_DELEGATION_SETS_BY_OWNER")["Count"] == 1


def test_another_accounts_vpc_is_associated_once_authorized(overcast, r53):
    made = r53.create_hosted_zone(Name="shared.internal", CallerReference="s",
                                  VPC={"VPCRegion": "us-east-1", "VPCId": new_vpc(r53)})  # fmt: skip
    zone_id = made["HostedZone"]["Id"].split("/")[-1]
    other = overcast.client("route53", aws_access_key_id="222222222222", aws_secret_access_key="x" * 8)
    their_vpc = new_vpc(other, "eu-west-1")
    theirs = {"VPCRegion": "eu-west-1", "VPCId": their_vpc}

    with pytest.raises(ClientError) as raised:
        other.associate_vpc_with_hosted_zone(HostedZoneId=zone_id, VPC=theirs)
    assert error_of(raised) == ("NotAuthorizedException", 401)
    assert (
        message_of(raised)
        == "Associating the specified VPC with the specified hosted zone has not been authorized."
    )
    with pytest.raises(ClientError) as raised:  # only the zone's owner authorizes
        other.create_vpc_association_authorization(HostedZoneId=zone_id, VPC=theirs)
    assert error_of(raised) == ("NoSuchHostedZone", 404)

    authorized = r53.create_vpc_association_authorization(HostedZoneId=zone_id, VPC=theirs)
    assert {key: authorized[key] for key in ("HostedZoneId", "VPC")} == {
        "HostedZoneId": zone_id,
        "VPC": theirs,
    }
    r53.create_vpc_association_authorization(HostedZoneId=zone_id, VPC=theirs)  # again: still one
    listed = r53.list_vpc_association_authorizations(HostedZoneId=zone_id)
    assert listed["HostedZoneId"] == zone_id and listed["VPCs"] == [theirs] and "NextToken" not in listed

    change = other.associate_vpc_with_hosted_zone(HostedZoneId=zone_id, VPC=theirs)["ChangeInfo"]
    assert change["Status"] == "PENDING"
    found = other.list_hosted_zones_by_vpc(VPCId=their_vpc, VPCRegion="eu-west-1")["HostedZoneSummaries"]
    assert found == [
        {"HostedZoneId": zone_id, "Name": "shared.internal.", "Owner": {"OwningAccount": "000000000000"}}
    ]
    assert theirs in r53.get_hosted_zone(Id=zone_id)["VPCs"]

    r53.delete_vpc_association_authorization(HostedZoneId=zone_id, VPC=theirs)
    assert r53.list_vpc_association_authorizations(HostedZoneId=zone_id)["VPCs"] == []
    with pytest.raises(ClientError) as raised:
        r53.delete_vpc_association_authorization(HostedZoneId=zone_id, VPC=theirs)
    assert error_of(raised) == ("VPCAssociationAuthorizationNotFound", 404)
    # the association stays after the authorization goes; the VPC's owner can end it
    other.disassociate_vpc_from_hosted_zone(HostedZoneId=zone_id, VPC=theirs)
    assert theirs not in r53.get_hosted_zone(Id=zone_id)["VPCs"]
